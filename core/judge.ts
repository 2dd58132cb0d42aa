/**
 * The statistical health judge: the canary against stable over the same window (issue 11). Errors are
 * judged by a two-proportion test (Agresti–Caffo adjusted, so zero counts never look certain), latency
 * by a Mann–Whitney rank test on a multiplicative shift, on latency samples (the proxy's figures) or on
 * histogram buckets (Prometheus: grouped data, see judgeBucketedLatency). Each metric has two one-sided tests:
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
  /** Latency judged from histogram buckets (a Prometheus source): the buckets that hold requests and the shifts tested. */
  buckets?: BucketEvidence;
}

/** The part of a latency histogram a verdict rests on. */
export interface BucketEvidence {
  /** Lower bound of the first bucket listed (ms); each bucket runs from the previous upper bound (exclusive) to its own. */
  lowerMs: number;
  /** Upper bound of each bucket listed (ms); null is +Inf. */
  upperBoundsMs: (number | null)[];
  canary: number[];
  stable: number[];
  /** Stable's latencies were stretched by these factors (smallest, largest over its buckets) for the two tests. */
  regressionFactor: [number, number];
  nonInferiorityFactor: [number, number];
}

export interface WindowVerdict {
  outcome: MetricOutcome;
  evidence: MetricEvidence[];
  words: string;
}

/**
 * A latency histogram as Prometheus keeps one (classic buckets): whole requests per bucket, ascending upper
 * bounds in ms; `counts` has one more entry than `boundsMs`, the requests above the last bound (le="+Inf").
 */
export interface LatencyHistogram {
  boundsMs: number[];
  counts: number[];
}

export interface VersionWindow {
  requests: number;
  errors: number;
  latenciesMs: number[];
  /** The window's latency histogram, when the health source gives buckets instead of samples (Prometheus). */
  latencyHistogram?: LatencyHistogram;
}
/** One probe's figures for a version (a VersionSample of core/health.ts). */
export interface ProbeFigures {
  requests: number;
  errors: number;
  latenciesMs?: number[];
  latencyHistogram?: LatencyHistogram;
}
/** Everything a gate has seen since its weight step began: the judge's window. */
export interface GateWindow {
  canary: VersionWindow;
  stable: VersionWindow;
  /** End (epoch ms) of the last probe window counted, for sources whose windows can overlap (Prometheus). */
  countedUntil?: number;
  /** Probes not counted because their window reached back into one already counted. */
  overlapping?: number;
}

/** Latency samples kept per version in a gate window; older ones give way (a rolling window). */
export const WINDOW_LATENCY_CAP = 6_000;

export const emptyWindow = (): GateWindow => ({
  canary: { requests: 0, errors: 0, latenciesMs: [] },
  stable: { requests: 0, errors: 0, latenciesMs: [] },
});

/**
 * Adds one probe to the gate's window (pure: returns a new window). A source that reports its window
 * (`source.windowMs`, ending at `at`: Prometheus) may give one reaching back into a window already counted
 * (its windows are at least two scrapes long, probes may come faster): such a probe is not added, so no
 * request counts twice; the next probe whose window starts at or after the last counted end is.
 */
export function accumulateWindow(
  window: GateWindow,
  sample: { canary: ProbeFigures; stable: ProbeFigures; at?: number; source?: { windowMs: number } },
): GateWindow {
  const windowMs = sample.source?.windowMs;
  if (windowMs !== undefined && sample.at !== undefined) {
    if (window.countedUntil !== undefined && sample.at - windowMs < window.countedUntil) return { ...window, overlapping: (window.overlapping ?? 0) + 1 };
    return { ...addProbe(window, sample), countedUntil: sample.at };
  }
  return addProbe(window, sample);
}

function addProbe(window: GateWindow, sample: { canary: ProbeFigures; stable: ProbeFigures }): GateWindow {
  const add = (into: VersionWindow, from: ProbeFigures): VersionWindow => {
    const latencyHistogram = addHistograms(into.latencyHistogram, from.latencyHistogram);
    return {
      requests: into.requests + from.requests,
      errors: into.errors + from.errors,
      latenciesMs: [...into.latenciesMs, ...(from.latenciesMs ?? [])].slice(-WINDOW_LATENCY_CAP),
      ...(latencyHistogram ? { latencyHistogram } : {}),
    };
  };
  return { ...window, canary: add(window.canary, sample.canary), stable: add(window.stable, sample.stable) };
}

