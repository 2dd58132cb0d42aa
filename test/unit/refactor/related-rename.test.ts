/**
 * Issue 17, item 1: rename-method on a member that meets other declarations of the same name at a call site
 * (a union, a cast, an interface two classes implement, a base class) renames the whole related set with
 * all its call sites when asked ("related": "rename"), refuses with the list otherwise, and refuses always
 * when one of them is declared outside the repository. Every dry-run diff applies with `git apply --check`,
 * a second run is a no-op, and the repo's type check stays at 0 errors.
 */
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CodemodError, parseCodemod, RefactorWorkspace } from '../../../refactor';
import { createRepo, gitStatus, read, resetRepo } from '../../helpers/refactor-fixture';

// Real type-checks per test: slow on a shared machine.
jest.setTimeout(300_000);

let tmp: string;
let repo: string;
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'maestro-refactor-related-'));
  repo = await createRepo(path.join(tmp, 'related'), {
    'tsconfig.json': JSON.stringify({ compilerOptions: { strict: true, target: 'ES2022', module: 'commonjs', types: [] }, include: ['src'] }),
    // Two classes whose `get` meets through a union and through a cast.
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
      "export const direct = new Cache().get('d');",
      '',
    ].join('\n'),
    // Two interfaces, each implemented by two classes, whose members meet through a union of one implementer of each.
    'src/shapes.ts': [
      'export interface Named {',
      '  label(): string;',
      '}',
      'export class Dog implements Named {',
      '  label(): string {',
      "    return 'dog';",
      '  }',
      '}',
      'export class Cat implements Named {',
      '  label(): string {',
      "    return 'cat';",
      '  }',
      '}',
      'export function show(n: Named): string {',
      '  return n.label();',
      '}',
      'export const both = [new Dog().label(), new Cat().label()];',
      'export interface Speaker {',
      '  label(): string;',
      '}',
      'export class Robot implements Speaker {',
      '  label(): string {',
      "    return 'robot';",
      '  }',
      '}',
      'export class Parrot implements Speaker {',
      '  label(): string {',
      "    return 'parrot';",
      '  }',
      '}',
      'export const talk = (s: Speaker): string => s.label();',
      'export const either = (x: Cat | Robot): string => x.label();',
      '',
    ].join('\n'),
    // A base class overridden, and the override meeting a third class through a union: a transitive set.
    'src/sizes.ts': [
      'export class Base {',
      '  size(): number {',
      '    return 1;',
      '  }',
      '}',
      'export class Big extends Base {',
      '  override size(): number {',
      '    return 2;',
      '  }',
      '}',
      'export class Other {',
      '  size(): number {',
      '    return 3;',
      '  }',
      '}',
      'export const measured = (x: Big | Other): number => x.size();',
      'export const fromBase = new Base().size();',
      '',
    ].join('\n'),
    // A local class meeting a class declared in a package's .d.ts through a union.
    'node_modules/extlib/package.json': JSON.stringify({ name: 'extlib', version: '1.0.0', types: 'index.d.ts' }),
    'node_modules/extlib/index.d.ts': 'export declare class Remote {\n  fetch(): number;\n}\nexport interface Sender {\n  send(): void;\n}\n',
    'src/remote.ts': [
      "import type { Remote, Sender } from 'extlib';",
      '',
      'export class Local {',
      '  fetch(): number {',
      '    return 0;',
      '  }',
      '}',
      'export const pull = (source: Local | Remote): number => source.fetch();',
      'export class Bag {',
      '  has(key: string): boolean {',
      '    return key.length > 0;',
      '  }',
      '}',
      "export const holds = (b: Bag | Set<string>): boolean => b.has('k');",
      'export class Outbox implements Sender {',
      '  send(): void {}',
      '}',
      '',
    ].join('\n'),
  });
});
afterAll(() => fs.rm(tmp, { recursive: true, force: true }));
afterEach(() => resetRepo(repo));

const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as Error);
const applies = (diff: string) => execFileSync('git', ['apply', '--check', '-'], { cwd: repo, input: diff });

