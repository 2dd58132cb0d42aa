/**
 * The judge on histogram buckets (a Prometheus source): the grouped rank test, whole-bucket shifts that keep
 * each test's error rate, and the verdicts and words on bucketed windows.
 */
import fc from 'fast-check';
import { rng as uniforms } from '../../../evals/perturbations';
import {
  accumulateWindow,
  emptyWindow,
  groupedMannWhitney,
  histogramQuantile,
  judgeWindow,
  mannWhitney,
  statisticalJudgeSchema,
  stretchedBuckets,
  type GateWindow,
  type LatencyHistogram,
} from '../../../core/judge';
import { DURATION_BUCKETS } from '../../../delivery/proxy';
import { describeHealthChecks, parseRolloutPlan } from '../../../core/rollout-plan';

const judge = statisticalJudgeSchema.parse({});
/** The proxy's bounds in ms, as the Prometheus source hands them to the judge. */
const BOUNDS_MS = DURATION_BUCKETS.map((s) => Number((s * 1000).toPrecision(12)));
/** Prometheus' and prom-client's default bounds (ms): ×2–2.5 apart. */
const COARSE_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

const bucketIndex = (bounds: readonly number[], x: number) => {
  const j = bounds.findIndex((b) => x <= b);
  return j === -1 ? bounds.length : j;
};

function histogram(bounds: readonly number[], latencies: readonly number[]): LatencyHistogram {
  const counts = new Array<number>(bounds.length + 1).fill(0);
  for (const x of latencies) counts[bucketIndex(bounds, x)]!++;
  return { boundsMs: [...bounds], counts };
}

/** Log-normal latencies (median `medianMs`, log-sd `sigma`), times `factor`, from a seeded generator. */
function latencies(seed: number, count: number, medianMs: number, sigma: number, factor = 1): number[] {
  const next = uniforms(seed);
  return Array.from({ length: count }, () => {
    const z = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
    return medianMs * Math.exp(sigma * z) * factor;
  });
}

function bucketWindow(bounds: readonly number[], canary: number[], stable: number[]): GateWindow {
  return {
    canary: { requests: canary.length, errors: 0, latenciesMs: [], latencyHistogram: histogram(bounds, canary) },
    stable: { requests: stable.length, errors: 0, latenciesMs: [], latencyHistogram: histogram(bounds, stable) },
  };
}
const latencyOf = (window: GateWindow, j: typeof judge, looks: number) => judgeWindow(window, j, looks).evidence.find((e) => e.metric === 'latency')!;

describe('groupedMannWhitney', () => {
  it('is the rank test with ties on the bucket indices: same U, same z', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 1, maxLength: 60 }), fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 1, maxLength: 60 }), (c, s) => {
        const counts = (xs: number[]) => Array.from({ length: 8 }, (_, j) => xs.filter((x) => x === j).length);
        const grouped = groupedMannWhitney(counts(c), counts(s));
        const raw = mannWhitney(c, s);
        expect(grouped.u).toBe(raw.u);
        expect(grouped.z).toBeCloseTo(raw.z, 9);
      }),
      { numRuns: 200 },
    );
  });

  it('counts stable where the map sends it: moved up a bucket, an identical histogram looks faster', () => {
    const counts = [0, 10, 20, 10, 0];
    expect(groupedMannWhitney(counts, counts).u).toBe(800); // all ties or symmetric: n1·n2/2
    expect(groupedMannWhitney(counts, counts, [1, 2, 3, 4, 4]).u).toBeLessThan(800);
  });
});

