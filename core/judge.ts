/**
 * The statistical health judge: the canary against stable over the same window (issue 11). Errors are
 * judged by a two-proportion test (Agresti–Caffo adjusted, so zero counts never look certain), latency
 * by a Mann–Whitney rank test on a multiplicative shift. Each metric has two one-sided tests:
 *   regression      H1: canary worse than stable by more than `tolerance`   → fail
 *   non-inferiority H1: canary worse by less than `margin`                  → pass (if powered)
 * and neither is "inconclusive": the gate soaks on instead of guessing. Both tests run at every look,
 * so the configured error budget is split (Bonferroni) over the looks a gate can take and the metrics.
 */
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import { z } from 'zod';

export const statisticalJudgeSchema = z
  .object({
    /** Probability that a gate fails a canary as good as stable (and passes one exactly at the margin). */
    errorBudget: z.number().gt(0).max(0.2).default(0.01),
    /** Probability of passing a canary that is exactly as good as stable, once the soak has the samples it needs. */
    power: z.number().min(0.5).lt(1).default(0.8),
    errorRate: z
      .object({
        /** Absolute error-rate increase (0.001 = 0.1 points) too small to matter: never a failure. */
        tolerance: z.number().min(0).max(0.5).default(0.001),
        /** Absolute increase the gate must rule out before it passes (0.005 = 0.5 points). */
        margin: z.number().gt(0).max(0.5).default(0.005),
      })
      .strict()
      .default({}),
    latency: z
      .object({
        /** Relative slow-down (0.05 = 5%) too small to matter. */
        tolerance: z.number().min(0).max(10).default(0.05),
        /** Relative slow-down the gate must rule out before it passes (0.1 = 10%). */
        margin: z.number().gt(0).max(10).default(0.1),
      })
      .strict()
      .default({}),
    /** Latency samples per version below which the rank test's normal approximation is not trusted. */
    minLatencySamples: z.number().int().min(5).default(20),
    /** How long a gate keeps soaking while the judge is inconclusive (ms). */
    maxSoakMs: z.number().int().positive().default(600_000),
    /** At the soak limit, still inconclusive: roll back (fail closed) or wait for an operator's promote or abort. */
    onInconclusive: z.enum(['rollback', 'approval']).default('rollback'),
  })
  .strict()
  .superRefine((judge, ctx) => {
    if (judge.errorRate.tolerance >= judge.errorRate.margin)
      ctx.addIssue({ code: 'custom', path: ['errorRate', 'tolerance'], message: `must be smaller than the margin ${judge.errorRate.margin}` });
    if (judge.latency.tolerance >= judge.latency.margin)
      ctx.addIssue({ code: 'custom', path: ['latency', 'tolerance'], message: `must be smaller than the margin ${judge.latency.margin}` });
  });

export type StatisticalJudge = z.output<typeof statisticalJudgeSchema>;

export type MetricOutcome = 'pass' | 'fail' | 'inconclusive';

/** What a verdict on one metric rests on: enough to recompute it, and a sentence for people. */
export interface MetricEvidence {
  metric: 'error-rate' | 'latency';
  canary: { samples: number; value: number };
  stable: { samples: number; value: number };
  /** Canary samples the non-inferiority test needs for the configured power. */
  requiredSamples: number;
  regression: { statistic: string; value: number; pValue: number };
  nonInferiority: { statistic: string; value: number; pValue: number };
  /** Per-test significance level after splitting the error budget over looks and metrics. */
  alpha: number;
  tolerance: number;
  margin: number;
  outcome: MetricOutcome;
  words: string;
}

export interface WindowVerdict {
  outcome: MetricOutcome;
  evidence: MetricEvidence[];
  words: string;
}

export interface VersionWindow {
  requests: number;
  errors: number;
  latenciesMs: number[];
}
/** One probe's figures for a version (a VersionSample of core/health.ts). */
export interface ProbeFigures {
  requests: number;
  errors: number;
  latenciesMs?: number[];
}
/** Everything a gate has seen since its weight step began: the judge's window. */
export interface GateWindow {
  canary: VersionWindow;
  stable: VersionWindow;
}