/** Dry run (its diff must apply), real apply with type check, then a second run that must change nothing. */
async function renameTogether(data: Record<string, unknown>) {
  const codemod = parseCodemod({ codemod: 'rename-method', related: 'rename', ...data });
  const dry = await RefactorWorkspace.open(repo).apply(codemod, { dryRun: true, testCommand: false });
  expect(gitStatus(repo)).toBe('');
  applies(dry.diff);
  const result = await RefactorWorkspace.open(repo).apply(codemod, { testCommand: false });
  expect(result.diff).toBe(dry.diff);
  expect(result.typeErrors).toMatchObject({ before: 0, after: 0 });
  const again = await RefactorWorkspace.open(repo).apply(codemod, { testCommand: false });
  expect(again).toMatchObject({ alreadyApplied: true, changedFiles: [] });
  return result;
}

describe('rename-method of a property that holds a function', () => {
  it("renames an arrow-function property (immer's `produce = (…) =>`) and its calls; a property holding a value is no method", async () => {
    await fs.writeFile(
      path.join(repo, 'src/draft.ts'),
      'export class Draft {\n  count = 1;\n  produce = (x: number): number => x + this.count;\n}\nexport const d = new Draft().produce(2);\n',
    );
    execFileSync('git', ['add', '-A'], { cwd: repo });
    execFileSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-qm', 'draft'], { cwd: repo });
    const result = await renameTogether({ class: 'Draft', from: 'produce', to: 'create' });
    expect(result.changedFiles).toEqual(['src/draft.ts']);
    expect(await read(repo, 'src/draft.ts')).toBe('export class Draft {\n  count = 1;\n  create = (x: number): number => x + this.count;\n}\nexport const d = new Draft().create(2);\n');
    const refused = await failure(RefactorWorkspace.open(repo).apply(parseCodemod({ codemod: 'rename-method', class: 'Draft', from: 'count', to: 'total' }), { dryRun: true, testCommand: false }));
    expect(refused).toBeInstanceOf(CodemodError);
    expect(refused!.message).toContain("no declaration of 'Draft.count'");
  });
});

