/** fast-check properties of the codemods: round-trip renames, idempotence, declared scope, diff/call-pattern laws. */
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { applyPatch } from 'diff';
import fc from 'fast-check';
import { CodemodError, diffLines, fillTemplate, matchCall, parseCallPattern, parseCodemod, RefactorWorkspace, unifiedDiff } from '../../../refactor';
import { createRepo, gitStatus, resetRepo } from '../../helpers/refactor-fixture';

let tmp: string;
let repo: string;
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'maestro-refactor-prop-'));
  repo = await createRepo(path.join(tmp, 'lib'));
});
afterAll(() => fs.rm(tmp, { recursive: true, force: true }));

const texts = (ws: RefactorWorkspace) => new Map(ws.project.getSourceFiles().map((sf) => [sf.getFilePath(), sf.getFullText()]));
const RENAMEABLE: { codemod: string; from: string; class?: string }[] = [
  { codemod: 'rename-function', from: 'format' },
  { codemod: 'rename-function', from: 'clamp' },
  { codemod: 'rename-function', from: 'scale' },
  { codemod: 'rename-function', from: 'report' },
  { codemod: 'rename-class', from: 'Shape' },
  { codemod: 'rename-class', from: 'Circle' },
  { codemod: 'rename-method', class: 'Shape', from: 'area' },
  { codemod: 'rename-method', class: 'Shape', from: 'describe' },
];
const freshName = fc.stringMatching(/^[a-z][a-zA-Z]{2,8}$/).map((s) => `x${s}`);

