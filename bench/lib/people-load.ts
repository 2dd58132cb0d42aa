/**
 * Continuous reads and writes through the application versions of the `people` table while a
 * migration runs: v1 sees `name`, v2 sees `first_name` + `last_name` (the split-name migration). The table
 * is the greeter's (examples/greeter-database.ts).
 * Every acknowledged write is remembered, so the end state can be checked row by row; every failed
 * request is counted with its message. Each writer inserts a row, updates it once, then freezes it;
 * the other version's reader checks frozen rows, so "a write through one version is visible to the
 * other" is checked while the migration runs, not only at the end.
 */
import { Pool } from 'pg';
import { MigrationEngine, versionConnection } from '../../migrations/engine';
import { createPeopleThrough } from '../../examples/greeter-database';

export interface PersonName {
  first: string;
  last: string;
}

export const splitNameMigration = {
  name: 'split_name',
  fromVersion: 'v1',
  toVersion: 'v2',
  operations: [
    {
      op: 'split_column',
      table: 'people',
      column: 'name',
      into: [
        { name: 'first_name', type: 'text', up: "split_part(name, ' ', 1)", nullable: false },
        { name: 'last_name', type: 'text', up: "substr(name, length(split_part(name, ' ', 1)) + 2)", nullable: false },
      ],
      down: "first_name || ' ' || last_name",
    },
  ],
};

/** Makes `people` through the greeter's first migration (so v1 has its views) and seeds `rows` rows through v1. */
export async function createPeopleTable(engine: MigrationEngine, url: string, rows: number): Promise<void> {
  await createPeopleThrough(engine);
  const v1 = new Pool(versionConnection(url, 'public', 'v1'));
  try {
    await v1.query(`INSERT INTO people (name, email) SELECT 'First' || g || ' Last' || g, 'p' || g || '@example.org' FROM generate_series(1, $1::int) g`, [rows]);
  } finally {
    await v1.end();
  }
}

export interface LoadFigures {
  requests: number;
  failed: number;
  failures: string[];
  writeLatenciesMs: number[];
}

type Version = 'v1' | 'v2';

/** One version's traffic: a loop of insert, update, and a read of the other version's frozen rows. */
export class VersionLoad {
  readonly pool: Pool;
  readonly expected = new Map<string, PersonName>();
  readonly frozen: string[] = [];
  readonly figures: LoadFigures = { requests: 0, failed: 0, failures: [], writeLatenciesMs: [] };
  private running = false;
  private loop: Promise<void> | undefined;
  private n = 0;

  /** The acknowledged rows this loop writes no more (insert and update both acknowledged): checkable while it runs. */
  frozenRows(): Map<string, PersonName> {
    return new Map(this.frozen.map((id) => [id, this.expected.get(id)!]));
  }

  constructor(
    url: string,
    readonly version: Version,
    private readonly other: () => VersionLoad | undefined,
    private readonly pauseMs = 2,
  ) {
    this.pool = new Pool({ ...versionConnection(url, 'public', version), max: 2 });
    // An idle connection closed by the server (database dropped at the end) is not a failed request.
    this.pool.on('error', () => undefined);
  }

  /**
   * Cross-reads start at the other version's rows frozen from now on: a row written before expand is
   * only in the new shape once the backfill reached it (the canary reads it after the backfill).
   */
  private crossFrom = 0;

