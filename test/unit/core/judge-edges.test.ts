/**
 * The judge at its edges, exactly: where a verdict turns (exactly the samples needed, a tail p-value exactly at its
 * limit), windows that are half samples and half buckets, unsorted input, and the full sentences of bucketed and
 * series verdicts. Written against the survivors of mutation testing (issue 14); each test says what it pins.
 */
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import {
  groupedMannWhitney,
  judgeSeries,
  judgeWindow,
  mannWhitney,
  seriesJudgeSchema,
  statisticalJudgeSchema,
  stretchedBuckets,
  type GateWindow,
  type SeriesJudgeInput,
  type VersionWindow,
} from '../../../core/judge';
import { BOUNDS_MS, bucketWindow, COARSE_MS, histogram, latencies } from '../../helpers/latency-histograms';
import { readings } from '../../helpers/series-readings';

const judge = statisticalJudgeSchema.parse({});
const counts = (requests: number, errors: number): VersionWindow => ({ requests, errors, latenciesMs: [] });
const samples = (latenciesMs: number[]): VersionWindow => ({ requests: latenciesMs.length, errors: 0, latenciesMs });
const errorRate = (window: GateWindow, looks = 1) => judgeWindow(window, judge, looks).evidence[0]!;
const latency = (window: GateWindow, looks = 1) => judgeWindow(window, judge, looks).evidence[1]!;

/** Noether's sample size written out: the canary's share of n = (z₁₋α + z_power)² / (12·s(1−s)·(θ − ½)²). */
function noether(theta: number, canaryCount: number, stableCount: number, alpha: number, power: number): number {
  const share = canaryCount / (canaryCount + stableCount);
  const zSum = normalQuantile(1 - alpha, 0, 1) + normalQuantile(power, 0, 1);
  return Math.ceil((share * zSum * zSum) / (12 * share * (1 - share) * (theta - 0.5) ** 2));
}

describe('error rate at its edges', () => {
  it('a canary with no requests yet needs what an equal split needs (ratio 1), and reads 0%, not NaN', () => {
    const none = errorRate({ canary: counts(0, 0), stable: counts(1000, 10) });
    expect(none.requiredSamples).toBe(errorRate({ canary: counts(1000, 10), stable: counts(1000, 10) }).requiredSamples);
    expect(none.canary).toEqual({ samples: 0, value: 0 });
    expect(none.words).toMatch(/^error rate: canary 0\.00% \(0\/0\) vs stable 1\.00% \(10\/1000\): /);
  });

  it('passes at exactly the requests needed, and not one request short', () => {
    const at = errorRate({ canary: counts(872, 0), stable: counts(1000, 0) });
    expect(at).toMatchObject({ requiredSamples: 872, outcome: 'pass' });
    expect(at.words).toBe('error rate: canary 0.00% (0/872) vs stable 0.00% (0/1000): within 0.50 points (z = 3.20, p = 6.9e-4 < α = 0.0050; 872 ≥ 872 requests needed) → pass');
    expect(at.nonInferiority.statistic).toBe('z');
    const short = errorRate({ canary: counts(871, 0), stable: counts(1000, 0) });
    expect(short.requiredSamples).toBeGreaterThan(871);
    expect(short.outcome).toBe('inconclusive');
  });

  it('enough requests do not pass a canary whose non-inferiority is not shown', () => {
    const e = errorRate({ canary: counts(5000, 40), stable: counts(5000, 25) });
    expect(e.requiredSamples).toBeLessThan(5000);
    expect(e.nonInferiority.pValue).toBeGreaterThan(e.alpha);
    expect(e.outcome).toBe('inconclusive');
  });

  it('prints an α of exactly 0.001 in fixed notation (scientific only below it)', () => {
    expect(judgeWindow({ canary: counts(1, 0), stable: counts(1, 0) }, statisticalJudgeSchema.parse({ errorBudget: 0.004 }), 2).words).toContain('α = 0.0010;');
  });
});

