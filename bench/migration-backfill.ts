/**
 * Backfill of a large table under write load (issue 13), Maestro's engine beside pgroll on the same table and
 * the same operation, in one run: rows/s, lock waits, and the p99 latency of the old version's writes before vs
 * during the backfill. The shared operation is pgroll's own kind: two columns added with `up` expressions
 * (first and last name from `name`), backfilled; Maestro's split-name migration (a split with dual write both
 * ways) runs too. Each run gets a database of its own on the project's PostgreSQL, seeded the same, dropped
 * at the end. pgroll is built from the Go module proxy by scripts/setup-pgroll.sh (skipped, said so, when absent).
 *
 *   npx tsx bench/migration-backfill.ts [rows=1000000] [batchSize=5000] [delayMs=0]
 */
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, Pool } from 'pg';
import { createPeopleTable, percentile, splitNameMigration, VersionLoad } from './lib/people-load';
import { ensurePostgres } from '../infra/postgres/server';
import { PROJECT_ROOT } from '../io/paths';
import { MigrationEngine } from '../migrations/engine';

const rows = Number(process.argv[2] ?? 1_000_000);
const batchSize = Number(process.argv[3] ?? 5000);
/** The throttle's pause between batches: the write-latency impact traded for rows/s. */
const delayMs = Number(process.argv[4] ?? 0);
const LOAD_MS = 5000;
const PGROLL = process.env.MAESTRO_PGROLL_BIN ?? path.join(PROJECT_ROOT, '.maestro', 'pgroll');
const run = promisify(execFile);

const firstName = "split_part(name, ' ', 1)";
const lastName = "substr(name, length(split_part(name, ' ', 1)) + 2)";
const addNamesMigration = {
  name: 'add_names',
  fromVersion: 'v1',
  toVersion: 'v2',
  operations: [
    { op: 'add_column', table: 'people', column: { name: 'first_name', type: 'text' }, up: firstName },
    { op: 'add_column', table: 'people', column: { name: 'last_name', type: 'text' }, up: lastName },
  ],
};
/** pgroll names a migration after its file (add_names.json). */
const addNamesPgroll = {
  operations: [
    { add_column: { table: 'people', up: firstName, column: { name: 'first_name', type: 'text', nullable: true } } },
    { add_column: { table: 'people', up: lastName, column: { name: 'last_name', type: 'text', nullable: true } } },
  ],
};

interface Figures {
  tool: string;
  operation: string;
  /** Expand and backfill, until the new shape is complete (pgroll's `start` does both in one command). */
  startMs: number;
  /** Rows through expand and backfill per second: the same span for both tools. */
  rowsPerSecond: number;
  lockWaits: number | string;
  completeMs: number;
  before: number[];
  during: number[];
  failed: number;
  failures: string[];
  missing: number;
  /** Up to three rows missing the new shape, as id and name. */
  missingExamples: string[];
}

