import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { environmentNamespace, KUBERNETES_DEFAULTS, readRouteState, versionName } from '../../../core/kubernetes-manifests';
import { Context } from '@temporalio/activity';
import { loadOrCreateSigningKey } from '../../../provenance/signing';
import { verifyRelease } from '../../../provenance/release';
import { WorkflowFailedError } from '@temporalio/client';
import { appeal } from '../../../workflows/appeal';
import { formatStatus, overrideTrainPlan } from '../../../cli/release';
import { appealStatusQuery, decideAppealSignal, rolloutStatusQuery, rolloutWorkflowId, trainStatusQuery } from '../../../workflows/messages';
import type { releaseTrain } from '../../../workflows/release-train';
import { startTestWorker, type TestWorker, realActivities, scheduledActivities, tempDir, TEST_DATABASE_URL } from '../../helpers/temporal';
import { TrainFixture } from '../../../examples/train-fixture';
import type { ChangeRequest } from '../../../core/change-request';
import { git } from '../../../io/git';
import { RecordStore } from '../../../record/store';
import { explainTrain } from '../../../core/explain';

const TASK_QUEUE = 'test-release-train';
let temporal: TestWorker;
const stateDir = tempDir('wf-state');
const fixtures: TrainFixture[] = [];
let attemptsOfFlakyProbe = 0;
const evalsCancelled: string[] = [];
/** A docs-only change that merges cleanly on top of good-change. */
const README_APPEND = [
  'diff --git a/README.md b/README.md',
  '--- a/README.md',
  '+++ b/README.md',
  '@@ -36,3 +36,5 @@',
  " curl 'http://127.0.0.1:8080/greet?name=Ada'",
  ' node --import tsx --test test/greeting.test.ts test/app.test.ts test/people.test.ts   # or: npm test (tsx on the path)',
  ' ```',
  '+',
  '+Released by Maestro Conductor trains, one at a time.',
  '',
].join('\n');

/** Each test releases into its own repo and service: merged changes never leak between tests. */
/** A change that adds its own file under docs/: merges on top of anything. */
function docsChange(name: string): Pick<ChangeRequest, 'title' | 'intent' | 'change'> {
  const file = `docs/${name}.md`;
  const diff = [`diff --git a/${file} b/${file}`, 'new file mode 100644', '--- /dev/null', `+++ b/${file}`, '@@ -0,0 +1 @@', `+${name}: released by a Maestro train.`, ''].join('\n');
  return { title: `Add docs/${name}.md`, intent: `Add a docs page named ${name} describing how the service is released`, change: { kind: 'patch', diff } };
}

async function newFixture(service: string): Promise<TrainFixture> {
  // Named per run too: the record is one database across runs, and an earlier run's open trains must not count.
  const fixture = new TrainFixture(`${service}-${RUN}`, stateDir);
  fixtures.push(fixture);
  await fixture.start();
  return fixture;
}

beforeAll(async () => {
  const activities = realActivities(stateDir);
  // A transient fault: the first probe of every train fails once, then Temporal retries it.
  const flakyProbedTrains = new Set<string>();
  temporal = await startTestWorker(TASK_QUEUE, {
    ...activities,
    // A change whose id starts with 'slow-evals' has an eval stage that runs until it is cancelled.
    runEvals: async (input) => {
      if (!input.changeRequest.id.startsWith('slow-evals')) return activities.runEvals(input);
      const context = Context.current();
      for (;;) {
        context.heartbeat();
        try {
          await context.sleep(200);
        } catch (err) {
          evalsCancelled.push(input.changeRequest.id);
          throw err;
        }
      }
    },
    probeHealth: async (input) => {
      const workflowId = Context.current().info.workflowExecution?.workflowId ?? '';
      if (!flakyProbedTrains.has(workflowId)) {
        flakyProbedTrains.add(workflowId);
        attemptsOfFlakyProbe++;
        throw new Error('transient: proxy admin endpoint reset the connection');
      }
      return activities.probeHealth(input);
    },
  });
}, 120_000);

afterEach(async () => {
  await Promise.all(fixtures.splice(0).map((f) => f.stop()));
});

afterAll(async () => {
  await temporal?.stop();
});

const RUN = Date.now().toString(36);
const start = (args: Parameters<typeof releaseTrain>[0], id = `train-${args.id}-${RUN}`) =>
  temporal.client.workflow.start<typeof releaseTrain>('releaseTrain', { taskQueue: TASK_QUEUE, workflowId: id, args: [args] });

