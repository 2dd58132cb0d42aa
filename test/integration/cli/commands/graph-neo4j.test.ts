/** `maestro graph --store neo4j` (graphCommand) on a real repository in a temp dir, against the Neo4j of the global setup. */
import { graphNameFor } from '../../../../codegraph/service';
import { Neo4jGraphStore } from '../../../../codegraph/neo4j-store';

import { ensureNeo4j } from '../../../../infra/neo4j/server';
import { runGraph, twoCommitRepo, type TempRepo } from '../../../helpers/codegraph-fixture';

let repo: TempRepo;
let head: string;
beforeAll(() => {
  ({ repo, head } = twoCommitRepo());
});
afterAll(() => repo.remove());
const run = runGraph;

describe('maestro graph --store neo4j', () => {
  const saved = process.env.MAESTRO_NEO4J_URI;
  afterEach(() => {
    if (saved === undefined) delete process.env.MAESTRO_NEO4J_URI;
    else process.env.MAESTRO_NEO4J_URI = saved;
  });

  it('ingests into the real Neo4j, then answers incrementally from the kept graph', async () => {
    process.env.MAESTRO_NEO4J_URI = saved ?? (await ensureNeo4j()).uri;
    const store = new Neo4jGraphStore({ uri: process.env.MAESTRO_NEO4J_URI, graph: graphNameFor(repo.dir) });
    try {
      await store.clear();
      const first = await run('ingest', repo.dir, '--store', 'neo4j', '--rev', 'HEAD~1');
      expect(first.code).toBe(0);
      expect(first.out).toMatch(/\(full\): 7 source files/);
      const r = await run('dependents', repo.dir, 'src/util.ts#twice', '--store', 'neo4j', '--json');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out)[0].callers).toEqual(['src/db/store.ts#Store.get', 'src/service.ts#handle']);
      expect((await store.getMeta())?.sha).toBe(head); // the query moved the kept graph to HEAD incrementally
      const again = await run('ingest', repo.dir, '--store', 'neo4j');
      expect(again.out).toMatch(/\(incremental\): 7 source files, 0 parsed/);
    } finally {
      await store.clear().catch(() => undefined);
      await store.close();
    }
  }, 180_000);

  it('Neo4j down: exit code 1 with a clear reason', async () => {
    process.env.MAESTRO_NEO4J_URI = 'bolt://127.0.0.1:1';
    const r = await run('hot-paths', repo.dir, '--store', 'neo4j');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^maestro graph: Neo4j is not reachable at bolt:\/\/127\.0\.0\.1:1/);
  });
});
