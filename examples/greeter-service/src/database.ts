/**
 * The greeter's PostgreSQL (GREETER_DATABASE_URL), reached through this version's schema of views.
 * Opened on first use and only when configured: without a database the service still greets, and its
 * tests run without one (or the pg package).
 */
import { SCHEMA_VERSION, type Query } from './people';

export interface Database {
  rows<R>(query: Query): Promise<R[]>;
}

let opened: Promise<Database | undefined> | undefined;

export function database(): Promise<Database | undefined> {
  opened ??= open(process.env.GREETER_DATABASE_URL);
  return opened;
}

async function open(url: string | undefined): Promise<Database | undefined> {
  if (!url) return undefined;
  const { Pool } = await import('pg');
  // The version's schema of views, exactly: the migration's triggers tell the versions apart by it.
  const pool = new Pool({ connectionString: url, max: 4, options: `-c search_path=public_${SCHEMA_VERSION}` });
  pool.on('error', (error) => console.error('idle database connection lost:', error.message));
  return { rows: async <R>(query: Query) => (await pool.query(query.text, query.values)).rows as R[] };
}