  start(): void {
    this.crossFrom = this.other()?.frozen.length ?? 0;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  async close(): Promise<void> {
    await this.stop();
    await this.pool.end();
  }

  private async request<T>(what: string, fn: () => Promise<T>, write: boolean): Promise<T | undefined> {
    this.figures.requests++;
    const start = performance.now();
    try {
      const out = await fn();
      if (write) this.figures.writeLatenciesMs.push(performance.now() - start);
      return out;
    } catch (err) {
      this.figures.failed++;
      if (this.figures.failures.length < 20) this.figures.failures.push(`${this.version} ${what}: ${(err as Error).message}`);
      return undefined;
    }
  }

  private async write(id: string | undefined, name: PersonName): Promise<string | undefined> {
    if (this.version === 'v1') {
      const full = `${name.first} ${name.last}`;
      if (id === undefined) return (await this.pool.query<{ id: string }>('INSERT INTO people (name, email) VALUES ($1, $2) RETURNING id', [full, `${name.first}@example.org`])).rows[0].id;
      await this.pool.query('UPDATE people SET name = $1 WHERE id = $2', [full, id]);
      return id;
    }
    if (id === undefined)
      return (await this.pool.query<{ id: string }>('INSERT INTO people (first_name, last_name, email) VALUES ($1, $2, $3) RETURNING id', [name.first, name.last, `${name.first}@example.org`])).rows[0].id;
    await this.pool.query('UPDATE people SET first_name = $1, last_name = $2 WHERE id = $3', [name.first, name.last, id]);
    return id;
  }

  private async read(id: string): Promise<PersonName | undefined> {
    if (this.version === 'v1') {
      const row = (await this.pool.query<{ name: string }>('SELECT name FROM people WHERE id = $1', [id])).rows[0];
      if (!row) return undefined;
      const [first, ...rest] = row.name.split(' ');
      return { first, last: rest.join(' ') };
    }
    const row = (await this.pool.query<{ first_name: string; last_name: string }>('SELECT first_name, last_name FROM people WHERE id = $1', [id])).rows[0];
    return row && { first: row.first_name, last: row.last_name };
  }

  private async run(): Promise<void> {
    while (this.running) {
      const i = this.n++;
      const tag = `${this.version}x${i}`;
      const id = await this.request('insert', () => this.write(undefined, { first: `Ada${tag}`, last: `Love${tag}` }), true);
      if (id !== undefined) {
        this.expected.set(id, { first: `Ada${tag}`, last: `Love${tag}` });
        const updated = { first: `Grace${tag}`, last: `Hopper${tag}` };
        const ok = await this.request('update', () => this.write(id, updated), true);
        if (ok !== undefined) {
          this.expected.set(id, updated);
          this.frozen.push(id);
        }
      }
      const other = this.other();
      if (other && other.frozen.length > this.crossFrom) {
        const otherId = other.frozen[this.crossFrom + (i % (other.frozen.length - this.crossFrom))];
        const want = other.expected.get(otherId);
        const got = await this.request('cross-read', async () => ({ row: await this.read(otherId) }), false);
        if (got && (!got.row || !want || got.row.first !== want.first || got.row.last !== want.last)) {
          this.figures.failed++;
          this.figures.failures.push(`${this.version} cross-read of ${otherId}: got ${JSON.stringify(got.row)}, acknowledged ${JSON.stringify(want)}`);
        }
      }
      if (this.pauseMs > 0) await new Promise((r) => setTimeout(r, this.pauseMs));
    }
  }
}

/** Rows whose acknowledged write is missing or different when read through `pool` (a version's view). */
export async function mismatchedRows(pool: Pool, version: Version, acknowledged: Map<string, PersonName>): Promise<string[]> {
  // A copy: the writer may still be acknowledging writes while this reads.
  const expected = new Map(acknowledged);
  const ids = [...expected.keys()];
  const bad: string[] = [];
  const columns = version === 'v1' ? 'id::text AS id, name' : 'id::text AS id, first_name, last_name';
  const { rows } = await pool.query<{ id: string; name?: string; first_name?: string; last_name?: string }>(`SELECT ${columns} FROM people WHERE id = ANY ($1::bigint[])`, [ids]);
  const byId = new Map(rows.map((r) => [r.id, r]));
  for (const [id, want] of expected) {
    const row = byId.get(id);
    const got = row && (version === 'v1' ? row.name : `${row.first_name} ${row.last_name}`);
    if (got !== `${want.first} ${want.last}`) bad.push(`${id}: got ${JSON.stringify(got)}, acknowledged ${want.first} ${want.last}`);
  }
  return bad;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