/** Latency samples kept per version in a gate window; older ones give way (a rolling window). */
export const WINDOW_LATENCY_CAP = 6_000;

export const emptyWindow = (): GateWindow => ({
  canary: { requests: 0, errors: 0, latenciesMs: [] },
  stable: { requests: 0, errors: 0, latenciesMs: [] },
});

/** Adds one probe to the gate's window (pure: returns a new window). */
export function accumulateWindow(window: GateWindow, sample: { canary: ProbeFigures; stable: ProbeFigures }): GateWindow {
  const add = (into: VersionWindow, from: ProbeFigures): VersionWindow => ({
    requests: into.requests + from.requests,
    errors: into.errors + from.errors,
    latenciesMs: [...into.latenciesMs, ...(from.latenciesMs ?? [])].slice(-WINDOW_LATENCY_CAP),
  });
  return { canary: add(window.canary, sample.canary), stable: add(window.stable, sample.stable) };
}

/** How many looks a gate can take: one per probe until the soak limit. */
export function looksPerGate(judge: StatisticalJudge, probeIntervalMs: number): number {
  return Math.max(1, Math.ceil(judge.maxSoakMs / probeIntervalMs));
}

const METRICS = 2;

/** Judges the canary against stable over one window. `looks` is the number of looks the gate may take. */
export function judgeWindow(window: GateWindow, judge: StatisticalJudge, looks: number): WindowVerdict {
  const alpha = judge.errorBudget / (looks * METRICS);
  const evidence = [judgeErrorRate(window, judge, alpha), judgeLatency(window, judge, alpha)];
  const outcome: MetricOutcome = evidence.some((e) => e.outcome === 'fail')
    ? 'fail'
    : evidence.every((e) => e.outcome === 'pass')
      ? 'pass'
      : 'inconclusive';
  return { outcome, evidence, words: evidence.map((e) => e.words).join('; ') };
}

const upperTail = (z: number): number => 1 - normalCdf(z, 0, 1);
const zQuantile = (p: number): number => normalQuantile(p, 0, 1);

function judgeErrorRate(window: GateWindow, judge: StatisticalJudge, alpha: number): MetricEvidence {
  const { tolerance, margin } = judge.errorRate;
  const { canary, stable } = window;
  // Agresti–Caffo: one error and one success added to each side, so 0/20 is not "certainly 0%".
  const pc = (canary.errors + 1) / (canary.requests + 2);
  const ps = (stable.errors + 1) / (stable.requests + 2);
  const diff = pc - ps;
  const se = Math.sqrt((pc * (1 - pc)) / (canary.requests + 2) + (ps * (1 - ps)) / (stable.requests + 2));
  const zRegression = (diff - tolerance) / se;
  const zNonInferiority = (margin - diff) / se;
  const pRegression = upperTail(zRegression);
  const pNonInferiority = upperTail(zNonInferiority);
  // n per canary request so that, with equal true rates, the upper bound falls under the margin with the configured power.
  const ratio = canary.requests > 0 && stable.requests > 0 ? stable.requests / canary.requests : 1;
  const zSum = zQuantile(1 - alpha) + zQuantile(judge.power);
  const requiredSamples = Math.ceil((zSum * zSum * ps * (1 - ps) * (1 + 1 / ratio)) / (margin * margin));
  const rawCanary = canary.requests > 0 ? canary.errors / canary.requests : 0;
  const rawStable = stable.requests > 0 ? stable.errors / stable.requests : 0;
  const outcome: MetricOutcome =
    pRegression < alpha ? 'fail' : pNonInferiority < alpha && canary.requests >= requiredSamples ? 'pass' : 'inconclusive';
  const measured = `error rate: canary ${pct(rawCanary)} (${canary.errors}/${canary.requests}) vs stable ${pct(rawStable)} (${stable.errors}/${stable.requests})`;
  const because =
    outcome === 'fail'
      ? `more than ${points(tolerance)} worse (z = ${fmt(zRegression)}, p = ${sci(pRegression)} < α = ${sci(alpha)}) → fail`
      : outcome === 'pass'
        ? `within ${points(margin)} (z = ${fmt(zNonInferiority)}, p = ${sci(pNonInferiority)} < α = ${sci(alpha)}; ${canary.requests} ≥ ${requiredSamples} requests needed) → pass`
        : `neither shown worse by more than ${points(tolerance)} (p = ${sci(pRegression)}) nor within ${points(margin)} (p = ${sci(pNonInferiority)}, α = ${sci(alpha)}; ${canary.requests} of ~${requiredSamples} canary requests needed) → inconclusive`;
  return {
    metric: 'error-rate',
    canary: { samples: canary.requests, value: rawCanary },
    stable: { samples: stable.requests, value: rawStable },
    requiredSamples,
    regression: { statistic: 'z', value: zRegression, pValue: pRegression },
    nonInferiority: { statistic: 'z', value: zNonInferiority, pValue: pNonInferiority },
    alpha,
    tolerance,
    margin,
    outcome,
    words: `${measured}: ${because}`,
  };
}

