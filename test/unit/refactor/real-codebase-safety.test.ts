/**
 * Issue 17: what a third-party library showed the type checker does not catch. Each case reproduces a
 * reported failure on a small repository shaped like that library (JavaScript files, `any`-typed code,
 * classes meeting at a call site, a tsconfig that leaves the tests out, noUnusedParameters) and checks
 * the codemod now does the safe thing, with every dry-run diff applying with `git apply --check`.
 */
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CodemodError, parseCodemod, RefactorWorkspace } from '../../../refactor';
import { createRepo, gitStatus, read, resetRepo } from '../../helpers/refactor-fixture';

// Real type-checks and a real jest run (three times for a refused change) per test: slow on a shared machine.
jest.setTimeout(300_000);

let tmp: string;
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'maestro-refactor-real-'));
});
afterAll(() => fs.rm(tmp, { recursive: true, force: true }));

const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as Error);
const applies = (repo: string, diff: string) => execFileSync('git', ['apply', '--check', '-'], { cwd: repo, input: diff });

describe('replace-call keeps precedence and drops the imports it leaves unused', () => {
  let repo: string;
  beforeAll(async () => {
    repo = await createRepo(path.join(tmp, 'precedence'), {
      'tsconfig.json': JSON.stringify({ compilerOptions: { strict: true, target: 'ES2022', module: 'commonjs', types: [] }, include: ['src'] }),
      'src/empty.ts': 'export function isEmpty(v: unknown): boolean {\n  return v == null;\n}\n\nexport const KEEP = 1;\n',
      'src/use.ts': [
        "import { isEmpty, KEEP } from './empty';",
        '',
        'export function present(value: string | null, a: number | null, b: number | null): boolean {',
        '  const both = isEmpty(a) || isEmpty(b);',
        '  return !isEmpty(value) && !isEmpty(a ?? b) && both && KEEP === 1;',
        '}',
        '',
      ].join('\n'),
      'src/only.ts': "import { isEmpty } from './empty';\n\nexport const none = (x: unknown): boolean => isEmpty(x);\n",
    });
  });
  afterEach(() => resetRepo(repo));

  it('wraps an operator expression put where a unary operand stood, and a loose argument put in an operand slot', async () => {
    const codemod = parseCodemod({ codemod: 'replace-call', from: 'isEmpty($v)', to: '$v == null', scope: 'src' });
    const dry = await RefactorWorkspace.open(repo).apply(codemod, { dryRun: true });
    applies(repo, dry.diff);
    const result = await RefactorWorkspace.open(repo).apply(codemod);
    expect(result.changedFiles).toEqual(['src/only.ts', 'src/use.ts']);
    const use = await read(repo, 'src/use.ts');
    // == binds more tightly than ||: no parentheses needed there.
    expect(use).toContain('  const both = a == null || b == null;\n');
    expect(use).toContain('  return !(value == null) && !((a ?? b) == null) && both && KEEP === 1;\n');
    expect(await read(repo, 'src/only.ts')).toBe('export const none = (x: unknown): boolean => x == null;\n');
    // The import of isEmpty is gone where nothing uses it any more; KEEP stays.
    expect(use).toMatch(/^import \{ KEEP \} from '\.\/empty';\n/);
    const again = await RefactorWorkspace.open(repo).apply(codemod);
    expect(again.changedFiles).toEqual([]);
  });

  it('leaves an import that was already unused before the codemod', async () => {
    await fs.writeFile(path.join(repo, 'src/other.ts'), "import { KEEP } from './empty';\nimport { isEmpty } from './empty';\n\nexport const o = isEmpty(null);\n");
    const result = await RefactorWorkspace.open(repo).apply(parseCodemod({ codemod: 'replace-call', from: 'isEmpty($v)', to: '$v === undefined', scope: 'src/other.ts' }), { typecheck: false });
    expect(result.changedFiles).toEqual(['src/other.ts']);
    expect(await read(repo, 'src/other.ts')).toBe("import { KEEP } from './empty';\n\nexport const o = null === undefined;\n");
  });
});

