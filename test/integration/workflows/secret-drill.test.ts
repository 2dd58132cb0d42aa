/**
 * Secret drill (issue 10, item 7): a patch carrying a realistic AWS credential is started as a release
 * train through a raw Temporal client, bypassing the CLI, on a real worker process; afterwards every place
 * a secret could land is searched: workflow history (read without the codec), the worker's log, the record
 * (every PostgreSQL table), the target repository (branches and every git object) and the worker's state
 * dir (artifacts, work trees). Each run prints where the secret appears.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter, type Payload } from '@temporalio/common';
import { Client as PgClient } from 'pg';
import { createDemoRepo, loadExampleChange } from '../../../examples/demo-repo';
import { git } from '../../../io/git';
import { connectTemporalClient } from '../../../io/payload-codec';
import type { releaseTrain } from '../../../workflows/release-train';
import { scheduledActivities, spawnWorker, TEST_DATABASE_URL, tempDir, testCodec } from '../../helpers/temporal';

const QUEUE = 'secret-drill';
const RUN = Date.now().toString(36);
// Fresh per run, so that no earlier run can be what a search finds.
const ACCESS_KEY_ID = `AKIA${randomBytes(8).toString('hex').toUpperCase()}`;
const SECRET_ACCESS_KEY = randomBytes(30).toString('base64');
const SECRETS = [ACCESS_KEY_ID, SECRET_ACCESS_KEY];

const address = process.env.MAESTRO_TEST_TEMPORAL_ADDRESS!;
const stateDir = tempDir('secret-drill-state');
const workerLog = path.join(tempDir('secret-drill-log'), 'worker.log');
let worker: ChildProcess;
let repo: string;

beforeAll(async () => {
  ({ repo } = await createDemoRepo(path.join(tempDir('secret-drill-repo'), 'greeter')));
  worker = await spawnWorker({ TEMPORAL_ADDRESS: address, MAESTRO_STATE_DIR: stateDir, MAESTRO_TASK_QUEUE: QUEUE, MAESTRO_DATABASE_URL: TEST_DATABASE_URL }, workerLog);
}, 120_000);

afterAll(async () => {
  if (worker?.pid && worker.exitCode === null) process.kill(-worker.pid, 'SIGTERM');
});

/** The good example change plus a new file holding an AWS key pair, as a developer might commit by mistake. */
function changeWithCredential(id: string) {
  const good = loadExampleChange('good-change', repo, id);
  if (good.change.kind !== 'patch') throw new Error('good-change is a patch');
  const leak = [
    'diff --git a/src/aws.ts b/src/aws.ts',
    'new file mode 100644',
    '--- /dev/null',
    '+++ b/src/aws.ts',
    '@@ -0,0 +1,2 @@',
    `+export const accessKeyId = '${ACCESS_KEY_ID}';`,
    `+export const secretAccessKey = '${SECRET_ACCESS_KEY}';`,
    '',
  ].join('\n');
  return { ...good, change: { kind: 'patch' as const, diff: good.change.diff + leak } };
}

const contains = (text: string) => SECRETS.some((s) => text.includes(s));

/** Every string and byte array in a value (a history: payload data, failure messages, memo, …). */
function* strings(value: unknown): Generator<string> {
  if (typeof value === 'string') yield value;
  else if (value instanceof Uint8Array) yield Buffer.from(value).toString('latin1');
  else if (value && typeof value === 'object') for (const v of Object.values(value)) yield* strings(v);
}

function* files(dir: string): Generator<string> {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* files(p);
    else if (entry.isFile()) yield p;
  }
}

