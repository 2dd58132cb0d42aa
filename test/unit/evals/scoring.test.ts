import {
  clamp01,
  confidenceInterval,
  detectDrop,
  DROP_RULE,
  isFlaky,
  mean,
  normaliseWeights,
  percentile,
  scoreScenario,
  summarise,
  tQuantile975,
  weightedMean,
  type ScoredCheck,
} from '../../../evals/scoring';

const check = (score: number, weight: number, o: Partial<ScoredCheck> = {}): ScoredCheck => ({ check: 'c', score, weight, required: false, passed: score >= 0.5, ...o });

describe('clamp01, mean, weights', () => {
  it('clamp01 keeps [0, 1] and turns anything not finite into 0', () => {
    expect([-0.5, 0, 0.25, 1, 1.5, Number.NaN, Infinity, -Infinity].map(clamp01)).toEqual([0, 0, 0.25, 1, 1, 0, 0, 0]);
  });

  it('mean is 0 for nothing; normaliseWeights ignores negative weights and gives all-zero shares for none', () => {
    expect(mean([])).toBe(0);
    expect(mean([1, 2, 6])).toBe(3);
    expect(normaliseWeights([1, 3])).toEqual([0.25, 0.75]);
    expect(normaliseWeights([-2, 1, 1])).toEqual([0, 0.5, 0.5]);
    expect(normaliseWeights([0, 0])).toEqual([0, 0]);
    expect(normaliseWeights([-1])).toEqual([0]);
  });

  it('weightedMean weighs each value by its share, clamped to [0, 1]', () => {
    expect(weightedMean([{ value: 1, weight: 3 }, { value: 0, weight: 1 }])).toBe(0.75);
    expect(weightedMean([{ value: 2, weight: 1 }])).toBe(1);
    expect(weightedMean([])).toBe(0);
  });
});

describe('scoreScenario', () => {
  it('is the weighted mean when no required check failed, and passes at exactly the threshold', () => {
    expect(scoreScenario([check(1, 1), check(0.5, 3)], 0.625)).toEqual({ score: 0.625, mean: 0.625, gate: 1, passed: true });
    expect(scoreScenario([check(1, 1), check(0.5, 3)], 0.63).passed).toBe(false);
  });

  it('is capped by the lowest failed required check, and never passes with one', () => {
    const checks = [check(1, 1), check(0.4, 1, { required: true, passed: false }), check(0.2, 1, { required: true, passed: false }), check(0.1, 1, { passed: false })];
    expect(scoreScenario(checks, 0)).toEqual({ score: (1.7 / 4) * 0.2, mean: 1.7 / 4, gate: 0.2, passed: false });
    // A required check that passed does not cap, whatever its score.
    expect(scoreScenario([check(0.3, 1, { required: true, passed: true })], 0.3)).toEqual({ score: 0.3, mean: 0.3, gate: 1, passed: true });
  });

  it('scores 0 without weight, ignores negative weights and clamps check scores', () => {
    expect(scoreScenario([check(1, 0)], 0).score).toBe(0);
    expect(scoreScenario([], 0)).toEqual({ score: 0, mean: 0, gate: 1, passed: true });
    expect(scoreScenario([check(1, -5), check(0.5, 1)], 0).mean).toBe(0.5);
    expect(scoreScenario([check(3, 1), check(-1, 1)], 0).mean).toBe(0.5);
  });
});

