/**
 * The judge's figures and sentences, exactly: the rank test against hand-computed values, the evidence of small
 * windows at the sample boundary, and the bounds of its configuration (found by mutation testing, issue 14).
 */
import { accumulateWindow, emptyWindow, judgeWindow, looksPerGate, mannWhitney, statisticalJudgeSchema, type GateWindow, type VersionWindow } from '../../../core/judge';

const judge = statisticalJudgeSchema.parse({});
const seq = (n: number, at: (i: number) => number) => Array.from({ length: n }, (_, i) => at(i));
const version = (requests: number, errors: number, latenciesMs: number[]): VersionWindow => ({ requests, errors, latenciesMs });
const verdict = (canary: VersionWindow, stable: VersionWindow, looks = 1, config = judge) => judgeWindow({ canary, stable } satisfies GateWindow, config, looks);
const metric = (v: ReturnType<typeof verdict>, name: 'error-rate' | 'latency') => v.evidence.find((e) => e.metric === name)!;

describe('mannWhitney: U and its normal approximation, by hand', () => {
  it('no ties: variance n1·n2/12·(n+1), continuity ½ towards the mean on either side', () => {
    // n1 = n2 = 2: mean 2, variance 4/12·5 = 5/3.
    expect(mannWhitney([1, 2], [3, 4])).toEqual({ u: 0, z: (0 - 2 + 0.5) / Math.sqrt(5 / 3) });
    expect(mannWhitney([10, 20], [3, 4])).toEqual({ u: 4, z: (4 - 2 - 0.5) / Math.sqrt(5 / 3) });
    // U exactly at the mean: no continuity correction.
    expect(mannWhitney([1, 4], [2, 3])).toEqual({ u: 2, z: 0 });
  });

  it('ties: a run of equal values shares its average rank and shrinks the variance by (t³ − t)/(n(n − 1))', () => {
    // canary [3, 5], stable [1, 3, 4]: U = 4.5, mean 3; the tied 3s: t = 2 → 6; variance 6/12·(6 − 6/20) = 2.85.
    const { u, z } = mannWhitney([5, 3], [4, 1, 3]);
    expect(u).toBe(4.5);
    expect(z).toBeCloseTo((4.5 - 3 - 0.5) / Math.sqrt(2.85), 12);
    // Ties across the two samples and within one: canary [2, 2, 2], stable [2, 9]: U = 3·½·1 = 1.5, mean 3.
    const tied = mannWhitney([2, 2, 2], [2, 9]);
    expect(tied.u).toBe(1.5);
    // t = 4 → 60; variance 6/12·(6 − 60/20) = 1.5; U below the mean: +½.
    expect(tied.z).toBeCloseTo((1.5 - 3 + 0.5) / Math.sqrt(1.5), 12);
  });

  it('scales the canary by dividing it, and an empty side has no test (z = 0)', () => {
    // [22, 44] / 2 = [11, 22] against [10, 20]: 11 > 10, 22 > 10, 22 > 20 → U = 3.
    expect(mannWhitney([22, 44], [10, 20], 2).u).toBe(3);
    expect(mannWhitney([22, 44], [10, 20], 1).u).toBe(4);
    expect(mannWhitney([], [1, 2])).toEqual({ u: 0, z: 0 });
  });
});

