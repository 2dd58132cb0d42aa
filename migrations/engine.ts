/**
 * Runs a planned migration (core/migration-plan.ts) against PostgreSQL, resumably.
 *
 * The state lives in the migrated database itself (schema `maestro_migrations`): the migration's
 * definition and plan (planned once, from the shape before expand), its phase, how many steps of the
 * phase are done, and one checkpoint per backfilled table. Each transactional step and each backfill
 * batch commits together with its checkpoint, so after a crash (worker or PostgreSQL) the next call
 * resumes where the last commit left off: no step or batch lost, none applied twice.
 * A session advisory lock per migration keeps two workers from running one migration at once.
 */
import type { Pool, PoolClient } from 'pg';
import { PermanentError, TransientError } from '../core/errors';
import { assertMigrationRuns, parseMigration, type BackfillThrottle, type Migration, type MigrationPhase, type MigrationProgress, type MigrationTimeouts } from '../core/migration';
import { planMigration, versionSearchPath, type MigrationPlan, type ReadShape, type SqlStep } from '../core/migration-plan';
import { readSchema } from './introspect';

export class MigrationStateError extends PermanentError {
  constructor(message: string) {
    super(message, 'MigrationState');
  }
}

const STATE_DDL = `
CREATE SCHEMA IF NOT EXISTS maestro_migrations;
CREATE TABLE IF NOT EXISTS maestro_migrations.migration (
  name text PRIMARY KEY,
  definition jsonb NOT NULL,
  plan jsonb NOT NULL,
  phase text NOT NULL,
  step int NOT NULL DEFAULT 0,
  expand_steps_done int NOT NULL DEFAULT 0,
  rows_total bigint NOT NULL DEFAULT 0,
  rows_done bigint NOT NULL DEFAULT 0,
  rows_updated bigint NOT NULL DEFAULT 0,
  batches bigint NOT NULL DEFAULT 0,
  rate double precision NOT NULL DEFAULT 0,
  lock_waits int NOT NULL DEFAULT 0,
  errors int NOT NULL DEFAULT 0,
  last_error text,
  started_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS maestro_migrations.checkpoint (
  migration text NOT NULL REFERENCES maestro_migrations.migration (name) ON DELETE CASCADE,
  table_name text NOT NULL,
  last_key text,
  rows_done bigint NOT NULL DEFAULT 0,
  batches bigint NOT NULL DEFAULT 0,
  done boolean NOT NULL DEFAULT false,
  PRIMARY KEY (migration, table_name)
);
ALTER TABLE maestro_migrations.migration ADD COLUMN IF NOT EXISTS reads text NOT NULL DEFAULT 'new'`;

interface StateRow {
  name: string;
  definition: Migration;
  plan: MigrationPlan;
  phase: MigrationPhase;
  reads: ReadShape;
  step: number;
  expand_steps_done: number;
  rows_total: string;
  rows_done: string;
  rows_updated: string;
  batches: string;
  rate: number;
  lock_waits: number;
  errors: number;
  last_error: string | null;
  started_at: Date;
  updated_at: Date;
}

const LOCK_NOT_AVAILABLE = '55P03';
const QUERY_CANCELED = '57014';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const defaultTimeouts: MigrationTimeouts = { lockTimeoutMs: 2000, statementTimeoutMs: 60_000 };

/** pg pool options for an application version: its connections see that version's schema of views. */
export function versionConnection(url: string, schema: string, version: string): { connectionString: string; options: string } {
  return { connectionString: url, options: `-c search_path=${versionSearchPath(schema, version)}` };
}

export class MigrationEngine {
  constructor(
    private readonly pool: Pool,
    private readonly timeouts: MigrationTimeouts = defaultTimeouts,
  ) {}

  /** Validates and plans the migration and records it (idempotent for the same definition); runs nothing yet. */
  async register(input: unknown): Promise<MigrationProgress> {
    const m = parseMigration(input);
    await this.pool.query(STATE_DDL);
    const existing = await this.state(m.name, false);
    if (existing) {
      if (JSON.stringify(existing.definition) !== JSON.stringify(m))
        throw new MigrationStateError(`a different migration named '${m.name}' is already recorded (phase ${existing.phase}); give this one another name`);
      return this.progress(m.name);
    }
    const snapshot = await readSchema(this.pool, m.schema);
    assertMigrationRuns(m, snapshot);
    const plan = planMigration(m, snapshot);
    await this.pool.query(`INSERT INTO maestro_migrations.migration (name, definition, plan, phase) VALUES ($1, $2, $3, 'expanding') ON CONFLICT (name) DO NOTHING`, [
      m.name,
      JSON.stringify(m),
      JSON.stringify(plan),
    ]);
    return this.progress(m.name);
  }

