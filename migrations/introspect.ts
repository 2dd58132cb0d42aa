/** Reads the shape of one PostgreSQL schema for the planner (core/migration.ts SchemaSnapshot). */
import type { ClientBase, Pool } from 'pg';
import type { SchemaSnapshot } from '../core/migration';

/** Tables (not views) of `schema`, columns in attribute order, helper columns of running migrations left out. */
export async function readSchema(db: Pool | ClientBase, schema: string): Promise<SchemaSnapshot> {
  const { rows } = await db.query<{ table: string; column: string; type: string; nullable: boolean; default: string | null; pk: boolean }>(
    `SELECT c.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type, NOT a.attnotnull AS nullable,
            pg_get_expr(d.adbin, d.adrelid) AS default,
            EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary AND a.attnum = ANY (i.indkey)) AS pk
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
       LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND a.attname NOT LIKE '\\_mc\\_%'
      ORDER BY c.relname, a.attnum`,
    [schema],
  );
  const tables = new Map<string, SchemaSnapshot['tables'][number]>();
  for (const r of rows) {
    const t = tables.get(r.table) ?? { name: r.table, columns: [], primaryKey: [] };
    tables.set(r.table, t);
    t.columns.push({ name: r.column, type: r.type, nullable: r.nullable, default: r.default });
    if (r.pk) t.primaryKey.push(r.column);
  }
  return { tables: [...tables.values()] };
}
