/**
 * The appeal workflow on a real Temporal dev server and a real PostgreSQL: roles from the policy file,
 * every step in the audit trail (database) and in the workflow history, closed trains refused.
 */
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { WorkflowFailedError } from '@temporalio/client';
import { ACTIVITY_WORKER_OPTIONS } from '../../../workers/worker';
import { createAppealActivities } from '../../../activities/appeals';
import { loadPolicyFile } from '../../../policy/load';
import { createRecordActivities } from '../../../activities/record';
import { parseChangeRequest } from '../../../core/change-request';
import { TEMPORAL_CLI } from '../../../infra/temporal/dev-server';
import { appeal } from '../../../workflows/appeal';
import { appealStatusQuery, decideAppealSignal, withdrawAppealSignal } from '../../../workflows/messages';
import { freshDatabase, type FreshDb } from '../../helpers/fresh-db';
import { receivedQuery, standInTrain } from './appeal-workflows';
import { maestroDataConverter } from '../../../io/payload-codec';
import { testCodec } from '../../helpers/temporal';
import { waitFor } from '../../helpers/wait';

const policy = loadPolicyFile(path.join(__dirname, '../../helpers/strict.policy.yaml'));
const cr = parseChangeRequest({ id: 'c-appeal', title: 't', intent: 'i', repo: '/tmp/r', service: 'greeter', author: 'dave', change: { kind: 'patch', diff: 'x' } });
const TASK_QUEUE = 'appeal-test';
const dataConverter = maestroDataConverter(testCodec());

let env: TestWorkflowEnvironment;
let db: FreshDb;
let worker: Worker;
let running: Promise<void>;
const rec = () => createRecordActivities({ prisma: db.prisma });

beforeAll(async () => {
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') }); // refused activities are expected here
  } catch {
    // already installed in this process
  }
  const address = process.env.MAESTRO_TEST_TEMPORAL_ADDRESS;
  const [e, d, bundle] = await Promise.all([
    address
      ? TestWorkflowEnvironment.createFromExistingServer({ address, client: { dataConverter } })
      : TestWorkflowEnvironment.createLocal({ client: { dataConverter }, server: { executable: { type: 'existing-path', path: TEMPORAL_CLI }, ip: '127.0.0.1', extraArgs: ['--log-level', 'error'] } }),
    freshDatabase('appeal'),
    bundleWorkflowCode({ workflowsPath: require.resolve('./appeal-workflows'), logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} } }) as Promise<WorkflowBundleWithSourceMap>,
  ]);
  env = e;
  db = d;
  worker = await Worker.create({ connection: env.nativeConnection, taskQueue: TASK_QUEUE, workflowBundle: bundle, activities: createAppealActivities({ prisma: db.prisma, policy }), ...ACTIVITY_WORKER_OPTIONS, dataConverter });
  running = worker.run();
}, 120_000);

afterAll(async () => {
  worker?.shutdown();
  await running;
  await db?.drop();
  await env?.teardown();
});

async function deniedTrain(trainId: string, rules: string[]) {
  await rec().recordTrainStarted({ trainId, changeRequest: cr });
  await rec().recordPolicyDecision({
    trainId,
    candidateSha: 'a'.repeat(40),
    decision: { outcome: 'deny', denials: rules.map((rule) => ({ rule, reason: `r ${rule}`, evidence: 'e', fix: 'f' })) as never },
    policyDigest: policy.digest,
  });
}

const audit = async (trainId: string) => (await rec().auditTrail({ trainId })).map((e) => `${e.actor} ${e.action}`);

it('the author appeals, a release manager grants; the train hears it with the waivers; all audited', async () => {
  const trainId = 'train-appeal-1';
  await deniedTrain(trainId, ['risk-above-threshold', 'llm-budget-cap']);
  const train = await env.client.workflow.start(standInTrain, { taskQueue: TASK_QUEUE, workflowId: trainId });
  const handle = await env.client.workflow.start(appeal, { taskQueue: TASK_QUEUE, workflowId: 'appeal-1', args: [{ trainWorkflowId: trainId, appellant: 'dave', reason: 'hub file, reviewed by two owners', rules: ['risk-above-threshold'] }] });
  await waitFor(async () => (await handle.query(appealStatusQuery)).status === 'open');
  await handle.signal(decideAppealSignal, { by: 'rita', decision: 'grant', reason: 'reviewed, acceptable' }); // release-manager: a decider for risk
  const result = await handle.result();
  expect(result).toMatchObject({ status: 'granted', decidedBy: 'rita', rules: ['risk-above-threshold'], trainNotified: true });
  expect(result.waivers).toEqual([{ rule: 'risk-above-threshold', appealId: 'appeal-1', decidedBy: 'rita', reason: 'reviewed, acceptable' }]);
  expect(await train.query(receivedQuery)).toHaveLength(1);
  const row = await db.prisma.appeal.findUniqueOrThrow({ where: { id: 'appeal-1' } });
  expect(row).toMatchObject({ status: 'granted', decidedBy: 'rita', appellant: 'dave', rules: ['risk-above-threshold'] });
  expect(await audit(trainId)).toEqual(['dave appeal.opened', 'rita appeal.granted']);
});