test('a good change is promoted to 100% after every health gate, with the transient probe failure retried', async () => {
  const fixture = await newFixture('greeter-good');
  const change = fixture.change('good-change', 'good-1');
  const handle = await start(change);
  const result = await handle.result();
  expect(result.outcome).toBe('promoted');
  expect(result.rollout?.finalWeight).toBe(100);
  expect(result.evalScore).toBeGreaterThanOrEqual(0.85);
  expect(attemptsOfFlakyProbe).toBeGreaterThanOrEqual(1);
  const status = await handle.query(trainStatusQuery);
  expect(status.stage).toBe('done');
  expect(status.mergeSha).toMatch(/^[0-9a-f]{40}$/);
  const rollout = await temporal.client.workflow.getHandle(rolloutWorkflowId(handle.workflowId)).query(rolloutStatusQuery);
  expect(rollout.history.filter((h) => h.kind === 'weight').map((h) => h.detail)).toEqual(['canary weight 10%', 'canary weight 50%', 'canary weight 100%']);
  expect(rollout.history.filter((h) => h.kind === 'gate-passed')).toHaveLength(3);
  const live = await fixture.deployer.status({ service: fixture.service });
  expect(live.stable?.sha).toBe(result.mergeSha);
  // The promotion's signed provenance carries the gates' decision log: every probe, its figures and verdict.
  const promotedBundle = path.join(stateDir, 'gitops', 'environments', change.environment, fixture.service);
  const verified = verifyRelease(promotedBundle, loadOrCreateSigningKey(path.join(stateDir, 'keys')).publicKey);
  expect(verified.evidence['health-gates.json']).toMatch(/^[0-9a-f]{64}$/);
  const gates = JSON.parse(fs.readFileSync(path.join(promotedBundle, 'evidence', 'health-gates.json'), 'utf8')) as { plan: string; decisions: { weight: number; verdict: string; canary: { requests: number } }[] };
  expect(gates.decisions).toHaveLength(result.rollout!.probes);
  expect(new Set(gates.decisions.map((d) => d.weight))).toEqual(new Set([10, 50, 100]));
  expect(gates.decisions.filter((d) => d.verdict === 'red')).toEqual([]);
  expect(gates.plan).toMatch(/^1\. setWeight 10% → gate/);
  // The environment's files are the Kubernetes objects of the merge commit, the route all on it.
  const manifests = (file: string) => parseYaml(fs.readFileSync(path.join(promotedBundle, 'manifests', file), 'utf8'));
  expect(readRouteState(fixture.service, manifests('httproute.yaml'))).toMatchObject({ stable: result.mergeSha, canary: null, weight: 0, healthPath: '/healthz' });
  expect(manifests('deployment.yaml')).toMatchObject({ kind: 'Deployment', metadata: { name: versionName(fixture.service, result.mergeSha!), namespace: environmentNamespace(KUBERNETES_DEFAULTS.namespace, change.environment) } });
  const desc = await handle.describe();
  expect(desc.typedSearchAttributes.get({ name: 'MaestroOutcome', type: 'KEYWORD' } as never)).toBe('promoted');
});

test('a change that errors under traffic is rolled back automatically and traffic returns to stable', async () => {
  const fixture = await newFixture('greeter-bad');
  const handle = await start(fixture.change('bad-change', 'bad-1'));
  const result = await handle.result();
  expect(result.outcome).toBe('rolled_back');
  expect(result.reason).toMatch(/error rate/);
  expect(result.rollout?.finalWeight).toBe(0);
  expect(result.rollout?.mttrMs).toBeGreaterThanOrEqual(0);
  expect(result.rollout?.mttrMs).toBeLessThan(15_000);
  const live = await fixture.deployer.status({ service: fixture.service });
  expect(live.weight).toBe(0);
  expect(live.canary).toBeFalsy();
  // The merge was compensated: main has the bad change's merge and a revert that restores the base tree.
  expect(result.revertSha).toMatch(/^[0-9a-f]{40}$/);
  const { stdout: main } = await git(fixture.repo, ['rev-parse', 'main']);
  expect(main.trim()).toBe(result.revertSha);
  const { stdout: drift } = await git(fixture.repo, ['diff', '--stat', fixture.baseSha, 'main']);
  expect(drift).toBe('');
});

