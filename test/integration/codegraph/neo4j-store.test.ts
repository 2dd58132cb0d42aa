import { ApplicationFailure } from '@temporalio/common';
import { computeCentrality, GraphIndex, hotPaths } from '../../../codegraph/analysis';
import { createCodegraphActivities } from '../../../activities/risk';
import { asWorkerRuns } from '../../helpers/interceptors';
import { ingestRepo } from '../../../codegraph/ingest';
import { MemoryGraphStore } from '../../../codegraph/memory-store';
import { Neo4jGraphStore, Neo4jUnavailableError } from '../../../codegraph/neo4j-store';
import { parseChangeRequest } from '../../../core/change-request';
import { ensureNeo4j, type Neo4jHandle } from '../../../infra/neo4j/server';
import { canonical, SERVICE, TempRepo } from '../../helpers/codegraph-fixture';

let neo: Neo4jHandle;
let repo: TempRepo;
const shas: string[] = [];
const stores: Neo4jGraphStore[] = [];
const neoStore = (writeMode: 'batched' | 'per-row' = 'batched') => {
  const s = new Neo4jGraphStore({ uri: neo.uri, graph: `test-${process.pid}-${Date.now()}-${stores.length}`, writeMode });
  stores.push(s);
  return s;
};

beforeAll(async () => {
  neo = await ensureNeo4j();
  repo = new TempRepo();
  shas.push(repo.commit(SERVICE, 'alice'));
  shas.push(repo.commit({ 'src/util.ts': SERVICE['src/util.ts'] + 'export function third(n: number) { return n / 3; }\n' }, 'bob'));
  shas.push(repo.commit({ 'src/server.ts': "import main from './service';\nimport { third } from './util';\nconsole.log(main(), third(3));\n", 'src/db/store.ts': null }, 'carol'));
}, 240_000);

afterAll(async () => {
  for (const s of stores) {
    await s.clear().catch(() => undefined);
    await s.close();
  }
  repo?.remove();
});

describe('Neo4jGraphStore against a real Neo4j 5.26', () => {
  it('holds the same graph as the in-memory store, batched or one row at a time', async () => {
    const memory = new MemoryGraphStore();
    const batched = neoStore();
    const perRow = neoStore('per-row');
    await ingestRepo(memory, repo.dir, shas[1]!);
    await ingestRepo(batched, repo.dir, shas[1]!);
    await ingestRepo(perRow, repo.dir, shas[1]!);
    const expected = canonical(await memory.snapshot());
    expect(canonical(await batched.snapshot())).toEqual(expected);
    expect(canonical(await perRow.snapshot())).toEqual(expected);
    expect((await batched.getMeta())?.sha).toBe(shas[1]);
  });

  it('computes the same centrality and hot paths from either store', async () => {
    const memory = new MemoryGraphStore();
    const neoS = neoStore();
    await ingestRepo(memory, repo.dir, shas[1]!);
    await ingestRepo(neoS, repo.dir, shas[1]!);
    const a = new GraphIndex(await memory.snapshot());
    const b = new GraphIndex(await neoS.snapshot());
    const ca = computeCentrality(a);
    const cb = computeCentrality(b);
    expect([...cb.files.entries()].sort()).toEqual([...ca.files.entries()].sort());
    expect([...cb.symbols.entries()].sort()).toEqual([...ca.symbols.entries()].sort());
    expect(ca.files.get('src/util.ts')!.pageRankRel).toBe(1);
    expect(hotPaths(b, cb)).toEqual(hotPaths(a, ca));
    expect(hotPaths(b, cb, { level: 'symbol' })).toEqual(hotPaths(a, ca, { level: 'symbol' }));
  });

  it('re-ingests incrementally into Neo4j and ends equal to a full ingest', async () => {
    const incremental = neoStore();
    await ingestRepo(incremental, repo.dir, shas[0]!);
    const r = await ingestRepo(incremental, repo.dir, shas[2]!);
    expect(r).toMatchObject({ mode: 'incremental', filesRemoved: 1 });
    const full = new MemoryGraphStore();
    await ingestRepo(full, repo.dir, shas[2]!);
    expect(canonical(await incremental.snapshot())).toEqual(canonical(await full.snapshot()));
  });

  it('creates its constraints and indexes', async () => {
    const s = neoStore();
    await s.init();
    const session = s.driver.session();
    try {
      const names = (await session.run('SHOW CONSTRAINTS YIELD name')).records.map((r) => r.get('name'));
      expect(names).toEqual(expect.arrayContaining(['maestro_file_uid', 'maestro_symbol_uid', 'maestro_owner_uid']));
    } finally {
      await session.close();
    }
  });
});

describe('Neo4j down', () => {
  const downUri = 'bolt://127.0.0.1:1';
  it('gives a clear error from the store', async () => {
    const s = new Neo4jGraphStore({ uri: downUri, graph: 'down' });
    try {
      await expect(s.getMeta()).rejects.toThrow(Neo4jUnavailableError);
      await expect(s.getMeta()).rejects.toThrow(/not reachable at bolt:\/\/127\.0\.0\.1:1/);
    } finally {
      await s.close();
    }
  });

  it('fails the assessRisk stage with a reason, without falling back to the in-memory graph', async () => {
    const { assessRisk } = asWorkerRuns(createCodegraphActivities({ store: { kind: 'neo4j', uri: downUri } }));
    const changeRequest = parseChangeRequest({
      id: 'down-1',
      title: 't',
      intent: 'i',
      repo: repo.dir,
      service: 'svc',
      change: { kind: 'codemod', codemod: { codemod: 'replace-literal', file: 'src/util.ts', from: 'n * 2', to: 'n + n' } },
    });
    const candidate = {
      branch: 'b',
      baseSha: shas[0]!,
      sha: shas[1]!,
      changedFiles: ['src/util.ts'],
      diffStat: { files: 1, insertions: 1, deletions: 0 },
      diff: '',
      service: { entry: 'src/server.ts', healthPath: '/healthz', test: ['{node}', '--test'] },
    };
    const failure = await assessRisk({ changeRequest, candidate }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'CodeGraphUnavailable', nonRetryable: true });
    expect((failure as Error).message).toContain('Neo4j is not reachable at bolt://127.0.0.1:1');
  });
});
