/** Live progress of the migrations trains carry, read from each service database's own migration state. */
import { Pool } from 'pg';
import type { MigrationProgress } from '../core/migration';
import { MigrationEngine } from '../migrations/engine';

export type MigrationReading = { progress: MigrationProgress } | { error: string };

/** One small pool per database; `close` ends them all. */
export function migrationReader(): { read(databaseUrl: string, name: string): Promise<MigrationReading>; close(): Promise<void> } {
  const pools = new Map<string, Pool>();
  return {
    async read(databaseUrl, name) {
      let pool = pools.get(databaseUrl);
      if (!pool) {
        pool = new Pool({ connectionString: databaseUrl, max: 2, connectionTimeoutMillis: 3_000 });
        // An idle connection the server drops must not take the dashboard down.
        pool.on('error', () => undefined);
        pools.set(databaseUrl, pool);
      }
      try {
        return { progress: await new MigrationEngine(pool).progress(name) };
      } catch (err) {
        return { error: (err as Error).message };
      }
    },
    async close() {
      await Promise.all([...pools.values()].map((p) => p.end()));
      pools.clear();
    },
  };
}
