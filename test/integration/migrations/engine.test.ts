import { Pool } from 'pg';
import { createPeopleTable, mismatchedRows, percentile, splitNameMigration, VersionLoad } from '../../../bench/lib/people-load';
import { MigrationRefusedError } from '../../../core/migration';
import { MigrationEngine, MigrationStateError } from '../../../migrations/engine';
import { readSchema } from '../../../migrations/introspect';
import { emptyDatabase } from '../../helpers/fresh-db';

const SEED_ROWS = 20_000;
const throttle = { batchSize: 500, delayMs: 0 };

interface Stack {
  url: string;
  pool: Pool;
  engine: MigrationEngine;
  drop(): Promise<void>;
}

/** A database whose `people` table was made by a first migration (so v1 has its views), with seeded rows. */
async function peopleDatabase(prefix: string): Promise<Stack> {
  const db = await emptyDatabase(prefix);
  const pool = new Pool({ connectionString: db.url, max: 4 });
  // A connection the server ends (the database dropped WITH (FORCE) at the end) is not a test failure.
  pool.on('error', () => undefined);
  const engine = new MigrationEngine(pool);
  await createPeopleTable(engine, db.url, SEED_ROWS);
  return {
    url: db.url,
    pool,
    engine,
    drop: async () => {
      await pool.end();
      await db.drop();
    },
  };
}

/** Every row's two shapes agree (old name = first || ' ' || last) and none is missing a value. */
async function shapesDisagree(pool: Pool): Promise<number> {
  // Before contract the new shape lives under its helper names.
  const { rows } = await pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM public.people WHERE _mc_new_first_name IS NULL OR _mc_new_last_name IS NULL OR name <> _mc_new_first_name || ' ' || _mc_new_last_name`,
  );
  return Number(rows[0].n);
}

describe('MigrationEngine on PostgreSQL (split name under load through both versions)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await peopleDatabase('mig_engine');
  });
  afterAll(async () => {
    await stack.drop();
  });

  it('expands, backfills and contracts with 0 failed requests and every acknowledged write present in both shapes', async () => {
    let v2: VersionLoad | undefined;
    const v1 = new VersionLoad(stack.url, 'v1', () => v2);
    v1.start();
    await new Promise((r) => setTimeout(r, 300));
    const before = [...v1.figures.writeLatenciesMs];

    await stack.engine.register(splitNameMigration);
    const expanded = await stack.engine.expand('split_name');
    expect(expanded.phase).toBe('backfilling');
    expect(expanded.rowsTotal).toBeGreaterThanOrEqual(SEED_ROWS);

    v2 = new VersionLoad(stack.url, 'v2', () => v1);
    v2.start();
    const duringStart = v1.figures.writeLatenciesMs.length;
    const started = Date.now();
    let progress = await stack.engine.backfill('split_name', { batchSize: 500, delayMs: 5 }, 500);
    expect(progress.phase).toBe('backfilling');
    expect(progress.rowsDone).toBeGreaterThan(0);
    expect(progress.rowsLeft).toBeGreaterThan(0);
    expect(progress.rate).toBeGreaterThan(0);
    while (progress.phase === 'backfilling' || progress.phase === 'validating') progress = await stack.engine.backfill('split_name', throttle, 2000);
    const backfillSeconds = (Date.now() - started) / 1000;
    const during = v1.figures.writeLatenciesMs.slice(duringStart);
    expect(progress.phase).toBe('ready');
    expect(progress.rowsLeft).toBe(0);
    expect(await shapesDisagree(stack.pool)).toBe(0);

    // Promotion: the old version stops, the new one keeps going through contract.
    await v1.stop();
    expect(await mismatchedRows(v1.pool, 'v1', v1.expected)).toEqual([]);
    // v2 still runs: a row it is updating may hold the new value before the update is acknowledged. Its frozen rows
    // are checked now through v1's view, and every acknowledged row through v2's once it stops (below).
    expect(await mismatchedRows(v1.pool, 'v1', v2.frozenRows())).toEqual([]);
    const done = await stack.engine.complete('split_name');
    expect(done.phase).toBe('completed');
    await new Promise((r) => setTimeout(r, 300));
    await v2.stop();

    expect(v1.figures.failures).toEqual([]);
    expect(v2.figures.failures).toEqual([]);
    expect(await mismatchedRows(v2.pool, 'v2', v1.expected)).toEqual([]);
    expect(await mismatchedRows(v2.pool, 'v2', v2.expected)).toEqual([]);
    const shape = (await readSchema(stack.pool, 'public')).tables.find((t) => t.name === 'people');
    expect(shape?.columns.map((c) => [c.name, c.nullable])).toEqual([
      ['id', false],
      ['email', true],
      ['first_name', false],
      ['last_name', false],
    ]);
    const count = Number((await stack.pool.query<{ n: string }>('SELECT count(*) AS n FROM people')).rows[0].n);
    expect(count).toBe(SEED_ROWS + v1.expected.size + v2.expected.size);
    const schemas = (await stack.pool.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'public\\_v%' ORDER BY 1`)).rows.map((r) => r.nspname);
    expect(schemas).toEqual(['public_v2']);
    console.log(
      `split_name: ${progress.rowsDone} rows backfilled in ${backfillSeconds.toFixed(2)} s; requests v1 ${v1.figures.requests}, v2 ${v2.figures.requests}, failed ${v1.figures.failed + v2.figures.failed}; ` +
        `p99 write latency v1 before ${percentile(before, 99).toFixed(1)} ms, during ${percentile(during, 99).toFixed(1)} ms; lock waits ${done.lockWaits}`,
    );
    await v1.close();
    await v2.close();
  });
});