/** How many looks a gate can take: one per probe until the soak limit. */
export function looksPerGate(judge: StatisticalJudge, probeIntervalMs: number): number {
  return looksWithin(judge.maxSoakMs, probeIntervalMs);
}

/** How many probes fit in `durationMs` (at least one): the looks a gate bounded by that time can take. */
export function looksWithin(durationMs: number, probeIntervalMs: number): number {
  return Math.max(1, Math.ceil(durationMs / probeIntervalMs));
}

/**
 * Bucket counts summed over probes. Bounds that changed (a proxy restarted with other buckets) cannot be
 * added to the old ones: the window's histogram restarts from the newer probe.
 */
function addHistograms(into: LatencyHistogram | undefined, from: LatencyHistogram | undefined): LatencyHistogram | undefined {
  if (!from) return into;
  if (!into || !sameBounds(into.boundsMs, from.boundsMs)) return { boundsMs: [...from.boundsMs], counts: [...from.counts] };
  return { boundsMs: into.boundsMs, counts: into.counts.map((c, i) => c + (from.counts[i] ?? 0)) };
}

const sameBounds = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);

const METRICS = 2;


/**
 * A latency verdict as evidence: the two rank tests' U and p, or, before the rank test can run (too few samples or
 * requests a side), untested and inconclusive.
 */
function latencyEvidence(
  base: Omit<MetricEvidence, 'requiredSamples' | 'regression' | 'nonInferiority' | 'outcome' | 'words'>,
  requiredSamples: number,
  tests: { regression: { u: number; p: number }; nonInferiority: { u: number; p: number } } | undefined,
  outcome: MetricOutcome,
  words: string,
): MetricEvidence {
  const test = (t: { u: number; p: number } | undefined) => ({ statistic: 'U', value: t?.u ?? Number.NaN, pValue: t?.p ?? 1 });
  return { ...base, requiredSamples, regression: test(tests?.regression), nonInferiority: test(tests?.nonInferiority), outcome, words };
}
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

/** A metric's outcome from its two tests: a shown regression fails; shown non-inferiority passes once the samples are in (`powered`). */
function verdict(pRegression: number, pNonInferiority: number, alpha: number, powered: boolean): MetricOutcome {
  // Stryker disable next-line EqualityOperator: p-values are continuous, so one exactly equal to α (where < and ≤ differ) has probability 0
  return pRegression < alpha ? 'fail' : pNonInferiority < alpha && powered ? 'pass' : 'inconclusive';
}
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
  const outcome = verdict(pRegression, pNonInferiority, alpha, canary.requests >= requiredSamples);
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
  // A source gives samples (the proxy) or buckets (Prometheus); buckets are judged as grouped data, never
  // expanded into made-up latencies.
  const { latencyHistogram: canaryBuckets } = window.canary;
  const { latencyHistogram: stableBuckets } = window.stable;
  if (window.canary.latenciesMs.length === 0 && window.stable.latenciesMs.length === 0 && (canaryBuckets || stableBuckets))
    return judgeBucketedLatency(canaryBuckets ?? emptyLike(stableBuckets!), stableBuckets ?? emptyLike(canaryBuckets!), judge, alpha);
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
  if (canary.length < judge.minLatencySamples || stable.length < judge.minLatencySamples)
    return latencyEvidence(base, judge.minLatencySamples, undefined, 'inconclusive', `${measured}: fewer than ${judge.minLatencySamples} samples a side, no rank test yet → inconclusive`);
  // Slower than stable×(1+tolerance)? Rank test of the canary scaled down by the tolerance.
  const slower = rankTest(canary, stable, 1 + tolerance);
  const pRegression = upperTail(slower.z);
  // Faster than stable×(1+margin)? The same test against the margin, lower tail.
  const withinMargin = rankTest(canary, stable, 1 + margin);
  const pNonInferiority = normalCdf(withinMargin.z, 0, 1);
  const requiredSamples = rankTestSamplesNeeded(stable, canary.length, margin, alpha, judge.power);
  const outcome = verdict(pRegression, pNonInferiority, alpha, canary.length >= requiredSamples);
  const change = stableMedian > 0 ? ` (${signedPct(canaryMedian / stableMedian - 1)})` : '';
  const because =
    outcome === 'fail'
      ? `slower than stable by more than ${pct(tolerance)} (U = ${slower.u}, z = ${fmt(slower.z)}, p = ${sci(pRegression)} < α = ${sci(alpha)}) → fail`
      : outcome === 'pass'
        ? `within ${pct(margin)} of stable (U = ${withinMargin.u}, p = ${sci(pNonInferiority)} < α = ${sci(alpha)}; ${canary.length} ≥ ${requiredSamples} samples needed) → pass`
        : `neither shown slower by more than ${pct(tolerance)} (p = ${sci(pRegression)}) nor within ${pct(margin)} (p = ${sci(pNonInferiority)}, α = ${sci(alpha)}; ${canary.length} of ~${requiredSamples} canary samples needed) → inconclusive`;
  return latencyEvidence(base, requiredSamples, { regression: { u: slower.u, p: pRegression }, nonInferiority: { u: withinMargin.u, p: pNonInferiority } }, outcome, `${measured}${change}: ${because}`);
}