describe('stretchedBuckets', () => {
  it('brackets where every stretched latency lands: between the rounded-down and the rounded-up bucket', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 20_000, noNaN: true }), fc.double({ min: 1, max: 4, noNaN: true }), (x, factor) => {
        for (const bounds of [BOUNDS_MS, COARSE_MS]) {
          const j = bucketIndex(bounds, x);
          const landed = bucketIndex(bounds, x * factor);
          expect(landed).toBeGreaterThanOrEqual(stretchedBuckets(bounds, factor, 'down')[j]!);
          expect(landed).toBeLessThanOrEqual(stretchedBuckets(bounds, factor, 'up')[j]!);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("moves the proxy's buckets (×1.09 apart) one bucket for a 5% tolerance and a 10% margin; coarse ones not at all for the margin", () => {
    const j = bucketIndex(BOUNDS_MS, 20);
    expect(stretchedBuckets(BOUNDS_MS, 1.05, 'up')[j]).toBe(j + 1);
    expect(stretchedBuckets(BOUNDS_MS, 1.1, 'down')[j]).toBe(j + 1);
    expect(stretchedBuckets(BOUNDS_MS, 1.2, 'down')[j]).toBe(j + 2);
    const k = bucketIndex(COARSE_MS, 20);
    expect(stretchedBuckets(COARSE_MS, 1.1, 'down')[k]).toBe(k);
    expect(stretchedBuckets(COARSE_MS, 1.05, 'up')[k]).toBe(k + 1);
  });
});

describe('judgeWindow on histogram buckets', () => {
  // One look, a 20% budget: α = 10% per test, so a miscalibrated test shows within a few hundred windows.
  const loose = statisticalJudgeSchema.parse({ errorBudget: 0.2 });
  const alpha = 0.1;
  const runs = 300;
  // More than α·runs + 3 standard deviations would be far out (p < 0.002).
  const allowed = Math.ceil(alpha * runs + 3 * Math.sqrt(runs * alpha * (1 - alpha)));

  it('fails a canary from the same distribution as stable no more often than the error budget', () => {
    let failures = 0;
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 20, max: 2_000 }), fc.double({ min: 0.05, max: 1, noNaN: true }), (seed, n, sigma) => {
        const window = bucketWindow(BOUNDS_MS, latencies(seed, n, 20, sigma), latencies(seed ^ 0x5bd1e995, n * 4, 20, sigma));
        if (latencyOf(window, loose, 1).outcome === 'fail') failures++;
      }),
      { numRuns: runs },
    );
    expect(failures).toBeLessThanOrEqual(allowed);
  });

  it('keeps its error rates exactly at the tolerance and the margin (the whole-bucket rounding is conservative)', () => {
    let failedAtTolerance = 0;
    let passedAtMargin = 0;
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 50, max: 2_000 }), fc.double({ min: 0.05, max: 1, noNaN: true }), (seed, n, sigma) => {
        const stable = latencies(seed ^ 0x2545f491, n * 2, 20, sigma);
        const atTolerance = bucketWindow(BOUNDS_MS, latencies(seed, n, 20, sigma, 1 + loose.latency.tolerance), stable);
        if (latencyOf(atTolerance, loose, 1).outcome === 'fail') failedAtTolerance++;
        const atMargin = bucketWindow(BOUNDS_MS, latencies(seed, n, 20, sigma, 1 + loose.latency.margin), stable);
        if (latencyOf(atMargin, loose, 1).outcome === 'pass') passedAtMargin++;
      }),
      { numRuns: runs },
    );
    expect(failedAtTolerance).toBeLessThanOrEqual(allowed);
    expect(passedAtMargin).toBeLessThanOrEqual(allowed);
  });

  it('fails a canary three times slower, naming the buckets and the factor tested', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 30, max: 1_000 }), (seed, n) => {
        const evidence = latencyOf(bucketWindow(BOUNDS_MS, latencies(seed, n, 20, 0.5, 3), latencies(seed + 1, n * 9, 20, 0.5)), judge, 120);
        expect(evidence.outcome).toBe('fail');
        expect(evidence.regression.pValue).toBeLessThan(evidence.alpha);
        expect(evidence.words).toMatch(/^latency from histogram buckets \(\d+ buckets holding requests, \([\d.]+, [\d.]+\] ms\): canary median ≈ [\d.]+ ms \(\d+ requests, middle half in \([\d.]+, [\d.]+\] ms\) vs stable/);
        expect(evidence.words).toMatch(/slower than stable by more than 5\.00% \(tested as stable ×1\.09\d*(–1\.09\d*)?, the 5\.00% rounded up to whole buckets; U = .* → fail$/);
        expect(evidence.buckets!.regressionFactor[0]).toBeGreaterThanOrEqual(1.05);
        expect(evidence.buckets!.canary.reduce((a, b) => a + b, 0)).toBe(n);
      }),
      { numRuns: 50 },
    );
  });

  it('passes identical histograms once powered, and never before the samples its power calculation asks for', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 0, max: 6_000 }), fc.double({ min: 0.1, max: 0.8, noNaN: true }), (seed, n, sigma) => {
        const stable = latencies(seed, 20_000, 20, sigma);
        // Canary identical in shape: the same histogram, scaled to its traffic.
        const window = bucketWindow(BOUNDS_MS, stable.slice(0, n), stable);
        const evidence = latencyOf(window, judge, 120);
        if (evidence.outcome === 'pass') expect(n).toBeGreaterThanOrEqual(evidence.requiredSamples);
        expect(evidence.outcome).not.toBe('fail');
        expect(evidence.words).toMatch(new RegExp(`→ ${evidence.outcome}$`));
      }),
      { numRuns: 60 },
    );
    const stable = latencies(7, 20_000, 20, 0.3);
    const powered = latencyOf(bucketWindow(BOUNDS_MS, stable.slice(0, 10_000), stable), judge, 120);
    expect(powered.outcome).toBe('pass');
    expect(powered.words).toMatch(/within 10\.00% of stable \(tested as stable ×1\.09\d*(–1\.09\d*)?, the 10\.00% rounded down to whole buckets; U = .* requests needed\) → pass$/);
    const few = latencyOf(bucketWindow(BOUNDS_MS, stable.slice(0, 15), stable), judge, 120);
    expect(few).toMatchObject({ outcome: 'inconclusive', words: expect.stringContaining('fewer than 20 requests a side') });
  });

  it('on bounds too coarse for the margin a canary like stable never passes, and the verdict says why', () => {
    const stable = latencies(3, 50_000, 20, 0.3);
    const evidence = latencyOf(bucketWindow(COARSE_MS, stable.slice(0, 20_000), stable), judge, 120);
    expect(evidence.outcome).toBe('inconclusive');
    expect(evidence.words).toContain('these buckets are too coarse to show a 10.00% margin');
  });
});

