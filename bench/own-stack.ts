import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { migrate } from '../record/migrate';
import { ensurePostgres } from '../infra/postgres/server';
import { startDevServer, stopDevServer, type DevServerOptions } from '../infra/temporal/dev-server';
import { workerConfigFromEnv } from '../workers/config';
import { createReleaseWorker } from '../workers/worker';
import { installQuietRuntime } from '../infra/temporal/quiet-runtime';
import { connectTemporalClient, EncryptionCodec, loadKeyRing } from '../io/payload-codec';

export interface OwnStack {
  client: Client;
  address: string;
  /** The worker's state dir (deployer, work trees): fixtures share it. */
  stateDir: string;
}

/**
 * A dev server of its own (SQLite in a temp dir) with one release worker on `queue`, the record's
 * PostgreSQL started and migrated if needed; everything started here is stopped afterwards.
 * For scripts (bench, history recording) that must not disturb a running stack.
 */
export async function withOwnStack<T>(opts: { port: number; uiPort?: number; queue: string; maxActivities?: number }, run: (stack: OwnStack) => Promise<T>): Promise<T> {
  installQuietRuntime();
  const postgres = await ensurePostgres();
  await migrate(postgres.url);
  const runDir = tempDir(`temporal-${opts.port}`);
  const server: DevServerOptions = { port: opts.port, uiPort: opts.uiPort ?? opts.port + 1000, dbFile: path.join(runDir, 'dev.sqlite'), runDir };
  await startDevServer(server);
  const address = `127.0.0.1:${server.port}`;
  const stateDir = tempDir(`state-${opts.queue}`);
  const nativeConnection = await NativeConnection.connect({ address });
  const worker = await createReleaseWorker(
    workerConfigFromEnv({
      TEMPORAL_ADDRESS: address,
      MAESTRO_STATE_DIR: stateDir,
      MAESTRO_TASK_QUEUE: opts.queue,
      MAESTRO_DATABASE_URL: postgres.url,
      ...(opts.maxActivities ? { MAESTRO_MAX_CONCURRENT_ACTIVITIES: String(opts.maxActivities) } : {}),
    }),
    nativeConnection,
  );
  const running = worker.run();
  // The worker made the state dir's key file; the client reads the same one.
  const client = await connectTemporalClient({ address, namespace: 'default', codec: new EncryptionCodec(loadKeyRing({ stateDir })) });
  try {
    return await run({ client, address, stateDir });
  } finally {
    worker.shutdown();
    await running;
    await nativeConnection.close();
    await client.connection.close();
    await stopDevServer(server);
    await postgres.stop();
  }
}

function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `maestro-${prefix}-`));
}
