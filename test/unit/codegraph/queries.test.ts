/** The graph queries (blast radius, dependents, owners, hot paths) on a small real repository, exactly. */
import { blastRadius, computeCentrality, dependentsOf, findSymbols, GraphIndex, hotPaths, ownersOfPath } from '../../../codegraph/analysis';
import { ingestRepo } from '../../../codegraph/ingest';
import { MemoryGraphStore } from '../../../codegraph/memory-store';
import { SERVICE, TempRepo } from '../../helpers/codegraph-fixture';

let repo: TempRepo;
let index: GraphIndex;

beforeAll(async () => {
  repo = new TempRepo();
  repo.commit(SERVICE, 'alice');
  const head = repo.commit({ 'src/util.ts': SERVICE['src/util.ts'] + 'export function third(n: number) { return n / 3; }\n' }, 'bob');
  const store = new MemoryGraphStore();
  await ingestRepo(store, repo.dir, head);
  index = new GraphIndex(await store.snapshot());
});
afterAll(() => repo.remove());

describe('blastRadius', () => {
  it('follows importers transitively, with distances, symbols, tests and owners', () => {
    expect(blastRadius(index, ['src/util.ts'])).toEqual({
      changed: ['src/util.ts'],
      affectedFiles: [
        { path: 'src/db/index.ts', distance: 1 },
        { path: 'src/db/store.ts', distance: 1 },
        { path: 'src/service.ts', distance: 1 },
        { path: 'src/server.ts', distance: 2 },
        { path: 'test/service.test.ts', distance: 2 },
      ],
      touchedSymbols: ['src/util.ts#half', 'src/util.ts#third', 'src/util.ts#twice'],
      dependentSymbols: ['src/db/store.ts#Store.get', 'src/service.ts#handle', 'src/service.ts#main'],
      testsToRun: ['test/service.test.ts'],
      testsFrom: 'tests by path (no jest or vitest config)',
      owners: ['alice@example.com', '@core', '@data-team', 'bob@example.com'],
      share: 5 / 7,
    });
  });

  it('stops at the given depth and ignores files outside the graph', () => {
    const r = blastRadius(index, ['src/db/store.ts', 'README.md', 'nope.ts'], 1);
    expect(r.changed).toEqual(['src/db/store.ts']);
    expect(r.affectedFiles).toEqual([{ path: 'src/db/index.ts', distance: 1 }]);
    expect(r.touchedSymbols).toEqual(['src/db/store.ts#Store', 'src/db/store.ts#Store.get', 'src/db/store.ts#Store.load']);
    // `new Store()` in handle is a call, so handle and its caller main depend on the changed file.
    expect(r.dependentSymbols).toEqual(['src/service.ts#handle', 'src/service.ts#main']);
    expect(r.testsToRun).toEqual([]);
    expect(r.owners).toEqual(['alice@example.com', '@data-team']);
  });

  it('of a leaf (nothing imports it) is the file alone', () => {
    expect(blastRadius(index, ['src/server.ts'])).toMatchObject({ affectedFiles: [], touchedSymbols: [], dependentSymbols: [], testsToRun: [], share: 0 });
  });
});

describe('dependents', () => {
  it('finds a symbol by name, by Class.method, or by id', () => {
    expect(findSymbols(index, 'twice')).toEqual(['src/util.ts#twice']);
    expect(findSymbols(index, 'load')).toEqual(['src/db/store.ts#Store.load']);
    expect(findSymbols(index, 'src/service.ts#main')).toEqual(['src/service.ts#main']);
    expect(findSymbols(index, 'LIMIT')).toEqual([]); // constants are not symbols
  });

  it('lists referencing files, direct callers and transitive callers', () => {
    expect(dependentsOf(index, 'src/util.ts#twice')).toEqual({
      symbol: 'src/util.ts#twice',
      referencingFiles: ['src/db/store.ts', 'src/service.ts'], // service.ts through the barrel's `twice as double`
      callers: ['src/db/store.ts#Store.get', 'src/service.ts#handle'],
      transitiveCallers: ['src/db/store.ts#Store.get', 'src/service.ts#handle', 'src/service.ts#main'],
    });
    expect(dependentsOf(index, 'src/service.ts#handle')).toEqual({
      symbol: 'src/service.ts#handle',
      referencingFiles: ['test/service.test.ts'],
      callers: ['src/service.ts#main'],
      transitiveCallers: ['src/service.ts#main'],
    });
    expect(dependentsOf(index, 'src/util.ts#third')).toEqual({ symbol: 'src/util.ts#third', referencingFiles: [], callers: [], transitiveCallers: [] });
  });
});

describe('ownersOfPath', () => {
  it('of a file: CODEOWNERS first, then git authors by commits', () => {
    expect(ownersOfPath(index, 'src/util.ts')).toEqual([
      { owner: '@core', codeowner: true, files: 1, commits: 0 },
      { owner: 'alice@example.com', codeowner: false, files: 1, commits: 1 },
      { owner: 'bob@example.com', codeowner: false, files: 1, commits: 1 },
    ]);
  });
  it('of a directory: every file under it (last CODEOWNERS rule wins)', () => {
    expect(ownersOfPath(index, 'src/db/')).toEqual([
      { owner: 'alice@example.com', codeowner: true, files: 2, commits: 2 },
      { owner: '@data-team', codeowner: true, files: 2, commits: 0 },
    ]);
  });
  it('of a path nobody owns is empty', () => {
    expect(ownersOfPath(index, 'docs')).toEqual([]);
  });
});

describe('hotPaths', () => {
  const centrality = () => computeCentrality(index);
  it('file level: the most central import chains from entry files', () => {
    // One chain (service → util) reached from two entries: one hot path, the other entry listed.
    expect(hotPaths(index, centrality()).map((p) => [p.nodes, p.otherEntries])).toEqual([[['src/server.ts', 'src/service.ts', 'src/util.ts'], ['test/service.test.ts']]]);
  });
  it('symbol level: the most central call chains, best first, limited', () => {
    const paths = hotPaths(index, centrality(), { level: 'symbol', limit: 5 });
    // `new Store().get(k)` in handle is a call the type checker places: Store.get is no entry of its own.
    expect(paths.map((p) => p.nodes)).toEqual([['src/service.ts#main', 'src/service.ts#handle', 'src/util.ts#twice']]);
    expect(index.callers.get('src/db/store.ts#Store.get')).toEqual(new Set(['src/service.ts#handle']));
    expect(paths.every((p) => p.level === 'symbol')).toBe(true);
    expect(hotPaths(index, centrality(), { level: 'symbol', limit: 0 })).toEqual([]);
    // twice is the most depended-upon symbol (called by handle and by Store.get): the top relative PageRank.
    expect(centrality().symbols.get('src/util.ts#twice')!.pageRankRel).toBe(1);
    expect(hotPaths(index, centrality(), { level: 'symbol', limit: 1 }).map((p) => p.nodes)).toEqual([paths[0]!.nodes]);
  });
});