describe('rename-method with related declarations', () => {
  it('refuses by default, listing the other declaration and saying how to rename them together', async () => {
    const refused = await failure(RefactorWorkspace.open(repo).apply(parseCodemod({ codemod: 'rename-method', class: 'Store', from: 'get', to: 'read' }), { testCommand: false }));
    expect(refused).toBeInstanceOf(CodemodError);
    expect(refused!.message).toContain('src/store.ts:7 Cache.get (via src/store.ts:12)');
    expect(refused!.message).toContain('give "related": "rename" to rename these 2 declarations together with their call sites (src/store.ts:2 Store.get, src/store.ts:7 Cache.get)');
    expect(gitStatus(repo)).toBe('');
  });

  it('renames two classes that meet through a union and a cast, with every call site', async () => {
    const result = await renameTogether({ class: 'Store', from: 'get', to: 'read' });
    expect(result.changedFiles).toEqual(['src/store.ts']);
    const store = await read(repo, 'src/store.ts');
    expect(store.match(/^ {2}read\(key: string\): string \{$/gm)).toHaveLength(2);
    expect(store).toContain("either(true).read('y')");
    expect(store).toContain("(new Store() as unknown as Cache).read('z')");
    expect(store).toContain("new Cache().read('d')");
    expect(store).not.toMatch(/\bget\b/);
  });

  it('renames interface members with every class implementing them, starting from one class, across a union', async () => {
    const refused = await failure(RefactorWorkspace.open(repo).apply(parseCodemod({ codemod: 'rename-method', class: 'Dog', from: 'label', to: 'title' }), { testCommand: false }));
    expect(refused).toBeInstanceOf(CodemodError);
    // The language service alone renames Named, Dog and Cat; the union brings in Robot, and with it Speaker and Parrot.
    expect(refused!.message).toContain('src/shapes.ts:22 Robot.label (via src/shapes.ts:32)');
    expect(refused!.message).toContain('rename these 6 declarations together');
    expect(refused!.message).toContain('src/shapes.ts:19 Speaker.label');
    expect(refused!.message).toContain('src/shapes.ts:27 Parrot.label');
    const result = await renameTogether({ class: 'Dog', from: 'label', to: 'title' });
    expect(result.changedFiles).toEqual(['src/shapes.ts']);
    const shapes = await read(repo, 'src/shapes.ts');
    expect(shapes.match(/^ {2}title\(\): string;$/gm)).toHaveLength(2); // Named and Speaker
    expect(shapes.match(/^ {2}title\(\): string \{$/gm)).toHaveLength(4); // Dog, Cat, Robot, Parrot
    expect(shapes).toContain('return n.title();');
    expect(shapes).toContain('[new Dog().title(), new Cat().title()]');
    expect(shapes).toContain('s.title()');
    expect(shapes).toContain('x.title()');
    expect(shapes).not.toMatch(/\blabel\b/);
  });

  it('follows the set transitively: a base method, its override, and a class the override meets in a union', async () => {
    const refused = await failure(RefactorWorkspace.open(repo).apply(parseCodemod({ codemod: 'rename-method', class: 'Base', from: 'size', to: 'extent' }), { testCommand: false }));
    expect(refused).toBeInstanceOf(CodemodError);
    expect(refused!.message).toContain('src/sizes.ts:12 Other.size (via src/sizes.ts:16)');
    const result = await renameTogether({ class: 'Base', from: 'size', to: 'extent' });
    expect(result.changedFiles).toEqual(['src/sizes.ts']);
    const sizes = await read(repo, 'src/sizes.ts');
    expect(sizes).toContain('  override extent(): number {');
    expect(sizes.match(/^ {2}extent\(\): number \{$/gm)).toHaveLength(2); // Base and Other
    expect(sizes).toContain('x.extent()');
    expect(sizes).toContain('new Base().extent()');
    expect(sizes).not.toMatch(/\bsize\b/);
  });

  it('refuses, even when asked, a set holding a declaration in a package .d.ts, naming it', async () => {
    for (const related of ['refuse', 'rename']) {
      const refused = await failure(
        RefactorWorkspace.open(repo).apply(parseCodemod({ codemod: 'rename-method', class: 'Local', from: 'fetch', to: 'load', related }), { testCommand: false }),
      );
      expect(refused).toBeInstanceOf(CodemodError);
      expect(refused!.message).toContain('outside the repository');
      expect(refused!.message).toMatch(/node_modules\/extlib\/index\.d\.ts:2 Remote\.fetch \(via src\/remote\.ts:8\)/);
      expect(gitStatus(repo)).toBe('');
    }
  });

  it("refuses a set holding a member of TypeScript's lib (a union with Set), naming it", async () => {
    const refused = await failure(
      RefactorWorkspace.open(repo).apply(parseCodemod({ codemod: 'rename-method', class: 'Bag', from: 'has', to: 'holds', related: 'rename' }), { testCommand: false }),
    );
    expect(refused).toBeInstanceOf(CodemodError);
    expect(refused!.message).toMatch(/outside the repository.*TypeScript's lib\.es2015\.collection\.d\.ts:\d+ Set\.has \(via src\/remote\.ts:14\)/);
    expect(gitStatus(repo)).toBe('');
  });

  it('refuses a class method that implements a package interface, naming the interface member', async () => {
    const refused = await failure(
      RefactorWorkspace.open(repo).apply(parseCodemod({ codemod: 'rename-method', class: 'Outbox', from: 'send', to: 'post', related: 'rename' }), { testCommand: false }),
    );
    expect(refused).toBeInstanceOf(CodemodError);
    expect(refused!.message).toMatch(/outside the repository.*node_modules\/extlib\/index\.d\.ts:5 Sender\.send \(via src\/remote\.ts:16\)/);
    expect(gitStatus(repo)).toBe('');
  });

  it('follows classes that match an interface by shape only (no implements) where their values flow into it, and leaves a look-alike alone', async () => {
    await fs.writeFile(
      path.join(repo, 'src/plug.ts'),
      [
        'export interface Plugin {',
        '  run(input: string): string;',
        '}',
        'export class Upper {',
        '  run(input: string): string {',
        '    return input.toUpperCase();',
        '  }',
        '}',
        'export class Lower {',
        '  run(input: string): string {',
        '    return input.toLowerCase();',
        '  }',
        '}',
        'export function apply(p: Plugin, text: string): string {',
        '  return p.run(text);',
        '}',
        "export const shouted = apply(new Upper(), 'a');",
        'const plugins: Plugin[] = [new Lower()];',
        "export const quiet = plugins[0]!.run('B');",
        'export class Unrelated {',
        '  run(): number {',
        '    return 0;',
        '  }',
        '}',
        'export const other = new Unrelated().run();',
        '',
      ].join('\n'),
    );
    execFileSync('git', ['add', '-A'], { cwd: repo });
    execFileSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-qm', 'plug'], { cwd: repo });
    const refused = await failure(RefactorWorkspace.open(repo).apply(parseCodemod({ codemod: 'rename-method', class: 'Upper', from: 'run', to: 'exec' }), { testCommand: false }));
    expect(refused).toBeInstanceOf(CodemodError);
    // Upper reaches Plugin as an argument; Plugin's array takes a Lower.
    expect(refused!.message).toContain('src/plug.ts:2 Plugin.run (via src/plug.ts:17)');
    expect(refused!.message).toContain('src/plug.ts:10 Lower.run (via src/plug.ts:18)');
    expect(refused!.message).toContain('rename these 3 declarations together');
    expect(refused!.message).not.toContain('Unrelated');
    const result = await renameTogether({ class: 'Upper', from: 'run', to: 'exec' });
    expect(result.changedFiles).toEqual(['src/plug.ts']);
    const plug = await read(repo, 'src/plug.ts');
    expect(plug.match(/\bexec\(input: string\): string/g)).toHaveLength(3);
    expect(plug).toContain('return p.exec(text);');
    expect(plug).toContain("plugins[0]!.exec('B')");
    expect(plug).toContain('  run(): number {');
    expect(plug).toContain('new Unrelated().run()');
  });

  it('renames a method alone, as before, when nothing else meets it', async () => {
    await fs.writeFile(path.join(repo, 'src/solo.ts'), 'export class Solo {\n  ping(): number {\n    return 1;\n  }\n}\nexport const p = new Solo().ping();\n');
    execFileSync('git', ['add', '-A'], { cwd: repo });
    execFileSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-qm', 'solo'], { cwd: repo });
    const result = await renameTogether({ class: 'Solo', from: 'ping', to: 'pong' });
    expect(result.changedFiles).toEqual(['src/solo.ts']);
    expect(await read(repo, 'src/solo.ts')).toBe('export class Solo {\n  pong(): number {\n    return 1;\n  }\n}\nexport const p = new Solo().pong();\n');
  });

  it("follows a module's exported function where the module, taken as a namespace, flows into the interface", async () => {
    // The search skips its flow check once every declaration of the name is in the set: a module's top-level
    // function is one too (a property of its namespace object) when some file takes that module as a namespace.
    await fs.writeFile(path.join(repo, 'src/handlers.ts'), 'export function handle(input: string): string {\n  return input.trim();\n}\n');
    await fs.writeFile(
      path.join(repo, 'src/host.ts'),
      [
        "import * as handlers from './handlers';",
        'export interface Handler {',
        '  handle(input: string): string;',
        '}',
        'export class Echo implements Handler {',
        '  handle(input: string): string {',
        '    return input;',
        '  }',
        '}',
        'export function serve(h: Handler, text: string): string {',
        '  return h.handle(text);',
        '}',
        "export const viaModule = serve(handlers, ' a ');",
        "export const viaEcho = serve(new Echo(), 'b');",
        '',
      ].join('\n'),
    );
    execFileSync('git', ['add', '-A'], { cwd: repo });
    execFileSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-qm', 'handlers'], { cwd: repo });
    const refused = await failure(RefactorWorkspace.open(repo).apply(parseCodemod({ codemod: 'rename-method', class: 'Echo', from: 'handle', to: 'respond' }), { testCommand: false }));
    expect(refused).toBeInstanceOf(CodemodError);
    expect(refused!.message).toContain('src/handlers.ts:1 handle (via src/host.ts:13)');
    expect(gitStatus(repo)).toBe('');
  });
});
