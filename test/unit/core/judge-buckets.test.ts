/**
 * The judge on histogram buckets (a Prometheus source): the grouped rank test, whole-bucket shifts that keep
 * each test's error rate, and the verdicts and words on bucketed windows.
 */
import fc from 'fast-check';
import {
  accumulateWindow,
  emptyWindow,
  groupedMannWhitney,
  histogramQuantile,
  mannWhitney,
  quantileBucket,
  stretchedBuckets,
  type GateWindow,
} from '../../../core/judge';
import { BOUNDS_MS, bucketIndex, bucketWindow, COARSE_MS, judge, latencies, latencyOf } from '../../helpers/latency-histograms';
import { describeHealthChecks, parseRolloutPlan } from '../../../core/rollout-plan';

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

  it('passes identical histograms once powered, and is inconclusive below the samples it needs a side', () => {
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

  it('reads quantiles at bucket edges, past empty buckets and above the last bound exactly', () => {
    // bounds 10, 20, 40 (+Inf); counts 2, 0, 2, 1 (5 requests)
    expect(histogramQuantile([10, 20, 40], [2, 0, 2, 1], 0.2)).toBe(5); // rank 1 of bucket 0's 2
    expect(histogramQuantile([10, 20, 40], [2, 0, 2, 1], 0.4)).toBe(10); // rank 2: the top of bucket 0, not bucket 2
    expect(histogramQuantile([10, 20, 40], [2, 0, 2, 1], 0.5)).toBe(25); // rank 2.5: half a request into bucket 2
    expect(histogramQuantile([10, 20], [0, 2, 0], 0)).toBe(10); // the empty first bucket is passed over
    expect(histogramQuantile([10, 20, 40], [0, 0, 0, 3], 0.5)).toBe(40); // above the last bound: the bound itself
    expect(histogramQuantile([10], [0, 0], 0.5)).toBe(0); // no requests
  });

  it('finds the bucket holding a quantile: the first non-empty one whose running count reaches it', () => {
    expect(quantileBucket([2, 0, 2, 1], 0.4)).toBe(0); // rank 2 reached at the top of bucket 0
    expect(quantileBucket([2, 0, 2, 1], 0.5)).toBe(2);
    expect(quantileBucket([1, 1, 1, 1], 0.75)).toBe(2);
    expect(quantileBucket([0, 3, 1], 0)).toBe(1); // an empty bucket holds no quantile
    expect(quantileBucket([0, 0], 0.5)).toBe(1); // no requests: the last bucket
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
