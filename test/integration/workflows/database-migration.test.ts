import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { WorkflowFailedError } from '@temporalio/client';
import { Pool } from 'pg';
import { createPeopleTable, splitNameMigration } from '../../../bench/lib/people-load';
import { createMigrationActivities } from '../../../activities/migrations';
import { MigrationEngine } from '../../../migrations/engine';
import type { databaseMigration } from '../../../workflows/database-migration';
import { switchMigrationReads } from '../../../cli/release';
import { finishMigrationSignal, migrationReadsSignal, migrationWorkflowId, migrationPauseSignal, migrationResumeSignal, migrationStatusQuery, migrationThrottleSignal, type MigrationStatus } from '../../../workflows/messages';
import { emptyDatabase } from '../../helpers/fresh-db';
import { startTestWorker, type TestWorker, spawnWorker, tempDir, TEST_DATABASE_URL } from '../../helpers/temporal';

const TASK_QUEUE = 'test-database-migration';
const RUN = Date.now().toString(36);
const ROWS = 20_000;
let temporal: TestWorker;
const dbs: { drop(): Promise<void> }[] = [];

/** A database with `people` (made by a first migration) and ROWS rows. */
async function peopleDatabase(prefix: string): Promise<{ url: string; pool: Pool }> {
  const db = await emptyDatabase(prefix);
  const pool = new Pool({ connectionString: db.url, max: 2 });
  pool.on('error', () => undefined);
  dbs.push({ drop: async () => (await pool.end(), await db.drop()) });
  await createPeopleTable(new MigrationEngine(pool), db.url, ROWS);
  return { url: db.url, pool };
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  temporal = await startTestWorker(TASK_QUEUE, createMigrationActivities());
}, 120_000);

afterAll(async () => {
  await temporal?.stop();
  await Promise.all(dbs.map((d) => d.drop()));
});

const start = (id: string, databaseUrl: string, migration: unknown, extra: Partial<Parameters<typeof databaseMigration>[0]> = {}) =>
  temporal.client.workflow.start<typeof databaseMigration>('databaseMigration', {
    taskQueue: TASK_QUEUE,
    workflowId: `${id}-${RUN}`,
    args: [{ databaseUrl, migration: migration as never, ...extra }],
  });

test('pause holds the backfill, throttle changes its batches, resume finishes it, finish(promote) contracts', async () => {
  const db = await peopleDatabase('wf_mig');
  const handle = await start('mig-steer', db.url, splitNameMigration, { throttle: { batchSize: 100, delayMs: 10 }, sliceMs: 300 });
  const status = () => handle.query(migrationStatusQuery);
  await until('backfill progress', async () => ((await status()).progress?.rowsDone ?? 0) > 500);
  await handle.signal(migrationPauseSignal, { by: 'ops@example.org', reason: 'peak hour' });
  await handle.signal(migrationThrottleSignal, { batchSize: 0 });
  // The slice under way finishes; then nothing moves.
  await new Promise((r) => setTimeout(r, 800));
  const held = (await status()).progress!.rowsDone;
  await new Promise((r) => setTimeout(r, 1000));
  const paused: MigrationStatus = await status();
  expect(paused.paused).toBe(true);
  expect(paused.phase).toBe('backfilling');
  expect(paused.progress!.rowsDone).toBe(held);
  expect(paused.progress!.rowsLeft).toBe(ROWS - held);
  expect(paused.history.map((h) => h.kind)).toEqual(expect.arrayContaining(['pause', 'signal-rejected']));
  expect(paused.history.find((h) => h.kind === 'signal-rejected')?.detail).toMatch(/throttle: batchSize: Number must be greater than or equal to 1/);

  await handle.signal(migrationThrottleSignal, { batchSize: 5000, delayMs: 0 });
  await handle.signal(migrationResumeSignal, { by: 'ops@example.org' });
  await until('ready', async () => (await status()).phase === 'ready');
  const ready = await status();
  expect(ready.progress).toMatchObject({ rowsDone: ROWS, rowsLeft: 0, etaSeconds: 0 });
  // After the throttle, batches were 5000 rows: far fewer than 100-row batches would need.
  expect(ready.progress!.batches).toBeLessThan(Math.ceil(held / 100) + Math.ceil((ROWS - held) / 5000) + 3);
  await handle.signal(finishMigrationSignal, { promote: true, reason: 'promoted' });
  const result = await handle.result();
  expect(result.outcome).toBe('completed');
  const cols = await db.pool.query(`SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'people' ORDER BY ordinal_position`);
  expect(cols.rows.map((r) => r.column_name)).toEqual(['id', 'email', 'first_name', 'last_name']);
  const wrong = await db.pool.query(`SELECT count(*)::int AS n FROM public.people WHERE first_name || ' ' || last_name <> 'First' || id || ' Last' || id`);
  expect(wrong.rows[0].n).toBe(0);
});

test('finish without promotion rolls back; a refused migration fails before any change', async () => {
  const db = await peopleDatabase('wf_mig_rb');
  const handle = await start('mig-rb', db.url, splitNameMigration);
  await until('ready', async () => (await handle.query(migrationStatusQuery)).phase === 'ready');
  await handle.signal(finishMigrationSignal, { promote: false, reason: 'canary failed' });
  expect(await handle.result()).toMatchObject({ outcome: 'rolled_back', reason: 'canary failed' });
  const cols = await db.pool.query(`SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'people' ORDER BY ordinal_position`);
  expect(cols.rows.map((r) => r.column_name)).toEqual(['id', 'name', 'email']);

  const refused = await start('mig-refused', db.url, { ...splitNameMigration, name: 'refused', operations: [{ op: 'drop_column', table: 'people', column: 'nope' }] });
  const err = await refused.result().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause;
  expect(`${cause?.message} ${(cause?.cause as Error | undefined)?.message ?? ''}`).toMatch(/column 'nope' does not exist in table 'people'/);
});

