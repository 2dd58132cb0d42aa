import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { createPeopleTable, splitNameMigration } from '../../../bench/lib/people-load';
import { defaultPostgres, ensurePostgres, serverDir, type PostgresOptions } from '../../../infra/postgres/server';
import { MigrationEngine } from '../../../migrations/engine';

const ROWS = 20_000;
const BATCH = 200;

/** Crashes the server as a power cut would for PostgreSQL: immediate shutdown (SIGQUIT), no checkpoint, recovery at start. */
async function crash(opts: PostgresOptions): Promise<void> {
  const pidFile = path.join(serverDir(opts), 'data', 'postmaster.pid');
  const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
  process.kill(pid, 'SIGQUIT');
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`postmaster ${pid} did not stop`);
}

test('a PostgreSQL crash and restart mid-backfill: the backfill resumes from its checkpoint, no batch lost or applied twice', async () => {
  // A server of its own (port in this suite's range): the shared one is not ours to crash.
  const opts: PostgresOptions = { ...defaultPostgres, baseDir: fs.mkdtempSync(path.join(os.tmpdir(), 'maestro-pg-restart-')), port: 7811, database: 'migrestart' };
  const external = process.env.MAESTRO_DATABASE_URL;
  delete process.env.MAESTRO_DATABASE_URL;
  const pg = await ensurePostgres(opts);
  const pool = new Pool({ connectionString: pg.url, max: 3 });
  pool.on('error', () => undefined);
  try {
    expect(pg.started).toBe(true);
    const engine = new MigrationEngine(pool);
    await createPeopleTable(engine, pg.url, ROWS);
    await engine.register(splitNameMigration);
    await engine.expand('split_name');

    // The runner a worker would be: a failed slice is retried after a pause (as Temporal retries the activity).
    const failures: string[] = [];
    const run = (async () => {
      for (;;) {
        try {
          const p = await engine.backfill('split_name', { batchSize: BATCH, delayMs: 5 }, 300);
          if (p.phase === 'ready') return p;
        } catch (err) {
          failures.push((err as Error).message);
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    })();
    const rowsDone = async () => Number((await pool.query<{ n: string }>(`SELECT rows_done AS n FROM maestro_migrations.migration WHERE name = 'split_name'`)).rows[0].n);
    while ((await rowsDone()) < 5000) await new Promise((r) => setTimeout(r, 50));
    await crash(opts);
    await ensurePostgres(opts);
    const ready = await run;

    expect(failures.length).toBeGreaterThan(0);
    expect(ready.rowsDone).toBe(ROWS);
    expect(ready.batches).toBe(ROWS / BATCH + 1);
    const unsynced = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM people WHERE _mc_sync_split_name IS NOT TRUE OR _mc_new_first_name IS NULL`);
    expect(unsynced.rows[0].n).toBe(0);
    await engine.complete('split_name');
    const wrong = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM people WHERE first_name || ' ' || last_name <> 'First' || id || ' Last' || id`);
    expect(wrong.rows[0].n).toBe(0);
    console.log(`PostgreSQL crashed at ≥5000/${ROWS} rows; ${failures.length} failed slices retried; resumed to ${ready.rowsDone} rows in ${ready.batches} batches`);
  } finally {
    await pool.end().catch(() => undefined);
    await pg.stop();
    if (external !== undefined) process.env.MAESTRO_DATABASE_URL = external;
  }
}, 180_000);
