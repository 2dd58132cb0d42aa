/**
 * RefactorSurgeon guarantees, each on a small library with its own tests (test/refactor/fixture.ts):
 * every codemod kind, dry-run diffs, idempotence, declared scope, type-check, public API, the repo's tests,
 * and clear errors on bad input with the working tree untouched.
 */
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { applyCodemod, CodemodError, parseCodemod, RefactorWorkspace } from '../../../refactor';
import { createRepo, FIXTURE_TEST_COMMAND, gitStatus, read, resetRepo } from '../../helpers/refactor-fixture';

let tmp: string;
let repo: string;
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'maestro-refactor-'));
  repo = await createRepo(path.join(tmp, 'lib'));
});
afterAll(() => fs.rm(tmp, { recursive: true, force: true }));
afterEach(() => resetRepo(repo));

const apply = (data: unknown, options = {}) => RefactorWorkspace.open(repo).apply(parseCodemod(data), options);
const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as Error);

describe('codemods as data', () => {
  it('validates codemods with zod, naming the bad field', () => {
    expect(() => parseCodemod({ codemod: 'rename-method', from: 'area', to: '1bad' })).toThrow(/to: must be a TypeScript identifier/);
    expect(() => parseCodemod({ codemod: 'move-file', from: '/etc/passwd', to: 'x.ts' })).toThrow(/from: must be a path relative/);
    expect(() => parseCodemod({ codemod: 'explode' })).toThrow(/codemod/);
    expect(parseCodemod({ codemod: 'replace-call', from: 'f($a)', to: 'g($a)' })).toEqual({ codemod: 'replace-call', from: 'f($a)', to: 'g($a)', scope: '.' });
  });
});