test("the reads flag from the CLI's client: the new version reads the old shape at once, contract switches it back", async () => {
  const db = await peopleDatabase('wf_mig_reads');
  const train = `train-reads-${RUN}`;
  const handle = await temporal.client.workflow.start<typeof databaseMigration>('databaseMigration', {
    taskQueue: TASK_QUEUE,
    workflowId: migrationWorkflowId(train),
    args: [{ databaseUrl: db.url, migration: splitNameMigration as never, parentWorkflowId: undefined }],
  });
  await expect(switchMigrationReads(temporal.client, train, { from: 'sideways', by: 'dba@example.org' })).rejects.toThrow(/from: got 'sideways', allowed: 'old', 'new'/);
  await handle.signal(migrationReadsSignal, { from: 'old' });
  await until('ready', async () => (await handle.query(migrationStatusQuery)).phase === 'ready');
  expect((await handle.query(migrationStatusQuery)).history.find((h) => h.kind === 'signal-rejected')?.detail).toBe('reads: by: required (string)');

  expect(await switchMigrationReads(temporal.client, train, { from: 'old', by: 'dba@example.org', reason: 'first names look wrong' })).toBe(
    'split_name: the new version reads the old shape: first names look wrong',
  );
  const flagged = await handle.query(migrationStatusQuery);
  expect(flagged.progress?.readsFrom).toBe('old');
  expect(flagged.history.at(-1)).toMatchObject({ kind: 'reads', by: 'dba@example.org' });
  const view = await db.pool.query(`SELECT pg_get_viewdef('public_v2.people'::regclass) AS def`);
  expect(view.rows[0].def).toMatch(/split_part\(people\.name/);

  await handle.signal(finishMigrationSignal, { promote: true, reason: 'promoted' });
  expect(await handle.result()).toMatchObject({ outcome: 'completed', progress: { readsFrom: 'new' } });
  const history = (await handle.query(migrationStatusQuery)).history.map((h) => h.detail);
  expect(history).toContain('the new version reads the new shape again: contract drops the old one');
  await expect(switchMigrationReads(temporal.client, `no-such-train-${RUN}`, { from: 'old', by: 'dba@example.org' })).rejects.toThrow(/has no running database migration/);
});

test('kill -9 of the worker mid-backfill: another worker resumes from the checkpoint, no batch lost or applied twice', async () => {
  const db = await peopleDatabase('wf_mig_kill');
  const queue = `test-migration-kill-${RUN}`;
  const stateDir = tempDir('mig-kill');
  const workerEnv = { TEMPORAL_ADDRESS: process.env.MAESTRO_TEST_TEMPORAL_ADDRESS!, MAESTRO_STATE_DIR: stateDir, MAESTRO_TASK_QUEUE: queue, MAESTRO_DATABASE_URL: TEST_DATABASE_URL };
  let first: ChildProcess | undefined = await spawnWorker(workerEnv, path.join(stateDir, 'worker-a.log'));
  let second: ChildProcess | undefined;
  try {
    const handle = await temporal.client.workflow.start<typeof databaseMigration>('databaseMigration', {
      taskQueue: queue,
      workflowId: `mig-kill-${RUN}`,
      args: [{ databaseUrl: db.url, migration: splitNameMigration as never, throttle: { batchSize: 100, delayMs: 15 }, sliceMs: 60_000 }],
    });
    const checkpoint = async () =>
      (await db.pool.query<{ rows_done: string; batches: string; phase: string }>(`SELECT rows_done, batches, phase FROM maestro_migrations.migration WHERE name = 'split_name'`)).rows[0];
    await until('backfill under way', async () => Number((await checkpoint().catch(() => undefined))?.rows_done ?? 0) >= 3000);
    process.kill(-first.pid!, 'SIGKILL');
    first = undefined;
    const atKill = await checkpoint();
    expect(atKill.phase).toBe('backfilling');
    expect(Number(atKill.rows_done)).toBeLessThan(ROWS);
    second = await spawnWorker(workerEnv, path.join(stateDir, 'worker-b.log'));
    await until('ready after resume', async () => (await handle.query(migrationStatusQuery)).phase === 'ready', 90_000);
    const done = await checkpoint();
    // Every key range was scanned exactly once: a lost batch would leave rows, a repeated one would count twice.
    expect(Number(done.rows_done)).toBe(ROWS);
    expect(Number(done.batches)).toBe(ROWS / 100 + 1);
    const unsynced = await db.pool.query(`SELECT count(*)::int AS n FROM public.people WHERE _mc_sync_split_name IS NOT TRUE OR _mc_new_first_name IS NULL`);
    expect(unsynced.rows[0].n).toBe(0);
    await handle.signal(finishMigrationSignal, { promote: true, reason: 'promoted' });
    expect((await handle.result()).outcome).toBe('completed');
    console.log(`kill -9 at ${atKill.rows_done}/${ROWS} rows; resumed to ${done.rows_done} rows in ${done.batches} batches`);
  } finally {
    for (const w of [first, second]) if (w?.pid) process.kill(-w.pid, 'SIGKILL');
  }
}, 180_000);
