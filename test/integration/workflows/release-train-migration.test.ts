import { Pool } from 'pg';
import { createPeopleTable, mismatchedRows, splitNameMigration, VersionLoad } from '../../../bench/lib/people-load';
import type { ChangeRequest } from '../../../core/change-request';
import { MigrationEngine } from '../../../migrations/engine';
import { TrainFixture } from '../../../examples/train-fixture';
import { migrationStatusQuery, migrationWorkflowId, trainStatusQuery } from '../../../workflows/messages';
import type { releaseTrain } from '../../../workflows/release-train';
import { emptyDatabase } from '../../helpers/fresh-db';
import { startTestWorker, type TestWorker, realActivities, scheduledActivities, tempDir } from '../../helpers/temporal';

const TASK_QUEUE = 'test-release-train-migration';
const RUN = Date.now().toString(36);
const ROWS = 5000;
let temporal: TestWorker;
const stateDir = tempDir('wf-mig-train');
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  temporal = await startTestWorker(TASK_QUEUE, realActivities(stateDir));
}, 120_000);

afterAll(async () => {
  for (const c of cleanups.splice(0)) await c().catch(() => undefined);
  await temporal?.stop();
});

/** The greeter with its traffic, and the service's own database with `people` under v1 load. */
async function stack(name: string): Promise<{ fixture: TrainFixture; url: string; pool: Pool; v1: VersionLoad }> {
  const fixture = new TrainFixture(`${name}-${RUN}`, stateDir);
  await fixture.start();
  const db = await emptyDatabase(name.replace(/-/g, '_'));
  const pool = new Pool({ connectionString: db.url, max: 2 });
  pool.on('error', () => undefined);
  await createPeopleTable(new MigrationEngine(pool), db.url, ROWS);
  const v1 = new VersionLoad(db.url, 'v1', () => undefined);
  v1.start();
  cleanups.push(async () => {
    await v1.close();
    await fixture.stop();
    await pool.end();
    await db.drop();
  });
  return { fixture, url: db.url, pool, v1 };
}

const columns = async (pool: Pool): Promise<string[]> =>
  (await pool.query<{ c: string }>(`SELECT column_name AS c FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'people' ORDER BY ordinal_position`)).rows.map((r) => r.c);

const start = (cr: ChangeRequest) => temporal.client.workflow.start<typeof releaseTrain>('releaseTrain', { taskQueue: TASK_QUEUE, workflowId: `train-${cr.id}-${RUN}`, args: [cr] });

test('a promoted change runs its migration before the merge and contracts it after promotion, with v1 traffic unharmed', async () => {
  const s = await stack('greeter-mig-good');
  const handle = await start(s.fixture.change('good-change', 'mig-good-1', { migration: { databaseUrl: s.url, definition: splitNameMigration } as ChangeRequest['migration'] }));
  const result = await handle.result();
  expect(result.outcome).toBe('promoted');
  const status = await handle.query(trainStatusQuery);
  const order = status.history.filter((h) => h.kind === 'stage').map((h) => h.detail);
  expect(order.indexOf('migrate')).toBeGreaterThan(-1);
  expect(order.indexOf('migrate')).toBeLessThan(order.indexOf('merge'));
  const migrationEntries = status.history.filter((h) => h.kind === 'migration').map((h) => h.detail);
  expect(migrationEntries).toEqual([expect.stringMatching(/^split_name ready: \d+ rows backfilled, 0 lock waits$/), 'split_name completed: promoted in dev']);
  // The seeded rows and every row v1 wrote before the backfill passed it.
  expect(Number(/ready: (\d+)/.exec(migrationEntries[0])![1])).toBeGreaterThanOrEqual(ROWS);
  const migration = await temporal.client.workflow.getHandle(migrationWorkflowId(handle.workflowId)).query(migrationStatusQuery);
  expect(migration.phase).toBe('completed');
  expect(migration.trainWorkflowId).toBe(handle.workflowId);
  // Contract dropped the old version's views: its traffic stops with the promotion.
  await s.v1.stop();
  expect(await columns(s.pool)).toEqual(['id', 'email', 'first_name', 'last_name']);
  const v2 = new Pool({ connectionString: s.url, options: '-c search_path=public_v2' });
  expect(await mismatchedRows(v2, 'v2', s.v1.expected)).toEqual([]);
  await v2.end();
  const failedBeforeContract = s.v1.figures.failures.filter((f) => !/relation "people" does not exist/.test(f));
  expect(failedBeforeContract).toEqual([]);
}, 300_000);

test('a change rolled back by its canary rolls its migration back: the old shape is intact', async () => {
  const s = await stack('greeter-mig-bad');
  const handle = await start(s.fixture.change('bad-change', 'mig-bad-1', { migration: { databaseUrl: s.url, definition: splitNameMigration } as ChangeRequest['migration'] }));
  const result = await handle.result();
  expect(result.outcome).toBe('rolled_back');
  const status = await handle.query(trainStatusQuery);
  expect(status.history.filter((h) => h.kind === 'migration').map((h) => h.detail)).toEqual([expect.stringMatching(/split_name ready/), expect.stringMatching(/^split_name rolled_back: /)]);
  await new Promise((r) => setTimeout(r, 200));
  await s.v1.stop();
  expect(s.v1.figures.failures).toEqual([]);
  expect(await columns(s.pool)).toEqual(['id', 'name', 'email']);
  expect(await mismatchedRows(s.v1.pool, 'v1', s.v1.expected)).toEqual([]);
  expect((await scheduledActivities(temporal.client, migrationWorkflowId(handle.workflowId))).rollbackMigration).toBe(1);
}, 300_000);

test('a migration refused against the database stops the train before the merge', async () => {
  const s = await stack('greeter-mig-refused');
  const definition = { ...splitNameMigration, name: 'refused', operations: [{ op: 'rename_column', table: 'people', from: 'nmae', to: 'full_name' }] };
  const handle = await start(s.fixture.change('good-change', 'mig-refused-1', { migration: { databaseUrl: s.url, definition } as ChangeRequest['migration'] }));
  const result = await handle.result();
  expect(result.outcome).toBe('failed');
  expect(result.reason).toMatch(/migration refused did not get ready .*column 'nmae' does not exist in table 'people'.*; nothing was merged/s);
  expect(result.mergeSha).toBeUndefined();
  expect(await columns(s.pool)).toEqual(['id', 'name', 'email']);
}, 300_000);