describe('each codemod kind', () => {
  it('rename-method renames the abstract method, its overrides and every call, and the tests still pass', async () => {
    const result = await apply({ codemod: 'rename-method', class: 'Shape', from: 'area', to: 'surface' }, { testCommand: FIXTURE_TEST_COMMAND });
    expect(result.changedFiles).toEqual(['src/report.ts', 'src/shapes/circle.ts', 'src/shapes/shape.ts', 'src/shapes/square.ts', 'test/shapes.test.ts']);
    expect(result.typeErrors).toMatchObject({ before: 0, after: 0 });
    for (const file of result.changedFiles) expect(await read(repo, file)).not.toMatch(/\barea\(/);
    expect(await read(repo, 'src/shapes/circle.ts')).toContain('surface(): number {');
  });

  it('rename-function and rename-class follow imports and re-exports', async () => {
    const fn = await apply({ codemod: 'rename-function', from: 'format', to: 'formatNumber' }, { testCommand: FIXTURE_TEST_COMMAND });
    expect(fn.changedFiles).toEqual(['src/index.ts', 'src/report.ts', 'src/shapes/shape.ts', 'src/util/format.ts']);
    expect(await read(repo, 'src/index.ts')).toContain("export { formatNumber } from './util/format';");
    const cls = await apply({ codemod: 'rename-class', from: 'Shape', to: 'Figure', scope: 'src' }, { testCommand: FIXTURE_TEST_COMMAND });
    expect(cls.changedFiles).toHaveLength(5);
    expect(await read(repo, 'src/shapes/circle.ts')).toContain('export class Circle extends Figure {');
  });

  it('move-file moves the file and rewrites every import of it', async () => {
    const result = await apply({ codemod: 'move-file', from: 'src/util/format.ts', to: 'src/text/format.ts' }, { testCommand: FIXTURE_TEST_COMMAND });
    expect(result.created).toEqual(['src/text/format.ts']);
    expect(result.deleted).toEqual(['src/util/format.ts']);
    expect(await read(repo, 'src/shapes/shape.ts')).toContain("import { format } from '../text/format';");
    expect(await read(repo, 'src/math.ts')).toContain("import { clamp } from './text/format';");
  });

  it('move-function moves the function with the imports it needs and repoints its importers', async () => {
    const result = await apply({ codemod: 'move-function', file: 'src/math.ts', name: 'scale', to: 'src/scaling.ts' }, { testCommand: FIXTURE_TEST_COMMAND });
    expect(result.changedFiles).toEqual(['src/index.ts', 'src/math.ts', 'src/report.ts', 'src/scaling.ts']);
    const moved = await read(repo, 'src/scaling.ts');
    expect(moved).toContain("import { clamp } from './util/format';");
    expect(moved).toContain('export function scale(value: number, factor: number): number {');
    expect(await read(repo, 'src/math.ts')).not.toMatch(/clamp|scale/); // the import only scale used is gone
    expect(await read(repo, 'src/report.ts')).toContain("import { scale } from './scaling';");
  });

  it('move-function with reexport leaves a re-export behind for other importers', async () => {
    const result = await apply({ codemod: 'move-function', file: 'src/util/format.ts', name: 'clamp', to: 'src/util/clamp.ts', reexport: true }, { testCommand: FIXTURE_TEST_COMMAND });
    expect(result.changedFiles).toEqual(['src/math.ts', 'src/util/clamp.ts', 'src/util/format.ts']);
    expect(await read(repo, 'src/util/format.ts')).toContain("export { clamp } from './clamp';");
  });

  it('add-parameter adds a parameter with a default and passes the argument at every call site', async () => {
    const result = await apply(
      { codemod: 'add-parameter', function: 'scale', parameter: { name: 'offset', type: 'number', default: '0' }, argument: '0' },
      { testCommand: FIXTURE_TEST_COMMAND },
    );
    expect(result.changedFiles).toEqual(['src/math.ts', 'src/report.ts', 'test/report.test.ts']);
    expect(await read(repo, 'src/math.ts')).toContain('export function scale(value: number, factor: number, offset: number = 0): number {');
    expect(await read(repo, 'src/report.ts')).toContain('scale(s.area(), 1, 0)');
    expect(await read(repo, 'test/report.test.ts')).toContain('scale(2, 3, 0)');
  });

  it('add-parameter on a method without an argument leaves call sites to the default', async () => {
    const result = await apply({ codemod: 'add-parameter', class: 'Shape', function: 'describe', parameter: { name: 'digits', default: '2' } });
    expect(result.changedFiles).toEqual(['src/shapes/shape.ts']);
    expect(await read(repo, 'src/shapes/shape.ts')).toContain('describe(digits = 2): string {');
  });

  it('replace-call rewrites a call pattern with captured arguments and keeps the public API byte-identical', async () => {
    const ws = RefactorWorkspace.open(repo);
    const apiBefore = ws.emitPublicApi();
    const result = await ws.apply(parseCodemod({ codemod: 'replace-call', from: 'Math.pow($x, 2)', to: '$x ** 2' }), { testCommand: FIXTURE_TEST_COMMAND });
    expect(result.changedFiles).toEqual(['src/shapes/circle.ts', 'src/shapes/square.ts']);
    expect(await read(repo, 'src/shapes/circle.ts')).toContain('return Math.PI * this.radius ** 2;');
    expect(result.publicApiChanges).toEqual([]);
    expect(ws.emitPublicApi()).toEqual(apiBefore);
    expect(apiBefore.get('src/shapes/circle.d.ts')).toBe(
      'import { Shape } from \'./shape\';\nexport declare class Circle extends Shape {\n    readonly radius: number;\n    constructor(radius: number);\n    area(): number;\n    name(): string;\n}\n',
    );
  });
});

describe('dry run', () => {
  it('prints a unified diff that git applies, and writes nothing', async () => {
    const result = await apply({ codemod: 'move-file', from: 'src/util/format.ts', to: 'src/text/format.ts' }, { dryRun: true });
    expect(result.written).toBe(false);
    expect(gitStatus(repo)).toBe('');
    expect(result.diff).toContain('rename from src/util/format.ts\nrename to src/text/format.ts\n');
    expect(result.diff).toContain("-import { format } from '../util/format';\n+import { format } from '../text/format';\n");
    execFileSync('git', ['apply', '--check', '-'], { cwd: repo, input: result.diff });
    execFileSync('git', ['apply', '-'], { cwd: repo, input: result.diff });
    const real = await applyCodemod(path.join(tmp, 'lib'), parseCodemod({ codemod: 'move-file', from: 'src/util/format.ts', to: 'src/text/format.ts' }));
    expect(real.alreadyApplied).toBe(true); // the diff did exactly what the codemod does
  });
});

describe('guarantees', () => {
  it('is idempotent: applying twice is applying once', async () => {
    const codemods = [
      { codemod: 'rename-method', class: 'Shape', from: 'area', to: 'surface' },
      { codemod: 'move-function', file: 'src/math.ts', name: 'scale', to: 'src/scaling.ts' },
      { codemod: 'add-parameter', function: 'scale', parameter: { name: 'offset', default: '0' }, argument: '0' },
      { codemod: 'replace-call', from: 'Math.pow($x, 2)', to: '$x ** 2' },
    ];
    for (const codemod of codemods) {
      const ws = RefactorWorkspace.open(repo);
      await ws.apply(parseCodemod(codemod));
      const once = gitStatus(repo) + execFileSync('git', ['diff'], { cwd: repo, encoding: 'utf8' });
      const again = await ws.apply(parseCodemod(codemod));
      expect(again.changedFiles).toEqual([]);
      expect(gitStatus(repo) + execFileSync('git', ['diff'], { cwd: repo, encoding: 'utf8' })).toBe(once);
      resetRepo(repo);
    }
  });

  it('refuses a change outside the declared scope, naming the files, and writes nothing', async () => {
    const error = await failure(apply({ codemod: 'rename-method', class: 'Shape', from: 'area', to: 'surface', within: ['src'] }));
    expect(error).toBeInstanceOf(CodemodError);
    expect(error!.message).toMatch(/would change test\/shapes\.test\.ts, outside the declared scope \(within: src\)/);
    expect(gitStatus(repo)).toBe('');
    const inside = await apply({ codemod: 'replace-call', from: 'Math.pow($x, 2)', to: '$x ** 2', scope: 'src/shapes/circle.ts', within: ['src/shapes'] });
    expect(inside.changedFiles).toEqual(['src/shapes/circle.ts']); // square.ts has the pattern too, but is outside `scope`
  });

  it('refuses a change that breaks the type-check, and writes nothing', async () => {
    const error = await failure(apply({ codemod: 'add-parameter', function: 'scale', parameter: { name: 'offset', type: 'number', default: '0' }, argument: "'zero'" }));
    expect(error!.message).toMatch(/would break the type-check: src\/report\.ts:\d+ TS2345/);
    expect(gitStatus(repo)).toBe('');
  });

  it('refuses a public API change the codemod did not declare (emitted .d.ts diff in the message)', async () => {
    const error = await failure(apply({ codemod: 'rename-function', from: 'total', to: 'sum', publicApi: 'preserve' }));
    expect(error!.message).toMatch(/public API would change in src\/index\.d\.ts, src\/math\.d\.ts/);
    expect(error!.message).toContain('-export declare function total(values: number[]): number;');
    expect(gitStatus(repo)).toBe('');
    // A rename of something not exported passes the same check.
    await fs.writeFile(path.join(repo, 'src/math.ts'), (await read(repo, 'src/math.ts')) + '\nfunction helperTwice(n: number): number {\n  return n * 2;\n}\nexport const four = helperTwice(2);\n');
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qam', 'helper'], { cwd: repo });
    const ok = await apply({ codemod: 'rename-function', from: 'helperTwice', to: 'double', publicApi: 'preserve' });
    expect(ok.publicApiChanges).toEqual([]);
    execFileSync('git', ['reset', '-q', '--hard', 'HEAD~1'], { cwd: repo });
  });

  it("undoes the change when the repository's own tests fail", async () => {
    const error = await failure(apply({ codemod: 'replace-call', from: 'Math.pow($x, 2)', to: '$x * 3' }, { testCommand: FIXTURE_TEST_COMMAND }));
    expect(error!.message).toMatch(/tests fail after the change .*the change was undone[\s\S]*failed: circle area/);
    expect(gitStatus(repo)).toBe('');
  });
});

describe('bad input: a clear error naming the place, the working tree untouched', () => {
  const cases: [string, unknown, RegExp][] = [
    ['unknown symbol', { codemod: 'rename-function', from: 'nothing', to: 'x' }, /no declaration of 'nothing' in \./],
    ['unknown method of a class', { codemod: 'rename-method', class: 'Circle', from: 'describe', to: 'x' }, /no declaration of 'Circle\.describe'/],
    ['ambiguous method', { codemod: 'rename-method', from: 'name', to: 'label', scope: 'src/shapes' }, /'name' is ambiguous in src\/shapes: declared at src\/shapes\/(circle|shape|square)\.ts:\d+.*name the class/],
    ['name collision (class member)', { codemod: 'rename-method', class: 'Shape', from: 'area', to: 'describe' }, /'describe' is already declared at src\/shapes\/shape\.ts:6/],
    ['name collision (import in a referencing file)', { codemod: 'rename-function', from: 'total', to: 'format' }, /'format' is already declared at src\/report\.ts:2/],
    ['parameter collision', { codemod: 'add-parameter', function: 'scale', parameter: { name: 'factor', default: '1' } }, /already has a parameter 'factor' at src\/math\.ts:3/],
    ['file outside the repo', { codemod: 'move-file', from: 'src/math.ts', to: '../elsewhere/math.ts' }, /'..\/elsewhere\/math.ts' is outside the repository/],
    ['move onto an existing file', { codemod: 'move-file', from: 'src/math.ts', to: 'src/report.ts' }, /'src\/report\.ts' already exists/],
    ['move-function needing a private helper', { codemod: 'move-function', file: 'src/report.ts', name: 'nope', to: 'src/x.ts' }, /no top-level function 'nope' in src\/report\.ts/],
    ['self-matching call pattern', { codemod: 'replace-call', from: 'f($a)', to: 'f(f($a))' }, /matches the pattern .* again; it would not be idempotent/],
    ['placeholder not captured', { codemod: 'replace-call', from: 'f($a)', to: 'g($b)' }, /uses \$b, which the pattern does not capture/],
  ];
  it.each(cases)('%s', async (_name, codemod, message) => {
    const error = await failure(apply(codemod));
    expect(error).toBeInstanceOf(CodemodError);
    expect(error!.message).toMatch(message);
    expect(gitStatus(repo)).toBe('');
  });

  it('move-function refuses to take along a helper its file does not export', async () => {
    await fs.writeFile(path.join(repo, 'src/extra.ts'), 'function secret(): number {\n  return 1;\n}\nexport function open(): number {\n  return secret();\n}\n');
    const error = await failure(apply({ codemod: 'move-function', file: 'src/extra.ts', name: 'open', to: 'src/open.ts' }));
    expect(error!.message).toMatch(/'open' uses 'secret' \(src\/extra\.ts:1\), which src\/extra\.ts does not export/);
    expect(gitStatus(repo)).toBe('?? src/extra.ts\n');
  });
});
