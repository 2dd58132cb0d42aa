/**
 * Backfill of a large table under write load (issue 13): rows/s, lock waits, and the p99 latency of
 * the old version's writes before vs during the backfill, for the split-name migration on `people`.
 * A database of its own on the project's PostgreSQL, dropped at the end.
 *
 *   npx tsx bench/migration-backfill.ts [rows=1000000] [batchSize=5000] [delayMs=0]
 */
import crypto from 'node:crypto';
import { Client, Pool } from 'pg';
import { createPeopleTable, percentile, splitNameMigration, VersionLoad } from './lib/people-load';
import { ensurePostgres } from '../infra/postgres/server';
import { MigrationEngine } from '../migrations/engine';

const rows = Number(process.argv[2] ?? 1_000_000);
const batchSize = Number(process.argv[3] ?? 5000);
/** The throttle's pause between batches: the write-latency impact traded for rows/s. */
const delayMs = Number(process.argv[4] ?? 0);
const LOAD_MS = 5000;

async function main(): Promise<void> {
  const pg = await ensurePostgres();
  const name = `bench_migration_${crypto.randomBytes(3).toString('hex')}`;
  const admin = new Client({ connectionString: pg.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const url = pg.url.replace(/\/[^/]*$/, `/${name}`);
  const pool = new Pool({ connectionString: url, max: 3 });
  pool.on('error', () => undefined); // idle connections closed by the DROP DATABASE at the end
  const engine = new MigrationEngine(pool);
  try {
    let t = Date.now();
    await createPeopleTable(engine, url, rows);
    console.log(`seeded ${rows} rows in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    const v1 = new VersionLoad(url, 'v1', () => undefined, 0);
    v1.start();
    await new Promise((r) => setTimeout(r, LOAD_MS));
    const before = v1.figures.writeLatenciesMs.splice(0);

    await engine.register(splitNameMigration);
    t = Date.now();
    await engine.expand('split_name');
    const expandMs = Date.now() - t;
    t = Date.now();
    let lastBatchAt = t;
    let during: number[] = [];
    let p = await engine.backfill('split_name', { batchSize, delayMs }, 60 * 60_000, (progress) => {
      lastBatchAt = Date.now();
      if (progress.rowsLeft === 0 && during.length === 0) during = v1.figures.writeLatenciesMs.splice(0);
    });
    const backfillMs = lastBatchAt - t;
    const validateMs = Date.now() - lastBatchAt;
    await v1.stop();
    t = Date.now();
    p = await engine.complete('split_name');
    const contractMs = Date.now() - t;
    await v1.close();
    console.log(
      [
        `migration split_name on ${rows} rows, batches of ${batchSize}, ${delayMs} ms apart:`,
        `  expand ${expandMs} ms, backfill ${(backfillMs / 1000).toFixed(1)} s = ${Math.round(p.rowsDone / (backfillMs / 1000))} rows/s (${p.batches} batches), validate ${validateMs} ms, contract ${contractMs} ms`,
        `  lock waits ${p.lockWaits}, errors ${p.errors}`,
        `  v1 writes: ${before.length} in ${LOAD_MS / 1000} s before (p50 ${percentile(before, 50).toFixed(2)} ms, p99 ${percentile(before, 99).toFixed(2)} ms), ` +
          `${during.length} during the backfill (p50 ${percentile(during, 50).toFixed(2)} ms, p99 ${percentile(during, 99).toFixed(2)} ms)`,
        `  failed requests ${v1.figures.failed}${v1.figures.failures.length ? `: ${v1.figures.failures.slice(0, 3).join('; ')}` : ''}`,
      ].join('\n'),
    );
    const lost = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM people WHERE first_name IS NULL OR last_name IS NULL`);
    console.log(`  rows missing the new shape after contract: ${lost.rows[0].n}`);
  } finally {
    await pool.end();
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