/**
 * Mann–Whitney U of canary/scale against stable (U counts pairs where the scaled canary is slower, ties
 * half), with its normal approximation: tie-corrected variance and a continuity correction.
 */
export function mannWhitney(canary: readonly number[], stable: readonly number[], scale = 1): { u: number; z: number } {
  return rankTest(Float64Array.from(canary).sort(), Float64Array.from(stable).sort(), scale);
}

const emptyLike = (h: LatencyHistogram): LatencyHistogram => ({ boundsMs: h.boundsMs, counts: h.counts.map(() => 0) });

/**
 * The rank tests on histogram buckets (both versions on the same bounds). Within a bucket nothing is known,
 * so a shift of stable by a factor cannot move its requests exactly; each bucket moves to a whole bucket,
 * rounded so that each test keeps its error rate:
 *   regression: stable's bucket j goes to the lowest bucket whose upper bound ≥ upper(j)·(1+tolerance)
 *     (rounded up: a canary exactly at the tolerance is never more often "slower" than α);
 *   non-inferiority: to the highest bucket whose lower bound ≤ lower(j)·(1+margin) (rounded down: a canary
 *     exactly at the margin is never more often "within" than α).
 * On bounds ×r apart the tests are exact at the whole-bucket factors r^k; between bounds they are
 * conservative (the tolerance acts as the next factor above it, the margin as the next below it).
 */
function judgeBucketedLatency(canary: LatencyHistogram, stable: LatencyHistogram, judge: StatisticalJudge, alpha: number): MetricEvidence {
  const { tolerance, margin } = judge.latency;
  const bounds = canary.boundsMs;
  const base = { metric: 'latency' as const, alpha, tolerance, margin };
  if (!sameBounds(bounds, stable.boundsMs)) {
    const untested = { statistic: 'U', value: Number.NaN, pValue: 1 };
    return {
      ...base,
      canary: { samples: sum(canary.counts), value: 0 },
      stable: { samples: sum(stable.counts), value: 0 },
      requiredSamples: judge.minLatencySamples,
      regression: untested,
      nonInferiority: untested,
      outcome: 'inconclusive',
      words: 'latency (histogram buckets): canary and stable have different bucket bounds, no rank test → inconclusive',
    };
  }
  const nCanary = sum(canary.counts);
  const nStable = sum(stable.counts);
  const canaryMedian = histogramQuantile(bounds, canary.counts, 0.5);
  const stableMedian = histogramQuantile(bounds, stable.counts, 0.5);
  const up = stretchedBuckets(bounds, 1 + tolerance, 'up');
  const down = stretchedBuckets(bounds, 1 + margin, 'down');
  const regressionFactor = appliedFactors(bounds, stable.counts, up, 'up');
  const nonInferiorityFactor = appliedFactors(bounds, stable.counts, down, 'down');
  const buckets = bucketEvidence(bounds, canary.counts, stable.counts, regressionFactor, nonInferiorityFactor);
  const change = stableMedian > 0 ? ` (${signedPct(canaryMedian / stableMedian - 1)})` : '';
  const measured =
    `latency from histogram buckets (${bucketRange(buckets)}): canary median ≈ ${ms(canaryMedian)} (${nCanary} requests, middle half in ${middleHalf(bounds, canary.counts)}) ` +
    `vs stable ≈ ${ms(stableMedian)} (${nStable}, middle half in ${middleHalf(bounds, stable.counts)})${change}`;
  const evidenceBase = { ...base, canary: { samples: nCanary, value: canaryMedian }, stable: { samples: nStable, value: stableMedian }, buckets };
  if (nCanary < judge.minLatencySamples || nStable < judge.minLatencySamples)
    return latencyEvidence(evidenceBase, judge.minLatencySamples, undefined, 'inconclusive', `${measured}: fewer than ${judge.minLatencySamples} requests a side, no rank test yet → inconclusive`);
  const slower = groupedMannWhitney(canary.counts, stable.counts, up);
  const pRegression = upperTail(slower.z);
  const withinMargin = groupedMannWhitney(canary.counts, stable.counts, down);
  const pNonInferiority = normalCdf(withinMargin.z, 0, 1);
  const requiredSamples = groupedSamplesNeeded(stable.counts, down, nCanary, alpha, judge.power);
  const resolvable = requiredSamples < Number.MAX_SAFE_INTEGER;
  const outcome = verdict(pRegression, pNonInferiority, alpha, nCanary >= requiredSamples);
  const asTolerance = `tested as stable ${factorRange(regressionFactor)}, the ${pct(tolerance)} rounded up to whole buckets`;
  const asMargin = `tested as stable ${factorRange(nonInferiorityFactor)}, the ${pct(margin)} rounded down to whole buckets`;
  const needed = resolvable
    ? `${nCanary} of ~${requiredSamples} canary requests needed`
    : `these buckets are too coarse to show a ${pct(margin)} margin on a canary like stable (neighbouring bounds more than ×${fmt(1 + margin)} apart)`;
  const because =
    outcome === 'fail'
      ? `slower than stable by more than ${pct(tolerance)} (${asTolerance}; U = ${slower.u}, z = ${fmt(slower.z)}, p = ${sci(pRegression)} < α = ${sci(alpha)}) → fail`
      : outcome === 'pass'
        ? `within ${pct(margin)} of stable (${asMargin}; U = ${withinMargin.u}, p = ${sci(pNonInferiority)} < α = ${sci(alpha)}; ${nCanary} ≥ ${requiredSamples} requests needed) → pass`
        : `neither shown slower by more than ${pct(tolerance)} (${asTolerance}; p = ${sci(pRegression)}) nor within ${pct(margin)} (${asMargin}; p = ${sci(pNonInferiority)}, α = ${sci(alpha)}; ${needed}) → inconclusive`;
  return latencyEvidence(evidenceBase, requiredSamples, { regression: { u: slower.u, p: pRegression }, nonInferiority: { u: withinMargin.u, p: pNonInferiority } }, outcome, `${measured}: ${because}`);
}

