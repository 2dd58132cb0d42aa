/**
 * The tripwire on the real deployer, proxy and traffic: the demo's bad change is rolled back by the
 * proxy's trip, long before the gate's first probe, and a good canary under the same wire is promoted.
 */
import { createRepoActivities } from '../../../activities/repo';
import { TrainFixture } from '../../../examples/train-fixture';
import type { RolloutPlanInput } from '../../../core/rollout-plan';
import type { progressiveRollout } from '../../../workflows/progressive-rollout';
import { startTestWorker, type TestWorker, realActivities, scheduledActivities, tempDir } from '../../helpers/temporal';
import path from 'node:path';

const TASK_QUEUE = 'test-tripwire';
const RUN = Date.now().toString(36);
const stateDir = tempDir('tripwire-state');
let temporal: TestWorker;
let fixture: TrainFixture;

/** Probes so far apart that only the tripwire can act within the first ten seconds. */
const PLAN: RolloutPlanInput = {
  steps: [{ setWeight: 20 }, { setWeight: 100 }],
  gate: { probeInterval: '10s', consecutiveGreen: 1, maxRed: 1, timeout: '30s' },
  thresholds: { minRequests: 3 },
  tripwire: {},
};

beforeAll(async () => {
  temporal = await startTestWorker(TASK_QUEUE, realActivities(stateDir));
  fixture = new TrainFixture(`tripwire-${RUN}`, stateDir);
  await fixture.start(100);
}, 120_000);

afterAll(async () => {
  await fixture?.stop();
  await temporal?.stop();
});

async function rollout(change: 'good-change' | 'bad-change', n: number) {
  const cr = fixture.change(change, `tripwire-${change}-${n}`);
  const candidate = await createRepoActivities({ workRoot: path.join(stateDir, 'work') }).prepareChange(cr);
  const workflowId = `tripwire-${change}-${RUN}-${n}`;
  const result = await temporal.client.workflow.execute<typeof progressiveRollout>('progressiveRollout', {
    taskQueue: TASK_QUEUE,
    workflowId,
    args: [{ changeId: cr.id, service: fixture.service, repo: fixture.repo, baseSha: candidate.baseSha, sha: candidate.sha, descriptor: candidate.service, plan: PLAN, evalScore: 1 }],
  });
  return { result, workflowId };
}

test('an error burst on the canary rolls back at once, between probes, in well under a second from the trip', async () => {
  const { result, workflowId } = await rollout('bad-change', 1);
  expect(result.outcome).toBe('rolled_back');
  expect(result.reason).toMatch(/^tripwire at 20%: canary error burst: \d+ of \d+ requests failed within 2000 ms \(trips at 3 and 10%\)$/);
  expect(result.probes).toBe(0);
  expect(result.mttrMs).toBeLessThan(1000);
  expect(result.history!.map((h) => h.kind)).toEqual(['deploy', 'weight', 'tripwire', 'rollback']);
  const [, weighted, , rolledBack] = result.history!;
  // From the canary's first traffic to the rollback: before the first probe was even due.
  expect(rolledBack!.at - weighted!.at).toBeLessThan(10_000);
  const activities = await scheduledActivities(temporal.client, workflowId);
  expect(activities.watchCanary).toBe(1);
  expect(activities.probeHealth).toBeUndefined();
  expect((await fixture.deployer.status({ service: fixture.service })).weight).toBe(0);
}, 120_000);

test('a good canary under the same wire is promoted, and the watcher is cancelled with the rollout', async () => {
  const { result } = await rollout('good-change', 2);
  expect(result.outcome).toBe('promoted');
  expect(result.history!.some((h) => h.kind === 'tripwire' || h.kind === 'tripwire-lost')).toBe(false);
}, 120_000);