/** Where a secret appears now, place by place (an empty list: nowhere). */
async function whereTheSecretIs(workflowId: string): Promise<string[]> {
  const found: string[] = [];
  // A client without the codec reads history as the server stores it.
  const plain = new Client({ connection: await Connection.connect({ address }) });
  try {
    const history = await plain.workflow.getHandle(workflowId).fetchHistory();
    for (const event of history.events ?? [])
      if ([...strings(event)].some(contains)) found.push(`workflow history: event ${String(event.eventId)} ${Object.keys(event).find((k) => k.endsWith('Attributes')) ?? ''}`);
  } finally {
    await plain.connection.close();
  }
  if (contains(fs.readFileSync(workerLog, 'utf8'))) found.push(`worker log ${workerLog}`);

  const db = new PgClient({ connectionString: TEST_DATABASE_URL });
  await db.connect();
  try {
    const tables = await db.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'");
    for (const { table_name } of tables.rows) {
      const rows = await db.query<{ row: string }>(`SELECT row_to_json(t)::text AS row FROM "${table_name}" t`);
      if (rows.rows.some((r) => contains(r.row))) found.push(`record: table ${table_name}`);
    }
  } finally {
    await db.end();
  }

  const branches = (await git(repo, ['for-each-ref', '--format=%(refname)'])).stdout.trim().split('\n');
  for (const ref of branches) if (contains((await git(repo, ['log', '-p', ref])).stdout)) found.push(`git: ${ref}`);
  // Every object, reachable or not (a commit made then dropped still leaks).
  if (contains((await git(repo, ['cat-file', '--batch-all-objects', '--batch'])).stdout)) found.push(`git: objects of ${repo}`);

  for (const file of files(stateDir)) if (contains(fs.readFileSync(file).toString('latin1'))) found.push(`state dir: ${path.relative(stateDir, file)}`);
  return found;
}

async function refusal(handle: { result(): Promise<unknown> }): Promise<ApplicationFailure> {
  const err = await handle.result().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}

test('started through a raw Temporal client with the project codec, the credential appears nowhere: history, worker log, record, git, state dir', async () => {
  const client = await connectTemporalClient({ address, namespace: 'default', codec: testCodec() });
  const workflowId = `train-secret-drill-${RUN}`;
  try {
    const handle = await client.workflow.start<typeof releaseTrain>('releaseTrain', { taskQueue: QUEUE, workflowId, args: [changeWithCredential(`secret-drill-${RUN}`)] });
    const failure = await refusal(handle);
    expect(failure.type).toBe('SecretInChange');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(/the patch adds 2 likely secret\(s\); nothing was started/);
    expect(contains(failure.message)).toBe(false);
    // Refused before any activity: no branch, record row, artifact or log line could have been made.
    expect(await scheduledActivities(client, workflowId)).toEqual({});

    const found = await whereTheSecretIs(workflowId);
    console.log(`secret drill (codec client): the credential appears in ${found.length ? found.join('; ') : 'no place searched'}`);
    expect(found).toEqual([]);

    // What history holds is the credential, encrypted: the codec (the worker's keys) reads it back.
    const started = (await client.workflow.getHandle(workflowId).fetchHistory()).events![0]!.workflowExecutionStartedEventAttributes!;
    const [input] = await testCodec().decode(started.input!.payloads! as Payload[]);
    expect(JSON.stringify(defaultPayloadConverter.fromPayload(input!))).toContain(ACCESS_KEY_ID);
  } finally {
    await client.connection.close();
  }
});

test('through a client without the codec the input is stored as sent: the start event is the one place, and the train is refused before anything else', async () => {
  const plain = new Client({ connection: await Connection.connect({ address }) });
  const workflowId = `train-secret-drill-plain-${RUN}`;
  try {
    const handle = await plain.workflow.start<typeof releaseTrain>('releaseTrain', { taskQueue: QUEUE, workflowId, args: [changeWithCredential(`secret-drill-plain-${RUN}`)] });
    expect((await refusal(handle)).type).toBe('SecretInChange');
    const found = await whereTheSecretIs(workflowId);
    console.log(`secret drill (client without codec): the credential appears in ${found.join('; ')}`);
    expect(found).toEqual(['workflow history: event 1 workflowExecutionStartedEventAttributes']);
  } finally {
    await plain.connection.close();
  }
});
