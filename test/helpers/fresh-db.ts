/** A fresh, migrated database per test file on the project's PostgreSQL (started if needed). */
import crypto from 'node:crypto';
import { Client } from 'pg';
import { ensurePostgres } from '../../infra/postgres/server';
import { migrate } from '../../record/migrate';
import { createPrisma, type Db } from '../../record/db';

export interface FreshDb {
  url: string;
  name: string;
  prisma: Db;
  drop(): Promise<void>;
}

export async function emptyDatabase(prefix: string): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const pg = await ensurePostgres();
  const name = `t_${prefix.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${crypto.randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: pg.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = pg.url.replace(/\/[^/]*$/, `/${name}`);
  return {
    url,
    name,
    drop: async () => {
      const c = new Client({ connectionString: pg.url });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}

export async function freshDatabase(prefix: string): Promise<FreshDb> {
  const db = await emptyDatabase(prefix);
  await migrate(db.url);
  const prisma = createPrisma(db.url);
  return {
    ...db,
    prisma,
    drop: async () => {
      await prisma.$disconnect();
      await db.drop();
    },
  };
}
