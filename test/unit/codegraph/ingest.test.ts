import { GraphIndex } from '../../../codegraph/analysis';
import { ingestRepo } from '../../../codegraph/ingest';
import { MemoryGraphStore } from '../../../codegraph/memory-store';
import { parseSource } from '../../../codegraph/parse';
import { canonical, SERVICE, TempRepo } from '../../helpers/codegraph-fixture';

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

describe('incremental ingest over several commits (ends equal to a full ingest)', () => {
  const incrementalEqualsFull = async (r: TempRepo, from: string, to: string) => {
    const store = new MemoryGraphStore();
    await ingestRepo(store, r.dir, from);
    const inc = await ingestRepo(store, r.dir, to);
    expect(inc.mode).toBe('incremental');
    const full = new MemoryGraphStore();
    await ingestRepo(full, r.dir, to, { mode: 'full' });
    expect(canonical(await store.snapshot())).toEqual(canonical(await full.snapshot()));
    return { inc, snap: canonical(await full.snapshot()) };
  };

  it('counts the churn and authors of a file changed and changed back, of files added then deleted, across a linear range', async () => {
    const r = new TempRepo();
    try {
      const base = r.commit(SERVICE, 'alice');
      r.commit({ 'src/util.ts': SERVICE['src/util.ts'] + '// tweak\n', 'src/tmp.ts': 'export const t = 1;\n' }, 'bob');
      r.commit({ 'src/util.ts': SERVICE['src/util.ts'], 'src/tmp.ts': null, 'src/deep/a/b/new.ts': "import { twice } from '../../../util';\nexport const n = twice(2);\n" }, 'carol');
      const tip = r.commit({ 'src/service.ts': null, 'src/service.ts.bak': 'x' }, 'dave');
      const { inc, snap } = await incrementalEqualsFull(r, base, tip);
      expect(inc.filesRemoved).toBe(1);
      expect(snap.files.find((f) => f.path === 'src/util.ts')).toMatchObject({ churn: 3 }); // net unchanged, three commits
      expect(snap.owns).toContainEqual({ owner: 'carol@example.com', file: 'src/util.ts', source: 'git', commits: 1 });
    } finally {
      r.remove();
    }
  });

  it('takes a merge commit in the range (git log and git diff answer then)', async () => {
    const r = new TempRepo();
    try {
      const base = r.commit(SERVICE, 'alice');
      r.git('checkout', '-q', '-b', 'side');
      r.commit({ 'src/side.ts': "import { half } from './util';\nexport const s = half(4);\n", 'src/util.ts': SERVICE['src/util.ts'] + '// side\n' }, 'bob');
      r.commit({ 'src/util.ts': SERVICE['src/util.ts'] }, 'bob');
      r.git('checkout', '-q', 'main');
      r.commit({ 'src/db/store.ts': null }, 'carol');
      r.git('-c', 'user.name=erin', '-c', 'user.email=erin@example.com', 'merge', '-q', '--no-ff', '-m', 'merge side', 'side');
      const tip = r.git('rev-parse', 'HEAD');
      const { snap } = await incrementalEqualsFull(r, base, tip);
      expect(snap.files.find((f) => f.path === 'src/util.ts')).toMatchObject({ churn: 3 });
    } finally {
      r.remove();
    }
  });

  it('maps authors through .mailmap as git log does', async () => {
    const r = new TempRepo();
    try {
      const base = r.commit({ ...SERVICE, '.mailmap': 'Alice <alice@example.com> <bob@example.com>\n' }, 'alice');
      const tip = r.commit({ 'src/util.ts': SERVICE['src/util.ts'] + '// by bob\n' }, 'bob');
      const { snap } = await incrementalEqualsFull(r, base, tip);
      expect(snap.owns.filter((o) => o.file === 'src/util.ts' && o.source === 'git')).toEqual([{ owner: 'alice@example.com', file: 'src/util.ts', source: 'git', commits: 2 }]);
    } finally {
      r.remove();
    }
  });

  it('resolves branch names and answers a revision already ingested without parsing', async () => {
    const r = new TempRepo();
    try {
      const base = r.commit(SERVICE, 'alice');
      const store = new MemoryGraphStore();
      await ingestRepo(store, r.dir, 'main');
      expect(await ingestRepo(store, r.dir, 'main')).toMatchObject({ mode: 'incremental', sha: base, filesParsed: 0 });
      const tip = r.commit({ 'src/util.ts': SERVICE['src/util.ts'] + '// x\n' }, 'bob');
      expect(await ingestRepo(store, r.dir, 'main')).toMatchObject({ mode: 'incremental', sha: tip, filesParsed: 1 });
      await expect(ingestRepo(store, r.dir, 'no-such-branch')).rejects.toThrow(/no-such-branch/);
    } finally {
      r.remove();
    }
  });
});

describe('walkRange (the long-lived cat-file) agrees with git log', () => {
  it('on changes, churn and authors across a linear range, with a file turned directory and a mode change', async () => {
    const { rangeLog, walkRange, closeGitBatches } = await import('../../../codegraph/git-objects');
    const r = new TempRepo();
    try {
      const base = r.commit({ ...SERVICE, 'tools/x': 'file\n', 'bin/run.sh': '#!/bin/sh\n' }, 'alice');
      r.commit({ 'tools/x': null, 'src/util.ts': SERVICE['src/util.ts'] + '// 1\n' }, 'bob');
      r.commit({ 'tools/x/inner.ts': 'export const i = 1;\n', 'src/a/b/c.ts': 'export const c = 1;\n' }, 'carol');
      r.git('update-index', '--chmod=+x', 'bin/run.sh');
      r.git('-c', 'user.name=dave', '-c', 'user.email=Dave@Example.com', 'commit', '-q', '-m', 'mode');
      const tip = r.commit({ 'src/util.ts': SERVICE['src/util.ts'], 'src/a/b/c.ts': null }, 'erin');
      const walked = await walkRange(r.dir, base, 'main');
      const logged = await rangeLog(r.dir, base, 'main^{commit}');
      expect(walked).not.toBe('same');
      const norm = (x: typeof logged) => ({
        sha: x!.sha,
        ancestor: x!.ancestor,
        changes: [...x!.changes!].sort((a, b) => a.path.localeCompare(b.path)),
        churn: [...x!.history.churn].sort(),
        authors: [...x!.history.authors].map(([f, m]) => [f, [...m].sort()]).sort(),
      });
      expect(norm(walked as typeof logged)).toEqual(norm(logged));
      expect(norm(logged).sha).toBe(tip);
      expect(await walkRange(r.dir, tip, tip)).toBe('same');
    } finally {
      closeGitBatches();
      r.remove();
    }
  });
});