describe('rollback at each phase leaves the old shape intact under v1 load', () => {
  const phases = ['mid-expand', 'expanded', 'mid-backfill', 'ready'] as const;
  it.each(phases)('rolls back %s', async (phase) => {
    const stack = await peopleDatabase(`mig_rb_${phase}`);
    try {
      const original = await readSchema(stack.pool, 'public');
      let v2: VersionLoad | undefined;
      const v1 = new VersionLoad(stack.url, 'v1', () => v2);
      v1.start();
      await stack.engine.register(splitNameMigration);
      if (phase === 'mid-expand') {
        // Stop expand after its first step, as a crash would.
        await stack.pool.query(`UPDATE maestro_migrations.migration SET step = 0 WHERE name = 'split_name'`);
        const plan = (await stack.pool.query<{ plan: { expand: { sql: string }[] } }>(`SELECT plan FROM maestro_migrations.migration WHERE name = 'split_name'`)).rows[0].plan;
        await stack.pool.query(plan.expand[1].sql);
        await stack.pool.query(`UPDATE maestro_migrations.migration SET step = 2 WHERE name = 'split_name'`);
      } else {
        await stack.engine.expand('split_name');
        v2 = new VersionLoad(stack.url, 'v2', () => v1);
        v2.start();
        if (phase === 'mid-backfill') {
          const p = await stack.engine.backfill('split_name', { batchSize: 200, delayMs: 2 }, 300);
          expect(p.phase).toBe('backfilling');
        }
        if (phase === 'ready') {
          let p = await stack.engine.backfill('split_name', throttle, 30_000);
          while (p.phase !== 'ready') p = await stack.engine.backfill('split_name', throttle, 30_000);
        }
        await new Promise((r) => setTimeout(r, 200));
        // The canary goes first; the old version keeps running through the rollback.
        await v2.stop();
      }
      const rolled = await stack.engine.rollback('split_name');
      expect(rolled.phase).toBe('rolled_back');
      await new Promise((r) => setTimeout(r, 200));
      await v1.stop();
      expect(v1.figures.failures).toEqual([]);
      expect(v2?.figures.failures ?? []).toEqual([]);
      expect(await readSchema(stack.pool, 'public')).toEqual(original);
      const helpers = await stack.pool.query(`SELECT attname FROM pg_attribute WHERE attrelid = 'public.people'::regclass AND attnum > 0 AND NOT attisdropped AND attname LIKE '\\_mc\\_%'`);
      expect(helpers.rows).toEqual([]);
      const triggers = await stack.pool.query(`SELECT tgname FROM pg_trigger WHERE tgrelid = 'public.people'::regclass AND NOT tgisinternal`);
      expect(triggers.rows).toEqual([]);
      expect(await mismatchedRows(v1.pool, 'v1', v1.expected)).toEqual([]);
      if (v2) expect(await mismatchedRows(v1.pool, 'v1', v2.expected)).toEqual([]);
      const schemas = (await stack.pool.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'public\\_v%' ORDER BY 1`)).rows.map((r) => r.nspname);
      expect(schemas).toEqual(['public_v1']);
      await expect(stack.engine.complete('split_name')).rejects.toThrow(MigrationStateError);
      await v1.close();
      await v2?.close();
    } finally {
      await stack.drop();
    }
  });
});

describe('refusals', () => {
  it('refuses a migration naming a missing column and one that would rewrite the table, before any change', async () => {
    const stack = await peopleDatabase('mig_refuse');
    try {
      const before = await readSchema(stack.pool, 'public');
      await expect(
        stack.engine.register({ ...splitNameMigration, name: 'bad', operations: [{ op: 'rename_column', table: 'people', from: 'nmae', to: 'full_name' }] }),
      ).rejects.toThrow(/column 'nmae' does not exist in table 'people'; use one of: id, name, email/);
      const rewrite = stack.engine.register({
        ...splitNameMigration,
        name: 'rewrite',
        operations: [{ op: 'add_column', table: 'people', column: { name: 'token', type: 'uuid', default: 'gen_random_uuid()' } }],
      });
      await expect(rewrite).rejects.toThrow(MigrationRefusedError);
      await expect(rewrite).rejects.toThrow(/gen_random_uuid\(\).*rewrites the whole table.*ACCESS EXCLUSIVE.*up: "gen_random_uuid\(\)"/s);
      expect(await readSchema(stack.pool, 'public')).toEqual(before);
      const recorded = await stack.pool.query(`SELECT name FROM maestro_migrations.migration WHERE name IN ('bad', 'rewrite')`);
      expect(recorded.rows).toEqual([]);
    } finally {
      await stack.drop();
    }
  });
});

describe("the dual-write guard's flag: the new version reads the old shape at once", () => {
  /** One row's names as the new version reads them. */
  const v2Name = async (pool: Pool, id: string) => (await pool.query<{ first_name: string; last_name: string }>('SELECT first_name, last_name FROM people WHERE id = $1', [id])).rows[0];
  /** Writes the new shape alone, triggers off: the kind of damage a wrong backfill does, which reading the old shape hides. */
  const damageNewShape = (pool: Pool, id: string) =>
    pool.connect().then(async (c) => {
      try {
        await c.query('SET session_replication_role = replica');
        await c.query(`UPDATE people SET _mc_new_first_name = 'Damaged' WHERE id = $1`, [id]);
      } finally {
        c.release(true);
      }
    });

  it('switches under load through both versions with 0 failed requests; new-version writes still land in both shapes; contract switches back first', async () => {
    const stack = await peopleDatabase('mig_reads');
    try {
      await stack.engine.register(splitNameMigration);
      await expect(stack.engine.setReads('split_name', 'old')).rejects.toThrow(/is expanding: reads switch only while both shapes exist/);
      await stack.engine.expand('split_name');
      let p = await stack.engine.backfill('split_name', throttle, 30_000);
      while (p.phase !== 'ready') p = await stack.engine.backfill('split_name', throttle, 30_000);
      expect(p.readsFrom).toBe('new');
      await damageNewShape(stack.pool, '7');

      let v2: VersionLoad | undefined;
      const v1 = new VersionLoad(stack.url, 'v1', () => v2);
      v2 = new VersionLoad(stack.url, 'v2', () => v1);
      v1.start();
      v2.start();
      expect(await v2Name(v2.pool, '7')).toEqual({ first_name: 'Damaged', last_name: 'Last7' });
      await new Promise((r) => setTimeout(r, 300));

      const t0 = performance.now();
      const flagged = await stack.engine.setReads('split_name', 'old');
      const switchMs = performance.now() - t0;
      expect(flagged.readsFrom).toBe('old');
      // The very next read derives the new columns from the old one.
      expect(await v2Name(v2.pool, '7')).toEqual({ first_name: 'First7', last_name: 'Last7' });
      await new Promise((r) => setTimeout(r, 500));
      // The new version still inserts (RETURNING its id), updates and deletes through its views.
      const inserted = (await v2.pool.query<{ id: string; first_name: string }>(`INSERT INTO people (first_name, last_name, email) VALUES ('Flag', 'Ged', 'f@example.org') RETURNING id, first_name`)).rows[0];
      expect(inserted.first_name).toBe('Flag');
      expect((await v1.pool.query<{ name: string }>('SELECT name FROM people WHERE id = $1', [inserted.id])).rows[0].name).toBe('Flag Ged');
      expect((await v2.pool.query(`DELETE FROM people WHERE id = $1`, [inserted.id])).rowCount).toBe(1);
      expect(await stack.engine.setReads('split_name', 'old')).toMatchObject({ readsFrom: 'old' }); // idempotent

      expect((await stack.engine.setReads('split_name', 'new')).readsFrom).toBe('new');
      expect(await v2Name(v2.pool, '7')).toEqual({ first_name: 'Damaged', last_name: 'Last7' });
      await stack.engine.setReads('split_name', 'old');
      await new Promise((r) => setTimeout(r, 300));

      await v1.stop();
      const done = await stack.engine.complete('split_name');
      expect(done).toMatchObject({ phase: 'completed', readsFrom: 'new' });
      await new Promise((r) => setTimeout(r, 200));
      await v2.stop();
      expect(v1.figures.failures).toEqual([]);
      expect(v2.figures.failures).toEqual([]);
      expect(await mismatchedRows(v2.pool, 'v2', v1.expected)).toEqual([]);
      expect(await mismatchedRows(v2.pool, 'v2', v2.expected)).toEqual([]);
      console.log(`reads flag: switched in ${switchMs.toFixed(1)} ms under load; requests v1 ${v1.figures.requests}, v2 ${v2.figures.requests}, failed ${v1.figures.failed + v2.figures.failed}`);
      await v1.close();
      await v2.close();
    } finally {
      await stack.drop();
    }
  });

  it('a rollback while the new version reads the old shape leaves the old shape as it was', async () => {
    const stack = await peopleDatabase('mig_reads_rb');
    try {
      const original = await readSchema(stack.pool, 'public');
      await stack.engine.register(splitNameMigration);
      await stack.engine.expand('split_name');
      await stack.engine.setReads('split_name', 'old');
      expect((await stack.engine.rollback('split_name')).phase).toBe('rolled_back');
      expect(await readSchema(stack.pool, 'public')).toEqual(original);
      const schemas = (await stack.pool.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'public\\_v%' ORDER BY 1`)).rows.map((r) => r.nspname);
      expect(schemas).toEqual(['public_v1']);
      await expect(stack.engine.setReads('split_name', 'new')).rejects.toThrow(/is rolled_back: reads switch only while both shapes exist/);
    } finally {
      await stack.drop();
    }
  });

  it('refuses the flag for a migration that derives nothing from the old shape', async () => {
    const stack = await peopleDatabase('mig_reads_none');
    try {
      await stack.engine.register({ ...splitNameMigration, name: 'rename_email', operations: [{ op: 'rename_column', table: 'people', from: 'email', to: 'mail' }] });
      await stack.engine.expand('rename_email');
      await expect(stack.engine.setReads('rename_email', 'old')).rejects.toThrow(MigrationStateError);
      await expect(stack.engine.setReads('rename_email', 'old')).rejects.toThrow(/derives no column of the new version from the old shape/);
    } finally {
      await stack.drop();
    }
  });
});