describe('latency on samples at its edges', () => {
  const stable = latencies(4, 1000, 40, 0.4);

  it('passes at exactly the samples needed', () => {
    const e = latency({ canary: samples(latencies(3, 278, 40, 0.4)), stable: samples(stable) });
    expect(e).toMatchObject({ requiredSamples: 278, outcome: 'pass' });
    expect(e.words).toContain('278 ≥ 278 samples needed) → pass');
  });

  it('sorts what it is given: medians and U are those of the sorted samples', () => {
    const readings = [50, 10, 30, 20, 40, 60, 70, 15, 25, 35, 45, 55, 65, 12, 22, 32, 42, 52, 62, 72];
    const canary = [...readings].reverse().map((v) => v * 1.02);
    const e = latency({ canary: samples(canary), stable: samples(readings) });
    expect(e.stable.value).toBe(41);
    expect(e.canary.value).toBeCloseTo(41.82, 10);
    expect(e.regression.value).toBe(mannWhitney(canary, readings, 1.05).u);
    expect(e.nonInferiority.value).toBe(mannWhitney(canary, readings, 1.1).u);
  });

  it('one sample is its own median', () => {
    expect(latency({ canary: samples([123]), stable: samples([]) }).canary).toEqual({ samples: 1, value: 123 });
  });

  it('a stable at 0 ms in its lower quarter has no log spread: the margin is shown by the fewest samples Noether allows', () => {
    const zeros = [...new Array<number>(20).fill(0), ...latencies(5, 20, 40, 0.4)];
    const e = latency({ canary: samples(zeros), stable: samples(zeros) });
    expect(e.requiredSamples).toBe(noether(1, 40, 40, e.alpha, judge.power));
  });
});

describe('which latency figures a window is judged on', () => {
  const buckets = histogram(COARSE_MS, latencies(2, 30, 100, 0.3));
  const bucketsOnly = (): VersionWindow => ({ requests: 30, errors: 0, latenciesMs: [], latencyHistogram: buckets });

  it('samples on either side: the sample judge, even when the other side has only buckets', () => {
    const canarySamples = latencies(1, 30, 100, 0.3);
    expect(latency({ canary: samples(canarySamples), stable: bucketsOnly() }).words).toMatch(/^latency: canary median [\d.]+ ms \(30 samples\) vs stable 0\.0 ms \(0\)/);
    expect(latency({ canary: bucketsOnly(), stable: samples(canarySamples) }).words).toMatch(/^latency: canary median 0\.0 ms \(0 samples\) vs stable [\d.]+ ms \(30\)/);
  });

  it('neither samples nor buckets: the sample judge with nothing to judge', () => {
    expect(latency({ canary: counts(30, 0), stable: counts(30, 0) }).words).toBe(
      'latency: canary median 0.0 ms (0 samples) vs stable 0.0 ms (0): fewer than 20 samples a side, no rank test yet → inconclusive',
    );
  });

  it('buckets on one side only: the bucket judge, the other side empty on the same bounds', () => {
    const e = latency({ canary: bucketsOnly(), stable: counts(0, 0) });
    expect(e.buckets?.stable).toEqual([0, 0]);
    expect(e.words).toBe(
      'latency from histogram buckets (2 buckets holding requests, (50, 250] ms): canary median ≈ 137.5 ms (30 requests, middle half in (50, 250] ms) vs stable ≈ 0.0 ms (0, middle half in no bucket): fewer than 20 requests a side, no rank test yet → inconclusive',
    );
  });
});