describe('judgeWindow: the evidence of a window, exactly', () => {
  it('a handful of requests: Agresti–Caffo figures, the medians interpolated, no rank test below the minimum', () => {
    const v = verdict(version(10, 0, [40, 10, 30, 20]), version(0, 0, []));
    expect(v.outcome).toBe('inconclusive');
    const errors = metric(v, 'error-rate');
    // pc = 1/12, ps = 1/2 (one error and one success added to each side); alpha = 0.01 / (1 look · 2 metrics).
    const pc = 1 / 12;
    const ps = 1 / 2;
    const se = Math.sqrt((pc * (1 - pc)) / 12 + (ps * (1 - ps)) / 2);
    expect(errors.regression.value).toBeCloseTo((pc - ps - 0.001) / se, 12);
    expect(errors.nonInferiority.value).toBeCloseTo((0.005 - (pc - ps)) / se, 12);
    expect(errors).toMatchObject({ alpha: 0.005, tolerance: 0.001, margin: 0.005, canary: { samples: 10, value: 0 }, stable: { samples: 0, value: 0 } });
    // ceil((z(1 − α) + z(power))² · ps(1 − ps) · (1 + 1/ratio) / margin²), ratio 1 when a side has no requests.
    expect(errors.requiredSamples).toBe(233_580);
    expect(errors.words).toBe(
      'error rate: canary 0.00% (0/10) vs stable 0.00% (0/0): neither shown worse by more than 0.10 points (p = 0.88) nor within 0.50 points (p = 0.12, α = 0.0050; 10 of ~233580 canary requests needed) → inconclusive',
    );
    expect(metric(v, 'latency')).toEqual({
      metric: 'latency',
      canary: { samples: 4, value: 25 },
      stable: { samples: 0, value: 0 },
      requiredSamples: 20,
      regression: { statistic: 'U', value: Number.NaN, pValue: 1 },
      nonInferiority: { statistic: 'U', value: Number.NaN, pValue: 1 },
      alpha: 0.005,
      tolerance: 0.05,
      margin: 0.1,
      outcome: 'inconclusive',
      words: 'latency: canary median 25.0 ms (4 samples) vs stable 0.0 ms (0): fewer than 20 samples a side, no rank test yet → inconclusive',
    });
    expect(v.words).toBe(`${errors.words}; ${metric(v, 'latency').words}`);
  });

  it('exactly the minimum number of latency samples a side runs the rank test; one fewer on either side does not', () => {
    const same = seq(20, (i) => 100 + i);
    const v = verdict(version(1_000, 1, same), version(1_000, 1, same));
    expect(metric(v, 'latency')).toMatchObject({ outcome: 'pass', requiredSamples: 16, regression: { value: 105.5 }, nonInferiority: { value: 45 } });
    expect(metric(v, 'latency').words).toBe(
      'latency: canary median 109.5 ms (20 samples) vs stable 109.5 ms (20) (+0.0%): within 10.00% of stable (U = 45, p = 1.5e-5 < α = 0.0050; 20 ≥ 16 samples needed) → pass',
    );
    // The error rate is not yet shown within the margin (1000 of ~1862 requests): a pass and an inconclusive make an inconclusive.
    expect(metric(v, 'error-rate').words).toBe(
      'error rate: canary 0.10% (1/1000) vs stable 0.10% (1/1000): neither shown worse by more than 0.10 points (p = 0.69) nor within 0.50 points (p = 0.0061, α = 0.0050; 1000 of ~1862 canary requests needed) → inconclusive',
    );
    expect(v.outcome).toBe('inconclusive');
    for (const [canary, stable] of [
      [same.slice(1), same],
      [same, same.slice(1)],
    ])
      expect(metric(verdict(version(1_000, 1, canary), version(1_000, 1, stable)), 'latency')).toMatchObject({ outcome: 'inconclusive', requiredSamples: 20 });
    expect(metric(verdict(version(1_000, 1, same), version(1_000, 1, same), 1, { ...judge, minLatencySamples: 21 }), 'latency').words).toContain('fewer than 21 samples a side');
  });

  it('a canary down and twice as slow fails on both metrics, with the statistics in the words', () => {
    const v = verdict(version(100, 50, seq(20, (i) => 200 + i)), version(900, 0, seq(20, (i) => 100 + i)));
    expect(v.outcome).toBe('fail');
    expect(metric(v, 'error-rate').words).toBe('error rate: canary 50.00% (50/100) vs stable 0.00% (0/900): more than 0.10 points worse (z = 10.05, p = 0 < α = 0.0050) → fail');
    // Every canary sample, divided by 1.05, is slower than every stable one: U = 20 · 20.
    expect(metric(v, 'latency').words).toBe(
      'latency: canary median 209.5 ms (20 samples) vs stable 109.5 ms (20) (+91.3%): slower than stable by more than 5.00% (U = 400, z = 5.40, p = 3.4e-8 < α = 0.0050) → fail',
    );
    expect(metric(v, 'error-rate').requiredSamples).toBe(575);
  });

  it('a faster canary with as many errors passes both, its change signed negative', () => {
    const v = verdict(version(100_000, 100, seq(20, (i) => 90 + i)), version(100_000, 100, seq(20, (i) => 100 + i)));
    expect(v.outcome).toBe('pass');
    expect(v.words).toBe(
      'error rate: canary 0.10% (100/100000) vs stable 0.10% (100/100000): within 0.50 points (z = 35.20, p = 0 < α = 0.0050; 100000 ≥ 943 requests needed) → pass; ' +
        'latency: canary median 99.5 ms (20 samples) vs stable 109.5 ms (20) (-9.1%): within 10.00% of stable (U = 0, p = 3.4e-8 < α = 0.0050; 20 ≥ 16 samples needed) → pass',
    );
  });

  it('one failing metric fails the window whatever the other says', () => {
    // Errors clearly worse, latency identical and well sampled.
    const same = seq(40, (i) => 100 + i);
    const v = verdict(version(1_000, 200, same), version(9_000, 9, same));
    expect([metric(v, 'error-rate').outcome, v.outcome]).toEqual(['fail', 'fail']);
    expect(metric(v, 'latency').outcome).not.toBe('fail');
  });

  it('a stable with no latency (all zero) gives no relative change and no spread: the rank test sees only ties', () => {
    const zeros = seq(20, () => 0);
    const latency = metric(verdict(version(0, 0, zeros), version(0, 0, zeros)), 'latency');
    expect(latency.words).toBe(
      'latency: canary median 0.0 ms (20 samples) vs stable 0.0 ms (20): neither shown slower by more than 5.00% (p = 0.50) nor within 10.00% (p = 0.50, α = 0.0050; 20 of ~8 canary samples needed) → inconclusive',
    );
    expect(latency).toMatchObject({ regression: { value: 200, pValue: 0.5 }, nonInferiority: { value: 200, pValue: 0.5 } });
  });

  it('splits the error budget over looks and the two metrics', () => {
    const same = seq(20, (i) => 100 + i);
    for (const e of verdict(version(10, 0, same), version(10, 0, same), 120).evidence) expect(e.alpha).toBe(0.01 / 240);
  });
});