test('a change whose tests fail is denied with a reason and a fix, and nothing is deployed', async () => {
  const fixture = await newFixture('greeter-denied');
  const handle = await start(fixture.change('failing-tests-change', 'denied-1'));
  const result = await handle.result();
  expect(result.outcome).toBe('denied');
  const status = await handle.query(trainStatusQuery);
  expect(status.denials?.[0]?.rule).toBe('eval-score-below-threshold');
  expect(status.denials?.[0]?.fix.length).toBeGreaterThan(0);
  const counts = await scheduledActivities(temporal.client, handle.workflowId);
  expect(counts.mergeCandidate).toBeUndefined();
});

test('a shadow change is applied, tested, scored and decided, then kept on its branch: nothing merged or deployed, the report says what would have happened', async () => {
  const fixture = await newFixture('greeter-shadow');
  const baseTip = (await git(fixture.repo, ['rev-parse', 'main'])).stdout.trim();
  const stableBefore = (await fixture.deployer.status({ service: fixture.service })).stable?.sha;
  const good = await (await start({ ...fixture.change('good-change', 'shadow-good'), shadow: true })).result();
  expect(good.outcome).toBe('shadowed');
  expect(good.shadow).toMatchObject({ wouldBe: 'allowed', branch: 'maestro/shadow-good', failedChecks: [], denials: [] });
  expect(good.reason).toMatch(/^shadow change would have been allowed \(Eval Score \d\.\d{3} ≥ 0\.85, every check passed; risk \d\.\d\d\) and rolled out: 10% → 50% → 100% \(.*\); candidate [0-9a-f]{12} kept on maestro\/shadow-good, nothing merged or deployed$/);
  // The candidate is on its branch; the base branch and the running version are untouched.
  expect((await git(fixture.repo, ['rev-parse', 'maestro/shadow-good'])).stdout.trim()).toBe(good.candidateSha);
  expect(good.mergeSha).toBeUndefined();

  const bad = await start({ ...fixture.change('failing-tests-change', 'shadow-bad'), shadow: true, appealWindow: 60_000 });
  const denied = await bad.result();
  expect(denied.outcome).toBe('shadowed');
  expect(denied.shadow!.wouldBe).toBe('denied');
  expect(denied.shadow!.denials.map((d) => d.rule)).toContain('eval-score-below-threshold');
  expect(denied.shadow!.failedChecks.length).toBeGreaterThan(0);
  expect(denied.reason).toMatch(/^shadow change would have been denied \(Eval Score \d\.\d{3} < 0\.85, failing .*\): \[eval-score-below-threshold\] .* — fix: /);
  // A shadow waits for no appeal, even with an appeal window.
  const counts = await scheduledActivities(temporal.client, bad.workflowId);
  expect(counts.mergeCandidate).toBeUndefined();
  expect(counts.acquireServiceLease).toBeUndefined();
  expect(counts.deployCanary).toBeUndefined();

  expect((await git(fixture.repo, ['rev-parse', 'main'])).stdout.trim()).toBe(baseTip);
  expect((await fixture.deployer.status({ service: fixture.service })).stable?.sha).toBe(stableBefore);
  const dossier = await new RecordStore({ url: TEST_DATABASE_URL }).trainDossier({ trainId: bad.workflowId });
  expect(dossier.train).toMatchObject({ state: 'closed', outcome: 'shadowed' });
  expect(explainTrain(dossier).headline).toMatch(/ran in shadow: shadow change would have been denied/);
});

test('abort during the rollout rolls back and records who aborted', async () => {
  const fixture = await newFixture('greeter-abort');
  const handle = await start(fixture.change('good-change', 'abort-1', { rollout: { ...fixtureSlowGate() } as never }));
  await waitFor(async () => (await handle.query(trainStatusQuery)).stage === 'rollout');
  await waitFor(async () => (await temporal.client.workflow.getHandle(rolloutWorkflowId(handle.workflowId)).query(rolloutStatusQuery)).weight === 10);
  await handle.signal('abort', { by: 'alice@ops', reason: 'customer escalation' });
  const result = await handle.result();
  expect(result.outcome).toBe('aborted');
  expect(result.reason).toMatch(/alice@ops/);
  const status = await handle.query(trainStatusQuery);
  expect(status.history.some((h) => h.kind === 'abort' && h.by === 'alice@ops')).toBe(true);
  expect((await fixture.deployer.status({ service: fixture.service })).weight).toBe(0);
});

