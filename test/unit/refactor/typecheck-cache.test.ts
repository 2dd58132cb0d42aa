/**
 * Issue 17 (speed): the type-check keeps TypeScript's incremental state between processes (refactor/typecheck.ts).
 * Whatever state a check starts from — none, kept by an earlier process, or the one in memory — it must report the
 * errors a cold check reports, including an error the change makes in a file it did not touch.
 */
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CodemodError, parseCodemod, RefactorWorkspace } from '../../../refactor';
import { RepoTypeCheck, repoTsConfigs, repoTypeScript, typecheckCacheDir, type ConfigErrors } from '../../../refactor/typecheck';
import { createRepo } from '../../helpers/refactor-fixture';

jest.setTimeout(180_000);

const FILES: Record<string, string> = {
  'tsconfig.json': JSON.stringify({ compilerOptions: { strict: true, target: 'ES2022', module: 'commonjs', types: [] }, include: ['src'] }),
  'src/counter.ts': 'export class Counter {\n  count = 0;\n  increment(by: number): number {\n    return (this.count += by);\n  }\n}\n',
  'src/use.ts': "import { Counter } from './counter';\n\nexport const total: number = new Counter().increment(2);\n",
  'src/flag.ts': 'export function isSet(v: unknown): boolean {\n  return v !== undefined;\n}\n\nexport const ready = isSet(1);\n',
  'src/gate.ts': "import { ready } from './flag';\n\nexport const open: boolean = ready;\n",
  // An error the repository already has: every check must keep reporting it, from whatever state it starts.
  'src/broken.ts': "export const wrong: number = 'text';\n",
};

let tmp: string;
let repo: string;
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'maestro-typecheck-cache-'));
  repo = await fs.realpath(await createRepo(path.join(tmp, 'repo'), FILES));
});
afterAll(() => fs.rm(tmp, { recursive: true, force: true }));

const relative = (absolute: string) => path.relative(repo, absolute).split(path.sep).join('/');
const typeCheck = (cacheDir?: string) => {
  const ts = repoTypeScript(repo);
  return new RepoTypeCheck(ts, repoTsConfigs(repo, ts), relative, cacheDir ? { dir: cacheDir, root: repo } : undefined);
};
/** What a check reports, comparable with toEqual: per config, `file|code` → count and message. */
const errorsOf = (configs: ConfigErrors[]) => configs.map((c) => ({ config: c.config, count: c.count, byKey: Object.fromEntries([...c.byKey].map(([k, v]) => [relative(k.split('|')[0]!) + '|' + k.split('|')[1], v])) }));

/** The texts with increment renamed in counter.ts only: use.ts, unchanged, now calls a method that is gone. */
const renamed = (file: string): string | undefined => (file === path.join(repo, 'src/counter.ts') ? FILES['src/counter.ts']!.replace('increment', 'add') : undefined);

describe("TypeScript's incremental state kept between processes", () => {
  it('gives the errors of a cold check: for the tree it was kept for (checking nothing), and after a change that breaks an unchanged importer', async () => {
    const cacheDir = path.join(tmp, 'state-kept');
    const cold = errorsOf(typeCheck().check(() => undefined));
    expect(cold).toEqual([{ config: 'tsconfig.json', count: 1, byKey: { 'src/broken.ts|2322': { count: 1, sample: "src/broken.ts:1 TS2322 Type 'string' is not assignable to type 'number'." } } }]);

    const first = typeCheck(cacheDir);
    expect(errorsOf(first.check(() => undefined))).toEqual(cold);
    expect(first.lastPhases.checkedFiles).toBeGreaterThan(0);
    first.saveState();
    expect((await fs.readdir(cacheDir)).filter((f) => f.endsWith('.tsbuildinfo'))).toHaveLength(1);

    // A new process on the same tree: the kept state already holds every file's errors.
    const second = typeCheck(cacheDir);
    expect(errorsOf(second.check(() => undefined))).toEqual(cold);
    expect(second.lastPhases.checkedFiles).toBe(0);

    // A new process on a changed tree: the changed file and the importer it breaks are checked again, nothing else.
    const coldAfterRename = errorsOf(typeCheck().check(renamed));
    expect(coldAfterRename[0]!.count).toBe(2);
    expect(coldAfterRename[0]!.byKey['src/use.ts|2339']?.sample).toBe("src/use.ts:3 TS2339 Property 'increment' does not exist on type 'Counter'.");
    const third = typeCheck(cacheDir);
    expect(errorsOf(third.check(renamed))).toEqual(coldAfterRename);
    expect(third.lastPhases.checkedFiles).toBe(2);

    // And back, in the same process (the state in memory): the importer's error is gone again.
    expect(errorsOf(third.check(() => undefined))).toEqual(cold);
  });

  it('is kept in the git directory, which every worktree of the repository shares', () => {
    const worktree = path.join(tmp, 'worktree');
    execFileSync('git', ['worktree', 'add', '-q', '--detach', worktree], { cwd: repo });
    expect(typecheckCacheDir(repo)).toBe(path.join(repo, '.git', 'maestro', 'typecheck'));
    expect(typecheckCacheDir(worktree)).toBe(path.join(repo, '.git', 'maestro', 'typecheck'));
    expect(typecheckCacheDir(path.join(tmp, 'no-repository'))).toBeUndefined();
  });
});

describe('a workspace starting from the kept state', () => {
  const keepsTheType = parseCodemod({ codemod: 'replace-call', from: 'isSet($v)', to: '$v !== undefined', scope: 'src/flag.ts' });
  // ready becomes a string: gate.ts, which the codemod does not touch, no longer type-checks.
  const breaksTheImporter = parseCodemod({ codemod: 'replace-call', from: 'isSet($v)', to: 'String($v)', scope: 'src/flag.ts' });

  it('refuses a change that breaks an unchanged importer, and reports the errors a cold check reports', async () => {
    const cold = await RefactorWorkspace.open(repo, { typecheckCache: false }).apply(keepsTheType, { dryRun: true });
    expect(cold.typeErrors).toEqual({ before: 1, after: 1, byConfig: [{ config: 'tsconfig.json', before: 1, after: 1 }] });

    const first = await RefactorWorkspace.open(repo).apply(keepsTheType, { dryRun: true }); // keeps the state of this tree
    expect(first.typeErrors).toEqual(cold.typeErrors);

    const refusal = await RefactorWorkspace.open(repo)
      .apply(breaksTheImporter, { dryRun: true })
      .then(() => undefined, (e: unknown) => e);
    expect(refusal).toBeInstanceOf(CodemodError);
    expect((refusal as Error).message).toContain("src/gate.ts:3 TS2322 Type 'string' is not assignable to type 'boolean'. (tsconfig.json)");

    const again = await RefactorWorkspace.open(repo).apply(keepsTheType, { dryRun: true });
    expect(again.typeErrors).toEqual(cold.typeErrors);
    expect(again.filesTypeChecked?.before).toBe(0);
    expect(again.diff).toBe(cold.diff);
  });
});
