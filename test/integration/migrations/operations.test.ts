import { Pool } from 'pg';
import { MigrationEngine } from '../../../migrations/engine';
import { readSchema } from '../../../migrations/introspect';
import { emptyDatabase } from '../../helpers/fresh-db';

/** Every operation kind on tables whose names need quoting, through both versions' views. */
describe('migration operations on PostgreSQL', () => {
  let db: Awaited<ReturnType<typeof emptyDatabase>>;
  let pool: Pool;
  let engine: MigrationEngine;
  const v = (version: string): Pool => {
    const p = new Pool({ connectionString: db.url, options: `-c search_path=shop_${version}`, max: 1 });
    p.on('error', () => undefined);
    return p;
  };

  beforeAll(async () => {
    db = await emptyDatabase('mig_ops');
    pool = new Pool({ connectionString: db.url, max: 3 });
    engine = new MigrationEngine(pool, { lockTimeoutMs: 500, statementTimeoutMs: 10_000 });
    await pool.query(`CREATE SCHEMA shop;
      CREATE TABLE shop."Customer" (id int PRIMARY KEY, "e-mail" text);
      CREATE TABLE shop."Order ""Items""" (id bigserial PRIMARY KEY, qty text NOT NULL, customer int, note text, legacy text);
      CREATE TABLE shop.old_audit (id int PRIMARY KEY);
      INSERT INTO shop."Customer" SELECT g, 'c' || g || '@x.org' FROM generate_series(1, 50) g;
      INSERT INTO shop."Order ""Items""" (qty, customer, note, legacy) SELECT (g % 7)::text, CASE WHEN g % 10 = 0 THEN 999 ELSE g % 50 + 1 END, NULL, 'l' FROM generate_series(1, 3000) g;`);
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  const migration = {
    name: 'many_ops',
    schema: 'shop',
    fromVersion: 'v1',
    toVersion: 'v2',
    operations: [
      { op: 'alter_column_type', table: 'Order "Items"', column: 'qty', type: 'integer', up: 'qty::integer', down: 'qty::text' },
      // Orders of unknown customers lose the reference instead of blocking the constraint.
      {
        op: 'add_constraint',
        table: 'Order "Items"',
        column: 'customer',
        constraint: { kind: 'foreign_key', name: 'items_customer_fk', references: { table: 'Customer', column: 'id' } },
        up: 'CASE WHEN EXISTS (SELECT 1 FROM shop."Customer" c WHERE c.id = customer) THEN customer END',
      },
      { op: 'add_constraint', table: 'Order "Items"', column: 'note', constraint: { kind: 'not_null' }, up: "coalesce(note, '')" },
      { op: 'add_constraint', table: 'Customer', column: 'e-mail', constraint: { kind: 'unique', name: 'customer_email_key' } },
      { op: 'add_constraint', table: 'Customer', column: 'id', constraint: { kind: 'check', name: 'positive_id', expression: 'id > 0' } },
      { op: 'drop_column', table: 'Order "Items"', column: 'legacy', down: "'from v2'" },
      { op: 'add_column', table: 'Order "Items"', column: { name: 'status', type: 'text', nullable: false, default: "'new'" } },
      { op: 'create_index', table: 'Order "Items"', name: 'items_by_customer', columns: ['customer'] },
      { op: 'create_table', table: 'Shipment', columns: [{ name: 'id', type: 'bigserial', primaryKey: true }, { name: 'order_id', type: 'bigint', nullable: false }] },
      { op: 'drop_table', table: 'old_audit' },
    ],
  };

  it('refuses a constraint on the primary key before touching anything', async () => {
    await expect(engine.register(migration)).rejects.toThrow(/'id' is the primary key of 'Customer'/);
  });

  it('runs every operation: old version unchanged until contract, new shape validated, final shape after contract', async () => {
    const ops = migration.operations.filter((o) => !(o.table === 'Customer' && o.column === 'id'));
    const before = await readSchema(pool, 'shop');
    await engine.register({ ...migration, operations: ops });
    await engine.expand('many_ops');
    const v1 = v('v1');
    const v2 = v('v2');
    // Both versions write during the backfill; each sees the other's write in its own shape.
    await v1.query(`INSERT INTO "Order ""Items""" (qty, customer, note, legacy) VALUES ('5', 999, NULL, 'old')`);
    const fromV2 = (await v2.query<{ id: string }>(`INSERT INTO "Order ""Items""" (qty, customer, note) VALUES (7, 3, 'hi') RETURNING id`)).rows[0].id;
    expect((await v1.query(`SELECT qty, customer, note, legacy FROM "Order ""Items""" WHERE id = $1`, [fromV2])).rows[0]).toEqual({ qty: '7', customer: 3, note: 'hi', legacy: 'from v2' });
    await expect(v2.query(`SELECT legacy FROM "Order ""Items"""`)).rejects.toThrow(/column "legacy" does not exist/);
    await expect(v1.query(`SELECT * FROM "Shipment"`)).rejects.toThrow(/does not exist/);
    expect((await v2.query(`SELECT count(*)::int AS n FROM old_audit`).catch((e: Error) => ({ rows: [{ n: e.message }] }))).rows[0].n).toMatch(/does not exist/);

    let p = await engine.backfill('many_ops', { batchSize: 400, delayMs: 0 }, 30_000);
    while (p.phase !== 'ready') p = await engine.backfill('many_ops', { batchSize: 400, delayMs: 0 }, 30_000);
    expect(p.tables.map((t) => [t.table, t.done, t.rowsDone])).toEqual([
      ['Customer', true, 50],
      ['Order "Items"', true, 3002],
    ]);
    const unknownCustomers = await v2.query<{ n: number }>(`SELECT count(*)::int AS n FROM "Order ""Items""" WHERE customer IS NULL`);
    expect(unknownCustomers.rows[0].n).toBe(301);
    const validated = await pool.query<{ conname: string; convalidated: boolean }>(`SELECT conname, convalidated FROM pg_constraint WHERE connamespace = 'shop'::regnamespace AND contype IN ('c', 'f') ORDER BY 1`);
    expect(validated.rows.every((r) => r.convalidated)).toBe(true);

    await engine.complete('many_ops');
    await v1.end();
    const after = await readSchema(pool, 'shop');
    const items = after.tables.find((t) => t.name === 'Order "Items"');
    expect(items?.columns.map((c) => `${c.name} ${c.type}${c.nullable ? '' : ' not null'}`)).toEqual(['id bigint not null', 'qty integer not null', 'customer integer', 'note text not null', 'status text not null']);
    expect(after.tables.map((t) => t.name).sort()).toEqual(['Customer', 'Order "Items"', 'Shipment']);
    expect(before.tables.map((t) => t.name).sort()).toEqual(['Customer', 'Order "Items"', 'old_audit']);
    await expect(v2.query(`INSERT INTO "Order ""Items""" (qty, customer, note) VALUES (1, 12345, 'x')`)).rejects.toThrow(/items_customer_fk/);
    await expect(v2.query(`INSERT INTO "Customer" (id, "e-mail") VALUES (51, 'c1@x.org')`)).rejects.toThrow(/customer_email_key/);
    const index = await pool.query<{ indisvalid: boolean }>(`SELECT indisvalid FROM pg_index WHERE indexrelid = 'shop.items_by_customer'::regclass`);
    expect(index.rows).toEqual([{ indisvalid: true }]);
    expect((await v2.query(`SELECT status FROM "Order ""Items""" LIMIT 1`)).rows[0].status).toBe('new');
    await v2.end();
  });

  it('stops at validation when old rows break a constraint the up expression does not repair, then rolls back cleanly', async () => {
    await pool.query(`CREATE TABLE shop.tags (id int PRIMARY KEY, label text); INSERT INTO shop.tags SELECT g, CASE WHEN g = 7 THEN NULL ELSE 't' END FROM generate_series(1, 100) g`);
    const before = await readSchema(pool, 'shop');
    await engine.register({ name: 'tags_nn', schema: 'shop', fromVersion: 'v2', toVersion: 'v3', operations: [{ op: 'add_constraint', table: 'tags', column: 'label', constraint: { kind: 'not_null' } }] });
    await engine.expand('tags_nn');
    await expect(engine.backfill('tags_nn', { batchSize: 30, delayMs: 0 }, 30_000)).rejects.toThrow(/violates|contains null/);
    const p = await engine.progress('tags_nn');
    expect(p.phase).toBe('backfilling');
    expect(p.errors).toBeGreaterThan(0);
    expect(p.lastError).toMatch(/backfill of tags/);
    await engine.rollback('tags_nn');
    expect(await readSchema(pool, 'shop')).toEqual(before);
  });
});
