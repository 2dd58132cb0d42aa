/**
 * Trains whose gates read Prometheus (MAESTRO_HEALTH_SOURCE=prometheus): a real Prometheus (the Debian
 * package, started by infra/prometheus) scrapes the real proxy and greeter processes the deployer starts;
 * the gates run the default metric templates (Flagger's request-success-rate and request-duration) as
 * PromQL. A good change is promoted, a bad one rolled back with the query and its raw value as the reason.
 */
import path from 'node:path';
import { createActivities } from '../../../activities';
import { InvalidInputError } from '../../../core/errors';
import type { MetricEvidence } from '../../../core/judge';
import type { RolloutPlanInput } from '../../../core/rollout-plan';
import { FAST_PLAN, TrainFixture } from '../../../examples/train-fixture';
import { ensurePrometheus, type RunningPrometheus } from '../../../infra/prometheus/server';
import { PrometheusHealthSource } from '../../../delivery/prometheus-health';
import { rolloutStatusQuery, rolloutWorkflowId } from '../../../workflows/messages';
import type { releaseTrain } from '../../../workflows/release-train';
import { startTestWorker, type TestWorker, tempDir, TEST_DATABASE_URL } from '../../helpers/temporal';

const TASK_QUEUE = 'test-prometheus-gates';
const RUN = Date.now().toString(36);
const PROMETHEUS_PORT = Number(process.env.MAESTRO_TEST_PROMETHEUS_PORT ?? 7211);
const stateDir = tempDir('prometheus-state');
const fixtures: TrainFixture[] = [];
let temporal: TestWorker;
let prometheus: RunningPrometheus;
let startedInMs: number;

beforeAll(async () => {
  const t0 = Date.now();
  prometheus = await ensurePrometheus({
    baseDir: tempDir('prometheus'),
    port: PROMETHEUS_PORT,
    targetsDir: path.join(stateDir, 'deploy', 'scrape-targets'),
    scrapeIntervalMs: 1000,
    binary: '/usr/bin/prometheus',
  });
  startedInMs = Date.now() - t0;
  temporal = await startTestWorker(TASK_QUEUE, createActivities({ stateDir, databaseUrl: TEST_DATABASE_URL, healthSource: { kind: 'prometheus', url: prometheus.url } }));
}, 120_000);

afterEach(async () => {
  await Promise.all(fixtures.splice(0).map((f) => f.stop()));
});

afterAll(async () => {
  await temporal?.stop();
  await prometheus?.stop();
});

// Prometheus needs a scrape or two of the canary before the templates have data: a longer gate timeout.
const PROMQL_PLAN: RolloutPlanInput = { ...FAST_PLAN, gate: { ...FAST_PLAN.gate, timeout: 40_000 } };

async function train(service: string, change: 'good-change' | 'bad-change', plan: RolloutPlanInput = PROMQL_PLAN) {
  const fixture = new TrainFixture(`${service}-${RUN}`, stateDir);
  fixtures.push(fixture);
  await fixture.start();
  const request = fixture.change(change, `${service}-1`, { rollout: plan as never });
  const handle = await temporal.client.workflow.start<typeof releaseTrain>('releaseTrain', { taskQueue: TASK_QUEUE, workflowId: `train-${service}-${RUN}`, args: [request] });
  const rollout = () => temporal.client.workflow.getHandle(rolloutWorkflowId(handle.workflowId)).query(rolloutStatusQuery);
  return { fixture, handle, rollout };
}