describe('codemod properties (fast-check)', () => {
  it('round trip: renaming a→b then b→a restores every file byte for byte', async () => {
    const ws = RefactorWorkspace.open(repo);
    const original = texts(ws);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...RENAMEABLE), freshName, async (target, to) => {
        await ws.apply(parseCodemod({ ...target, to }), { typecheck: false });
        await ws.apply(parseCodemod({ ...target, from: to, to: target.from }), { typecheck: false });
        expect(texts(ws)).toEqual(original);
        expect(gitStatus(repo)).toBe('');
      }),
      { numRuns: 12 },
    );
  });

  it('idempotence: a second application changes nothing', async () => {
    const codemods = fc.oneof(
      fc.tuple(fc.constantFrom(...RENAMEABLE), freshName).map(([t, to]) => ({ ...t, to })),
      fc.constantFrom<Record<string, unknown>>(
        { codemod: 'replace-call', from: 'Math.pow($x, 2)', to: '$x ** 2' },
        { codemod: 'replace-call', from: 'clamp($v, $lo, $hi)', to: 'Math.min($hi, Math.max($lo, $v))' },
        { codemod: 'move-file', from: 'src/math.ts', to: 'src/lib/math.ts' },
        { codemod: 'move-function', file: 'src/math.ts', name: 'total', to: 'src/total.ts' },
        { codemod: 'add-parameter', function: 'total', parameter: { name: 'start', default: '0' }, argument: '0' },
      ),
    );
    await fc.assert(
      fc.asyncProperty(codemods, async (codemod) => {
        const ws = RefactorWorkspace.open(repo);
        try {
          await ws.apply(parseCodemod(codemod), { typecheck: false });
          const once = texts(ws);
          const again = await ws.apply(parseCodemod(codemod), { typecheck: false });
          expect(again.changedFiles).toEqual([]);
          expect(texts(ws)).toEqual(once);
        } finally {
          resetRepo(repo);
        }
      }),
      { numRuns: 10 },
    );
  });

  it('scope: changed files always lie inside `within`, or nothing is written at all', async () => {
    const dirs = ['src', 'src/shapes', 'src/util', 'test', '.'];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...RENAMEABLE), freshName, fc.subarray(dirs, { minLength: 1 }), async (target, to, within) => {
        const ws = RefactorWorkspace.open(repo);
        try {
          const result = await ws.apply(parseCodemod({ ...target, to, within }), { typecheck: false });
          for (const file of result.changedFiles) expect(within.some((w) => w === '.' || file.startsWith(w + '/'))).toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(CodemodError);
          expect((error as Error).message).toMatch(/outside the declared scope/);
          expect(gitStatus(repo)).toBe('');
        } finally {
          resetRepo(repo);
        }
      }),
      { numRuns: 12 },
    );
  });

  it('unified diff: applying the diff to the old text gives the new text (git apply)', async () => {
    const dir = path.join(tmp, 'diffs');
    await fs.mkdir(dir, { recursive: true });
    execFileSync('git', ['init', '-q'], { cwd: dir });
    const lines = fc.array(fc.constantFrom('a', 'b', 'c', 'd', '', '}'), { maxLength: 30 });
    await fc.assert(
      // With or without a final newline; [''] vs [] (a file holding one empty line vs an empty file) once slipped through as a header-only patch.
      fc.asyncProperty(lines, lines, fc.boolean(), fc.boolean(), async (a, b, eolA, eolB) => {
        const before = a.join('\n') + (eolA && a.length ? '\n' : '');
        const after = b.join('\n') + (eolB && b.length ? '\n' : '');
        await fs.writeFile(path.join(dir, 'f.txt'), before);
        const patch = unifiedDiff('f.txt', 'f.txt', before, after);
        if (patch) execFileSync('git', ['apply', '--unidiff-zero', '-'], { cwd: dir, input: patch, stdio: ['pipe', 'pipe', 'pipe'] });
        expect(await fs.readFile(path.join(dir, 'f.txt'), 'utf8')).toBe(after);
        expect(diffLines(a, b).filter((e) => e.kind !== '+').map((e) => e.line)).toEqual(a);
      }),
      { numRuns: 60 },
    );
  });

  it('unified diff: jsdiff applies it back, for any text including CRLF, blank and unterminated lines', () => {
    const text = fc.array(fc.constantFrom('a', 'b', ' ', '', '\r', '-x', '+y', '\\ z'), { maxLength: 20 }).map((parts) => parts.join('\n'));
    fc.assert(
      fc.property(text, text, (before, after) => {
        const patch = unifiedDiff('f.txt', 'f.txt', before, after);
        expect(patch ? applyPatch(before, patch) : before).toBe(after);
      }),
      { numRuns: 300 },
    );
  });

  it('unified diff: git apply --check accepts a created, an edited, an unterminated and a deleted file', async () => {
    const dir = path.join(tmp, 'diff-check');
    await fs.mkdir(dir, { recursive: true });
    execFileSync('git', ['init', '-q'], { cwd: dir });
    await fs.writeFile(path.join(dir, 'edit.txt'), 'one\ntwo\nthree\n');
    await fs.writeFile(path.join(dir, 'noeol.txt'), 'last line');
    await fs.writeFile(path.join(dir, 'gone.txt'), 'bye\n');
    const patch = [
      unifiedDiff('new.txt', 'new.txt', undefined, 'hello\n'),
      unifiedDiff('edit.txt', 'edit.txt', 'one\ntwo\nthree\n', 'one\n2\nthree'),
      unifiedDiff('noeol.txt', 'noeol.txt', 'last line', 'last line\n'),
      unifiedDiff('gone.txt', 'gone.txt', 'bye\n', undefined),
    ].join('');
    execFileSync('git', ['apply', '--check', '-'], { cwd: dir, input: patch, stdio: ['pipe', 'pipe', 'pipe'] });
  });

  it('call patterns: the pattern used as its own template reproduces every call it matches', () => {
    const arg = fc.constantFrom('x', '1', 'a.b', 'f(y)', "'s'", '[1, 2]');
    fc.assert(
      fc.property(fc.array(arg, { maxLength: 4 }), (args) => {
        const pattern = `util.check(${args.map((_, i) => `$a${i}`).join(', ')})`;
        const captured = matchCall(parseCallPattern(pattern), { callee: 'util.check', typeArgs: '', args });
        expect(captured).toBeDefined();
        expect(fillTemplate(pattern, captured!)).toBe(`util.check(${args.join(', ')})`);
        expect(matchCall(parseCallPattern(pattern), { callee: 'util.check', typeArgs: '', args: [...args, 'extra'] })).toBeUndefined();
      }),
    );
  });
});