describe('the gate window and looks', () => {
  it('a probe without latencies adds counts only; an empty window is all zeros', () => {
    const window = accumulateWindow(accumulateWindow(emptyWindow(), { canary: { requests: 2, errors: 1, latenciesMs: [5, 6] }, stable: { requests: 3, errors: 0 } }), {
      canary: { requests: 4, errors: 0 },
      stable: { requests: 1, errors: 1, latenciesMs: [7] },
    });
    expect(window).toEqual({ canary: { requests: 6, errors: 1, latenciesMs: [5, 6] }, stable: { requests: 4, errors: 1, latenciesMs: [7] } });
    expect(emptyWindow()).toEqual({ canary: { requests: 0, errors: 0, latenciesMs: [] }, stable: { requests: 0, errors: 0, latenciesMs: [] } });
  });

  it('one look per probe interval started within the soak limit, at least one', () => {
    expect(looksPerGate(judge, 7_000)).toBe(86); // 600 000 / 7 000 = 85.7: the 86th look still falls inside the soak
    expect(looksPerGate(judge, 600_000)).toBe(1);
    expect(looksPerGate(judge, 10_000_000)).toBe(1);
  });
});

describe('statisticalJudgeSchema: defaults and bounds', () => {
  const ok = (input: unknown) => statisticalJudgeSchema.safeParse(input).success;
  const messages = (input: unknown) => {
    const parsed = statisticalJudgeSchema.safeParse(input);
    return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('has the documented defaults', () => {
    expect(judge).toEqual({
      errorBudget: 0.01,
      power: 0.8,
      errorRate: { tolerance: 0.001, margin: 0.005 },
      latency: { tolerance: 0.05, margin: 0.1 },
      minLatencySamples: 20,
      maxSoakMs: 600_000,
      onInconclusive: 'rollback',
    });
    expect(statisticalJudgeSchema.parse({ onInconclusive: 'approval' }).onInconclusive).toBe('approval');
  });

  it('accepts each bound it allows and rejects just past it', () => {
    expect([ok({ errorBudget: 0.2 }), ok({ errorBudget: 0.21 }), ok({ errorBudget: 0 })]).toEqual([true, false, false]);
    expect([ok({ power: 0.5 }), ok({ power: 0.49 }), ok({ power: 0.99 }), ok({ power: 1 })]).toEqual([true, false, true, false]);
    expect([ok({ errorRate: { tolerance: 0 } }), ok({ errorRate: { tolerance: -0.001 } }), ok({ errorRate: { tolerance: 0.4, margin: 0.5 } }), ok({ errorRate: { margin: 0.51 } })]).toEqual([true, false, true, false]);
    expect([ok({ latency: { tolerance: 0 } }), ok({ latency: { tolerance: -0.01 } }), ok({ latency: { tolerance: 9, margin: 10 } }), ok({ latency: { margin: 10.5 } })]).toEqual([true, false, true, false]);
    expect([ok({ errorRate: { margin: 0 } }), ok({ latency: { margin: 0 } })]).toEqual([false, false]);
    expect([ok({ minLatencySamples: 5 }), ok({ minLatencySamples: 4 }), ok({ minLatencySamples: 5.5 })]).toEqual([true, false, false]);
    expect([ok({ maxSoakMs: 1 }), ok({ maxSoakMs: 0 }), ok({ maxSoakMs: 1.5 })]).toEqual([true, false, false]);
    expect([ok({ extra: 1 }), ok({ errorRate: { extra: 1 } }), ok({ latency: { extra: 1 } }), ok({ onInconclusive: 'pass' })]).toEqual([false, false, false, false]);
  });

  it('a tolerance must be below its margin: equal is refused, with the path and the margin in the message', () => {
    expect(messages({ errorRate: { tolerance: 0.005, margin: 0.005 }, latency: { tolerance: 0.1, margin: 0.1 } })).toEqual([
      'errorRate.tolerance: must be smaller than the margin 0.005',
      'latency.tolerance: must be smaller than the margin 0.1',
    ]);
    expect(messages({ errorRate: { tolerance: 0.0049 }, latency: { tolerance: 0.099 } })).toEqual([]);
  });
});
