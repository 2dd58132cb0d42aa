/**
 * Health judges by simulation, the same samples side by side (issue 11): our statistical judge
 * (core/judge.ts, defaults), fixed thresholds at Flagger's defaults (success rate ≥ 99%, p99 ≤ 500 ms,
 * a check with no canary requests fails: "no values found") and a Mann–Whitney judge with Kayenta's
 * defaults (confidence 0.98, tolerance 0.25 of the Hodges–Lehmann estimate, over per-interval points).
 *
 *   npx tsx bench/judge.ts [good runs per cell = 400] [regression runs per cell = 100]
 *
 * Every run simulates one gate at 10% canary weight, probed every 5 s, with stable at 0.2% errors and
 * log-normal latency (median 40 ms, log-sd 0.5, so p99 ≈ 130 ms). Each probe's window is drawn once and
 * given to all three judges. Schedules: ours passes on a conclusive pass after ≥ 3 probes, fails on a
 * conclusive fail, and at its 10-minute soak limit ends "inconclusive" (the workflow then rolls back or
 * asks for approval). The threshold judge runs the threshold gate (3 consecutive green pass, 2 red fail,
 * 2-minute timeout = rollback). Kayenta runs one analysis over a 2-minute lifetime (24 points per
 * metric: per-interval error rate and mean latency) and fails if a metric is High (score 50 < 75).
 *
 * Per cell: good canaries → false rollbacks; regressions → missed (passed); both → inconclusive and the
 * median simulated time to a verdict. A fourth column, `buckets`, is our judge as it runs on Prometheus:
 * the same probes' latencies as the proxy's histogram buckets (delivery/proxy.ts DURATION_BUCKETS, every
 * request counted, no samples), the same schedule as ours.
 */
import { accumulateWindow, emptyWindow, judgeWindow, looksPerGate, statisticalJudgeSchema, type GateWindow } from '../core/judge';
import { LATENCY_SAMPLE_SIZE, percentile } from '../core/health';
import { DURATION_BUCKETS } from '../delivery/proxy';

const GOOD_RUNS = Number(process.argv[2] ?? 400);
const BAD_RUNS = Number(process.argv[3] ?? 100);

const PROBE_MS = 5_000;
const WEIGHT = 0.1;
const STABLE_ERROR_RATE = 0.002;
const MEDIAN_MS = 40;
const LOG_SD = 0.5;
const MIN_PROBES = 3;

const judge = statisticalJudgeSchema.parse({});
const LOOKS = looksPerGate(judge, PROBE_MS);
const THRESHOLD_TIMEOUT_PROBES = 24;
const KAYENTA_LIFETIME_PROBES = 24;

interface Scenario {
  name: string;
  errorPoints: number;
  slowdown: number;
}
const SCENARIOS: Scenario[] = [
  { name: 'good', errorPoints: 0, slowdown: 1 },
  ...[0.5, 1, 5, 20].map((p) => ({ name: `errors +${p} pt`, errorPoints: p / 100, slowdown: 1 })),
  ...[0.1, 0.5, 2].map((f) => ({ name: `latency +${f * 100}%`, errorPoints: 0, slowdown: 1 + f })),
];
const TRAFFIC = [1, 10, 100, 1000];

type Verdict = 'pass' | 'fail' | 'inconclusive';
interface Outcome {
  verdict: Verdict;
  atS: number;
}

interface VersionProbe {
  requests: number;
  errors: number;
  latenciesMs: number[];
  meanMs: number;
  p99Ms: number;
  /** Every request's latency as the proxy's histogram counts it. */
  latencyHistogram: { boundsMs: number[]; counts: number[] };
}
interface Probe {
  canary: VersionProbe;
  stable: VersionProbe;
}

function normal(): number {
  return Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random());
}

const BOUNDS_MS = DURATION_BUCKETS.map((s) => Number((s * 1000).toPrecision(12)));

/** The bucket a latency falls in (upper bounds inclusive, as Prometheus counts), by binary search. */
function bucketOf(ms: number): number {
  let low = 0;
  let high = BOUNDS_MS.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (ms <= BOUNDS_MS[mid]!) high = mid;
    else low = mid + 1;
  }
  return low;
}

function drawVersion(requests: number, errorRate: number, slowdown: number): VersionProbe {
  let errors = 0;
  const all: number[] = [];
  for (let i = 0; i < requests; i++) {
    if (Math.random() < errorRate) errors++;
    all.push(slowdown * MEDIAN_MS * Math.exp(LOG_SD * normal()));
  }
  const counts = new Array<number>(BOUNDS_MS.length + 1).fill(0);
  for (const ms of all) counts[bucketOf(ms)]!++;
  // The draws are independent, so the first ones are a uniform sample, as the proxy reports.
  return {
    latencyHistogram: { boundsMs: BOUNDS_MS, counts },
    requests,
    errors,
    latenciesMs: all.slice(0, LATENCY_SAMPLE_SIZE),
    meanMs: all.length > 0 ? all.reduce((a, b) => a + b, 0) / all.length : Number.NaN,
    p99Ms: percentile(all, 99),
  };
}

