import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { createActivities, type Activities } from '../../activities';
import { defaultPostgres, serverUrl } from '../../infra/postgres/server';
import { ACTIVITY_WORKER_OPTIONS } from '../../workers/worker';
import { installQuietRuntime } from '../../infra/temporal/quiet-runtime';
import { codecKeysEnvSchema, EncryptionCodec, maestroDataConverter } from '../../io/payload-codec';

/**
 * The run's payload codec. The global setup puts one key ring in MAESTRO_CODEC_KEYS, so that the test
 * clients and workers, and the workers and CLIs the tests spawn (they inherit the environment), share it.
 */
export function testCodec(): EncryptionCodec {
  const keys = process.env.MAESTRO_CODEC_KEYS;
  if (!keys) throw new Error('MAESTRO_CODEC_KEYS is not set: run the tests with npm test (jest global setup makes a key ring)');
  return new EncryptionCodec(codecKeysEnvSchema.parse(keys));
}

/** Connects to the dev server started by test/global-setup.ts (or MAESTRO_TEST_TEMPORAL_ADDRESS). */
export async function connectTestEnv(): Promise<TestWorkflowEnvironment> {
  installQuietRuntime();
  const address = process.env.MAESTRO_TEST_TEMPORAL_ADDRESS;
  if (!address) throw new Error('MAESTRO_TEST_TEMPORAL_ADDRESS is not set: run the tests with npm test (jest global setup starts Temporal)');
  return TestWorkflowEnvironment.createFromExistingServer({ address, client: { dataConverter: maestroDataConverter(testCodec()) } });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: quietLogger });
  return bundle;
}

const quietLogger = { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} };

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `maestro-${prefix}-`));
}

/** A worker polling the test dev server on its task queue, and the client a test steers workflows with. */
export interface TestWorker {
  client: Client;
  /** Shuts the worker down, waits until it has, and closes the connection. */
  stop(): Promise<void>;
}

/** Connects, creates a worker of the bundled workflows with `activities` and runs it until stop(). */
export async function startTestWorker(taskQueue: string, activities: Activities | Partial<Activities>): Promise<TestWorker> {
  const env = await connectTestEnv();
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities,
    ...ACTIVITY_WORKER_OPTIONS,
    dataConverter: maestroDataConverter(testCodec()),
  });
  const running = worker.run();
  return {
    client: env.client,
    async stop() {
      worker.shutdown();
      await running;
      await env.teardown();
    },
  };
}

/** The worker's real activities; the record goes to the PostgreSQL that the global setup started. */
export function realActivities(stateDir: string): Activities {
  return createActivities({ stateDir, databaseUrl: TEST_DATABASE_URL });
}
export const TEST_DATABASE_URL = process.env.MAESTRO_DATABASE_URL ?? serverUrl(defaultPostgres);

/** Counts activity executions by type in a workflow's history (a step repeated shows up twice). */
export async function scheduledActivities(client: Client, workflowId: string): Promise<Record<string, number>> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const counts: Record<string, number> = {};
  for (const event of history.events ?? []) {
    const name = event.activityTaskScheduledEventAttributes?.activityType?.name;
    if (name) counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

/** A real worker process (workers/main.ts) with `env` on top of this one's, its output in `logFile`; resolves once it polls. */
export function spawnWorker(env: Record<string, string>, logFile: string): Promise<ChildProcess> {
  const log = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, [require.resolve('tsx/cli'), path.join(__dirname, '../../workers/main.ts')], {
    env: { ...process.env, ...env },
    stdio: ['ignore', log, log],
    detached: true,
  });
  fs.closeSync(log);
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 60_000;
    const check = () => {
      if (fs.readFileSync(logFile, 'utf8').includes('maestro worker: polling')) return resolve(child);
      if (child.exitCode !== null || Date.now() > deadline) return reject(new Error(`worker did not start:\n${fs.readFileSync(logFile, 'utf8')}`));
      setTimeout(check, 200);
    };
    check();
  });
}