it('refused deciders, self-decision and malformed signals are recorded in the history and the audit trail', async () => {
  const trainId = 'train-appeal-2';
  await deniedTrain(trainId, ['llm-budget-cap']);
  const handle = await env.client.workflow.start(appeal, { taskQueue: TASK_QUEUE, workflowId: 'appeal-2', args: [{ trainWorkflowId: trainId, appellant: 'rita', reason: 'budget was mis-estimated' }] });
  await waitFor(async () => (await handle.query(appealStatusQuery)).status === 'open');
  await handle.signal(decideAppealSignal, { by: 'olivia', decision: 'grant', reason: 'owner, but not a decider for this rule' });
  await handle.signal(decideAppealSignal, { by: 'rita', decision: 'grant', reason: 'my own appeal' });
  await handle.signal(decideAppealSignal, { by: 'x', decision: 'maybe', reason: '' } as never);
  await handle.signal(withdrawAppealSignal, { by: 'dave' });
  await waitFor(async () => (await handle.query(appealStatusQuery)).steps.filter((s) => s.kind === 'signal-rejected').length === 4);
  expect(await handle.query(appealStatusQuery)).toMatchObject({ rules: ['llm-budget-cap'], deciders: ['rita'] });
  // rita is the only release-manager and appealed herself: nobody may grant; the appellant withdraws
  await handle.signal(withdrawAppealSignal, { by: 'rita', reason: 'will split the change' });
  const result = await handle.result();
  expect(result).toMatchObject({ status: 'withdrawn', waivers: [], trainNotified: false });
  const steps = (await handle.query(appealStatusQuery)).steps.map((s) => `${s.kind}${s.by ? ` ${s.by}` : ''}`);
  expect(steps).toEqual(['requested rita', 'opened rita', 'signal-rejected olivia', 'signal-rejected rita', 'signal-rejected', 'signal-rejected dave', 'withdrawn rita']);
  expect(await audit(trainId)).toEqual(['rita appeal.opened', 'olivia appeal.signal-rejected', 'rita appeal.signal-rejected', 'maestro appeal.signal-rejected', 'dave appeal.signal-rejected', 'rita appeal.withdrawn']);
  // the workflow history holds the signals with their identities too
  const history = JSON.stringify((await handle.fetchHistory()).events);
  expect(history).toContain('decideAppeal');
  expect(history).toContain('withdrawAppeal');
});

it('an appeal on a closed train fails with a clear error and writes nothing', async () => {
  const trainId = 'train-appeal-closed';
  await deniedTrain(trainId, ['llm-budget-cap']);
  await rec().closeTrain({ trainId, outcome: 'denied', reason: 'llm budget' });
  const err = await env.client.workflow
    .execute(appeal, { taskQueue: TASK_QUEUE, workflowId: 'appeal-closed', args: [{ trainWorkflowId: trainId, appellant: 'dave', reason: 'please' }] })
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause as Error & { type?: string };
  expect(cause.message).toContain('cannot appeal: train train-appeal-closed is closed (outcome denied: llm budget)');
  expect(cause.type).toBe('TrainClosed');
  expect(await db.prisma.appeal.count({ where: { trainId } })).toBe(0);
  expect(await audit(trainId)).toEqual([]);
});

it('someone without an appellant role, or an appeal of a rule that did not deny, is refused', async () => {
  const trainId = 'train-appeal-3';
  await deniedTrain(trainId, ['llm-budget-cap']);
  const run = (id: string, appellant: string, rules?: string[]) =>
    env.client.workflow.execute(appeal, { taskQueue: TASK_QUEUE, workflowId: id, args: [{ trainWorkflowId: trainId, appellant, reason: 'r', rules }] }).catch((e: unknown) => (e as WorkflowFailedError).cause as Error & { type?: string });
  expect(await run('appeal-3a', 'mallory')).toMatchObject({ type: 'NotPermitted', message: expect.stringContaining('mallory may not appeal') });
  expect(await run('appeal-3b', 'dave', ['secrets-in-diff'])).toMatchObject({ type: 'InvalidInput', message: expect.stringContaining('did not deny them') });
});