test('cancelling a train mid-rollout still rolls traffic back and reverts the merge (compensation)', async () => {
  const fixture = await newFixture('greeter-cancel');
  const handle = await start(fixture.change('good-change', 'cancel-1', { rollout: { ...fixtureSlowGate() } as never }));
  await waitFor(async () => (await temporal.client.workflow.getHandle(rolloutWorkflowId(handle.workflowId)).query(rolloutStatusQuery)).weight === 10);
  await handle.cancel();
  const err = await handle.result().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  expect((await handle.describe()).status.name).toBe('CANCELLED');
  const live = await fixture.deployer.status({ service: fixture.service });
  expect(live.weight).toBe(0);
  expect(live.canary).toBeFalsy();
  const { stdout: drift } = await git(fixture.repo, ['diff', '--stat', fixture.baseSha, 'main']);
  expect(drift).toBe('');
});

test('an abort during a long eval stage cancels it at once: the train ends aborted, nothing merged', async () => {
  const fixture = await newFixture('greeter-slow-evals');
  const handle = await start(fixture.change('good-change', 'slow-evals-1'));
  await waitFor(async () => (await handle.query(trainStatusQuery)).stage === 'runEvals');
  const abortedAt = Date.now();
  await handle.signal('abort', { by: 'dora@ops', reason: 'wrong branch' });
  const result = await handle.result();
  expect(Date.now() - abortedAt).toBeLessThan(10_000);
  expect(result.outcome).toBe('aborted');
  expect(result.reason).toBe('aborted by dora@ops during runEvals: wrong branch');
  expect(result.mergeSha).toBeUndefined();
  expect(evalsCancelled).toContain('slow-evals-1');
});

test('a second train for a held service waits before merging, visibly, then ships on top of the first; both end with the invariant held', async () => {
  const fixture = await newFixture('greeter-busy');
  const first = await start(fixture.change('good-change', 'busy-first', { rollout: { ...fixtureSlowGate() } as never }));
  await waitFor(async () => (await first.query(trainStatusQuery)).stage === 'rollout');
  await first.signal('pause', { by: 'ops@example.com', reason: 'hold the service while a second train queues' });
  const second = await start({ ...fixture.change('good-change', 'busy-second'), title: 'Document that trains release the greeter', intent: 'Add a line to the README saying that Maestro trains release the service', change: { kind: 'patch', diff: README_APPEND } });
  await waitFor(async () => (await second.query(trainStatusQuery)).waitingFor !== undefined);
  const waiting = await second.query(trainStatusQuery);
  expect(waiting.stage).toBe('awaitingService');
  expect(waiting.waitingFor).toContain(`held by train ${first.workflowId}`);
  expect(waiting.mergeSha).toBeUndefined();
  // A third train that would rather not queue is told at once who holds the service.
  const impatient = await start({ ...fixture.change('good-change', 'busy-impatient'), ...docsChange('impatient'), whenServiceBusy: 'refuse' });
  const refused = await impatient.result();
  expect(refused.outcome).toBe('aborted');
  expect(refused.reason).toContain(`refused: service '${fixture.service}' is held by train ${first.workflowId}`);
  expect(refused.mergeSha).toBeUndefined();
  await first.signal('resume', { by: 'ops@example.com' });

  const [a, b] = [await first.result(), await second.result()];
  expect([a.outcome, b.outcome]).toEqual(['promoted', 'promoted']);
  expect(a.invariant).toEqual({ held: true, disagreements: [] });
  expect(b.invariant).toEqual({ held: true, disagreements: [] });
  // The second merge sits on the first: main, and what runs, carry both changes.
  expect((await git(fixture.repo, ['merge-base', '--is-ancestor', a.mergeSha!, b.mergeSha!], { allowExitCodes: [1] })).exitCode).toBe(0);
  const status = await fixture.deployer.status({ service: fixture.service });
  expect(status.stable?.sha).toBe(b.mergeSha);
  expect(status.lease).toBeNull();
  const history = (await second.query(trainStatusQuery)).history;
  expect(history.filter((h) => h.kind === 'waiting')).toHaveLength(1);
}, 240_000);