test('Prometheus starts on loopback and is ready within seconds; a query it refuses is bad input, naming the query', async () => {
  expect(prometheus.url).toBe(`http://127.0.0.1:${PROMETHEUS_PORT}`);
  expect(startedInMs).toBeLessThan(30_000);
  const source = new PrometheusHealthSource({ url: prometheus.url, routes: async () => ({ stable: null, canary: null, weight: 0 }) });
  await expect(source.query('sum(rate(x[30s])')).rejects.toThrow(InvalidInputError);
  await expect(source.query('sum(rate(x[30s])')).rejects.toThrow(/^PromQL refused by Prometheus: .*; query: sum\(rate\(x\[30s\]\)$/);
});

test('a good change is promoted on the PromQL checks, which read the proxy and the greeter as Prometheus scraped them', async () => {
  const { fixture, handle, rollout } = await train('prom-good', 'good-change');
  const result = await handle.result();
  expect(result.outcome).toBe('promoted');
  const probes = (await rollout()).lastProbes;
  const last = probes.at(-1)!;
  expect(last.source).toMatchObject({ kind: 'prometheus', url: prometheus.url });
  expect(last.metrics!.map((m) => [m.name, m.outcome])).toEqual([
    ['request-success-rate', 'pass'],
    ['request-duration', 'pass'],
  ]);
  const success = last.metrics![0]!;
  expect(success.query).toContain(`maestro_proxy_requests_total{service="${fixture.service}",upstream="127.0.0.1:`);
  expect(success.value).toBe(100);
  // The greeter's own /metrics is scraped too, labelled with its role and commit by the deployer's targets.
  const source = new PrometheusHealthSource({ url: prometheus.url, routes: async () => ({ stable: null, canary: null, weight: 0 }) });
  const greeter = await source.query(`sum by (role, sha) (greeter_http_requests_total{service="${fixture.service}",route="/greet"})`);
  expect(greeter.length).toBeGreaterThan(0);
  expect(greeter.every((s) => /^[0-9a-f]{40}$/.test(s.labels.sha!) && s.value > 0)).toBe(true);
}, 180_000);

test('a bad change is rolled back; the reason names the failed check, its raw value and the PromQL it ran', async () => {
  const { fixture, handle, rollout } = await train('prom-bad', 'bad-change');
  const result = await handle.result();
  expect(result.outcome).toBe('rolled_back');
  expect(result.reason).toMatch(
    new RegExp(`^health gate at 10% failed: request-success-rate = (\\d+(\\.\\d+)?) \\(should be ≥ 99; failed\\) from \\(sum\\(rate\\(maestro_proxy_requests_total\\{service="${fixture.service}",upstream="127\\.0\\.0\\.1:\\d+",code!~"5\\.\\."\\}\\[30s\\]\\)\\)`),
  );
  const value = Number(/request-success-rate = ([\d.]+)/.exec(result.reason)![1]);
  // The bad change fails one request in five.
  expect(value).toBeGreaterThan(50);
  expect(value).toBeLessThan(99);
  const last = (await rollout()).lastProbes.at(-1)!;
  expect(last.verdict).toBe('red');
  expect(last.metrics!.find((m) => m.name === 'request-success-rate')).toMatchObject({ outcome: 'fail', thresholdRange: { min: 99 } });
  expect(last.canary.errors).toBeGreaterThan(0);
  expect((await fixture.deployer.status({ service: fixture.service })).weight).toBe(0);
}, 180_000);

/**
 * The statistical judge on Prometheus: latency from the proxy's histogram buckets, errors from its counters.
 * Probes 2 s apart (two scrapes), so each probe's window starts where the last one ended. Margins loose
 * enough for the 50% step to decide at the fixture's 150 req/s on a loaded machine: the judge's path is
 * under test here (its power and error rates are in test/unit/core/judge-buckets.test.ts).
 */
const JUDGED_PLAN: RolloutPlanInput = {
  steps: [{ setWeight: 50 }, { setWeight: 100 }],
  gate: { probeInterval: 2_000, consecutiveGreen: 2, maxRed: 2, timeout: 40_000 },
  thresholds: { minRequests: 3 },
  judge: { maxSoakMs: 40_000, errorRate: { tolerance: 0.02, margin: 0.1 }, latency: { tolerance: 0.5, margin: 1 } },
};

test('on Prometheus a judged gate passes a good change, latency judged from the histogram buckets', async () => {
  const { handle, rollout } = await train('prom-judge-good', 'good-change', JUDGED_PLAN);
  const result = await handle.result();
  expect({ outcome: result.outcome, reason: result.reason }).toMatchObject({ outcome: 'promoted' }); // a failure shows why
  const history = (await rollout()).history;
  const passed = history.find((h) => h.kind === 'gate-passed')!;
  expect(passed.detail).toMatch(
    /^gate at 50% passed after \d+ probes: error rate: .*→ pass; latency from histogram buckets \(\d+ buckets holding requests, .*\): canary median ≈ [\d.]+ ms \(\d+ requests, .*within 100\.00% of stable \(tested as stable ×[\d.–]+, the 100\.00% rounded down to whole buckets; .*\) → pass$/,
  );
  const judged = result.rollout!.decisions!.filter((d) => d.evidence);
  expect(judged.length).toBeGreaterThanOrEqual(2);
  for (const probe of judged) {
    expect(probe.source).toMatchObject({ kind: 'prometheus', url: prometheus.url });
    // The decision log keeps the buckets the verdict rests on, not the whole histogram of every probe.
    expect(probe.canary.latencyHistogram).toBeUndefined();
  }
  const latency = judged.at(-1)!.evidence!.find((e): e is MetricEvidence => e.metric === 'latency')!;
  expect(latency.buckets!.canary.reduce((a, b) => a + b, 0)).toBe(latency.canary.samples);
  expect(latency.canary.samples).toBeGreaterThanOrEqual(latency.requiredSamples);
}, 240_000);

test('on Prometheus a judged gate rolls a bad change back on its error rate, the latency evidence from the buckets alongside', async () => {
  const { fixture, handle, rollout } = await train('prom-judge-bad', 'bad-change', JUDGED_PLAN);
  const result = await handle.result();
  expect(result.outcome).toBe('rolled_back');
  expect(result.reason).toMatch(/^health gate at 50% failed: error rate: canary \d+\.\d\d% \(\d+\/\d+\) vs stable .* → fail/);
  const last = (await rollout()).lastProbes.at(-1)!;
  expect(last.verdict).toBe('red');
  expect(last.evidence!.find((e) => e.metric === 'error-rate')!.outcome).toBe('fail');
  expect(last.evidence!.find((e) => e.metric === 'latency')!.words).toMatch(/^latency (from histogram buckets|.*fewer than)/);
  expect((await fixture.deployer.status({ service: fixture.service })).weight).toBe(0);
}, 240_000);

/**
 * A metric template with its own judge, on a series neither the proxy nor the built-in judge reads: the greeter's
 * own share of 5xx answers, per role as the deployer's scrape targets label it. Each probe reads it for both
 * versions over the same 2 s (two scrapes); the judge compares the readings canary against stable.
 */
const GREETER_ERRORS = (role: string) => `sum(rate(greeter_http_requests_total{service="{{service}}",role="${role}",route="/greet",code=~"5.."}[{{interval}}]))`;
const GREETER_ALL = (role: string) => `sum(rate(greeter_http_requests_total{service="{{service}}",role="${role}",route="/greet"}[{{interval}}]))`;
const SERIES_PLAN: RolloutPlanInput = {
  steps: [{ setWeight: 50 }, { setWeight: 100 }],
  gate: { probeInterval: 1_000, consecutiveGreen: 2, maxRed: 2, timeout: 60_000 },
  thresholds: { minRequests: 3 },
  metrics: [
    {
      name: 'greeter-error-share',
      // No 5xx at all is no series: `or vector(0)` makes it a share of 0.
      query: `(${GREETER_ERRORS('{{role}}')} or vector(0)) / ${GREETER_ALL('{{role}}')}`,
      interval: '2s',
      judge: { worseWhen: 'higher', shift: 'absolute', tolerance: 0.01, margin: 0.05, minSamples: 5 },
    },
  ],
};

test("a judged metric template promotes a good change on the greeter's own error share, canary against stable", async () => {
  const { handle, rollout } = await train('prom-series-good', 'good-change', SERIES_PLAN);
  const result = await handle.result();
  expect({ outcome: result.outcome, reason: result.reason }).toEqual({ outcome: 'promoted', reason: 'all health gates passed' });
  const passed = (await rollout()).history.find((h) => h.kind === 'gate-passed')!;
  expect(passed.detail).toMatch(/^gate at 50% passed after \d+ probes$/);
  const judged = result.rollout!.decisions!.filter((d) => d.evidence?.length);
  const last = judged.at(-1)!;
  const reading = last.metrics!.find((m) => m.name === 'greeter-error-share')!;
  expect(reading).toMatchObject({ outcome: 'sampled', value: 0, stable: { value: 0 } });
  expect(reading.query).toContain('role="canary"');
  expect(reading.stable!.query).toContain('role="stable"');
  const evidence = last.evidence!.find((e) => e.metric === 'series')!;
  expect(evidence.outcome).toBe('pass');
  expect(evidence.canary.samples).toBeGreaterThanOrEqual(evidence.requiredSamples);
  expect(evidence.words).toMatch(/^greeter-error-share: canary median 0 \(\d+ readings\) vs stable 0 \(\d+\): within 0\.05 of stable .* → pass$/);
  // Readings 2 s ranges apart: fewer readings than probes.
  expect(evidence.canary.samples).toBeLessThan(judged.length);
}, 240_000);

test('a judged metric template rolls a bad change back, the reason naming the template and its test', async () => {
  const { fixture, handle } = await train('prom-series-bad', 'bad-change', SERIES_PLAN);
  const result = await handle.result();
  expect(result.outcome).toBe('rolled_back');
  expect(result.reason).toMatch(/^health gate at 50% failed: greeter-error-share: canary median 0\.\d+ \(\d+ readings\) vs stable 0 \(\d+\): .*→ fail$/);
  const evidence = result.rollout!.decisions!.at(-1)!.evidence!.find((e) => e.metric === 'series')!;
  expect(evidence.outcome).toBe('fail');
  // The bad change fails one request in five.
  expect(evidence.canary.value).toBeGreaterThan(0.05);
  expect((await fixture.deployer.status({ service: fixture.service })).weight).toBe(0);
}, 240_000);

test('a judged plan judges its own metric templates beside error rate and latency, and passes only when all pass', async () => {
  const template = { ...(SERIES_PLAN.metrics![0] as object), judge: { worseWhen: 'higher', shift: 'absolute', tolerance: 0.01, margin: 0.05, minSamples: 5, errorBudget: 0.1 } };
  const plan: RolloutPlanInput = { ...JUDGED_PLAN, judge: { ...JUDGED_PLAN.judge, maxSoakMs: 60_000 }, metrics: [template] as RolloutPlanInput['metrics'] };
  const { handle, rollout } = await train('prom-judge-series', 'good-change', plan);
  const result = await handle.result();
  expect({ outcome: result.outcome, reason: result.reason }).toEqual({ outcome: 'promoted', reason: 'all health gates passed' });
  const passed = (await rollout()).history.find((h) => h.kind === 'gate-passed')!;
  expect(passed.detail).toMatch(/^gate at 50% passed after \d+ probes: error rate: .*→ pass; latency .*→ pass; greeter-error-share: canary median 0 .*→ pass$/);
  const last = result.rollout!.decisions!.filter((d) => d.weight === 50).at(-1)!;
  expect(last.evidence!.map((e) => [e.metric, e.outcome])).toEqual([
    ['error-rate', 'pass'],
    ['latency', 'pass'],
    ['series', 'pass'],
  ]);
  // No probe at 50% was green while one of the three had not passed.
  for (const d of result.rollout!.decisions!.filter((p) => p.weight === 50)) expect(d.verdict === 'green').toBe(d.evidence!.every((e) => e.outcome === 'pass'));
}, 240_000);