function judgeLatency(window: GateWindow, judge: StatisticalJudge, alpha: number): MetricEvidence {
  const { tolerance, margin } = judge.latency;
  // Sorted once: the rank tests, medians and spread all read the sorted samples.
  const canary = Float64Array.from(window.canary.latenciesMs).sort();
  const stable = Float64Array.from(window.stable.latenciesMs).sort();
  const canaryMedian = quantileOfSorted(canary, 0.5);
  const stableMedian = quantileOfSorted(stable, 0.5);
  const measured = `latency: canary median ${ms(canaryMedian)} (${canary.length} samples) vs stable ${ms(stableMedian)} (${stable.length})`;
  const base = {
    metric: 'latency' as const,
    canary: { samples: canary.length, value: canaryMedian },
    stable: { samples: stable.length, value: stableMedian },
    alpha,
    tolerance,
    margin,
  };
  if (canary.length < judge.minLatencySamples || stable.length < judge.minLatencySamples) {
    const untested = { statistic: 'U', value: Number.NaN, pValue: 1 };
    return {
      ...base,
      requiredSamples: judge.minLatencySamples,
      regression: untested,
      nonInferiority: untested,
      outcome: 'inconclusive',
      words: `${measured}: fewer than ${judge.minLatencySamples} samples a side, no rank test yet → inconclusive`,
    };
  }
  // Slower than stable×(1+tolerance)? Rank test of the canary scaled down by the tolerance.
  const slower = rankTest(canary, stable, 1 + tolerance);
  const pRegression = upperTail(slower.z);
  // Faster than stable×(1+margin)? The same test against the margin, lower tail.
  const withinMargin = rankTest(canary, stable, 1 + margin);
  const pNonInferiority = normalCdf(withinMargin.z, 0, 1);
  const requiredSamples = rankTestSamplesNeeded(stable, canary.length, margin, alpha, judge.power);
  const outcome: MetricOutcome =
    pRegression < alpha ? 'fail' : pNonInferiority < alpha && canary.length >= requiredSamples ? 'pass' : 'inconclusive';
  const change = stableMedian > 0 ? ` (${signedPct(canaryMedian / stableMedian - 1)})` : '';
  const because =
    outcome === 'fail'
      ? `slower than stable by more than ${pct(tolerance)} (U = ${slower.u}, z = ${fmt(slower.z)}, p = ${sci(pRegression)} < α = ${sci(alpha)}) → fail`
      : outcome === 'pass'
        ? `within ${pct(margin)} of stable (U = ${withinMargin.u}, p = ${sci(pNonInferiority)} < α = ${sci(alpha)}; ${canary.length} ≥ ${requiredSamples} samples needed) → pass`
        : `neither shown slower by more than ${pct(tolerance)} (p = ${sci(pRegression)}) nor within ${pct(margin)} (p = ${sci(pNonInferiority)}, α = ${sci(alpha)}; ${canary.length} of ~${requiredSamples} canary samples needed) → inconclusive`;
  return {
    ...base,
    requiredSamples,
    regression: { statistic: 'U', value: slower.u, pValue: pRegression },
    nonInferiority: { statistic: 'U', value: withinMargin.u, pValue: pNonInferiority },
    outcome,
    words: `${measured}${change}: ${because}`,
  };
}

