/**
 * The judge on histogram buckets, simulated: its error rates on thousands of seeded windows (the calibration
 * evidence). Slow (seconds each), so mutation testing leaves this file out (jest.mutation.config.js); the exact
 * verdicts and words in judge-buckets.test.ts are what kill the judge's mutants.
 */
import fc from 'fast-check';
import { statisticalJudgeSchema } from '../../../core/judge';
import { BOUNDS_MS, bucketWindow, judge, latencies, latencyOf } from '../../helpers/latency-histograms';

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

  it('never fails identical histograms, and never passes them before the samples its power calculation asks for', () => {
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
  });
});