/** The proxy's smooth weighting: the canary gets its share of each window, the remainder carried over. */
function* probes(rps: number, scenario: Scenario): Generator<Probe> {
  let credit = 0;
  for (;;) {
    const total = rps * (PROBE_MS / 1000);
    credit += total * WEIGHT;
    const toCanary = Math.floor(credit);
    credit -= toCanary;
    yield {
      canary: drawVersion(toCanary, STABLE_ERROR_RATE + scenario.errorPoints, scenario.slowdown),
      stable: drawVersion(total - toCanary, STABLE_ERROR_RATE, 1),
    };
  }
}

/** Runs all three judges on the same stream of probes until each has its verdict. */
function simulate(rps: number, scenario: Scenario): Record<JudgeName, Outcome> {
  const ours = { window: emptyWindow() as GateWindow, outcome: undefined as Outcome | undefined };
  const buckets = { window: emptyWindow() as GateWindow, outcome: undefined as Outcome | undefined };
  const threshold = { green: 0, red: 0, outcome: undefined as Outcome | undefined };
  const kayenta = { points: { canary: { errors: [] as number[], latency: [] as number[] }, stable: { errors: [] as number[], latency: [] as number[] } }, outcome: undefined as Outcome | undefined };
  let index = 0;
  for (const probe of probes(rps, scenario)) {
    index++;
    const atS = (index * PROBE_MS) / 1000;
    if (!buckets.outcome) {
      const asPrometheus = ({ requests, errors, latencyHistogram }: VersionProbe) => ({ requests, errors, latencyHistogram });
      buckets.window = accumulateWindow(buckets.window, { canary: asPrometheus(probe.canary), stable: asPrometheus(probe.stable) });
      const verdict = judgeWindow(buckets.window, judge, LOOKS).outcome;
      if (verdict === 'fail' || (verdict === 'pass' && index >= MIN_PROBES)) buckets.outcome = { verdict, atS };
      else if (index >= LOOKS) buckets.outcome = { verdict: 'inconclusive', atS };
    }
    if (!ours.outcome) {
      const { latencyHistogram: _buckets, ...sampled } = probe.canary;
      const { latencyHistogram: _stableBuckets, ...sampledStable } = probe.stable;
      ours.window = accumulateWindow(ours.window, { canary: sampled, stable: sampledStable });
      const verdict = judgeWindow(ours.window, judge, LOOKS).outcome;
      if (verdict === 'fail' || (verdict === 'pass' && index >= MIN_PROBES)) ours.outcome = { verdict, atS };
      else if (index >= LOOKS) ours.outcome = { verdict: 'inconclusive', atS };
    }
    if (!threshold.outcome) {
      const c = probe.canary;
      const failed = c.requests === 0 || 1 - c.errors / c.requests < 0.99 || c.p99Ms > 500;
      threshold.green = failed ? 0 : threshold.green + 1;
      threshold.red += failed ? 1 : 0;
      if (threshold.red >= 2) threshold.outcome = { verdict: 'fail', atS };
      else if (threshold.green >= 3) threshold.outcome = { verdict: 'pass', atS };
      else if (index >= THRESHOLD_TIMEOUT_PROBES) threshold.outcome = { verdict: 'fail', atS };
    }
    if (!kayenta.outcome) {
      for (const role of ['canary', 'stable'] as const) {
        const v = probe[role];
        // Kayenta's NaN strategy: an interval without data is removed.
        if (v.requests > 0) {
          kayenta.points[role].errors.push(v.errors / v.requests);
          kayenta.points[role].latency.push(v.meanMs);
        }
      }
      if (index >= KAYENTA_LIFETIME_PROBES) {
        const high = (['errors', 'latency'] as const).some((m) => kayentaHigh(kayenta.points.canary[m], kayenta.points.stable[m]));
        kayenta.outcome = { verdict: high ? 'fail' : 'pass', atS };
      }
    }
    if (ours.outcome && buckets.outcome && threshold.outcome && kayenta.outcome)
      return { ours: ours.outcome, buckets: buckets.outcome, thresholds: threshold.outcome, kayenta: kayenta.outcome };
  }
  throw new Error('unreachable: the probe stream is endless');
}

/**
 * Kayenta's MannWhitneyClassifier (direction Increase): no data or identical data pass; otherwise High
 * when the lower bound of the 98% confidence interval of the Hodges–Lehmann shift exceeds 0.25 × |estimate|.
 */
