import { NativeConnection } from '@temporalio/worker';
import { startTracing } from '../io/tracing';
import { workerConfigFromEnv } from './config';
import { createReleaseWorker } from './worker';

async function main(): Promise<void> {
  const config = workerConfigFromEnv();
  let connection: NativeConnection;
  try {
    connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  } catch (err) {
    console.error(`maestro worker: cannot reach Temporal at ${config.TEMPORAL_ADDRESS} (${(err as Error).message}).\nStart the dev server with 'bin/maestro up' or set TEMPORAL_ADDRESS.`);
    process.exit(3);
  }
  const tracing = config.MAESTRO_OTLP_ENDPOINT ? await startTracing({ endpoint: config.MAESTRO_OTLP_ENDPOINT, serviceName: 'maestro-worker' }) : undefined;
  const worker = await createReleaseWorker(config, connection, undefined, tracing);
  console.log(`maestro worker: polling ${config.TEMPORAL_ADDRESS} namespace ${config.TEMPORAL_NAMESPACE}${tracing ? `, traces to ${tracing.endpoint}` : ''}`);
  await worker.run();
  await connection.close();
  await tracing?.shutdown();
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