describe('confidence intervals and summaries', () => {
  it('uses Student-t quantiles up to 30 degrees of freedom, then 1.96', () => {
    expect([0, 1, 2, 10, 30, 31, 100].map(tQuantile975)).toEqual([Infinity, 12.706, 4.303, 2.228, 2.042, 1.96, 1.96]);
  });

  it('is the 95% Student-t interval of the mean, zero-width for one sample, clamped to [0, 1]', () => {
    const ci = confidenceInterval([0.4, 0.6]);
    // mean 0.5, s = √0.02, half-width 12.706 · s/√2 = 1.2706 → clamped.
    expect(ci).toEqual({ low: 0, high: 1 });
    const samples = [0.5, 0.6, 0.7, 0.6];
    const half = 3.182 * Math.sqrt(((0.1 ** 2 + 0 + 0.1 ** 2 + 0) / 3) / 4);
    const got = confidenceInterval(samples);
    expect(got.low).toBeCloseTo(0.6 - half, 12);
    expect(got.high).toBeCloseTo(0.6 + half, 12);
    expect(confidenceInterval([0.7])).toEqual({ low: 0.7, high: 0.7 });
    expect(confidenceInterval([1.3])).toEqual({ low: 1, high: 1 });
    expect(confidenceInterval([])).toEqual({ low: 0, high: 0 });
  });

  it('summarise: none scores 0; one scenario uses its repeats; several use the per-scenario means', () => {
    expect(summarise([])).toEqual({ score: 0, ci: { low: 0, high: 0 } });
    expect(summarise([{ scores: [0.75, 0.75, 0.75], weight: 1 }])).toEqual({ score: 0.75, ci: { low: 0.75, high: 0.75 } });
    expect(summarise([{ scores: [0.5, 1], weight: 1 }])).toEqual({ score: 0.75, ci: { low: 0, high: 1 } });
    const several = summarise([
      { scores: [1, 1], weight: 3 },
      { scores: [0.5], weight: 1 },
    ]);
    expect(several.score).toBe(0.875);
    expect(several.ci).toEqual({ low: 0, high: 1 });
    // The interval always holds the weighted score, even when the unweighted one sits elsewhere.
    const skewed = summarise([
      { scores: [0.9, 0.9], weight: 1 },
      { scores: [0.9, 0.9], weight: 1 },
      { scores: [0.1], weight: 1000 },
    ]);
    expect(skewed.ci.low).toBeLessThanOrEqual(skewed.score);
    expect(skewed.ci.high).toBeGreaterThanOrEqual(skewed.score);
  });
});

describe('detectDrop and isFlaky', () => {
  const at = (score: number, low: number, high: number) => ({ score, ci: { low, high } });

  it('a drop is real when the intervals separate by at least minDelta, not when they touch or the drop is small', () => {
    expect(detectDrop(at(0.9, 0.85, 0.95), at(0.7, 0.65, 0.75))).toEqual({ real: true, delta: 0.9 - 0.7, rule: DROP_RULE, regressedScenarios: [] });
    expect(DROP_RULE).toBe(
      'a drop is real when the candidate 95% CI lies entirely below the base 95% CI (no overlap) and base − candidate ≥ minDelta, ' +
        'or when some scenario passed in every base repeat and failed in every candidate repeat',
    );
    // A drop of exactly minDelta counts (0.75 − 0.5 is exact in binary).
    expect(detectDrop(at(0.75, 0.75, 0.75), at(0.5, 0.5, 0.5), [], 0.25).real).toBe(true);
    expect(detectDrop(at(0.9, 0.85, 0.95), at(0.8, 0.75, 0.85)).real).toBe(false);
    expect(detectDrop(at(0.9, 0.9, 0.9), at(0.89, 0.89, 0.89)).real).toBe(false);
    expect(detectDrop(at(0.9, 0.9, 0.9), at(0.88, 0.88, 0.88), [], 0.02).real).toBe(true);
    expect(detectDrop(at(0.9, 0.9, 0.9), at(0.85, 0.85, 0.85), [], 0.1).real).toBe(false);
  });

  it('a scenario regresses only when it passed every base repeat and failed every candidate repeat', () => {
    const same = at(0.9, 0.8, 1);
    const verdict = detectDrop(same, same, [
      { id: 'regressed', basePassed: [true, true], candidatePassed: [false, false] },
      { id: 'flaky-base', basePassed: [true, false], candidatePassed: [false, false] },
      { id: 'flaky-candidate', basePassed: [true], candidatePassed: [false, true] },
      { id: 'no-base', basePassed: [], candidatePassed: [false] },
      { id: 'no-candidate', basePassed: [true], candidatePassed: [] },
    ]);
    expect(verdict).toMatchObject({ real: true, delta: 0, regressedScenarios: ['regressed'] });
  });

  it('isFlaky when repeats disagree', () => {
    expect([[true, false], [true, true], [false, false], []].map(isFlaky)).toEqual([true, false, false, false]);
  });

  it('percentile is the nearest-rank value, 0 for none', () => {
    expect(percentile([], 50)).toBe(0);
    expect([0, 25, 26, 50, 75, 100].map((p) => percentile([4, 1, 3, 2], p))).toEqual([1, 1, 2, 2, 3, 4]);
    // p outside 0..100 is held to the ends.
    expect(percentile([4, 1, 3, 2], 150)).toBe(4);
    expect(percentile([4, 1, 3, 2], -10)).toBe(1);
  });
});
