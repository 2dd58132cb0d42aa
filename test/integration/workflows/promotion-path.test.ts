/**
 * A promotion path as one saga (issue 12): the greeter released dev → staging → prod by one train, each
 * environment its own local deployment with its own traffic, its own rollout and its own policy guard
 * (prod needs an approval under the default policy). The fault is real: the prod canary's process is
 * killed while it takes traffic, and its gate rolls it back; the earlier environments are then compensated
 * as the change request says, and the deployers, the base branch, GitOps and the record must agree.
 */
import path from 'node:path';
import type { Environment } from '../../../core/change-request';
import { TrainFixture } from '../../../examples/train-fixture';
import { git } from '../../../io/git';
import { trace } from '../../../provenance/gitops';
import { loadOrCreateSigningKey } from '../../../provenance/signing';
import { RecordStore } from '../../../record/store';
import { approveSignal, rolloutStatusQuery, rolloutWorkflowId, trainStatusQuery, type TrainResult } from '../../../workflows/messages';
import type { releaseTrain } from '../../../workflows/release-train';
import { realActivities, startTestWorker, tempDir, TEST_DATABASE_URL, type TestWorker } from '../../helpers/temporal';

const TASK_QUEUE = 'test-promotion-path';
const RUN = Date.now().toString(36);
const stateDir = tempDir('promotion-state');
const PATH: Environment[] = ['dev', 'staging', 'prod'];
let temporal: TestWorker;
let fixture: TrainFixture;
const record = new RecordStore({ url: TEST_DATABASE_URL });

beforeAll(async () => {
  temporal = await startTestWorker(TASK_QUEUE, realActivities(stateDir));
  fixture = new TrainFixture(`greeter-path-${RUN}`, stateDir);
  await fixture.start(150, { environments: PATH });
}, 180_000);

afterAll(async () => {
  await fixture?.stop();
  await temporal?.stop();
});

/** A change that adds its own docs page: merges on top of anything. */
function docsChange(name: string) {
  const file = `docs/${name}.md`;
  const diff = [`diff --git a/${file} b/${file}`, 'new file mode 100644', '--- /dev/null', `+++ b/${file}`, '@@ -0,0 +1 @@', `+${name}: released through three environments.`, ''].join('\n');
  return { title: `Add docs/${name}.md`, intent: `Add a docs page named ${name} describing how the service is released`, change: { kind: 'patch' as const, diff } };
}

/**
 * Starts a train on the path; approves prod when the train asks for it (unless `approveProd` is false); `approveAtStart`
 * sends an approval right away (for an environment, or for none); with `killProdCanary`, kills the prod canary once it takes traffic.
 */