/** Bucket j's lower and upper bound (bucket 0 starts at 0; the last one, above every bound, ends at +Inf). */
const lowerOf = (bounds: readonly number[], j: number) => (j === 0 ? 0 : bounds[j - 1]!);
const upperOf = (bounds: readonly number[], j: number) => bounds[j] ?? Number.POSITIVE_INFINITY;
/** Bounds are decimals printed by a client library: a relative slack of 1e-9 keeps ×1.1 of 1 at the bound 1.1. */
const SLACK = 1e-9;

/**
 * For each bucket j, the bucket that latencies in j reach when multiplied by `factor` ≥ 1, rounded to whole
 * buckets: 'up' gives the highest bucket they can reach (a latency ≤ upper(j) stretched stays ≤ upper(m)),
 * 'down' the lowest (a latency > lower(j) stretched stays > lower(m)).
 */
export function stretchedBuckets(boundsMs: readonly number[], factor: number, round: 'up' | 'down'): number[] {
  // Both loops stop at the last bucket at most: its upper bound, +∞, is never below a reach, nor at or below a finite one.
  return Array.from({ length: boundsMs.length + 1 }, (_, j) => {
    let m = j;
    if (round === 'up') {
      const reach = upperOf(boundsMs, j) * factor * (1 - SLACK);
      while (upperOf(boundsMs, m) < reach) m++;
    } else {
      const reach = lowerOf(boundsMs, j) * factor * (1 + SLACK);
      // lower(m + 1) is upper(m); the reach is finite here.
      while (upperOf(boundsMs, m) <= reach) m++;
    }
    return m;
  });
}

/** The factors a stretch really applied, over the finite buckets holding stable's requests: [smallest, largest]. */
function appliedFactors(bounds: readonly number[], counts: readonly number[], to: readonly number[], round: 'up' | 'down'): [number, number] {
  let low = Number.POSITIVE_INFINITY;
  let high = 0;
  counts.forEach((count, j) => {
    if (count === 0) return;
    const edge = round === 'up' ? upperOf(bounds, j) : lowerOf(bounds, j);
    const moved = round === 'up' ? upperOf(bounds, to[j]!) : lowerOf(bounds, to[j]!);
    // No factor from bucket 0's lower edge (0) or from the +Inf bucket or into it: 0/0, x/0, ∞/x and ∞/∞ are not finite.
    const factor = moved / edge;
    if (!Number.isFinite(factor)) return;
    low = Math.min(low, factor);
    high = Math.max(high, factor);
  });
  return low === Number.POSITIVE_INFINITY ? [1, 1] : [round4(low), round4(high)];
}