describe('judgeWindow on histograms that cannot be compared', () => {
  it('is inconclusive, saying why, when canary and stable have different bounds', () => {
    const window: GateWindow = {
      canary: { requests: 500, errors: 0, latenciesMs: [], latencyHistogram: { boundsMs: [10, 20], counts: [0, 500, 0] } },
      stable: { requests: 500, errors: 0, latenciesMs: [], latencyHistogram: { boundsMs: [10, 30], counts: [0, 500, 0] } },
    };
    expect(latencyOf(window, judge, 1)).toMatchObject({ outcome: 'inconclusive', words: expect.stringContaining('different bucket bounds') });
  });
});

describe('histograms in the gate window', () => {
  it('adds bucket counts probe by probe; new bounds restart the histogram', () => {
    const a = { boundsMs: [1, 2], counts: [1, 2, 3] };
    let window = emptyWindow();
    window = accumulateWindow(window, { canary: { requests: 6, errors: 0, latencyHistogram: a }, stable: { requests: 0, errors: 0 } });
    window = accumulateWindow(window, { canary: { requests: 6, errors: 0, latencyHistogram: a }, stable: { requests: 0, errors: 0 } });
    expect(window.canary.latencyHistogram).toEqual({ boundsMs: [1, 2], counts: [2, 4, 6] });
    expect(window.stable.latencyHistogram).toBeUndefined();
    window = accumulateWindow(window, { canary: { requests: 1, errors: 0, latencyHistogram: { boundsMs: [1, 3], counts: [0, 1, 0] } }, stable: { requests: 0, errors: 0 } });
    expect(window.canary.latencyHistogram).toEqual({ boundsMs: [1, 3], counts: [0, 1, 0] });
  });

  it('never counts a request twice: a probe whose window reaches into one already counted is left out', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 6_000 }), { minLength: 1, maxLength: 40 }), (gaps) => {
        // A Prometheus source: windows of at least 2 s ending at each probe, whatever the probe interval.
        let at = 1_000_000;
        let last = at - 5_000;
        let window = emptyWindow();
        const counted: [number, number][] = [];
        for (const gap of gaps) {
          at += gap;
          const windowMs = Math.max(2_000, at - last);
          last = at;
          const before = window.canary.requests;
          window = accumulateWindow(window, { at, source: { windowMs }, canary: { requests: windowMs, errors: 0 }, stable: { requests: 0, errors: 0 } });
          if (window.canary.requests > before) counted.push([at - windowMs, at]);
        }
        // The counted windows are disjoint, and every probe was counted or left out.
        counted.forEach(([from], i) => i > 0 && expect(from).toBeGreaterThanOrEqual(counted[i - 1]![1]));
        expect(counted.length + (window.overlapping ?? 0)).toBe(gaps.length);
        expect(window.canary.requests).toBe(counted.reduce((sum, [from, to]) => sum + to - from, 0));
      }),
    );
  });

  it('counts every probe of a source whose windows tile (probes at least two scrapes apart)', () => {
    let window = emptyWindow();
    for (let k = 1; k <= 5; k++) window = accumulateWindow(window, { at: 10_000 + 2_500 * k, source: { windowMs: 2_500 }, canary: { requests: 10, errors: 1 }, stable: { requests: 90, errors: 0 } });
    expect(window).toMatchObject({ canary: { requests: 50, errors: 5 }, stable: { requests: 450 }, countedUntil: 22_500 });
    expect(window.overlapping).toBeUndefined();
  });

  it('reads a quantile as histogram_quantile does: linear inside the bucket', () => {
    expect(histogramQuantile([10, 20], [0, 4, 0], 0.5)).toBe(15);
    expect(histogramQuantile([10, 20], [2, 2, 0], 0.5)).toBe(10);
    expect(histogramQuantile([10, 20], [0, 0, 5], 0.5)).toBe(20);
  });
});

describe('a judged plan in words', () => {
  it('says that on a PromQL source latency is judged from histogram buckets, with the rounding of its tolerance and margin', () => {
    const lines = describeHealthChecks(parseRolloutPlan({ judge: { latency: { tolerance: 0.03, margin: 0.07 } } })).split('\n');
    expect(lines).toContainEqual(expect.stringMatching(/^judged steps where the health source runs PromQL: the statistical judge instead of the default metric checks, .*latency from the proxy's histogram buckets \(maestro_proxy_request_duration_seconds_bucket\)$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}latency by a rank test on the buckets: stable moved by whole buckets, the 3% tolerance rounded up to the next bound, the 7% margin rounded down; /));
    expect(describeHealthChecks(parseRolloutPlan({}))).not.toContain('judged steps');
    const own = describeHealthChecks(parseRolloutPlan({ judge: {}, metrics: [{ name: 'cpu', query: 'cpu{role="{{role}}"}', judge: { worseWhen: 'higher' } }] }));
    expect(own).toContain('the statistical judge beside the metric checks above');
    expect(own).toContain('  - cpu canary against stable (worse when higher): fails beyond 10%, passes within 20%');
  });
});
