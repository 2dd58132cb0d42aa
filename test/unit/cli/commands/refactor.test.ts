import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCommand } from '../../../../cli/command';
import { command as refactor } from '../../../../cli/commands/refactor';
const refactorCommand = (argv: string[], print: (line: string) => void) => runCommand(refactor, argv, { print, error: print });
import { createRepo, gitStatus, read } from '../../../helpers/refactor-fixture';

let tmp: string;
let repo: string;
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'maestro-refactor-cli-'));
  repo = await createRepo(path.join(tmp, 'lib'));
});
afterAll(() => fs.rm(tmp, { recursive: true, force: true }));

async function run(args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const code = await refactorCommand(args, (l) => lines.push(l));
  return { code, out: lines.join('\n') };
}

describe('maestro refactor apply', () => {
  it('--dry-run prints the unified diff and writes nothing; without it the change is written', async () => {
    const file = path.join(tmp, 'rename.json');
    await fs.writeFile(file, JSON.stringify([{ codemod: 'rename-method', class: 'Shape', from: 'area', to: 'surface' }, { codemod: 'replace-call', from: 'Math.pow($x, 2)', to: '$x ** 2' }]));
    const dry = await run(['apply', file, '--repo', repo, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.out).toContain('--- a/src/shapes/circle.ts\n+++ b/src/shapes/circle.ts');
    expect(dry.out).toContain('-  area(): number {\n+  surface(): number {');
    expect(dry.out).toContain('rename-method: would change 5 file(s)');
    expect(gitStatus(repo)).toBe('');
    const real = await run(['apply', file, '--repo', repo]);
    expect(real.out).toContain('replace-call: changed 2 file(s): src/shapes/circle.ts, src/shapes/square.ts');
    expect(await read(repo, 'src/shapes/square.ts')).toContain('surface(): number {\n    return this.side ** 2;');
  });

  it('exits 2 with the reason on invalid data and on a codemod error', async () => {
    const bad = path.join(tmp, 'bad.json');
    await fs.writeFile(bad, JSON.stringify({ codemod: 'rename-class', from: 'Nope', to: 'Other' }));
    const missing = await run(['apply', bad, '--repo', repo]);
    expect(missing).toEqual({ code: 2, out: "error: rename-class: no declaration of 'Nope' in ." });
    await fs.writeFile(bad, JSON.stringify({ codemod: 'rename-class', from: 'Nope' }));
    expect((await run(['apply', bad, '--repo', repo])).out).toMatch(/^error: [\s\S]*to: required/i);
    expect((await run(['apply'])).code).toBe(2);
  });
});

describe('maestro refactor apply --dry-run output', () => {
  let repo: string;
  beforeAll(async () => {
    repo = await createRepo(path.join(tmp, 'dry-run-lib'));
  });
  // The printed diff is the patch, byte for byte: `git apply --check` accepts it for every codemod kind.
  const EVERY_KIND = [
    { codemod: 'rename-symbol', from: 'total', to: 'sum', scope: 'src' },
    { codemod: 'rename-function', from: 'clamp', to: 'limit' },
    { codemod: 'rename-class', from: 'Square', to: 'Quad', scope: 'src' },
    { codemod: 'rename-method', class: 'Shape', from: 'area', to: 'surface' },
    { codemod: 'move-file', from: 'src/math.ts', to: 'src/numbers/math.ts' },
    { codemod: 'move-function', file: 'src/math.ts', name: 'total', to: 'src/total.ts' },
    { codemod: 'add-parameter', function: 'scale', parameter: { name: 'offset', type: 'number', default: '0' }, argument: '0' },
    { codemod: 'replace-call', from: 'Math.pow($x, 2)', to: '$x * $x' },
    { codemod: 'replace-literal', file: 'src/shapes/circle.ts', from: "'circle'", to: "'disc'" },
  ];
  it.each(EVERY_KIND.map((c) => [c.codemod, c]))('%s: the printed diff applies with git apply --check', async (_kind, codemod) => {
    const file = path.join(tmp, 'dry.json');
    await fs.writeFile(file, JSON.stringify(codemod));
    const lines: string[] = [];
    const code = await runCommand(refactor, ['apply', file, '--repo', repo, '--dry-run', '--no-test'], { print: (l) => lines.push(l), error: () => undefined });
    expect(code).toBe(0);
    const stdout = lines.map((l) => l + '\n').join('');
    expect(stdout).toMatch(/^diff --git /);
    execFileSync('git', ['apply', '--check', '-'], { cwd: repo, input: stdout });
    expect(gitStatus(repo)).toBe('');
  });

  it('keeps a blank last context line (trimming it made the patch corrupt)', async () => {
    // Only the signature of scale changes; its hunk, the last of the diff, ends with the blank line after the function.
    const file = path.join(tmp, 'blank.json');
    await fs.writeFile(file, JSON.stringify({ codemod: 'add-parameter', function: 'scale', parameter: { name: 'offset', type: 'number', default: '0' } }));
    const lines: string[] = [];
    await runCommand(refactor, ['apply', file, '--repo', repo, '--dry-run', '--no-test'], { print: (l) => lines.push(l), error: () => undefined });
    const stdout = lines.map((l) => l + '\n').join('');
    expect(stdout).toContain('   return clamp(value * factor, 0, 1000);\n }\n \n');
    execFileSync('git', ['apply', '--check', '-'], { cwd: repo, input: stdout });
  });
});