/** A fresh database with `rows` people, v1's writes running against it for LOAD_MS before `migrate` starts. */
async function measure(
  tool: string,
  operation: string,
  migrate: (ctx: { url: string; pool: Pool; engine: MigrationEngine }) => Promise<{ startMs: number; lockWaits: number | string }>,
  complete: (ctx: { url: string; pool: Pool; engine: MigrationEngine }) => Promise<void>,
): Promise<Figures> {
  const pg = await ensurePostgres();
  const name = `bench_migration_${crypto.randomBytes(3).toString('hex')}`;
  const admin = new Client({ connectionString: pg.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const url = pg.url.replace(/\/[^/]*$/, `/${name}`);
  const pool = new Pool({ connectionString: url, max: 3 });
  pool.on('error', () => undefined); // idle connections closed by the DROP DATABASE at the end
  const engine = new MigrationEngine(pool);
  const ctx = { url, pool, engine };
  try {
    const seeded = Date.now();
    await createPeopleTable(engine, url, rows);
    console.log(`${tool} ${operation}: seeded ${rows} rows in ${((Date.now() - seeded) / 1000).toFixed(1)} s`);
    const v1 = new VersionLoad(url, 'v1', () => undefined, 0);
    v1.start();
    await new Promise((r) => setTimeout(r, LOAD_MS));
    const before = v1.figures.writeLatenciesMs.splice(0);
    const { startMs, lockWaits } = await migrate(ctx);
    const during = v1.figures.writeLatenciesMs.splice(0);
    await v1.stop();
    const t = Date.now();
    await complete(ctx);
    const completeMs = Date.now() - t;
    await v1.close();
    const missingRows = await pool.query<{ id: string; name: string | null }>(
      `SELECT id::text AS id, (SELECT string_agg(x, ' ') FROM unnest(ARRAY[first_name, last_name]) x) AS name FROM public.people WHERE first_name IS NULL OR last_name IS NULL ORDER BY id`,
    );
    const total = Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM public.people')).rows[0].n);
    return {
      tool,
      operation,
      startMs,
      rowsPerSecond: rows / (startMs / 1000),
      lockWaits,
      completeMs,
      before,
      during,
      failed: v1.figures.failed,
      failures: v1.figures.failures,
      missing: missingRows.rowCount ?? 0,
      missingExamples: missingRows.rows.slice(0, 3).map((r) => `id ${r.id} of ${total} (${r.name ?? 'both empty'})`),
    };
  } finally {
    await pool.end();
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  }
}

/** Maestro's engine: expand, then the batched backfill and validation to 'ready'. */
function maestro(migration: { name: string }) {
  return async ({ engine }: { engine: MigrationEngine }) => {
    await engine.register(migration);
    const t = Date.now();
    await engine.expand(migration.name);
    const p = await engine.backfill(migration.name, { batchSize, delayMs }, 60 * 60_000);
    return { startMs: Date.now() - t, lockWaits: p.lockWaits };
  };
}

/** Runs pgroll; stdout is its answer (status prints JSON there), stderr its progress spinner. */
async function pgroll(url: string, args: string[]): Promise<string> {
  const { stdout, stderr } = await run(PGROLL, [...args, '--postgres-url', `${url}?sslmode=disable`], { maxBuffer: 16 * 1024 * 1024 });
  return args[0] === 'status' ? stdout : stdout + stderr;
}

function row(f: Figures): string {
  const ms = (v: number) => `${(v / 1000).toFixed(1)} s`;
  return [
    `${f.tool.padEnd(8)} ${f.operation.padEnd(10)}`,
    `expand + backfill ${ms(f.startMs).padStart(7)} = ${Math.round(f.rowsPerSecond).toString().padStart(7)} rows/s`,
    `lock waits ${String(f.lockWaits).padStart(3)}`,
    `complete ${ms(f.completeMs).padStart(6)}`,
    `v1 writes p50/p99 before ${percentile(f.before, 50).toFixed(2)}/${percentile(f.before, 99).toFixed(2)} ms, during ${percentile(f.during, 50).toFixed(2)}/${percentile(f.during, 99).toFixed(2)} ms (${f.during.length})`,
    `failed ${f.failed}`,
    `rows missing the new shape ${f.missing}${f.missingExamples.length ? ` (${f.missingExamples.join('; ')})` : ''}`,
  ].join(' | ');
}

async function main(): Promise<void> {
  const results: Figures[] = [];
  const complete = (name: string) => async ({ engine }: { engine: MigrationEngine }) => void (await engine.complete(name));
  results.push(await measure('maestro', 'add_names', maestro(addNamesMigration), complete('add_names')));
  if (fs.existsSync(PGROLL)) {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pgroll-')), 'add_names.json');
    fs.writeFileSync(file, JSON.stringify(addNamesPgroll, null, 2));
    results.push(
      await measure(
        'pgroll',
        'add_names',
        async ({ url }) => {
          await pgroll(url, ['init']);
          // pgroll starts only from a schema it knows: the table as it is, recorded as its baseline.
          await pgroll(url, ['baseline', 'v1', path.dirname(file), '--yes']);
          const t = Date.now();
          // pgroll's start expands and backfills in one command (its batches: --backfill-batch-size/-delay).
          const output = await pgroll(url, ['start', file, '--backfill-batch-size', String(batchSize), '--backfill-batch-delay', `${delayMs}ms`]);
          const startMs = Date.now() - t;
          // Some refusals still exit 0: the migration must be in progress now.
          const status = JSON.parse(await pgroll(url, ['status'])) as { status: string };
          if (status.status !== 'In progress') throw new Error(`pgroll start did not start add_names (status ${status.status}):\n${output}`);
          return { startMs, lockWaits: 'n/a' };
        },
        async ({ url }) => void (await pgroll(url, ['complete'])),
      ),
    );
  } else {
    console.log(`pgroll is not built at ${PGROLL}: run 'bash scripts/setup-pgroll.sh' for the side-by-side figures`);
  }
  results.push(await measure('maestro', 'split_name', maestro(splitNameMigration), complete('split_name')));

  console.log(`\nbackfill of ${rows} rows under v1 write load, batches of ${batchSize}, ${delayMs} ms apart:`);
  for (const f of results) console.log(`  ${row(f)}${f.failures.length ? `\n    failures: ${f.failures.slice(0, 3).join('; ')}` : ''}`);
  const [ours, theirs] = results;
  if (theirs?.tool === 'pgroll')
    console.log(
      `  ratio maestro/pgroll on add_names: throughput ${(ours.rowsPerSecond / theirs.rowsPerSecond).toFixed(2)}×, ` +
        `p99 write latency during ${(percentile(ours.during, 99) / Math.max(percentile(theirs.during, 99), 0.001)).toFixed(2)}×`,
    );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