/**
 * Mann–Whitney U of grouped data: canary's bucket counts against stable's, stable's bucket j counted in bucket
 * `stableTo[j]` (identity when absent). U counts pairs where the canary's bucket is the higher one, pairs in
 * the same bucket as halves; the normal approximation uses the tie-corrected variance (every bucket a tie).
 */
export function groupedMannWhitney(canary: readonly number[], stable: readonly number[], stableTo?: readonly number[]): { u: number; z: number } {
  const moved = canary.map(() => 0);
  stable.forEach((count, j) => {
    const to = stableTo?.[j] ?? j;
    moved[to] = (moved[to] ?? 0) + count;
  });
  let u = 0;
  let below = 0;
  let tieTerm = 0;
  for (let i = 0; i < moved.length; i++) {
    const inCanary = canary[i] ?? 0;
    u += inCanary * (below + moved[i]! / 2);
    below += moved[i]!;
    const size = inCanary + moved[i]!;
    tieTerm += size ** 3 - size;
  }
  return normalApproximation(u, sum(canary), below, tieTerm);
}

/**
 * Noether's sample size on grouped data: θ = P(canary's bucket above stable's moved one) + ½P(same), for a
 * canary drawn from stable's own histogram, is how far the margin's whole-bucket shift shows on these bounds.
 * θ = ½ (bounds too coarse for the margin: nothing moves) needs infinitely many: MAX_SAFE_INTEGER.
 */
function groupedSamplesNeeded(stable: readonly number[], stableTo: readonly number[], canaryCount: number, alpha: number, power: number): number {
  const n = sum(stable);
  const theta = groupedMannWhitney(stable, stable, stableTo).u / (n * n);
  // Stryker disable next-line EqualityOperator: θ exactly ½ − 1e-9 does not occur (θ is a ratio of bucket counts); ≤ and < agree
  if (!(theta < 0.5 - 1e-9)) return Number.MAX_SAFE_INTEGER;
  return noetherCanarySamples(1 - theta, canaryCount, n, alpha, power);
}

/**
 * Noether's sample size for a rank test to show a shift whose P(stable moved by it > a like canary) is
 * `shiftProbability`; the canary's part of the total at the current canary:stable ratio.
 */
function noetherCanarySamples(shiftProbability: number, canaryCount: number, stableCount: number, alpha: number, power: number): number {
  const share = canaryCount / (canaryCount + stableCount);
  const zSum = zQuantile(1 - alpha) + zQuantile(power);
  const total = (zSum * zSum) / (12 * share * (1 - share) * (shiftProbability - 0.5) ** 2);
  return Math.ceil(share * total);
}

/** A quantile of a histogram, interpolated linearly inside its bucket (as PromQL's histogram_quantile does). */
export function histogramQuantile(boundsMs: readonly number[], counts: readonly number[], q: number): number {
  const n = sum(counts);
  if (n === 0) return 0;
  const rank = q * n;
  let before = 0;
  // Stryker disable next-line EqualityOperator: j === counts.length is never reached with q ≤ 1 (the last non-empty bucket holds rank n), and counts[j] undefined returns the same
  for (let j = 0; j < counts.length; j++) {
    const count = counts[j]!;
    if (count > 0 && before + count >= rank) {
      // Above the last bound nothing is known but the bound itself.
      if (j >= boundsMs.length) return boundsMs.at(-1) ?? 0;
      const lower = lowerOf(boundsMs, j);
      return lower + (upperOf(boundsMs, j) - lower) * ((rank - before) / count);
    }
    before += count;
  }
  // Stryker disable next-line UnaryOperator: reached only for q > 1 (with q ≤ 1 a bucket holds the rank), which no caller passes
  return boundsMs.at(-1) ?? 0;
}

/** The bucket holding a quantile: the first non-empty one whose running count reaches it (the last when all are empty). */
export function quantileBucket(counts: readonly number[], q: number): number {
  const rank = q * sum(counts);
  let before = 0;
  // Stryker disable next-line EqualityOperator: as in histogramQuantile, j === counts.length is never reached with q ≤ 1, and would return the same
  for (let j = 0; j < counts.length; j++) {
    before += counts[j]!;
    if (counts[j]! > 0 && before >= rank) return j;
  }
  return counts.length - 1;
}