describe('latency on buckets, in full', () => {
  it('a canary like stable on the proxy’s fine bounds passes, with the buckets and shifts it rests on', () => {
    const e = latency(bucketWindow(BOUNDS_MS, latencies(3, 3000, 40, 0.4), latencies(4, 3000, 40, 0.4)));
    expect(e).toMatchObject({ outcome: 'pass', requiredSamples: 517, regression: { statistic: 'U' }, nonInferiority: { statistic: 'U' } });
    expect(e.buckets).toMatchObject({ lowerMs: 8.52, regressionFactor: [1.09, 1.091], nonInferiorityFactor: [1.09, 1.091] });
    expect(e.buckets?.upperBoundsMs).toHaveLength(37);
    expect(e.words).toBe(
      'latency from histogram buckets (37 buckets holding requests, (8.52, 210.2] ms): canary median ≈ 39.9 ms (3000 requests, middle half in (28.66, 52.56] ms) ' +
        'vs stable ≈ 40.2 ms (3000, middle half in (28.66, 52.56] ms) (-0.8%): within 10.00% of stable (tested as stable ×1.09–1.091, the 10.00% rounded down to whole buckets; ' +
        'U = 3961424.5, p = 4.3e-16 < α = 0.0050; 3000 ≥ 517 requests needed) → pass',
    );
  });

  it('passes at exactly the requests needed', () => {
    const e = latency(bucketWindow(BOUNDS_MS, latencies(3, 283, 40, 0.4), latencies(4, 3000, 40, 0.4)));
    expect(e).toMatchObject({ outcome: 'pass', requiredSamples: 283 });
    expect(e.words).toContain('283 ≥ 283 requests needed) → pass');
  });

  it('a canary 50% slower fails; stable’s requests below the canary’s first bucket widen the range shown', () => {
    const e = latency(bucketWindow(BOUNDS_MS, latencies(3, 300, 40, 0.4, 1.5), latencies(4, 300, 40, 0.4)));
    expect(e.buckets?.lowerMs).toBe(11.05);
    expect(e.buckets!.canary[0]).toBe(0);
    expect(e.buckets!.stable[0]).toBe(1);
    expect(e.words).toBe(
      'latency from histogram buckets (34 buckets holding requests, (11.05, 210.2] ms): canary median ≈ 59.8 ms (300 requests, middle half in (44.19, 81.05] ms) ' +
        'vs stable ≈ 40.3 ms (300, middle half in (28.66, 57.31] ms) (+48.2%): slower than stable by more than 5.00% (tested as stable ×1.09–1.091, the 5.00% rounded up to whole buckets; ' +
        'U = 63670, z = 8.81, p = 0 < α = 0.0050) → fail',
    );
  });

  it('buckets too coarse for the margin: never enough requests, and it says why', () => {
    const e = latency(bucketWindow(COARSE_MS, latencies(3, 500, 40, 0.4), latencies(4, 500, 40, 0.4)));
    expect(e).toMatchObject({ outcome: 'inconclusive', requiredSamples: Number.MAX_SAFE_INTEGER, buckets: { regressionFactor: [2, 2.5], nonInferiorityFactor: [1, 1] } });
    expect(e.words).toBe(
      'latency from histogram buckets (4 buckets holding requests, (10, 250] ms): canary median ≈ 41.2 ms (500 requests, middle half in (25, 100] ms) ' +
        'vs stable ≈ 41.6 ms (500, middle half in (25, 100] ms) (-0.9%): neither shown slower by more than 5.00% (tested as stable ×2–2.5, the 5.00% rounded up to whole buckets; p = 1.0) ' +
        'nor within 10.00% (tested as stable ×1, the 10.00% rounded down to whole buckets; p = 0.35, α = 0.0050; ' +
        'these buckets are too coarse to show a 10.00% margin on a canary like stable (neighbouring bounds more than ×1.10 apart)) → inconclusive',
    );
  });

  it('empty histograms: no bucket holds requests, the factors are ×1', () => {
    const e = latency(bucketWindow(COARSE_MS, [], []));
    expect(e.buckets).toEqual({ lowerMs: 0, upperBoundsMs: [], canary: [], stable: [], regressionFactor: [1, 1], nonInferiorityFactor: [1, 1] });
    expect(e.words).toBe(
      'latency from histogram buckets (none hold requests): canary median ≈ 0.0 ms (0 requests, middle half in no bucket) vs stable ≈ 0.0 ms (0, middle half in no bucket): fewer than 20 requests a side, no rank test yet → inconclusive',
    );
  });

  it('requests above the last bound: the +Inf bucket is listed, and a shift into it is no factor', () => {
    const e = latency(bucketWindow(COARSE_MS, [7000, 9000, 20000, 7000], [7000, 9000, 8000]));
    expect(e.buckets).toEqual({ lowerMs: 5000, upperBoundsMs: [10000, null], canary: [3, 1], stable: [3, 0], regressionFactor: [1, 1], nonInferiorityFactor: [1, 1] });
    expect(e.words).toMatch(/^latency from histogram buckets \(2 buckets holding requests, \(5000, \+Inf\] ms\): canary median ≈ 8333\.3 ms .* \(\+11\.1%\): fewer than 20/);
    const above = latency(bucketWindow(COARSE_MS, [20000, 30000, 7000, 40000], [7000]));
    expect(above.words).toContain('(4 requests, middle half in (5000, +Inf] ms)');
  });

  it('runs the rank test at exactly the minimum requests a side; one fewer on the stable side does not', () => {
    expect(latency(bucketWindow(COARSE_MS, latencies(3, 20, 40, 0.4), latencies(4, 20, 40, 0.4))).regression.value).toBe(77);
    const short = latency(bucketWindow(COARSE_MS, latencies(3, 100, 40, 0.4), latencies(4, 19, 40, 0.4)));
    expect(short.regression.value).toBeNaN();
    expect(short.words).toContain('fewer than 20 requests a side');
  });

  it('non-inferiority shown on fewer requests than needed: it waits', () => {
    const e = latency(bucketWindow(BOUNDS_MS, latencies(41, 20, 40, 0.4), latencies(4, 3000, 40, 0.4)));
    expect(e.nonInferiority.pValue).toBeLessThan(e.alpha);
    expect(e).toMatchObject({ requiredSamples: 260, outcome: 'inconclusive' });
    expect(e.words).toContain('20 of ~260 canary requests needed) → inconclusive');
  });

  it('stable requests in the first bucket (from 0 ms) give no factor for rounding down: ×1, not NaN', () => {
    expect(latency(bucketWindow(COARSE_MS, [3, 40, 40, 60, 3, 30], [3, 40, 40, 60, 4, 20])).buckets).toMatchObject({ regressionFactor: [2, 2.5], nonInferiorityFactor: [1, 1] });
  });

  it('fine bounds and too few requests: how many of how many are needed', () => {
    const e = latency(bucketWindow(BOUNDS_MS, latencies(3, 100, 40, 0.4), latencies(4, 100, 40, 0.4)));
    expect(e.outcome).toBe('inconclusive');
    expect(e.requiredSamples).toBeLessThan(Number.MAX_SAFE_INTEGER);
    expect(e.words).toMatch(new RegExp(`α = 0\\.0050; 100 of ~${e.requiredSamples} canary requests needed\\) → inconclusive$`));
  });

  it('different bounds on the two sides: no rank test, untested U', () => {
    // The canary's bounds are the first five of stable's: the same where both have one is not the same bounds.
    const versionOn = (bounds: number[], seed: number): VersionWindow => ({ ...counts(30, 0), latencyHistogram: histogram(bounds, latencies(seed, 30, 40, 0.4)) });
    const e = latency({ canary: versionOn(COARSE_MS.slice(0, 5), 3), stable: versionOn(COARSE_MS, 4) });
    expect(e.regression).toEqual({ statistic: 'U', value: Number.NaN, pValue: 1 });
    expect(e.outcome).toBe('inconclusive');
  });
});