async function travel(
  id: string,
  overrides: Record<string, unknown>,
  opts: { killProdCanary?: boolean; approveProd?: boolean; approveAtStart?: { environment?: Environment } } = {},
): Promise<{ result: TrainResult; log: string[] }> {
  const change = fixture.change('good-change', id, { environment: 'prod', promotion: { through: ['dev', 'staging'], onFailure: 'rollback-all' }, approvalTimeout: 60_000, ...overrides } as never);
  const handle = await temporal.client.workflow.start<typeof releaseTrain>('releaseTrain', { taskQueue: TASK_QUEUE, workflowId: `train-${id}-${RUN}`, args: [change] });
  if (opts.approveAtStart) await handle.signal(approveSignal, { by: 'carol', reason: 'approved up front', ...opts.approveAtStart });
  const log: string[] = [];
  let approved = false;
  let killed = false;
  let ended = false;
  const watching = (async () => {
    while (!ended) {
      const status = await handle.query(trainStatusQuery).catch(() => undefined);
      if (!status || status.stage === 'done') return;
      if (opts.approveProd !== false && !approved && status.stage === 'environmentGuard' && status.environments?.find((e) => e.environment === 'prod')?.state === 'pending' && status.history.some((h) => h.kind === 'guard' && h.detail.startsWith('prod:'))) {
        approved = true;
        await handle.signal(approveSignal, { by: 'carol', reason: 'prod window agreed' });
      }
      if (opts.killProdCanary && !killed) {
        const prod = await fixture.deployerIn('prod').status({ service: fixture.service });
        if (prod.canary?.pid && prod.weight > 0) {
          killed = true;
          process.kill(-prod.canary.pid, 'SIGKILL');
          log.push(`killed the prod canary ${prod.canary.sha.slice(0, 12)} (pid ${prod.canary.pid}) at ${prod.weight}%`);
        }
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  })();
  const result = await handle
    .result()
    .catch((err: Error) => {
      // The failure's own reason is at the end of its cause chain.
      let e: Error | undefined = err;
      while (e?.cause instanceof Error) e = e.cause;
      throw new Error(`train ${id} failed: ${e?.message}`);
    })
    .finally(() => (ended = true));
  await watching;
  for (const environment of PATH) {
    const rollout = await temporal.client.workflow.getHandle(rolloutWorkflowId(handle.workflowId, environment)).query(rolloutStatusQuery).catch(() => undefined);
    if (rollout) log.push(`${environment}: ${rollout.history.filter((h) => h.kind === 'weight' || h.kind === 'rollback').map((h) => h.detail).join(' → ')}`);
  }
  return { result, log };
}

const stableIn = async (environment: Environment) => (await fixture.deployerIn(environment).status({ service: fixture.service })).stable?.sha;
const gitopsIn = async (environment: Environment) => {
  const entries = await trace(path.join(stateDir, 'gitops'), environment, loadOrCreateSigningKey(path.join(stateDir, 'keys')).publicKey).catch(() => []);
  return entries.find((e) => e.service === fixture.service);
};
const tipOf = async (branch: string) => (await git(fixture.repo, ['rev-parse', `refs/heads/${branch}`])).stdout.trim();

let firstMerge = '';

test('a train carries a change through dev, staging and prod, each its own rollout and guard; all four truths agree in each', async () => {
  const { result, log } = await travel('path-good', {});
  console.log(`promotion path, all green:\n  ${log.join('\n  ')}\n  ${result.reason}`);
  expect(result.outcome).toBe('promoted');
  expect(result.environments?.map((e) => `${e.environment}:${e.state}`)).toEqual(['dev:promoted', 'staging:promoted', 'prod:promoted']);
  firstMerge = result.mergeSha!;
  for (const environment of PATH) {
    expect(await stableIn(environment)).toBe(firstMerge);
    expect((await gitopsIn(environment))?.commit).toBe(firstMerge);
    expect((await record.serviceHistory({ service: fixture.service, environment })).lastPromoted?.mergeSha).toBe(firstMerge);
  }
  expect(log.filter((l) => l.includes('canary weight 100%'))).toHaveLength(3);
  expect(result.invariant).toEqual({ held: true, disagreements: [] });
}, 300_000);

test('a failure in prod rolls dev and staging back to what they ran (rollback-all): deployers, GitOps, the record and the base branch follow', async () => {
  expect(firstMerge).not.toBe('');
  const { result, log } = await travel('path-rollback', docsChange('rollback-all'), { killProdCanary: true });
  console.log(`promotion path, prod canary killed, rollback-all:\n  ${log.join('\n  ')}\n  ${result.reason}`);
  expect(result.outcome).toBe('rolled_back');
  expect(result.environments?.map((e) => `${e.environment}:${e.state}`)).toEqual(['dev:withdrawn', 'staging:withdrawn', 'prod:rolled_back']);
  expect(result.reason).toMatch(/^prod: .*; staging back on [0-9a-f]{12}, dev back on [0-9a-f]{12} \(onFailure: rollback-all\)$/);
  for (const environment of PATH) {
    expect(await stableIn(environment)).toBe(firstMerge);
    expect((await gitopsIn(environment))?.commit).toBe(firstMerge);
    expect((await record.serviceHistory({ service: fixture.service, environment })).lastPromoted?.mergeSha).toBe(firstMerge);
  }
  // The merge is reverted: the base branch describes what runs again.
  expect(result.revertSha).toMatch(/^[0-9a-f]{40}$/);
  expect(await tipOf('main')).toBe(result.revertSha);
  expect(result.invariant).toEqual({ held: true, disagreements: [] });
}, 300_000);

test('with onFailure hold, a failure in prod leaves dev and staging on the change and only prod goes back; the truths still agree', async () => {
  // Prod was approved up front, for prod: its guard lets the train through without waiting.
  const { result, log } = await travel('path-hold', { ...docsChange('hold'), promotion: { through: ['dev', 'staging'], onFailure: 'hold' } }, { killProdCanary: true, approveProd: false, approveAtStart: { environment: 'prod' } });
  console.log(`promotion path, prod canary killed, hold:\n  ${log.join('\n  ')}\n  ${result.reason}`);
  expect(result.outcome).toBe('rolled_back');
  expect(result.environments?.map((e) => `${e.environment}:${e.state}`)).toEqual(['dev:held', 'staging:held', 'prod:rolled_back']);
  const merge = result.mergeSha!;
  expect(await stableIn('dev')).toBe(merge);
  expect(await stableIn('staging')).toBe(merge);
  expect(await stableIn('prod')).toBe(firstMerge);
  expect((await gitopsIn('staging'))?.commit).toBe(merge);
  expect((await gitopsIn('prod'))?.commit).toBe(firstMerge);
  expect((await record.serviceHistory({ service: fixture.service, environment: 'staging' })).lastPromoted?.mergeSha).toBe(merge);
  expect((await record.serviceHistory({ service: fixture.service, environment: 'prod' })).lastPromoted?.mergeSha).toBe(firstMerge);
  // Not reverted: the base branch describes dev, the head of the path; prod lags behind it by design.
  expect(result.revertSha).toBeUndefined();
  expect(await tipOf('main')).toBe(merge);
  const history = (await temporal.client.workflow.getHandle(`train-path-hold-${RUN}`).query(trainStatusQuery)).history;
  expect(history.filter((h) => h.kind === 'guard').map((h) => h.detail)).toEqual([expect.stringMatching(/^staging: allowed: /), expect.stringMatching(/^prod: allowed: .*; approvals: carol; /)]);
  // Sent right after the start, the approval was taken by its own handler, not rejected as an unknown signal.
  expect(history.filter((h) => h.kind === 'approve').map((h) => h.detail)).toEqual(['for prod: approved up front']);
  expect(history.filter((h) => h.kind === 'signal-rejected')).toEqual([]);
  expect(result.invariant).toEqual({ held: true, disagreements: [] });
}, 300_000);

test("prod's guard refuses a train nobody approves for prod (an approval from before, for no environment, does not carry over), and the path is compensated before anything reaches prod", async () => {
  const { result, log } = await travel('path-unapproved', { ...docsChange('unapproved'), approvalTimeout: 3_000 }, { approveProd: false, approveAtStart: {} });
  console.log(`promotion path, no prod approval:\n  ${log.join('\n  ')}\n  ${result.reason}`);
  expect(result.outcome).toBe('denied');
  expect(result.environments?.map((e) => `${e.environment}:${e.state}`)).toEqual(['dev:withdrawn', 'staging:withdrawn', 'prod:denied']);
  expect(result.reason).toMatch(/^prod refused: \[environment-protection\] prod is a protected environment/);
  // No prod rollout ever started.
  await expect(temporal.client.workflow.getHandle(rolloutWorkflowId(`train-path-unapproved-${RUN}`, 'prod')).describe()).rejects.toThrow();
  expect(result.invariant).toEqual({ held: true, disagreements: [] });
}, 300_000);