/** The buckets holding requests of either version, with the shifts: what a verdict rests on. */
function bucketEvidence(bounds: readonly number[], canary: readonly number[], stable: readonly number[], regressionFactor: [number, number], nonInferiorityFactor: [number, number]): BucketEvidence {
  const held = canary.map((c, j) => c + (stable[j] ?? 0));
  let first = held.findIndex((c) => c > 0);
  let last = held.length - 1 - [...held].reverse().findIndex((c) => c > 0);
  if (first === -1) (first = 0), (last = -1);
  const range = Array.from({ length: Math.max(0, last - first + 1) }, (_, k) => first + k);
  return {
    lowerMs: lowerOf(bounds, first),
    upperBoundsMs: range.map((j) => (j >= bounds.length ? null : bounds[j]!)),
    canary: range.map((j) => canary[j]!),
    stable: range.map((j) => stable[j]!),
    regressionFactor,
    nonInferiorityFactor,
  };
}

const boundText = (bound: number | null) => (bound === null ? '+Inf' : `${round4(bound)}`);
const bucketRange = (b: BucketEvidence) =>
  b.upperBoundsMs.length === 0 ? 'none hold requests' : `${b.upperBoundsMs.length} buckets holding requests, (${round4(b.lowerMs)}, ${boundText(b.upperBoundsMs.at(-1)!)}] ms`;
function middleHalf(bounds: readonly number[], counts: readonly number[]): string {
  if (sum(counts) === 0) return 'no bucket';
  const from = quantileBucket(counts, 0.25);
  const to = quantileBucket(counts, 0.75);
  return `(${round4(lowerOf(bounds, from))}, ${boundText(to >= bounds.length ? null : bounds[to]!)}] ms`;
}
const factorRange = ([low, high]: [number, number]) => (low === high ? `×${low}` : `×${low}–${high}`);
const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
const round4 = (n: number) => Number(n.toPrecision(4));

/** mannWhitney on samples already sorted ascending (dividing by a positive scale keeps them sorted). */
function rankTest(c: Float64Array, s: Float64Array, scale: number): { u: number; z: number } {
  const n1 = c.length;
  const n2 = s.length;
  // Merge the two sorted samples, giving each run of tied values its average rank.
  let rankSum = 0;
  let tieTerm = 0;
  let placed = 0;
  for (let i = 0, j = 0; i < n1 || j < n2; ) {
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalents: a typed array read past its end is undefined (NaN after the division), which compares false as `i < n1` would; on a tie either side gives the same v
    const v = j >= n2 || (i < n1 && c[i]! / scale <= s[j]!) ? c[i]! / scale : s[j]!;
    let inCanary = 0;
    let inStable = 0;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent as above: past the end the read is NaN or undefined, never === v
    while (i < n1 && c[i]! / scale === v) (i++, inCanary++);
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent as above
    while (j < n2 && s[j] === v) (j++, inStable++);
    const size = inCanary + inStable;
    rankSum += inCanary * (placed + (size + 1) / 2);
    tieTerm += size ** 3 - size;
    placed += size;
  }
  return normalApproximation(rankSum - (n1 * (n1 + 1)) / 2, n1, n2, tieTerm);
}