test('a train that ended holding its service (terminated mid-rollout) is taken over: its canary rolled back, its record closed, and no merge onto a branch that no longer says what runs', async () => {
  const fixture = await newFixture('greeter-stale');
  const first = await start(fixture.change('good-change', 'stale-first', { rollout: { ...fixtureSlowGate() } as never }));
  await waitFor(async () => (await temporal.client.workflow.getHandle(rolloutWorkflowId(first.workflowId)).query(rolloutStatusQuery)).weight === 10);
  await first.terminate('lost: simulating a train that never gives its service back');
  expect((await fixture.deployer.status({ service: fixture.service })).lease?.owner).toBe(first.workflowId);

  const second = await start({ ...fixture.change('good-change', 'stale-second'), title: 'Document that trains release the greeter', intent: 'Add a line to the README saying that Maestro trains release the service', change: { kind: 'patch', diff: README_APPEND } });
  const result = await second.result();
  expect(result.outcome).toBe('failed');
  expect(result.reason).toContain(`train ${first.workflowId} ended without reverting`);
  expect(result.reason).toContain(`maestro verify ${fixture.service}`);
  expect(result.mergeSha).toBeUndefined();
  const status = await fixture.deployer.status({ service: fixture.service });
  expect(status.canary).toBeNull();
  expect(status.weight).toBe(0);
  expect(status.lease).toBeNull();
  const history = await new RecordStore({ url: TEST_DATABASE_URL }).serviceHistory({ service: fixture.service });
  expect(history.open).toEqual([]);
}, 240_000);

test('a release GitOps refuses after the canary was promoted (staging before dev) is compensated: the previous version runs again, main is reverted, the invariant holds', async () => {
  const fixture = await newFixture('greeter-guard');
  const handle = await start({ ...fixture.change('good-change', 'guard-1'), environment: 'staging' });
  const failure = await handle.result().then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(failure).toBeInstanceOf(WorkflowFailedError);
  const history = (await handle.query(trainStatusQuery)).history.map((h) => `${h.kind}: ${h.detail}`);
  expect(history).toEqual(expect.arrayContaining([expect.stringMatching(/^restore: GitOps promotion failed; [0-9a-f]{12} is stable again$/), expect.stringMatching(/^revert: main reverted as/)]));
  expect(history).toContain('invariant: runs, base branch, GitOps and record agree');
  const status = await fixture.deployer.status({ service: fixture.service });
  expect(status.stable?.sha).toBe(fixture.baseSha);
  expect(status.lease).toBeNull();
  const { stdout: drift } = await git(fixture.repo, ['diff', '--stat', fixture.baseSha, 'main']);
  expect(drift.trim()).toBe('');
}, 240_000);

test('pause freezes the gate (no probes, weight held) and resume continues to promotion', async () => {
  const fixture = await newFixture('greeter-pause');
  const handle = await start(fixture.change('good-change', 'pause-1', { rollout: { ...fixtureSlowGate() } as never }));
  const rollout = temporal.client.workflow.getHandle(rolloutWorkflowId(handle.workflowId));
  await waitFor(async () => (await handle.query(trainStatusQuery)).stage === 'rollout');
  await waitFor(async () => (await rollout.query(rolloutStatusQuery)).weight === 10);
  await handle.signal('pause', { by: 'bob@ops' });
  await waitFor(async () => (await rollout.query(rolloutStatusQuery)).paused);
  const before = await rollout.query(rolloutStatusQuery);
  await new Promise((r) => setTimeout(r, 2500));
  const during = await rollout.query(rolloutStatusQuery);
  expect(during.weight).toBe(before.weight);
  expect(during.gate?.probes).toBe(before.gate?.probes);
  await handle.signal('resume', { by: 'bob@ops' });
  await handle.signal('promote', { by: 'bob@ops', reason: 'skip the rest of this gate' });
  const result = await handle.result();
  expect(result.outcome).toBe('promoted');
  const history = (await rollout.query(rolloutStatusQuery)).history;
  expect(history.some((h) => h.kind === 'gate-skipped' && h.by === 'bob@ops')).toBe(true);
});