describe('rename-method and move-file beyond the type checker', () => {
  let repo: string;
  beforeAll(async () => {
    repo = await createRepo(path.join(tmp, 'semantic'), {
      // The repo's tsconfig leaves the tests out; the tests are JavaScript (CommonJS and ES modules).
      'tsconfig.json': JSON.stringify({ compilerOptions: { strict: true, target: 'ES2022', module: 'commonjs', rootDir: 'src', noUnusedParameters: true, types: [] }, include: ['src'] }),
      'src/repo.ts': 'export class Repo {\n  fetchAll(): number {\n    return 1;\n  }\n}\n',
      'src/loose.ts': "import { Repo } from './repo';\n\nexport function viaAny(r: any): number {\n  return r.fetchAll();\n}\n\nexport const typed = new Repo().fetchAll();\n",
      'src/store.ts': [
        'export class Store {',
        '  get(key: string): string {',
        '    return key;',
        '  }',
        '}',
        'export class Cache {',
        '  get(key: string): string {',
        "    return 'c' + key;",
        '  }',
        '}',
        'export function either(flag: boolean): Store | Cache {',
        '  return flag ? new Store() : new Cache();',
        '}',
        "export const viaUnion = either(true).get('y');",
        "export const viaCast = (new Store() as unknown as Cache).get('z');",
        '',
      ].join('\n'),
      'test/repo.test.js': "const { Repo } = require('../src/repo');\n\nif (new Repo().fetchAll() !== 1) throw new Error('fetchAll');\n",
      'test/esm.test.mjs': "import { Repo } from '../src/repo.js';\n\nexport const r = new Repo();\n",
    });
  });
  afterEach(() => resetRepo(repo));

  it('refuses a rename that leaves `any`-typed call sites behind, listing them, and renames them when confirmed (JavaScript call sites too)', async () => {
    const codemod = { codemod: 'rename-method', class: 'Repo', from: 'fetchAll', to: 'loadAll' };
    const refused = await failure(RefactorWorkspace.open(repo).apply(parseCodemod(codemod)));
    expect(refused).toBeInstanceOf(CodemodError);
    expect(refused!.message).toContain("1 call site(s) use '.fetchAll' on a receiver the type checker cannot resolve");
    expect(refused!.message).toContain('src/loose.ts:4');
    expect(gitStatus(repo)).toBe('');
    const dry = await RefactorWorkspace.open(repo).apply(parseCodemod({ ...codemod, unresolved: 'rename' }), { dryRun: true });
    applies(repo, dry.diff);
    const result = await RefactorWorkspace.open(repo).apply(parseCodemod({ ...codemod, unresolved: 'rename' }));
    expect(result.changedFiles).toEqual(['src/loose.ts', 'src/repo.ts', 'test/repo.test.js']);
    expect(await read(repo, 'src/loose.ts')).toContain('return r.loadAll();');
    expect(await read(repo, 'test/repo.test.js')).toContain('new Repo().loadAll()');
    expect((await RefactorWorkspace.open(repo).apply(parseCodemod({ ...codemod, unresolved: 'rename' }))).alreadyApplied).toBe(true);
  });

  it('refuses to rename one of two methods that meet at a call site through a union or a cast, listing the other', async () => {
    const refused = await failure(RefactorWorkspace.open(repo).apply(parseCodemod({ codemod: 'rename-method', class: 'Store', from: 'get', to: 'read' })));
    expect(refused).toBeInstanceOf(CodemodError);
    expect(refused!.message).toContain('src/store.ts:7 Cache.get (via src/store.ts:12)');
    expect(refused!.message).not.toContain('via src/store.ts:15'); // the cast's target was listed once, at the first site
    expect(gitStatus(repo)).toBe('');
  });

  it('move-file rewrites .js and .mjs importers', async () => {
    const codemod = parseCodemod({ codemod: 'move-file', from: 'src/repo.ts', to: 'src/data/repo.ts' });
    const dry = await RefactorWorkspace.open(repo).apply(codemod, { dryRun: true });
    applies(repo, dry.diff);
    const result = await RefactorWorkspace.open(repo).apply(codemod);
    expect(result.changedFiles).toEqual(['src/data/repo.ts', 'src/loose.ts', 'src/repo.ts', 'src/store.ts', 'test/esm.test.mjs', 'test/repo.test.js'].filter((f) => f !== 'src/store.ts'));
    expect(await read(repo, 'test/repo.test.js')).toContain("require('../src/data/repo')");
    expect(await read(repo, 'test/esm.test.mjs')).toContain("from '../src/data/repo.js'");
  });

  it("counts type errors as the repo's own tsc does (its tsconfig, not every file) and adds a parameter under noUnusedParameters", async () => {
    await fs.writeFile(path.join(repo, 'scratch.ts'), 'const broken: number = "not a number";\n'); // outside the tsconfig: tsc does not see it
    const result = await RefactorWorkspace.open(repo).apply(
      parseCodemod({ codemod: 'add-parameter', function: 'viaAny', parameter: { name: 'fallback', type: 'number', default: '0' } }),
    );
    expect(result.typeErrors).toMatchObject({ before: 0, after: 0 });
    expect(await read(repo, 'src/loose.ts')).toContain('export function viaAny(r: any, _fallback: number = 0): number {');
  });
});

