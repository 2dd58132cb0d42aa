import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createDemoRepo } from '../../../examples/demo-repo';
import { applyCodemod, CodemodError } from '../../../refactor';
import { git } from '../../../io/git';

let tmp: string;
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'maestro-codemods-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

let counter = 0;
async function freshRepo(): Promise<string> {
  return (await createDemoRepo(path.join(tmp, `repo-${++counter}`))).repo;
}
const read = (repo: string, file: string): Promise<string> => fs.readFile(path.join(repo, file), 'utf8');
const status = async (repo: string): Promise<string> => (await git(repo, ['status', '--porcelain'])).stdout;

describe('rename-symbol', () => {
  it('renames a function and every reference across files, tests included', async () => {
    const repo = await freshRepo();
    const result = await applyCodemod(repo, { codemod: 'rename-symbol', from: 'normalizeName', to: 'canonicalName', scope: 'src' });
    expect(result.changedFiles).toEqual(['src/greeting.ts', 'test/greeting.test.ts']);
    for (const file of result.changedFiles) {
      const text = await read(repo, file);
      expect(text).not.toMatch(/\bnormalizeName\b/);
      expect(text).toMatch(/\bcanonicalName\b/);
    }
    expect(await read(repo, 'src/greeting.ts')).toContain('const name = canonicalName(rawName);');
  });

  it('renames a constant used in another module of the scope', async () => {
    const repo = await freshRepo();
    const result = await applyCodemod(repo, { codemod: 'rename-symbol', from: 'handleRequest', to: 'routeRequest', scope: 'src' });
    expect(result.changedFiles).toEqual(['src/app.ts', 'src/server.ts', 'test/app.test.ts']);
    expect(await read(repo, 'src/server.ts')).toContain("import { routeRequest } from './app';");
  });

  it('fails on an unknown symbol and leaves the tree untouched', async () => {
    const repo = await freshRepo();
    await expect(applyCodemod(repo, { codemod: 'rename-symbol', from: 'noSuchThing', to: 'x', scope: 'src' })).rejects.toThrow(
      /no declaration of 'noSuchThing' in src/,
    );
    expect(await status(repo)).toBe('');
  });

  it('fails on an ambiguous name and leaves the tree untouched', async () => {
    const repo = await freshRepo();
    await fs.writeFile(path.join(repo, 'src/a.ts'), 'export function helper(): number { return 1; }\n');
    await fs.writeFile(path.join(repo, 'src/b.ts'), 'export function helper(): number { return 2; }\n');
    const before = await status(repo);
    const error = await applyCodemod(repo, { codemod: 'rename-symbol', from: 'helper', to: 'assist', scope: 'src' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CodemodError);
    expect((error as Error).message).toMatch(/ambiguous.*src\/a\.ts:1.*src\/b\.ts:1/);
    expect(await status(repo)).toBe(before);
    expect(await read(repo, 'src/a.ts')).toContain('function helper');
  });

  it('refuses a name that is already declared, and a scope outside the repo', async () => {
    const repo = await freshRepo();
    await expect(applyCodemod(repo, { codemod: 'rename-symbol', from: 'normalizeName', to: 'greet', scope: 'src' })).rejects.toThrow(
      /'greet' is already declared/,
    );
    await expect(applyCodemod(repo, { codemod: 'rename-symbol', from: 'greet', to: 'hail', scope: '../..' })).rejects.toThrow(
      /outside the repository/,
    );
    expect(await status(repo)).toBe('');
  });
});

describe('replace-literal', () => {
  it('replaces the single occurrence', async () => {
    const repo = await freshRepo();
    const result = await applyCodemod(repo, { codemod: 'replace-literal', file: 'src/greeting.ts', from: "DEFAULT_NAME = 'world'", to: "DEFAULT_NAME = 'friend'" });
    expect(result.changedFiles).toEqual(['src/greeting.ts']);
    expect(await read(repo, 'src/greeting.ts')).toContain("DEFAULT_NAME = 'friend'");
  });

  it('rejects missing, ambiguous and out-of-repo targets without writing', async () => {
    const repo = await freshRepo();
    const attempt = (file: string, from: string) => applyCodemod(repo, { codemod: 'replace-literal', file, from, to: 'x' });
    await expect(attempt('src/greeting.ts', 'no such text')).rejects.toThrow(/not found in src\/greeting\.ts/);
    await expect(attempt('src/greeting.ts', 'name')).rejects.toThrow(/ambiguous in src\/greeting\.ts/);
    await expect(attempt('src/missing.ts', 'a')).rejects.toThrow(/does not exist/);
    await expect(attempt('../outside.txt', 'a')).rejects.toThrow(/outside the repository/);
    await expect(attempt('/etc/hostname', 'a')).rejects.toThrow(/relative to the repository/);
    await expect(attempt('.git/config', 'a')).rejects.toThrow(/outside the repository/);
    await fs.symlink('/etc', path.join(repo, 'escape'));
    await expect(attempt('escape/hostname', 'a')).rejects.toThrow(/outside the repository/);
    await fs.rm(path.join(repo, 'escape'));
    expect(await status(repo)).toBe('');
  });
});
