import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import { startDevServer, stopDevServer, type DevServerOptions } from '../../../infra/temporal/dev-server';
import { rolloutStatusQuery, rolloutWorkflowId, trainStatusQuery } from '../../../workflows/messages';
import type { releaseTrain } from '../../../workflows/release-train';
import { createReleaseWorker } from '../../../workers/worker';
import { workerConfigFromEnv } from '../../../workers/config';
import { connectTemporalClient } from '../../../io/payload-codec';
import { scheduledActivities, spawnWorker, tempDir, testCodec, workflowBundle } from '../../helpers/temporal';
import { TrainFixture } from '../../../examples/train-fixture';

const slowGate = {
  steps: [{ setWeight: 10 }, { setWeight: 50 }, { setWeight: 100 }],
  gate: { probeInterval: 500, consecutiveGreen: 3, maxRed: 2, timeout: 60_000 },
  thresholds: { minRequests: 3 },
};

async function waitFor(predicate: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('condition not met in time');
}

test('a worker killed mid-gate is replaced and the same train continues; no step is repeated', async () => {
  const address = process.env.MAESTRO_TEST_TEMPORAL_ADDRESS!;
  const stateDir = tempDir('restart-state');
  const fixture = new TrainFixture('greeter-restart', stateDir);
  await fixture.start();
  const workerEnv = { TEMPORAL_ADDRESS: address, MAESTRO_STATE_DIR: stateDir, MAESTRO_TASK_QUEUE: 'test-worker-restart' };
  const client = await connectTemporalClient({ address, namespace: 'default', codec: testCodec() });
  let workerA: ChildProcess | undefined;
  let workerB: ChildProcess | undefined;
  try {
    workerA = await spawnWorker(workerEnv, path.join(stateDir, 'worker-a.log'));
    const handle = await client.workflow.start<typeof releaseTrain>('releaseTrain', {
      taskQueue: 'test-worker-restart',
      workflowId: `train-restart-${Date.now().toString(36)}`,
      args: [fixture.change('good-change', 'restart-1', { rollout: slowGate as never })],
    });
    const rollout = client.workflow.getHandle(rolloutWorkflowId(handle.workflowId));
    await waitFor(async () => ((await rollout.query(rolloutStatusQuery)).gate?.probes ?? 0) >= 1);
    const canaryBefore = (await fixture.deployer.status({ service: fixture.service })).canary;
    expect(canaryBefore).toBeTruthy();
    process.kill(-workerA.pid!, 'SIGKILL');
    workerB = await spawnWorker(workerEnv, path.join(stateDir, 'worker-b.log'));
    const result = await handle.result();
    expect(result.outcome).toBe('promoted');
    const counts = await scheduledActivities(client, handle.workflowId);
    for (const stage of ['synthesizeSpec', 'prepareChange', 'assessRisk', 'runEvals', 'decidePolicy', 'mergeCandidate']) expect(counts[stage]).toBe(1);
    const rolloutCounts = await scheduledActivities(client, rollout.workflowId);
    expect(rolloutCounts.deployCanary).toBe(1);
    expect(rolloutCounts.setCanaryWeight).toBe(3);
    expect(rolloutCounts.promoteCanary).toBe(1);
    // The canary process that was serving before the kill is the one promoted: nothing was redeployed.
    const after = await fixture.deployer.status({ service: fixture.service });
    expect(after?.stable?.pid).toBe(canaryBefore!.pid);
  } finally {
    for (const w of [workerA, workerB]) if (w?.pid && w.exitCode === null) try { process.kill(-w.pid, 'SIGKILL'); } catch { /* gone */ }
    await fixture.stop();
    await client.connection.close();
  }
});

test('running trains continue after the dev server restarts from its SQLite file', async () => {
  const runDir = tempDir('temporal-restart');
  const server: DevServerOptions = { port: 7263, uiPort: 8263, dbFile: path.join(runDir, 'dev.sqlite'), runDir };
  await startDevServer(server);
  const stateDir = tempDir('srv-restart-state');
  const fixture = new TrainFixture('greeter-srvrestart', stateDir);
  await fixture.start();
  const address = `127.0.0.1:${server.port}`;
  const nativeConnection = await NativeConnection.connect({ address });
  const worker = await createReleaseWorker(
    workerConfigFromEnv({ TEMPORAL_ADDRESS: address, MAESTRO_STATE_DIR: stateDir, MAESTRO_TASK_QUEUE: 'test-server-restart', MAESTRO_CODEC_KEYS: process.env.MAESTRO_CODEC_KEYS }),
    nativeConnection,
    { workflowBundle: await workflowBundle() },
  );
  const running = worker.run();
  try {
    let client = await connectTemporalClient({ address, namespace: 'default', codec: testCodec() });
    const workflowId = `train-srv-restart-${Date.now().toString(36)}`;
    const handle = await client.workflow.start<typeof releaseTrain>('releaseTrain', {
      taskQueue: 'test-server-restart',
      workflowId,
      args: [fixture.change('good-change', 'srv-restart-1', { rollout: slowGate as never })],
    });
    await waitFor(async () => (await handle.query(trainStatusQuery)).stage === 'rollout');
    await client.connection.close();
    await stopDevServer(server);
    await startDevServer(server);
    client = await connectTemporalClient({ address, namespace: 'default', codec: testCodec() });
    const result = await client.workflow.getHandle<typeof releaseTrain>(workflowId).result();
    expect(result.outcome).toBe('promoted');
    await client.connection.close();
  } finally {
    worker.shutdown();
    await running.catch(() => undefined);
    await nativeConnection.close();
    await fixture.stop();
    await stopDevServer(server);
  }
});