describe('whole-bucket shifts and grouped ranks, exactly', () => {
  it('a bound that a stretch reaches within the slack holds it: ×1.1 of 1 lands at the bound 1.1, not past it', () => {
    expect(stretchedBuckets([1, 1.1, 1.21], 1.1, 'up')).toEqual([1, 2, 3, 3]);
    expect(stretchedBuckets([1, 1.1, 1.21], 1.1, 'down')).toEqual([0, 2, 3, 3]);
  });

  it('a bound exactly at the slackened reach: rounding up stops at it, rounding down takes it', () => {
    expect(stretchedBuckets([1, 2 * (1 - 1e-9), 4], 2, 'up')).toEqual([1, 2, 3, 3]);
    expect(stretchedBuckets([1, 2 * (1 + 1e-9), 4], 2, 'down')).toEqual([0, 2, 3, 3]);
  });

  it('stable buckets moved into the same bucket add up', () => {
    // Stable moved: [0, 0, 10, 20, 10 + 0]; U = 20·(0 + 10/2) + 10·(10 + 20/2) + 5·(30 + 10/2) = 475.
    expect(groupedMannWhitney([0, 10, 20, 10, 5], [0, 10, 20, 10, 0], [1, 2, 3, 4, 4]).u).toBe(475);
  });
});

