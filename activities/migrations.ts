/** The migration engine (migrations/engine.ts) as activities; the backfill runs in heartbeating slices. */
import { Pool } from 'pg';
import type { BackfillThrottle, MigrationInput, MigrationProgress, MigrationTimeouts } from '../core/migration';
import type { ReadShape } from '../core/migration-plan';
import { MigrationEngine } from '../migrations/engine';
import { heartbeat, withHeartbeats } from './context';

export interface MigrationActivityDeps {
  timeouts?: MigrationTimeouts;
}

interface Target {
  /** The database the service's tables live in. */
  databaseUrl: string;
  name: string;
}

export function createMigrationActivities(deps: MigrationActivityDeps = {}) {
  // One small pool per database, for the worker's lifetime.
  const pools = new Map<string, MigrationEngine>();
  const engine = (url: string): MigrationEngine => {
    let e = pools.get(url);
    if (!e) {
      const pool = new Pool({ connectionString: url, max: 3 });
      pool.on('error', () => undefined); // an idle connection lost to a restart: the next query reconnects
      e = new MigrationEngine(pool, deps.timeouts);
      pools.set(url, e);
    }
    return e;
  };
  const steps = (what: string, t: Target, run: (e: MigrationEngine) => Promise<MigrationProgress>) =>
    withHeartbeats(() => ({ activity: what, migration: t.name }), 1000, () => run(engine(t.databaseUrl)));
  return {
    /** Validates against the database's shape and records the plan; refuses (InvalidInput) before any change. */
    registerMigration: (input: { databaseUrl: string; migration: MigrationInput }): Promise<MigrationProgress> => engine(input.databaseUrl).register(input.migration),
    expandMigration: (t: Target) => steps('expandMigration', t, (e) => e.expand(t.name)),
    /** One slice of the backfill (at most `sliceMs`), heartbeating each batch's progress. */
    backfillMigration: (input: Target & { throttle: BackfillThrottle; sliceMs: number }) =>
      steps('backfillMigration', input, (e) => e.backfill(input.name, input.throttle, input.sliceMs, (p) => heartbeat(p))),
    completeMigration: (t: Target) => steps('completeMigration', t, (e) => e.complete(t.name)),
    /** The dual-write guard's flag: the new version's views read the old shape (or the new one again). */
    setMigrationReads: (input: Target & { from: ReadShape }) => engine(input.databaseUrl).setReads(input.name, input.from),
    rollbackMigration: (t: Target) => steps('rollbackMigration', t, (e) => e.rollback(t.name)),
  };
}