describe("the repository's tests, run by default", () => {
  const JEST = path.join(__dirname, '../../../node_modules/jest/bin/jest.js');
  let repo: string;
  beforeAll(async () => {
    repo = await createRepo(path.join(tmp, 'with-tests'), {
      'package.json': JSON.stringify({ name: 'calc', private: true, scripts: { test: `node ${JEST} --ci --rootDir .` }, jest: { testEnvironment: 'node', transform: {} } }),
      'src/calc.js': 'class Calc {\n  add(a, b) {\n    return a + b;\n  }\n}\n\nmodule.exports = { Calc };\n',
      'test/calc.test.js': [
        "const { Calc } = require('../src/calc');",
        '',
        "describe('calc', () => {",
        '  const calc = new Calc();',
        "  it('adds', () => expect(calc.add(1, 2)).toBe(3));",
        "  it('adds negatives', () => expect(calc.add(-1, -2)).toBe(-3));",
        "  it('is a Calc', () => expect(calc).toBeInstanceOf(Calc));",
        '});',
        '',
      ].join('\n'),
    });
  });
  afterEach(() => resetRepo(repo));

  it('refuses a change that breaks tests, saying how many failed, which, and the first failure', async () => {
    const error = await failure(RefactorWorkspace.open(repo).apply(parseCodemod({ codemod: 'replace-call', from: 'calc.add($a, $b)', to: '$a - $b' })));
    expect(error).toBeInstanceOf(CodemodError);
    expect(error!.message).toContain('2 test(s) fail after the change that passed before (before: 0 failed, 3 passed; after: 2 failed, 1 passed): calc › adds; calc › adds negatives');
    expect(error!.message).toMatch(/first failure: expect\(received\)\.toBe\(expected\).*Expected: 3 Received: -1/);
    expect(error!.message).toContain('(`npm test`); the change was undone');
    expect(gitStatus(repo)).toBe('');
  });

  it('reports the tests before and after a change that keeps them passing', async () => {
    const result = await RefactorWorkspace.open(repo).apply(parseCodemod({ codemod: 'replace-call', from: 'calc.add($a, $b)', to: "calc['add']($a, $b)", scope: 'test' }));
    expect(result.tests).toEqual({ command: 'npm test', before: { passed: 3, failed: 0 }, after: { passed: 3, failed: 0 }, flaky: [] });
  });
});
