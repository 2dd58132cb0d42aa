/**
 * The greeter's own database: its `people` table made by the greeter's first migration
 * (examples/greeter-service/migrations/001_create_people.json), run to completion by the migration engine,
 * so that version v1 has its schema of views (`public_v1`) before any later migration expands.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Pool } from 'pg';
import { parseMigration, type Migration } from '../core/migration';
import { MigrationEngine } from '../migrations/engine';
import { GREETER_SERVICE_DIR } from './demo-repo';

/** The environment variable the greeter reads its database url from (src/database.ts). */
export const GREETER_DATABASE_ENV = 'GREETER_DATABASE_URL';

export const CREATE_PEOPLE: Migration = parseMigration(JSON.parse(readFileSync(path.join(GREETER_SERVICE_DIR, 'migrations', '001_create_people.json'), 'utf8')));

/** Runs the greeter's first migration (expand, backfill, contract) through `engine`. */
export async function createPeopleThrough(engine: MigrationEngine): Promise<void> {
  await engine.register(CREATE_PEOPLE);
  await engine.expand(CREATE_PEOPLE.name);
  await engine.backfill(CREATE_PEOPLE.name, { batchSize: 1000, delayMs: 0 }, 10_000);
  await engine.complete(CREATE_PEOPLE.name);
}

/** Creates the greeter's tables in the (empty) database at `url`. */
export async function createGreeterTables(url: string): Promise<void> {
  const pool = new Pool({ connectionString: url, max: 2 });
  pool.on('error', () => undefined);
  try {
    await createPeopleThrough(new MigrationEngine(pool));
  } finally {
    await pool.end();
  }
}
