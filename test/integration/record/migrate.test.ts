/**
 * A fresh database after our migration runner matches prisma/schema.prisma, as Prisma itself judges:
 * the live database is introspected (`prisma db pull`, JS schema engine over node-postgres) and
 * diffed against the schema (`prisma migrate diff --exit-code`). The migration files alone are also
 * checked against the schema through a shadow database. All offline.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { migrate, MigrationError } from '../../../record/migrate';
import { emptyDatabase } from '../../helpers/fresh-db';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../../..');
const PRISMA = path.join(ROOT, 'node_modules/.bin/prisma');

async function prisma(args: string[], databaseUrl: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(PRISMA, args, { cwd: ROOT, env: { ...process.env, DATABASE_URL: databaseUrl, CHECKPOINT_DISABLE: '1', PRISMA_HIDE_UPDATE_MESSAGE: '1' }, timeout: 90_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Introspects the database into a schema of its own (no names borrowed from ours) and diffs it against ours. */
async function diffLiveDatabaseAgainstSchema(url: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'maestro-introspect-'));
  const base = path.join(dir, 'live.prisma');
  fs.writeFileSync(base, 'generator client {\n  provider = "prisma-client-js"\n  engineType = "client"\n}\n\ndatasource db {\n  provider = "postgresql"\n  url      = env("DATABASE_URL")\n}\n');
  const pulled = await prisma(['db', 'pull', '--print', '--schema', base], url);
  if (pulled.code !== 0) throw new Error(`prisma db pull failed: ${pulled.stderr}`);
  fs.writeFileSync(base, pulled.stdout.slice(pulled.stdout.indexOf('generator client')));
  return prisma(['migrate', 'diff', '--from-schema-datamodel', base, '--to-schema-datamodel', 'prisma/schema.prisma', '--exit-code'], url);
}

describe('migrations and the Prisma schema', () => {
  const drops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const drop of drops) await drop();
  });

  it('a fresh database after our migration runner has exactly the schema of prisma/schema.prisma', async () => {
    const db = await emptyDatabase('schema');
    drops.push(db.drop);
    expect((await migrate(db.url)).applied.length).toBeGreaterThan(0);
    const diff = await diffLiveDatabaseAgainstSchema(db.url);
    expect(diff.stderr).not.toMatch(/error/i);
    expect(diff.stdout).toContain('No difference detected');
    expect(diff.code).toBe(0);
  });

  it('the same check sees drift (so a pass above means something)', async () => {
    const db = await emptyDatabase('drift');
    drops.push(db.drop);
    await migrate(db.url);
    const c = new Client({ connectionString: db.url });
    await c.connect();
    await c.query('ALTER TABLE "appeals" DROP COLUMN "decision_reason"');
    await c.end();
    const diff = await diffLiveDatabaseAgainstSchema(db.url);
    expect(diff.code).toBe(2);
    expect(diff.stdout).toContain('decision_reason');
  });

  it('the migration files alone produce the schema (Prisma applies them to a shadow database)', async () => {
    const db = await emptyDatabase('shadow');
    drops.push(db.drop);
    const diff = await prisma(['migrate', 'diff', '--from-migrations', 'prisma/migrations', '--to-schema-datamodel', 'prisma/schema.prisma', '--exit-code'], db.url);
    expect(diff.stdout).toContain('No difference detected');
    expect(diff.code).toBe(0);
  });

  it('the runner is idempotent, records history where Prisma does, and refuses edited or failing migrations without half-writing', async () => {
    const db = await emptyDatabase('runner');
    drops.push(db.drop);
    const first = await migrate(db.url);
    const again = await migrate(db.url);
    expect(again).toEqual({ applied: [], alreadyApplied: first.applied });

    const status = await prisma(['migrate', 'status'], db.url);
    expect(status.stdout).toContain('Database schema is up to date');

    // an applied migration edited afterwards
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'maestro-migrations-'));
    fs.cpSync(path.join(ROOT, 'prisma/migrations'), dir, { recursive: true });
    const [initName] = first.applied;
    fs.appendFileSync(path.join(dir, initName!, 'migration.sql'), '\n-- edited\n');
    await expect(migrate(db.url, dir)).rejects.toThrow(new RegExp(`migration ${initName} was changed after it was applied`));

    // a new migration that fails halfway: nothing of it stays
    fs.cpSync(path.join(ROOT, 'prisma/migrations'), dir, { recursive: true, force: true });
    fs.mkdirSync(path.join(dir, '99990101000000_broken'));
    fs.writeFileSync(path.join(dir, '99990101000000_broken/migration.sql'), 'CREATE TABLE "half" (id int);\nSELECT * FROM "no_such_table";\n');
    const failure = await migrate(db.url, dir).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(MigrationError);
    expect((failure as Error).message).toMatch(/99990101000000_broken failed and was rolled back: .*no_such_table/);
    const c = new Client({ connectionString: db.url });
    await c.connect();
    const { rowCount } = await c.query(`SELECT 1 FROM information_schema.tables WHERE table_name = 'half'`);
    const { rows } = await c.query(`SELECT migration_name FROM "_prisma_migrations"`);
    await c.end();
    expect(rowCount).toBe(0);
    expect(rows.map((r: { migration_name: string }) => r.migration_name)).toEqual(first.applied);
  });
});
