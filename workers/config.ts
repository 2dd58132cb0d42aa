import { z } from 'zod';
import { parseOrThrow } from '../core/validation';
import { defaultPostgres, serverUrl } from '../infra/postgres/server';
import { DEFAULT_STATE_DIR } from '../io/paths';

const workerConfigSchema = z.object({
  TEMPORAL_ADDRESS: z.string().regex(/^[\w.-]+:\d+$/, "host:port, e.g. '127.0.0.1:7233'").default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  MAESTRO_STATE_DIR: z.string().default(DEFAULT_STATE_DIR),
  /** The record; the default is the project's own PostgreSQL (infra/postgres, started by `maestro up`). */
  MAESTRO_DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'a postgresql:// url').default(serverUrl(defaultPostgres)),
  MAESTRO_TASK_QUEUE: z.string().min(1).optional(),
  MAESTRO_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().positive().default(20),
});
export type WorkerConfig = z.output<typeof workerConfigSchema>;

export function workerConfigFromEnv(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const picked = Object.fromEntries(Object.keys(workerConfigSchema.shape).filter((k) => env[k] !== undefined && env[k] !== '').map((k) => [k, env[k]]));
  return parseOrThrow(workerConfigSchema, picked, 'worker configuration (environment variables)');
}