/**
 * Mann–Whitney U of canary/scale against stable (U counts pairs where the scaled canary is slower, ties
 * half), with its normal approximation: tie-corrected variance and a continuity correction.
 */
export function mannWhitney(canary: readonly number[], stable: readonly number[], scale = 1): { u: number; z: number } {
  return rankTest(Float64Array.from(canary).sort(), Float64Array.from(stable).sort(), scale);
}

/** mannWhitney on samples already sorted ascending (dividing by a positive scale keeps them sorted). */
function rankTest(c: Float64Array, s: Float64Array, scale: number): { u: number; z: number } {
  const n1 = c.length;
  const n2 = s.length;
  // Merge the two sorted samples, giving each run of tied values its average rank.
  let rankSum = 0;
  let tieTerm = 0;
  let placed = 0;
  for (let i = 0, j = 0; i < n1 || j < n2; ) {
    const v = j >= n2 || (i < n1 && c[i]! / scale <= s[j]!) ? c[i]! / scale : s[j]!;
    let inCanary = 0;
    let inStable = 0;
    while (i < n1 && c[i]! / scale === v) (i++, inCanary++);
    while (j < n2 && s[j] === v) (j++, inStable++);
    const size = inCanary + inStable;
    rankSum += inCanary * (placed + (size + 1) / 2);
    tieTerm += size ** 3 - size;
    placed += size;
  }
  const u = rankSum - (n1 * (n1 + 1)) / 2;
  const n = n1 + n2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (variance <= 0) return { u, z: 0 };
  const continuity = u > mean ? -0.5 : u < mean ? 0.5 : 0;
  return { u, z: (u - mean + continuity) / Math.sqrt(variance) };
}

/**
 * Noether's sample size for the rank test to show "within the margin" when canary and stable are alike:
 * the spread of stable's log-latencies (robust: IQR/1.349) turns the margin into P(X > Y) under the shift.
 */
function rankTestSamplesNeeded(stable: Float64Array, canaryCount: number, margin: number, alpha: number, power: number): number {
  // Quartiles of the logs are the logs of the quartiles (log is monotone); latencies are > 0.
  const q1 = quantileOfSorted(stable, 0.25);
  const q3 = quantileOfSorted(stable, 0.75);
  const sigma = q1 > 0 ? (Math.log(q3) - Math.log(q1)) / 1.349 : 0;
  const shiftProbability = sigma > 0 ? normalCdf(Math.log(1 + margin) / (sigma * Math.SQRT2), 0, 1) : 1;
  const share = canaryCount / (canaryCount + stable.length);
  const zSum = zQuantile(1 - alpha) + zQuantile(power);
  const total = (zSum * zSum) / (12 * share * (1 - share) * (shiftProbability - 0.5) ** 2);
  return Math.ceil(share * total);
}

/** Linear-interpolated quantile of an ascending sample; 0 for none. */
function quantileOfSorted(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  const high = Math.min(sorted.length - 1, low + 1);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (at - low);
}

const fmt = (n: number) => n.toFixed(2);
const sci = (n: number) => (n === 0 ? '0' : n < 0.001 ? n.toExponential(1) : n.toPrecision(2));
const pct = (n: number) => `${(n * 100).toFixed(2)}%`;
const signedPct = (n: number) => `${n >= 0 ? '+' : ''}${(n * 100).toFixed(1)}%`;
const points = (n: number) => `${(n * 100).toFixed(2)} points`;
const ms = (n: number) => `${n.toFixed(1)} ms`;
