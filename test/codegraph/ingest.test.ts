import { GraphIndex, ingestRepo, MemoryGraphStore, parseSource } from '../../activities/codegraph';
import { canonical, SERVICE, TempRepo } from './fixture';

let repo: TempRepo;
let first: string;
let second: string;

beforeAll(() => {
  repo = new TempRepo();
  first = repo.commit(SERVICE, 'alice');
  second = repo.commit({ 'src/util.ts': SERVICE['src/util.ts'] + 'export function third(n: number) { return n / 3; }\n' }, 'bob');
});
afterAll(() => repo.remove());

describe('parseSource', () => {
  it('reports a syntax error instead of throwing', () => {
    const r = parseSource('x.ts', 'export const = ;');
    expect(r).toMatchObject({ ok: false });
    expect((r as { error: string }).error).toMatch(/line 1/);
  });
  it('finds exported functions, classes, public methods, and this.method calls', () => {
    const r = parseSource('x.ts', 'export class A { m() { return this.n(); } n() { return 1; } private p() {} }\nfunction hidden() {}\nexport { hidden as shown };\n');
    if (!r.ok) throw new Error(r.error);
    expect(r.symbols.map((s) => s.name).sort()).toEqual(['A', 'A.m', 'A.n', 'hidden']);
    expect(r.exports).toEqual({ A: 'A', shown: 'hidden' });
    expect(r.uses).toContainEqual({ from: 'A.m', name: 'this', member: 'A.n', call: true });
  });
});

describe('ingestRepo (in memory)', () => {
  it('builds File, Symbol and Owner nodes with IMPORTS, DECLARES, REFERENCES, CALLS and OWNS edges', async () => {
    const store = new MemoryGraphStore();
    const result = await ingestRepo(store, repo.dir, second);
    expect(result).toMatchObject({ mode: 'full', totalFiles: 7, filesParsed: 7 });
    expect(result.unparsed).toEqual([{ path: 'src/broken.ts', error: expect.stringContaining('line 2') }]);
    const snap = canonical(await store.snapshot());
    const has = (type: string, from: string, to: string) => expect(snap.edges).toContainEqual({ type, from, to });
    has('IMPORTS', 'src/db/store.ts', 'src/util.ts');
    has('IMPORTS', 'test/service.test.ts', 'src/service.ts');
    has('DECLARES', 'src/db/store.ts', 'src/db/store.ts#Store.get');
    has('REFERENCES', 'src/service.ts', 'src/util.ts#twice'); // through the barrel's `twice as double`
    has('REFERENCES', 'src/service.ts', 'src/util.ts#half'); // namespace import u.half
    has('CALLS', 'src/service.ts#handle', 'src/db/store.ts#Store'); // new Store() through export *
    has('CALLS', 'src/db/store.ts#Store.get', 'src/db/store.ts#Store.load'); // this.load
    has('CALLS', 'src/service.ts#main', 'src/service.ts#handle');
    expect(snap.symbols.map((s) => s.id)).not.toContain('src/util.ts#LIMIT'); // constants are not symbols
    expect(snap.files.find((f) => f.path === 'src/broken.ts')).toMatchObject({ parsed: false });
    expect(snap.files.find((f) => f.path === 'src/util.ts')).toMatchObject({ churn: 2 });
    expect(snap.files.find((f) => f.path === 'test/service.test.ts')).toMatchObject({ isTest: true });
    // CODEOWNERS: last match wins; git: commits per author.
    const owns = (file: string) => snap.owns.filter((o) => o.file === file).map((o) => `${o.source}:${o.owner}:${o.commits}`).sort();
    expect(owns('src/db/store.ts')).toEqual(['codeowners:@data-team:0', 'codeowners:alice@example.com:0', 'git:alice@example.com:1']);
    expect(owns('src/util.ts')).toEqual(['codeowners:@core:0', 'git:alice@example.com:1', 'git:bob@example.com:1']);
  });

  it('re-ingests incrementally, parsing only the changed files, and ends equal to a full ingest', async () => {
    const store = new MemoryGraphStore();
    await ingestRepo(store, repo.dir, first);
    const r2 = new TempRepo();
    try {
      // Same history in a second clone-like repo is not needed: continue on `repo` in a branch.
      repo.git('checkout', '-q', '-b', 'incremental', second);
      const third = repo.commit(
        {
          'src/server.ts': "import main from './service';\nimport { third } from './util';\nconsole.log(main(), third(3));\n",
          'src/extra.ts': "import { half } from './missing';\nexport const e = half;\n",
          'src/db/store.ts': null,
        },
        'carol',
      );
      const fourth = repo.commit({ 'src/missing.ts': 'export function half(n: number) { return n / 2; }\n' }, 'carol');
      const a = await ingestRepo(store, repo.dir, second);
      // util.ts gained an export, so its three importers are re-linked too.
      expect(a).toMatchObject({ mode: 'incremental', filesParsed: 4 });
      const b = await ingestRepo(store, repo.dir, third);
      expect(b.mode).toBe('incremental');
      expect(b.filesRemoved).toBe(1);
      expect(b.filesParsed).toBeLessThan(6);
      const c = await ingestRepo(store, repo.dir, fourth);
      expect(c.mode).toBe('incremental');
      const full = new MemoryGraphStore();
      await ingestRepo(full, repo.dir, fourth, { mode: 'full' });
      expect(canonical(await store.snapshot())).toEqual(canonical(await full.snapshot()));
      const index = new GraphIndex(await store.snapshot());
      expect(index.importers.get('src/missing.ts')).toEqual(new Set(['src/extra.ts'])); // dangling import re-linked
      expect(index.referencedBy.get('src/util.ts#third')).toEqual(new Set(['src/server.ts']));
    } finally {
      repo.git('checkout', '-q', 'main');
      r2.remove();
    }
  });

  it('falls back to a full ingest for a commit that is not a descendant', async () => {
    const store = new MemoryGraphStore();
    await ingestRepo(store, repo.dir, second);
    expect((await ingestRepo(store, repo.dir, first)).mode).toBe('full');
    await expect(ingestRepo(store, repo.dir, second, { mode: 'incremental' })).resolves.toMatchObject({ mode: 'incremental' });
  });
});