test('a change that needs approval waits for an identified approve signal; a bad signal payload is rejected; its risk-shaped plan is shown and overridden', async () => {
  const fixture = await newFixture('greeter-approve');
  const change = fixture.change('good-change', 'approve-1', { approval: 'required' });
  const handle = await start({ ...change, rollout: { ...change.rollout, byRisk: { bands: [{ upTo: 0.000001, steps: [100] }, { upTo: 1, steps: [20, 100] }] } } as never });
  await waitFor(async () => (await handle.query(trainStatusQuery)).stage === 'awaitingApproval');
  // The plan is shown before anything merges: the band the risk score falls in.
  const shown = (await handle.query(trainStatusQuery)).plannedRollout;
  expect(shown?.source).toMatch(/^risk 0\.\d\d is in band 2 of 2 \(above 0\.000001, up to 1\): steps 20 → 100%/);
  expect(shown?.description).toMatch(/^1\. setWeight 20% → gate/);
  // An operator overrides it, with identity; a plan that breaks the rules is refused with the reason.
  await expect(overrideTrainPlan(temporal.client, handle.workflowId, { by: 'dana@sre', plan: { steps: [{ setWeight: 50 }, { setWeight: 10 }] } })).rejects.toThrow(/plan\.steps\.1\.setWeight: must be greater than the previous step's 50/);
  const overridden = await overrideTrainPlan(temporal.client, handle.workflowId, { by: 'dana@sre', reason: 'quiet hour', plan: { ...change.rollout, steps: [{ setWeight: 30 }, { setWeight: 100 }] } });
  expect(overridden).toMatch(/^rollout plan of .* overridden by dana@sre: quiet hour\n1\. setWeight 30% → gate/);
  expect(formatStatus(await handle.query(trainStatusQuery))).toContain('rollout plan: overridden by dana@sre: quiet hour');
  await handle.signal('approve', { reason: 'no identity' } as never);
  await handle.signal('aprove', { by: 'carol@owners' });
  await new Promise((r) => setTimeout(r, 500));
  expect((await handle.query(trainStatusQuery)).stage).toBe('awaitingApproval');
  await handle.signal('approve', { by: 'carol@owners' });
  const result = await handle.result();
  expect(result.outcome).toBe('promoted');
  const history = (await handle.query(trainStatusQuery)).history;
  expect(history.find((h) => h.kind === 'signal-rejected')?.detail).toMatch(/approve: by: required/);
  expect(history.some((h) => h.kind === 'signal-rejected' && /unknown signal 'aprove'; allowed: approve, abort/.test(h.detail))).toBe(true);
  expect(history.some((h) => h.kind === 'approve' && h.by === 'carol@owners')).toBe(true);
  const rollout = await temporal.client.workflow.getHandle(rolloutWorkflowId(handle.workflowId)).query(rolloutStatusQuery);
  expect(rollout.history.filter((h) => h.kind === 'weight').map((h) => h.detail)).toEqual(['canary weight 30%', 'canary weight 100%']);
});

test('a risk band that needs two approvals of three named owners (N of M) counts distinct owners only, and denies when too few come in time', async () => {
  const fixture = await newFixture('greeter-n-of-m');
  const owners = ['carol@owners', 'dave@owners', 'erin@owners'];
  const bands = { bands: [{ upTo: 0.000001, steps: [100] }, { upTo: 1, steps: [20, 100], approvals: { required: 2, of: owners } }] };
  const change = fixture.change('good-change', 'n-of-m-1');
  const handle = await start({ ...change, rollout: { ...change.rollout, byRisk: bands } as never });
  await waitFor(async () => (await handle.query(trainStatusQuery)).stage === 'awaitingApproval');
  const shown = await handle.query(trainStatusQuery);
  expect(shown.plannedRollout?.source).toMatch(/steps 20 → 100%, 2 green probes per step, 2 approvals of carol@owners, dave@owners, erin@owners before the merge$/);
  expect(shown.plannedRollout?.description).toMatch(/\nbefore the merge: 2 approvals of carol@owners, dave@owners, erin@owners$/);
  expect(shown.history.find((h) => h.kind === 'approvals')?.detail).toMatch(/^needs 2 approvals of carol@owners, dave@owners, erin@owners within \d+ ms; none yet$/);
  // Someone outside the named owners, and the same owner twice, do not make two.
  await handle.signal('approve', { by: 'mallory@dev' });
  await handle.signal('approve', { by: 'carol@owners' });
  await handle.signal('approve', { by: 'carol@owners', reason: 'again' });
  await new Promise((r) => setTimeout(r, 1000));
  expect((await handle.query(trainStatusQuery)).stage).toBe('awaitingApproval');
  await handle.signal('approve', { by: 'dave@owners', reason: 'reviewed the diff' });
  const result = await handle.result();
  expect(result.outcome).toBe('promoted');
  const approvals = (await handle.query(trainStatusQuery)).history.filter((h) => h.kind === 'approvals').map((h) => h.detail);
  expect(approvals.at(-1)).toBe('2 approvals of carol@owners, dave@owners, erin@owners given: carol@owners, dave@owners');

  // The same band with one owner's approval only: denied at the approval timeout, saying who counted.
  const second = await newFixture('greeter-n-of-m-2');
  const short = second.change('good-change', 'n-of-m-2', { approvalTimeout: 3000 } as never);
  const denied = await start({ ...short, rollout: { ...short.rollout, byRisk: bands } as never });
  await waitFor(async () => (await denied.query(trainStatusQuery)).stage === 'awaitingApproval');
  await denied.signal('approve', { by: 'erin@owners' });
  const deniedResult = await denied.result();
  expect(deniedResult.outcome).toBe('denied');
  expect(deniedResult.reason).toBe('2 approvals of carol@owners, dave@owners, erin@owners needed within 3000 ms; 1 missing (counted: erin@owners)');
  expect(deniedResult.mergeSha).toBeUndefined();
}, 240_000);

test('a denied train with an appeal window is appealed, the appeal granted by another person, and the train goes on to promotion', async () => {
  const fixture = await newFixture('greeter-appeal');
  const handle = await start(fixture.change('failing-tests-change', 'appeal-1', { appealWindow: 60_000 }));
  await waitFor(async () => (await handle.query(trainStatusQuery)).stage === 'awaitingAppeal');
  expect((await handle.query(trainStatusQuery)).denials?.map((d) => d.rule)).toEqual(['eval-score-below-threshold']);
  const appealHandle = await temporal.client.workflow.start(appeal, {
    taskQueue: TASK_QUEUE,
    workflowId: `appeal-${handle.workflowId}`,
    args: [{ trainWorkflowId: handle.workflowId, appellant: 'erin@dev', reason: 'the new wording is intended; tests follow in the next change', rules: ['eval-score-below-threshold'] }],
  });
  await waitFor(async () => (await appealHandle.query(appealStatusQuery)).status === 'open');
  // The appellant may not decide their own appeal; someone else may.
  await appealHandle.signal(decideAppealSignal, { by: 'erin@dev', decision: 'grant', reason: 'self-approval' });
  await appealHandle.signal(decideAppealSignal, { by: 'frank@release', decision: 'grant', reason: 'accepted for this change' });
  expect(await appealHandle.result()).toMatchObject({ status: 'granted', decidedBy: 'frank@release', trainNotified: true });
  expect((await appealHandle.query(appealStatusQuery)).steps.some((s) => s.kind === 'signal-rejected' && s.by === 'erin@dev')).toBe(true);
  const result = await handle.result();
  expect(result.outcome).toBe('promoted');
  const status = await handle.query(trainStatusQuery);
  expect(status.history.some((h) => h.kind === 'appeal' && h.by === 'frank@release')).toBe(true);
  expect(status.denials).toBeUndefined();
  // The appeal decision is part of the signed merge provenance, which verifies.
  const release = verifyRelease(path.join(stateDir, 'releases', handle.workflowId), loadOrCreateSigningKey(path.join(stateDir, 'keys')).publicKey);
  expect(JSON.stringify(release.statement)).toContain(`appeal-${handle.workflowId}`);
  expect(release.commit).toBe(result.mergeSha);
});

test('an invalid change request fails the workflow at once, naming the field, with no stage run', async () => {
  const fixture = new TrainFixture('greeter-invalid', stateDir);
  fixture.repo = '/tmp/not-used';
  const bad = { ...fixture.change('good-change', 'invalid-1'), rollout: { steps: [{ setWeight: 50 }, { setWeight: 10 }] } };
  const handle = await start(bad as never);
  const err = await handle.result().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const message = String((err as WorkflowFailedError).cause?.message);
  expect(message).toMatch(/rollout\.steps\.1\.setWeight/);
  expect(await scheduledActivities(temporal.client, handle.workflowId)).toEqual({});
});

function fixtureSlowGate() {
  return { steps: [{ setWeight: 10 }, { setWeight: 100 }], gate: { probeInterval: 500, consecutiveGreen: 4, maxRed: 2, timeout: 60_000 }, thresholds: { minRequests: 3 } };
}

async function waitFor(predicate: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (await predicate()) return;
    } catch {
      // The workflow or child may not exist yet.
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('condition not met in time');
}