describe('seriesJudgeSchema at its edges', () => {
  const issues = (input: SeriesJudgeInput) => {
    const parsed = seriesJudgeSchema.safeParse(input);
    return parsed.success ? [] : parsed.error.issues.map((i) => ({ path: i.path, message: i.message }));
  };

  it('a tolerance equal to the margin is refused at the tolerance; a relative drop of 100% at the margin; a rise of 150% is fine', () => {
    expect(issues({ worseWhen: 'higher', tolerance: 0.2, margin: 0.2 })).toEqual([{ path: ['tolerance'], message: 'must be smaller than the margin 0.2' }]);
    expect(issues({ worseWhen: 'lower', margin: 1 })).toEqual([{ path: ['margin'], message: 'a relative drop must be below 1 (100% of stable)' }]);
    expect(issues({ worseWhen: 'higher', margin: 1.5 })).toEqual([]);
  });
});

describe('judgeSeries at its edges', () => {
  const judgeOf = (input: SeriesJudgeInput) => seriesJudgeSchema.parse(input);
  const higher = judgeOf({ worseWhen: 'higher' });
  const quartiles = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const at = (q: number) => {
      const i = (s.length - 1) * q;
      const low = Math.floor(i);
      return s[low]! + (s[Math.min(s.length - 1, low + 1)]! - s[low]!) * (i - low);
    };
    return { q1: at(0.25), median: at(0.5), q3: at(0.75) };
  };

  it('the readings needed follow Noether: on logs for a relative shift of positive readings (either direction), in the unit otherwise', () => {
    const spreadTheta = (effect: number, spread: number) => normalCdf(effect / (spread * Math.SQRT2), 0, 1);
    const logSpread = (xs: number[]) => (Math.log(quartiles(xs).q3) - Math.log(quartiles(xs).q1)) / 1.349;
    const unitSpread = (xs: number[]) => (quartiles(xs).q3 - quartiles(xs).q1) / 1.349;
    const cases: { stable: number[]; judge: SeriesJudgeInput; theta: (s: number[]) => number }[] = [
      { stable: readings(200, 1, 2), judge: { worseWhen: 'higher' }, theta: (s) => spreadTheta(Math.log(1.2), logSpread(s)) },
      { stable: readings(200, 100, 2), judge: { worseWhen: 'lower' }, theta: (s) => spreadTheta(Math.abs(Math.log(0.8)), logSpread(s)) },
      { stable: readings(200, 0.5, 2), judge: { worseWhen: 'higher', shift: 'absolute', tolerance: 0.05, margin: 0.1 }, theta: (s) => spreadTheta(0.1, unitSpread(s)) },
      // Readings around zero (a delta): not on logs; the relative margin is taken of stable's median.
      { stable: readings(200, 1, 2).map((v) => v - 1.2), judge: { worseWhen: 'higher' }, theta: (s) => spreadTheta(0.2 * Math.abs(quartiles(s).median), unitSpread(s)) },
      // A count that is 0 in its lower quarter (q1 = 0): no logs of 0 either.
      { stable: [...new Array<number>(60).fill(0), ...readings(140, 1, 2)], judge: { worseWhen: 'higher' }, theta: (s) => spreadTheta(0.2 * quartiles(s).median, unitSpread(s)) },
    ];
    for (const { stable, judge, theta } of cases) {
      const canary = stable.map((v) => v * 1.001);
      const e = judgeSeries('m', { canary, stable }, judgeOf(judge), 20);
      expect(e.requiredSamples).toBe(noether(theta(stable), 200, 200, e.alpha, 0.8));
    }
  });

  it('a stable that is always 0 (an error count) needs the fewest readings: no spread, no NaN', () => {
    const e = judgeSeries('errors', { canary: new Array<number>(30).fill(0), stable: new Array<number>(30).fill(0) }, higher, 20);
    expect(e.requiredSamples).toBe(noether(1, 30, 30, e.alpha, 0.8));
    expect(e.words).toBe(
      "errors: canary median 0 (30 readings) vs stable 0 (30): neither shown higher by more than 10.00% (p = 0.50) nor within 20.00% (p = 0.50, α = 5.0e-4; 30 of ~12 readings needed; 0 canary readings higher than all of stable's (p = 1.0)) → inconclusive",
    );
  });

  it('sorts what it is given: medians of unsorted readings', () => {
    const stable = [5, 1, 4, 2, 3, 9, 8, 7, 6, 10, 15, 11, 14, 12, 13, 20, 16, 19, 17, 18];
    const e = judgeSeries('m', { canary: [...stable].reverse().map((v) => v + 1), stable }, higher, 1);
    expect(e.stable.value).toBe(10.5);
    expect(e.canary.value).toBe(11.5);
  });

  it('fewer than the minimum readings on either side alone: no test', () => {
    for (const [c, s] of [[19, 60], [60, 19]] as const) {
      const e = judgeSeries('cpu', { canary: readings(c, 1, 3), stable: readings(s, 1, 4) }, higher, 1);
      expect(e).toMatchObject({ outcome: 'inconclusive', regression: { statistic: 'U', pValue: 1 }, nonInferiority: { statistic: 'U' }, requiredSamples: 20 });
      expect(e.words).toMatch(/: fewer than 20 readings a side, no test yet → inconclusive$/);
    }
  });

  it('passes in full, higher or lower worse, relative or absolute, with every figure in the words', () => {
    const relative = judgeSeries('cpu', { canary: readings(200, 1, 1), stable: readings(200, 1, 2) }, higher, 20);
    expect(relative).toMatchObject({ outcome: 'pass', regression: { statistic: 'U', value: 8488 }, nonInferiority: { statistic: 'U', value: 3071 }, tail: { beyond: 0, pValue: 1 } });
    expect(relative.words).toBe(
      "cpu: canary median 0.9913 (200 readings) vs stable 1.005 (200): within 20.00% of stable (U = 3071, p = 7.6e-49 < α = 5.0e-4; 200 ≥ 18 readings needed; 0 canary readings higher than all of stable's (p = 1.0)) → pass",
    );
    const lower = judgeSeries('rps', { canary: readings(200, 100, 1), stable: readings(200, 100, 2) }, judgeOf({ worseWhen: 'lower' }), 20);
    expect(lower).toMatchObject({ outcome: 'pass', regression: { value: 10586 }, nonInferiority: { value: 2961 } });
    expect(lower.words).toBe(
      "rps: canary median 99.13 (200 readings) vs stable 100.5 (200): within 20.00% of stable (U = 2961, p = 1.9e-49 < α = 5.0e-4; 200 ≥ 15 readings needed; 0 canary readings lower than all of stable's (p = 1.0)) → pass",
    );
    const absolute = judgeSeries('ratio', { canary: readings(200, 0.5, 1), stable: readings(200, 0.5, 2) }, judgeOf({ worseWhen: 'higher', shift: 'absolute', tolerance: 0.05, margin: 0.1 }), 20);
    expect(absolute).toMatchObject({ outcome: 'pass', regression: { value: 8060 }, nonInferiority: { value: 2435 } });
    expect(absolute.words).toBe(
      "ratio: canary median 0.4957 (200 readings) vs stable 0.5024 (200): within 0.1 of stable (U = 2435, p = 2.0e-52 < α = 5.0e-4; 200 ≥ 17 readings needed; 0 canary readings higher than all of stable's (p = 1.0)) → pass",
    );
  });

  it('fails on the regression test alone, or on the tail alone, each with its own sentence', () => {
    // Stable wide enough that no canary reading is beyond it: the rank test fails the canary, not the tail.
    const shifted = judgeSeries('cpu', { canary: readings(60, 1.5, 3, 0.05), stable: readings(60, 1, 4, 0.3) }, higher, 1);
    expect(shifted).toMatchObject({ outcome: 'fail', tail: { beyond: 0, pValue: 1 } });
    expect(shifted.words).toBe('cpu: canary median 1.501 (60 readings) vs stable 0.9868 (60): higher than stable by more than 10.00% (U = 2870, z = 5.61, p = 9.9e-9 < α/2 = 0.0050) → fail');
    const canary = readings(60, 1, 3);
    canary.fill(100, 0, 10);
    const tailed = judgeSeries('cpu', { canary, stable: readings(60, 1, 4) }, higher, 1);
    expect(tailed.regression.pValue).toBeGreaterThan(0.5);
    expect(tailed.words).toBe("cpu: canary median 1.021 (60 readings) vs stable 0.9956 (60): 10 canary readings higher than all of stable's (p = 6.5e-4) < α/2 = 0.0050: a tail stable never shows → fail");
  });

  it('each way to fail has α/2: a regression p between α/2 and α does not fail (13.5% higher passes a 20% margin)', () => {
    const e = judgeSeries('cpu', { canary: readings(60, 1, 3).map((v) => v * 1.135), stable: readings(60, 1, 4) }, higher, 1);
    expect(e.regression.pValue).toBeGreaterThan(e.alpha / 2);
    expect(e.regression.pValue).toBeLessThan(e.alpha);
    expect(e.outcome).toBe('pass');
  });

  it('the tail test: exactly α/2 does not fail, up to the suspicion limit (0.05) nothing passes, at exactly 0.05 a pass is possible', () => {
    const minFive = judgeOf({ worseWhen: 'higher', minSamples: 5 });
    const oneBeyond = (count: number, seed: number, sd = 0.1) => {
      const canary = readings(count, 1, seed, sd).map((v) => Math.min(v, 0.9));
      canary[0] = 100;
      return canary;
    };
    // C(5, 1)/C(1000, 1) = 0.005 = α/2.
    expect(judgeSeries('cpu', { canary: oneBeyond(5, 3), stable: readings(995, 1, 4) }, minFive, 1)).toMatchObject({ tail: { beyond: 1, pValue: 0.005 }, outcome: 'inconclusive' });
    // 10/1000 = 0.01: between α/2 and 2α, with the non-inferiority shown and the readings in.
    const atAlpha = judgeSeries('cpu', { canary: oneBeyond(10, 3), stable: readings(990, 1, 4) }, minFive, 1);
    expect(atAlpha).toMatchObject({ tail: { pValue: 0.01 }, outcome: 'inconclusive' });
    expect(atAlpha.nonInferiority.pValue).toBeLessThan(atAlpha.alpha);
    expect(atAlpha.requiredSamples).toBeLessThanOrEqual(10);
    // 5 of 200 canary readings beyond all 200 of stable's: p ≈ 0.03.
    const canary = readings(200, 1, 3);
    canary.fill(100, 0, 5);
    const suspicious = judgeSeries('cpu', { canary, stable: readings(200, 1, 4) }, higher, 1);
    expect(suspicious).toMatchObject({ tail: { beyond: 5 }, outcome: 'inconclusive' });
    expect(suspicious.tail.pValue).toBeGreaterThan(suspicious.alpha / 2);
    expect(suspicious.tail.pValue).toBeLessThan(0.05);
    // 20/400 = 0.05.
    const c20 = readings(20, 1, 3, 0.03);
    c20[0] = 100;
    expect(judgeSeries('cpu', { canary: c20, stable: readings(380, 1, 4, 0.03) }, higher, 1)).toMatchObject({ tail: { beyond: 1, pValue: 0.05 }, outcome: 'pass' });
  });

  it('passes at exactly the readings needed; with non-inferiority shown on fewer, it waits', () => {
    const stable = readings(300, 1, 4, 0.4);
    const at = judgeSeries('cpu', { canary: readings(59, 1, 3, 0.4), stable }, higher, 1);
    expect(at).toMatchObject({ requiredSamples: 59, outcome: 'pass' });
    expect(at.words).toContain('59 ≥ 59 readings needed');
    const short = judgeSeries('cpu', { canary: readings(20, 1, 7, 0.4), stable }, higher, 1);
    expect(short.nonInferiority.pValue).toBeLessThan(short.alpha);
    expect(short).toMatchObject({ requiredSamples: 53, outcome: 'inconclusive' });
    expect(short.words).toContain('20 of ~53 readings needed');
  });

  it('one reading beyond all of stable’s is a reading, not readings, and does not stop a pass', () => {
    const canary = readings(60, 1, 3);
    canary[5] = 50;
    const e = judgeSeries('cpu', { canary, stable: readings(60, 1, 4) }, higher, 1);
    expect(e).toMatchObject({ outcome: 'pass', tail: { beyond: 1, pValue: 0.5 } });
    expect(e.words).toContain("; 1 canary reading higher than all of stable's (p = 0.50)) → pass");
  });
});
