/**
 * An operator changes the gates of a running rollout (core/gate-config.ts, `maestro plan --gates`): on the real
 * deployer, proxy and traffic, the current step's analysis starts again under the new gates, every verdict
 * says which commit and gate configuration it belongs to, and the verdicts judged under the old gates are
 * marked superseded by the new ones in the result (the signed decision log's source).
 */
import { changeTrainGates } from '../../../cli/release';
import { gateConfigHash, shortHash } from '../../../core/gate-config';
import { parseRolloutPlan } from '../../../core/rollout-plan';
import { FAST_PLAN, TrainFixture } from '../../../examples/train-fixture';
import { rolloutStatusQuery, rolloutWorkflowId, type ProgressiveRolloutResult } from '../../../workflows/messages';
import type { releaseTrain } from '../../../workflows/release-train';
import { startTestWorker, type TestWorker, realActivities, tempDir } from '../../helpers/temporal';

const TASK_QUEUE = 'test-gate-change';
const RUN = Date.now().toString(36);
const stateDir = tempDir('gate-change-state');
let temporal: TestWorker;
let fixture: TrainFixture;

beforeAll(async () => {
  temporal = await startTestWorker(TASK_QUEUE, realActivities(stateDir));
}, 120_000);

afterAll(async () => {
  await fixture?.stop();
  await temporal?.stop();
});

test('new gates restart the analysis at the current weight and supersede the verdicts judged under the old ones', async () => {
  fixture = new TrainFixture(`gate-change-${RUN}`, stateDir);
  await fixture.start();
  // A gate that cannot conclude: no probe ever has a million canary requests, so every verdict is inconclusive.
  const stuck = { ...FAST_PLAN, thresholds: { minRequests: 1_000_000 }, gate: { ...FAST_PLAN.gate, timeout: 120_000 } };
  const request = fixture.change('good-change', `gate-change-${RUN}`, { rollout: stuck as never });
  const handle = await temporal.client.workflow.start<typeof releaseTrain>('releaseTrain', { taskQueue: TASK_QUEUE, workflowId: `train-gate-change-${RUN}`, args: [request] });
  const rollout = () => temporal.client.workflow.getHandle(rolloutWorkflowId(handle.workflowId)).query(rolloutStatusQuery);

  let status = await rollout().catch(() => undefined);
  for (let i = 0; i < 240 && (status?.lastProbes.length ?? 0) < 3; i++) {
    await new Promise((r) => setTimeout(r, 250));
    status = await rollout().catch(() => undefined);
  }
  expect(status!.lastProbes.map((p) => p.verdict)).toEqual(['inconclusive', 'inconclusive', 'inconclusive']);
  const oldHash = gateConfigHash(parseRolloutPlan(stuck));
  expect(status!.gateConfig).toBe(oldHash);

  // A change that would make a plan no gate can pass is refused, naming why, and changes nothing.
  const refused = await changeTrainGates(temporal.client, handle.workflowId, { by: 'dana@sre', gates: { gate: { timeout: 100 } } });
  expect(refused).toMatch(/^refused: changeGates from dana@sre: invalid gate change \(the rollout plan it would make\):\n\s+- steps\.0\.gate\.timeout: gate timeout 100ms is shorter than 2 green probes × 400ms/);
  expect((await rollout()).gateConfig).toBe(oldHash);

  const newHash = gateConfigHash(parseRolloutPlan({ ...stuck, thresholds: { minRequests: 3 } }));
  const changed = await changeTrainGates(temporal.client, handle.workflowId, { by: 'dana@sre', reason: 'minRequests was a typo', gates: { thresholds: { minRequests: 3 } } });
  expect(changed).toMatch(new RegExp(`^rollout of ${handle.workflowId}: gates ${shortHash(oldHash)} → ${shortHash(newHash)} \\(thresholds\\): minRequests was a typo; \\d+ earlier verdicts superseded; the analysis at 10% starts again$`));

  const result = await handle.result();
  expect(result.outcome).toBe('promoted');
  const finalStatus = await rollout();
  expect(finalStatus.gateConfig).toBe(newHash);
  // The step was started again at its weight, not set twice.
  expect(finalStatus.history.filter((h) => h.kind === 'weight').map((h) => h.detail)).toEqual(['canary weight 10%', 'canary weight 50%', 'canary weight 100%']);
  const kinds = finalStatus.history.map((h) => h.kind);
  expect(kinds.indexOf('gates-changed')).toBeLessThan(kinds.indexOf('gate-passed'));
  expect(finalStatus.history.find((h) => h.kind === 'gates-changed')).toMatchObject({ by: 'dana@sre' });

  const rolloutResult: ProgressiveRolloutResult = await temporal.client.workflow.getHandle(rolloutWorkflowId(handle.workflowId)).result();
  const decisions = rolloutResult.decisions!;
  const before = decisions.filter((d) => d.gateConfig === oldHash);
  const after = decisions.filter((d) => d.gateConfig === newHash);
  expect(before.length).toBeGreaterThanOrEqual(3);
  expect(before.every((d) => d.supersededBy === newHash && d.verdict === 'inconclusive')).toBe(true);
  expect(after.length).toBeGreaterThanOrEqual(6); // two green probes at each of three steps, at least
  expect(after.every((d) => d.supersededBy === undefined)).toBe(true);
  expect(before.length + after.length).toBe(decisions.length);
  expect(new Set(decisions.map((d) => d.commit))).toEqual(new Set([result.mergeSha]));

  // Once the train has ended there is nothing left to change, and the CLI says so.
  await expect(changeTrainGates(temporal.client, handle.workflowId, { by: 'dana@sre', gates: { thresholds: { minRequests: 4 } } })).rejects.toThrow(/is not running: its gates were all decided/);
}, 180_000);