function kayentaHigh(experiment: number[], control: number[]): boolean {
  if (experiment.length === 0 || control.length === 0) return false;
  const sortedE = [...experiment].sort((a, b) => a - b);
  const sortedC = [...control].sort((a, b) => a - b);
  if (sortedE.length === sortedC.length && sortedE.every((v, i) => v === sortedC[i])) return false;
  if (new Set([...experiment, ...control]).size === 1) return false;
  const diffs: number[] = [];
  for (const e of experiment) for (const c of control) diffs.push(e - c);
  diffs.sort((a, b) => a - b);
  const n1 = experiment.length;
  const n2 = control.length;
  const estimate = percentile(diffs, 50);
  const zHalf = 2.326347874; // standard normal quantile at 0.99: a two-sided 98% interval
  const k = Math.floor((n1 * n2) / 2 - zHalf * Math.sqrt((n1 * n2 * (n1 + n2 + 1)) / 12));
  const lower = k >= 0 ? diffs[k]! : diffs[0]!;
  return lower > 0.25 * Math.abs(estimate);
}

type JudgeName = 'ours' | 'buckets' | 'thresholds' | 'kayenta';
const JUDGES: JudgeName[] = ['ours', 'buckets', 'thresholds', 'kayenta'];

function median(values: number[]): number {
  return values.length === 0 ? Number.NaN : percentile(values, 50);
}

const started = Date.now();
console.log(`judge bench: ${GOOD_RUNS} good / ${BAD_RUNS} regression runs per cell, canary weight ${WEIGHT * 100}%, probe ${PROBE_MS / 1000} s`);
console.log('cell                          | judge      | wrong  | inconcl. | passed | failed | median s to verdict');
const totals: Record<JudgeName, { wrong: number; runs: number; cellsWorstMiss: number }> = {
  ours: { wrong: 0, runs: 0, cellsWorstMiss: 0 },
  buckets: { wrong: 0, runs: 0, cellsWorstMiss: 0 },
  thresholds: { wrong: 0, runs: 0, cellsWorstMiss: 0 },
  kayenta: { wrong: 0, runs: 0, cellsWorstMiss: 0 },
};
const oursMissesMore: string[] = [];
const oursMissesFewerThanBoth: string[] = [];
const bucketsMissMore: string[] = [];
for (const rps of TRAFFIC) {
  for (const scenario of SCENARIOS) {
    const good = scenario.name === 'good';
    const runs = good ? GOOD_RUNS : BAD_RUNS;
    const counts = Object.fromEntries(JUDGES.map((j) => [j, { pass: 0, fail: 0, inconclusive: 0, times: [] as number[] }])) as Record<JudgeName, Record<Verdict, number> & { times: number[] }>;
    for (let r = 0; r < runs; r++) {
      const result = simulate(rps, scenario);
      for (const j of JUDGES) {
        counts[j][result[j].verdict]++;
        if (result[j].verdict !== 'inconclusive') counts[j].times.push(result[j].atS);
      }
    }
    const wrongOf = (j: JudgeName) => (good ? counts[j].fail : counts[j].pass);
    for (const j of JUDGES) {
      const c = counts[j];
      totals[j].wrong += wrongOf(j);
      totals[j].runs += runs;
      const rate = (n: number) => `${((100 * n) / runs).toFixed(1).padStart(5)}%`;
      console.log(
        `${`${String(rps).padStart(4)} req/s ${scenario.name}`.padEnd(29)} | ${j.padEnd(10)} | ${rate(wrongOf(j))} | ${rate(c.inconclusive).padStart(8)} | ${rate(c.pass)} | ${rate(c.fail)} | ${median(c.times).toFixed(0)}`,
      );
    }
    const cell = `${rps} req/s ${scenario.name}`;
    if (!good && (wrongOf('ours') > wrongOf('thresholds') || wrongOf('ours') > wrongOf('kayenta'))) oursMissesMore.push(cell);
    if (!good && wrongOf('ours') < wrongOf('thresholds') && wrongOf('ours') < wrongOf('kayenta')) oursMissesFewerThanBoth.push(cell);
    if (!good && (wrongOf('buckets') > wrongOf('thresholds') || wrongOf('buckets') > wrongOf('kayenta'))) bucketsMissMore.push(cell);
  }
}
console.log('');
console.log('wrong = false rollbacks on good canaries, missed (passed) regressions otherwise');
for (const j of JUDGES) console.log(`${j.padEnd(10)} wrong verdicts overall: ${totals[j].wrong} of ${totals[j].runs} runs`);
console.log(`regression cells where ours misses more than either: ${oursMissesMore.length === 0 ? 'none' : oursMissesMore.join(', ')}`);
console.log(`regression cells where ours misses strictly fewer than both: ${oursMissesFewerThanBoth.length} of ${TRAFFIC.length * (SCENARIOS.length - 1)} (elsewhere tied)`);
console.log(`regression cells where ours on buckets misses more than either: ${bucketsMissMore.length === 0 ? 'none' : bucketsMissMore.join(', ')}`);
console.log(`(${((Date.now() - started) / 1000).toFixed(0)} s)`);