/** U's normal approximation: tie-corrected variance (tieTerm = Σ t³ − t over tied groups) and a continuity correction. */
function normalApproximation(u: number, n1: number, n2: number, tieTerm: number): { u: number; z: number } {
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
  // No spread (σ = 0): the margin's shift over 0 is +∞, and every shifted reading is worse (probability 1).
  const shiftProbability = normalCdf(Math.log(1 + margin) / (sigma * Math.SQRT2), 0, 1);
  return noetherCanarySamples(shiftProbability, canaryCount, stable.length, alpha, power);
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

/**
 * A metric template's own judge (core/metric-gates.ts): canary against stable on any PromQL series (CPU, a
 * business metric), one reading per version per probe. The same two rank tests as latency, on a shift that is
 * relative (× stable) or absolute (in the query's unit), in the direction that is worse; and a tail test, because
 * a rank test weighs 3 readings at 100× stable like 3 readings just above it (Kayenta's Mann–Whitney passes such a
 * canary, spinnaker/kayenta#780): under "alike", the chance that the k highest of all readings are all the
 * canary's is C(n_c, k) / C(n_c + n_s, k). Too many canary readings beyond everything stable showed fails the
 * gate; any sign of it (p < 0.05) keeps the gate from passing.
 */
export const seriesJudgeSchema = z
  .object({
    /** Which way the series goes bad: 'higher' (errors, CPU, latency) or 'lower' (successes, throughput). */
    worseWhen: z.enum(['higher', 'lower']),
    /** 'relative': tolerance and margin are shares of stable's values (0.1 = 10%); 'absolute': in the query's unit. */
    shift: z.enum(['relative', 'absolute']).default('relative'),
    /** A change this small never fails the gate. */
    tolerance: z.number().min(0).default(0.1),
    /** The change the gate must rule out before it passes. */
    margin: z.number().gt(0).default(0.2),
    /** Readings per version before any test runs (Spinnaker advises ≥ 50 points for its judge). */
    minSamples: z.number().int().min(5).max(10_000).default(20),
    /** Probability of failing a canary as good as stable, over every look the gate can take. */
    errorBudget: z.number().gt(0).max(0.2).default(0.01),
    /** Probability of passing a canary exactly as good as stable once it has the readings it needs. */
    power: z.number().min(0.5).lt(1).default(0.8),
  })
  .strict()
  .superRefine((judge, ctx) => {
    if (judge.tolerance >= judge.margin) ctx.addIssue({ code: 'custom', path: ['tolerance'], message: `must be smaller than the margin ${judge.margin}` });
    if (judge.shift === 'relative' && judge.worseWhen === 'lower' && judge.margin >= 1)
      ctx.addIssue({ code: 'custom', path: ['margin'], message: 'a relative drop must be below 1 (100% of stable)' });
  });

export type SeriesJudgeInput = z.input<typeof seriesJudgeSchema>;
export type SeriesJudge = z.output<typeof seriesJudgeSchema>;

/** Readings of one template over a gate's window, per version, in the order taken. */
export interface SeriesWindow {
  canary: number[];
  stable: number[];
}

/** A template judge's verdict: the rank tests as MetricEvidence, and the tail test beside them. */
export interface SeriesEvidence extends Omit<MetricEvidence, 'metric' | 'buckets'> {
  metric: 'series';
  name: string;
  worseWhen: SeriesJudge['worseWhen'];
  shift: SeriesJudge['shift'];
  /** Canary readings worse than every stable reading moved by the tolerance, and the chance of that many under "alike". */
  tail: { beyond: number; pValue: number };
}

/** Below this tail p-value a gate does not pass (but fails only below its α). */
const TAIL_SUSPICION = 0.05;

/** Readings kept per version in a series window (a rolling window, as for latency samples). */
export const SERIES_READINGS_CAP = 2_000;

/** Judges one template's readings; `looks` is how many looks the gate can take (the error budget is split over them). */
export function judgeSeries(name: string, window: SeriesWindow, judge: SeriesJudge, looks: number): SeriesEvidence {
  const alpha = judge.errorBudget / Math.max(1, looks);
  const { worseWhen, shift, tolerance, margin } = judge;
  // Everything in "badness" (higher is worse), so one set of one-sided tests serves both directions.
  const bad = (v: number) => (worseWhen === 'higher' ? v : -v);
  const moved = (v: number, by: number) => bad(shift === 'absolute' ? v + (worseWhen === 'higher' ? by : -by) : v * (1 + (worseWhen === 'higher' ? by : -by)));
  const canary = Float64Array.from(window.canary, bad).sort();
  const stableSorted = Float64Array.from(window.stable).sort();
  // Medians in the query's unit (badness flips the sign of a 'lower is worse' canary).
  const canaryMedian = quantileOfSorted(Float64Array.from(window.canary).sort(), 0.5);
  const stableMedian = quantileOfSorted(stableSorted, 0.5);
  const unit = (n: number) => (shift === 'relative' ? pct(n) : figure(n));
  const measured = `${name}: canary median ${figure(canaryMedian)} (${canary.length} readings) vs stable ${figure(stableMedian)} (${stableSorted.length})`;
  const base = {
    metric: 'series' as const,
    name,
    worseWhen,
    shift,
    canary: { samples: canary.length, value: canaryMedian },
    stable: { samples: stableSorted.length, value: stableMedian },
    alpha,
    tolerance,
    margin,
  };
  const untested = { statistic: 'U', value: Number.NaN, pValue: 1 };
  if (canary.length < judge.minSamples || stableSorted.length < judge.minSamples)
    return {
      ...base,
      requiredSamples: judge.minSamples,
      regression: untested,
      nonInferiority: untested,
      tail: { beyond: 0, pValue: 1 },
      outcome: 'inconclusive',
      words: `${measured}: fewer than ${judge.minSamples} readings a side, no test yet → inconclusive`,
    };
  const atTolerance = Float64Array.from(window.stable, (v) => moved(v, tolerance)).sort();
  const atMargin = Float64Array.from(window.stable, (v) => moved(v, margin)).sort();
  const worse = rankTest(canary, atTolerance, 1);
  const pRegression = upperTail(worse.z);
  const within = rankTest(canary, atMargin, 1);
  const pNonInferiority = normalCdf(within.z, 0, 1);
  const highest = atTolerance[atTolerance.length - 1]!;
  const beyond = canary.filter((v) => v > highest).length;
  const pTail = topAllCanary(beyond, canary.length, atTolerance.length);
  const requiredSamples = noetherCanarySamples(seriesShiftProbability(stableSorted, judge), canary.length, stableSorted.length, alpha, judge.power);
  // The two ways to fail share α; passing needs the non-inferiority test, the readings, and no hint of a tail.
  // Stryker disable next-line EqualityOperator: p-values of the rank tests are continuous (one equal to α/2 or α has probability 0); the tail's, which is not, is tested at its limits
  const regressed = pRegression < alpha / 2;
  const tailed = pTail < alpha / 2;
  // Stryker disable next-line EqualityOperator: as above, for the non-inferiority p-value (the other comparisons are tested at equality)
  const shownWithin = pNonInferiority < alpha;
  const outcome: MetricOutcome = regressed || tailed ? 'fail' : shownWithin && canary.length >= requiredSamples && pTail >= TAIL_SUSPICION ? 'pass' : 'inconclusive';
  const direction = worseWhen === 'higher' ? 'higher' : 'lower';
  const tailWords = `${beyond} canary reading${beyond === 1 ? '' : 's'} ${direction} than all of stable's (p = ${sci(pTail)})`;
  const because =
    outcome === 'fail'
      ? regressed
        ? `${direction} than stable by more than ${unit(tolerance)} (U = ${worse.u}, z = ${fmt(worse.z)}, p = ${sci(pRegression)} < α/2 = ${sci(alpha / 2)}) → fail`
        : `${tailWords} < α/2 = ${sci(alpha / 2)}: a tail stable never shows → fail`
      : outcome === 'pass'
        ? `within ${unit(margin)} of stable (U = ${within.u}, p = ${sci(pNonInferiority)} < α = ${sci(alpha)}; ${canary.length} ≥ ${requiredSamples} readings needed; ${tailWords}) → pass`
        : `neither shown ${direction} by more than ${unit(tolerance)} (p = ${sci(pRegression)}) nor within ${unit(margin)} (p = ${sci(pNonInferiority)}, α = ${sci(alpha)}; ${canary.length} of ~${requiredSamples} readings needed; ${tailWords}) → inconclusive`;
  return {
    ...base,
    requiredSamples,
    regression: { statistic: 'U', value: worse.u, pValue: pRegression },
    nonInferiority: { statistic: 'U', value: within.u, pValue: pNonInferiority },
    tail: { beyond, pValue: pTail },
    outcome,
    words: `${measured}: ${because}`,
  };
}

/** P(the k highest of n_c + n_s exchangeable readings are all the canary's) = C(n_c, k) / C(n_c + n_s, k). */
export function topAllCanary(k: number, canaryCount: number, stableCount: number): number {
  let p = 1;
  for (let i = 0; i < k; i++) p *= (canaryCount - i) / (canaryCount + stableCount - i);
  return p;
}

/**
 * P(a stable reading moved by the margin is worse than a like canary one), from stable's spread (IQR/1.349):
 * on logs for a relative shift of positive readings, else in the query's unit (a relative margin then taken
 * of stable's median).
 */
function seriesShiftProbability(stableSorted: Float64Array, judge: SeriesJudge): number {
  const q1 = quantileOfSorted(stableSorted, 0.25);
  const q3 = quantileOfSorted(stableSorted, 0.75);
  const onLogs = judge.shift === 'relative' && q1 > 0;
  const spread = onLogs ? (Math.log(q3) - Math.log(q1)) / 1.349 : (q3 - q1) / 1.349;
  const medianValue = quantileOfSorted(stableSorted, 0.5);
  const effect = onLogs
    ? Math.abs(Math.log(1 + (judge.worseWhen === 'higher' ? judge.margin : -judge.margin)))
    : judge.shift === 'absolute'
      ? judge.margin
      : judge.margin * Math.abs(medianValue);
  return spread > 0 ? normalCdf(effect / (spread * Math.SQRT2), 0, 1) : 1;
}

const figure = (n: number) => String(Number(n.toPrecision(4)));