  /** Runs (or resumes) expand; the migration is then backfilling. */
  async expand(name: string): Promise<MigrationProgress> {
    return this.exclusive(name, async (client) => {
      const s = await this.state(name);
      if (s.phase !== 'expanding') return;
      await this.runSteps(client, s, s.plan.expand, 'expanding');
      await client.query('BEGIN');
      for (const target of s.plan.backfill) {
        await client.query(`INSERT INTO maestro_migrations.checkpoint (migration, table_name) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [name, target.table]);
      }
      let total = 0;
      for (const target of s.plan.backfill) total += Number((await client.query<{ remaining: string }>(target.remainingSql)).rows[0].remaining);
      await client.query(`UPDATE maestro_migrations.migration SET phase = 'backfilling', step = 0, expand_steps_done = $2, rows_total = $3, updated_at = now() WHERE name = $1`, [
        name,
        s.plan.expand.length,
        total,
      ]);
      await client.query('COMMIT');
    });
  }

  /**
   * Backfills for at most `sliceMs` (then returns, so the caller can heartbeat, pause or re-throttle);
   * when every table is done, validates the new constraints and the migration is ready.
   */
  async backfill(name: string, throttle: BackfillThrottle, sliceMs: number, onBatch?: (p: MigrationProgress) => void): Promise<MigrationProgress> {
    return this.exclusive(name, async (client) => {
      let s = await this.state(name);
      if (s.phase === 'backfilling') {
        const sliceStart = Date.now();
        let scannedInSlice = 0;
        const rateOf = (): number => scannedInSlice / Math.max((Date.now() - sliceStart) / 1000, 0.001);
        for (const target of s.plan.backfill) {
          for (;;) {
            if (Date.now() - sliceStart >= sliceMs) return;
            const scanned = await this.batch(client, name, target, throttle.batchSize, (n) => (scannedInSlice + n) / Math.max((Date.now() - sliceStart) / 1000, 0.001));
            if (scanned === null) break;
            scannedInSlice += scanned;
            if (onBatch) onBatch(await this.progress(name));
            if (throttle.delayMs > 0) await sleep(throttle.delayMs);
          }
        }
        await client.query(`UPDATE maestro_migrations.migration SET phase = 'validating', step = 0, rate = $2, updated_at = now() WHERE name = $1`, [name, rateOf()]);
        s = await this.state(name);
      }
      if (s.phase === 'validating') {
        await this.runSteps(client, s, s.plan.validate, 'validating');
        await client.query(`UPDATE maestro_migrations.migration SET phase = 'ready', step = 0, updated_at = now() WHERE name = $1`, [name]);
      }
    });
  }

  /** Contract: only from 'ready' (the new version promoted); drops the old shape. */
  async complete(name: string): Promise<MigrationProgress> {
    return this.exclusive(name, async (client) => {
      const s = await this.state(name);
      if (s.phase === 'completed') return;
      if (s.phase !== 'ready' && s.phase !== 'contracting')
        throw new MigrationStateError(`migration '${name}' is ${s.phase}; contract runs only after the backfill and validation are done (phase 'ready')`);
      if (s.phase === 'ready') {
        // Contract drops the old shape, which views reading it depend on: the new version reads its own shape first.
        if (s.reads === 'old') await this.switchReads(client, name, 'new');
        await client.query(`UPDATE maestro_migrations.migration SET phase = 'contracting', step = 0, updated_at = now() WHERE name = $1`, [name]);
      }
      await this.runSteps(client, await this.state(name), s.plan.contract, 'contracting');
      await client.query(`UPDATE maestro_migrations.migration SET phase = 'completed', step = 0, updated_at = now() WHERE name = $1`, [name]);
    });
  }

  /**
   * The flag of the dual-write guard: which shape the new version's views read, switched at once (one
   * transaction, whatever the backfill is doing). Only while both shapes exist: after expand, before contract.
   */
  async setReads(name: string, from: ReadShape): Promise<MigrationProgress> {
    await this.withClient((client) => this.switchReads(client, name, from));
    return this.progress(name);
  }

  private async switchReads(client: PoolClient, name: string, from: ReadShape): Promise<void> {
    await this.retryingLocks(client, name, `reads from the ${from} shape`, async () => {
      await client.query('BEGIN');
      await this.setLocalTimeouts(client);
      // The row lock orders this switch with the phase changes of contract and rollback.
      const { rows } = await client.query<Pick<StateRow, 'phase' | 'reads' | 'plan'>>(`SELECT phase, reads, plan FROM maestro_migrations.migration WHERE name = $1 FOR UPDATE`, [name]);
      const s = rows[0];
      if (!s) throw new MigrationStateError(`no migration named '${name}' is recorded in this database; register it first`);
      if (!['backfilling', 'validating', 'ready'].includes(s.phase))
        throw new MigrationStateError(`migration '${name}' is ${s.phase}: reads switch only while both shapes exist (after expand, before contract)`);
      if (s.plan.readsFromOld === undefined) throw new MigrationStateError(`migration '${name}' was planned before reads could be switched; its views cannot read the old shape`);
      if (s.plan.readsFromOld.length === 0)
        throw new MigrationStateError(`migration '${name}' derives no column of the new version from the old shape (nothing to read from the old one): the new version already reads columns both versions share`);
      if (s.reads !== from) {
        for (const step of from === 'old' ? s.plan.readsFromOld : s.plan.readsFromNew) await client.query(step.sql);
        await client.query(`UPDATE maestro_migrations.migration SET reads = $2, updated_at = now() WHERE name = $1`, [name, from]);
      }
      await client.query('COMMIT');
    });
  }

  /** Rollback from any phase before contract: drops the new shape; the old shape and its views stay. */
  async rollback(name: string): Promise<MigrationProgress> {
    return this.exclusive(name, async (client) => {
      const s = await this.state(name);
      if (s.phase === 'rolled_back') return;
      if (s.phase === 'contracting' || s.phase === 'completed')
        throw new MigrationStateError(`migration '${name}' is ${s.phase}: the old shape is being or has been dropped, so it cannot be rolled back; write a migration back instead`);
      if (s.phase !== 'rolling_back') {
        const expanded = s.phase === 'expanding' ? s.step : s.plan.expand.length;
        await client.query(`UPDATE maestro_migrations.migration SET phase = 'rolling_back', step = 0, expand_steps_done = $2, updated_at = now() WHERE name = $1`, [name, expanded]);
      }
      const current = await this.state(name);
      const steps = s.plan.rollback.filter((st) => st.undoes === undefined || st.undoes < current.expand_steps_done);
      await this.runSteps(client, current, steps, 'rolling_back');
      await client.query(`UPDATE maestro_migrations.migration SET phase = 'rolled_back', step = 0, updated_at = now() WHERE name = $1`, [name]);
    });
  }

  async progress(name: string): Promise<MigrationProgress> {
    const s = await this.state(name);
    const { rows } = await this.pool.query<{ table_name: string; last_key: string | null; rows_done: string; batches: string; done: boolean }>(
      `SELECT table_name, last_key, rows_done, batches, done FROM maestro_migrations.checkpoint WHERE migration = $1 ORDER BY table_name`,
      [name],
    );
    const steps =
      s.phase === 'expanding' ? s.plan.expand.length : s.phase === 'validating' ? s.plan.validate.length : s.phase === 'contracting' ? s.plan.contract.length : s.phase === 'rolling_back' ? s.plan.rollback.length : 0;
    const rowsTotal = Number(s.rows_total);
    const rowsDone = Number(s.rows_done);
    const rowsLeft = s.phase === 'backfilling' || s.phase === 'expanding' ? Math.max(rowsTotal - rowsDone, 0) : 0;
    const rate = s.phase === 'backfilling' ? s.rate : 0;
    return {
      name,
      phase: s.phase,
      readsFrom: s.reads,
      fromVersion: s.definition.fromVersion,
      toVersion: s.definition.toVersion,
      step: s.step,
      steps,
      rowsTotal,
      rowsDone,
      rowsLeft,
      rowsUpdated: Number(s.rows_updated),
      batches: Number(s.batches),
      rate,
      etaSeconds: rate > 0 ? rowsLeft / rate : rowsLeft === 0 ? 0 : null,
      lockWaits: s.lock_waits,
      errors: s.errors,
      lastError: s.last_error,
      tables: rows.map((r) => ({ table: r.table_name, lastKey: r.last_key, rowsDone: Number(r.rows_done), batches: Number(r.batches), done: r.done })),
      startedAt: s.started_at.toISOString(),
      updatedAt: s.updated_at.toISOString(),
    };
  }

  /** One batch and its checkpoint in one transaction; null when the table is done. Retries lock timeouts. */
  private async batch(client: PoolClient, name: string, target: MigrationPlan['backfill'][number], batchSize: number, rateWith: (scanned: number) => number): Promise<number | null> {
    return this.retryingLocks(client, name, `backfill of ${target.table}`, async () => {
      await client.query('BEGIN');
      await this.setLocalTimeouts(client);
      const cp = await client.query<{ last_key: string | null; done: boolean }>(
        `SELECT last_key, done FROM maestro_migrations.checkpoint WHERE migration = $1 AND table_name = $2 FOR UPDATE`,
        [name, target.table],
      );
      if (cp.rows[0].done) {
        await client.query('COMMIT');
        return null;
      }
      const lastKey = cp.rows[0].last_key;
      const result = await client.query<{ scanned: number; lastKey: string | null; updated: number }>(
        lastKey === null ? target.firstBatchSql : target.nextBatchSql,
        lastKey === null ? [batchSize] : [batchSize, lastKey],
      );
      const { scanned, lastKey: newKey, updated } = result.rows[0];
      await client.query(
        `UPDATE maestro_migrations.checkpoint SET last_key = COALESCE($3, last_key), rows_done = rows_done + $4, batches = batches + 1, done = $5 WHERE migration = $1 AND table_name = $2`,
        [name, target.table, newKey, scanned, scanned < batchSize],
      );
      await client.query(
        `UPDATE maestro_migrations.migration SET rows_done = rows_done + $2, rows_updated = rows_updated + $3, batches = batches + 1, rate = $4, updated_at = now() WHERE name = $1`,
        [name, scanned, updated, rateWith(scanned)],
      );
      await client.query('COMMIT');
      return scanned;
    });
  }

  /** Runs the steps of a phase from the recorded step on; each transactional step commits with its step count. */
  private async runSteps(client: PoolClient, s: StateRow, steps: SqlStep[], phase: MigrationPhase): Promise<void> {
    for (let i = s.step; i < steps.length; i++) {
      const step = steps[i];
      await this.retryingLocks(client, s.name, step.description, async () => {
        if (step.transactional) {
          await client.query('BEGIN');
          await this.setLocalTimeouts(client);
          await client.query(step.sql);
          await client.query(`UPDATE maestro_migrations.migration SET step = $2, updated_at = now() WHERE name = $1 AND phase = $3`, [s.name, i + 1, phase]);
          await client.query('COMMIT');
        } else {
          // CONCURRENTLY builds wait for older transactions without blocking writes; no lock timeout here.
          await client.query(step.sql);
          await client.query(`UPDATE maestro_migrations.migration SET step = $2, updated_at = now() WHERE name = $1 AND phase = $3`, [s.name, i + 1, phase]);
        }
      });
    }
  }

  private async setLocalTimeouts(client: PoolClient): Promise<void> {
    await client.query(`SELECT set_config('lock_timeout', $1, true), set_config('statement_timeout', $2, true)`, [`${this.timeouts.lockTimeoutMs}ms`, `${this.timeouts.statementTimeoutMs}ms`]);
  }

  /** A statement that timed out waiting for a lock is counted and retried with backoff (writes go first). */
  private async retryingLocks<T>(client: PoolClient, name: string, what: string, run: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await run();
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        const code = (err as { code?: string }).code;
        const message = `${what}: ${(err as Error).message}`;
        const lockWait = code === LOCK_NOT_AVAILABLE;
        await this.pool.query(
          `UPDATE maestro_migrations.migration SET lock_waits = lock_waits + $2, errors = errors + $3, last_error = $4, updated_at = now() WHERE name = $1`,
          [name, lockWait ? 1 : 0, lockWait ? 0 : 1, message],
        );
        if ((lockWait || code === QUERY_CANCELED) && attempt < 10) {
          await sleep(Math.min(100 * 2 ** attempt, 5000));
          continue;
        }
        if (lockWait || code === QUERY_CANCELED) throw new TransientError(`${message} (after ${attempt} attempts)`, 'MigrationLockTimeout');
        throw err;
      }
    }
  }

  /** Runs `work` holding the migration's advisory lock on one connection, then reports progress. */
  private async exclusive(name: string, work: (client: PoolClient) => Promise<void>): Promise<MigrationProgress> {
    await this.withClient(async (client, lose) => {
      const { rows } = await client.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(hashtext('maestro-migration:' || $1)) AS locked`, [name]);
      if (!rows[0].locked) throw new TransientError(`migration '${name}' is being run by another worker`, 'MigrationBusy');
      try {
        await work(client);
      } finally {
        await client.query(`SELECT pg_advisory_unlock(hashtext('maestro-migration:' || $1))`, [name]).catch(lose);
      }
    });
    return this.progress(name);
  }

  /** Runs `work` on one pooled connection; a connection that failed (e.g. PostgreSQL restarted) is destroyed, not returned. */
  private async withClient(work: (client: PoolClient, lose: (err: Error) => void) => Promise<void>): Promise<void> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    // A connection lost while checked out emits 'error': kept, not thrown at the process.
    const lose = (err: Error) => void (broken = err);
    client.on('error', lose);
    try {
      await work(client, lose);
    } finally {
      client.off('error', lose);
      client.release(broken);
    }
  }

  private async state(name: string): Promise<StateRow>;
  private async state(name: string, required: false): Promise<StateRow | undefined>;
  private async state(name: string, required = true): Promise<StateRow | undefined> {
    const { rows } = await this.pool.query<StateRow>(`SELECT * FROM maestro_migrations.migration WHERE name = $1`, [name]);
    if (!rows[0] && required) throw new MigrationStateError(`no migration named '${name}' is recorded in this database; register it first`);
    return rows[0];
  }
}
