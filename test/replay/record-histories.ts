/**
 * Records the histories that test/replay/replay.test.ts replays: a promoted and a rolled-back train,
 * each with its rollout child. Run when the workflows change on purpose (then keep the old files too,
 * behind patched()): `npx tsx test/replay/record-histories.ts` with a dev server on TEMPORAL_ADDRESS.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { execFileSync } from 'node:child_process';
import { startDevServer, stopDevServer, TEMPORAL_CLI, type DevServerOptions } from '../../infra/temporal/dev-server';
import { createReleaseWorker } from '../../workers/worker';
import { workerConfigFromEnv } from '../../workers/config';
import { rolloutWorkflowId } from '../../workflows/messages';
import type { releaseTrain } from '../../workflows/release-train';
import { tempDir } from '../helpers/temporal';
import { TrainFixture } from '../helpers/train-fixture';

const OUT = path.join(__dirname, 'histories');

async function main(): Promise<void> {
  const runDir = tempDir('record');
  const server: DevServerOptions = { port: 7273, uiPort: 8273, dbFile: path.join(runDir, 'dev.sqlite'), runDir };
  await startDevServer(server);
  const address = `127.0.0.1:${server.port}`;
  const stateDir = tempDir('record-state');
  const nativeConnection = await NativeConnection.connect({ address });
  const worker = await createReleaseWorker(workerConfigFromEnv({ TEMPORAL_ADDRESS: address, MAESTRO_STATE_DIR: stateDir, MAESTRO_TASK_QUEUE: 'record' }), nativeConnection);
  const running = worker.run();
  const client = new Client({ connection: await Connection.connect({ address }) });
  try {
    for (const [name, change] of [['promoted', 'good-change'], ['rolled-back', 'bad-change']] as const) {
      const fixture = new TrainFixture(`greeter-record-${name}`, stateDir);
      await fixture.start();
      try {
        const workflowId = `train-record-${name}`;
        const handle = await client.workflow.start<typeof releaseTrain>('releaseTrain', { taskQueue: 'record', workflowId, args: [fixture.change(change, `record-${name}`)] });
        const result = await handle.result();
        console.log(`${name}: ${result.outcome} (${result.reason})`);
        // Files are named by workflow id: a replay must use the id the history was recorded with.
        for (const id of [workflowId, rolloutWorkflowId(workflowId)]) {
          // The CLI's JSON export is the format replayers (and the Web UI's download) use.
          const json = execFileSync(TEMPORAL_CLI, ['workflow', 'show', '--address', address, '--workflow-id', id, '--output', 'json'], { maxBuffer: 64 << 20 });
          fs.writeFileSync(path.join(OUT, `${id}.json`), json);
        }
      } finally {
        await fixture.stop();
      }
    }
  } finally {
    worker.shutdown();
    await running;
    await nativeConnection.close();
    await client.connection.close();
    await stopDevServer(server);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
