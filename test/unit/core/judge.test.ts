import { accumulateWindow, emptyWindow, judgeWindow, looksPerGate, mannWhitney, statisticalJudgeSchema, WINDOW_LATENCY_CAP, type GateWindow } from '../../../core/judge';
import { parseRolloutPlan, describePlan, judgesStatistically } from '../../../core/rollout-plan';

const judge = statisticalJudgeSchema.parse({});
const LOOKS = 120;

/** Evenly spread quantiles of a log-normal latency (median `medianMs`, log-sd 0.5): no randomness. */
function latencies(count: number, medianMs: number): number[] {
  return Array.from({ length: count }, (_, i) => {
    const u = (i + 0.5) / count;
    // Inverse normal by bisection on erf-free logistic approximation is enough for a fixed, smooth spread.
    const z = Math.log(u / (1 - u)) / 1.702;
    return medianMs * Math.exp(0.5 * z);
  });
}

function windowOf(canary: { requests: number; errors: number; medianMs: number; samples: number }, stable: { requests: number; errors: number; medianMs: number; samples: number }): GateWindow {
  return {
    canary: { requests: canary.requests, errors: canary.errors, latenciesMs: latencies(canary.samples, canary.medianMs) },
    stable: { requests: stable.requests, errors: stable.errors, latenciesMs: latencies(stable.samples, stable.medianMs) },
  };
}

describe('mannWhitney', () => {
  it('counts the pairs where the canary is slower, ties as halves', () => {
    // canary [3, 5] vs stable [1, 3, 4]: 3>1, 3=3 (½), 5>1, 5>3, 5>4 → 4.5
    expect(mannWhitney([3, 5], [1, 3, 4]).u).toBe(4.5);
    expect(mannWhitney([1, 2], [3, 4]).u).toBe(0);
    expect(mannWhitney([10, 20], [3, 4]).u).toBe(4);
  });

  it('scales the canary down before ranking (a test against a relative shift)', () => {
    expect(mannWhitney([11, 22], [10, 20], 1.1).z).toBe(0);
    expect(mannWhitney([11, 22], [10, 20]).u).toBe(3);
  });

  it('gives z = 0 when every value is tied', () => {
    expect(mannWhitney([5, 5, 5], [5, 5])).toEqual({ u: 3, z: 0 });
  });
});

describe('judgeWindow', () => {
  it('passes a canary like stable once it has the samples for the configured power, and says why', () => {
    const verdict = judgeWindow(windowOf({ requests: 20_000, errors: 40, medianMs: 50, samples: 3_000 }, { requests: 180_000, errors: 360, medianMs: 50, samples: 3_000 }), judge, LOOKS);
    expect(verdict.outcome).toBe('pass');
    const errors = verdict.evidence.find((e) => e.metric === 'error-rate')!;
    expect(errors).toMatchObject({ outcome: 'pass', canary: { samples: 20_000, value: 0.002 }, stable: { samples: 180_000, value: 0.002 }, alpha: 0.01 / 240 });
    expect(errors.nonInferiority.pValue).toBeLessThan(errors.alpha);
    expect(errors.words).toMatch(/^error rate: canary 0\.20% \(40\/20000\) vs stable 0\.20% \(360\/180000\): within 0\.50 points .*→ pass$/);
    expect(verdict.evidence.find((e) => e.metric === 'latency')!.words).toMatch(/within 10\.00% of stable .* → pass$/);
  });

  it('is inconclusive, never a pass, when traffic is too low for the power asked for', () => {
    const verdict = judgeWindow(windowOf({ requests: 60, errors: 0, medianMs: 50, samples: 60 }, { requests: 540, errors: 1, medianMs: 50, samples: 200 }), judge, LOOKS);
    expect(verdict.outcome).toBe('inconclusive');
    const errors = verdict.evidence.find((e) => e.metric === 'error-rate')!;
    expect(errors.requiredSamples).toBeGreaterThan(60);
    expect(errors.words).toContain('of ~');
  });

  it('does not take all-zero errors on both sides as proof (Kayenta passes those)', () => {
    const verdict = judgeWindow(windowOf({ requests: 30, errors: 0, medianMs: 50, samples: 30 }, { requests: 30, errors: 0, medianMs: 50, samples: 30 }), judge, LOOKS);
    expect(verdict.evidence.find((e) => e.metric === 'error-rate')!.outcome).toBe('inconclusive');
  });

  it('fails a canary whose errors are clearly worse, with the test statistic and p-value', () => {
    const verdict = judgeWindow(windowOf({ requests: 2_000, errors: 120, medianMs: 50, samples: 1_000 }, { requests: 18_000, errors: 36, medianMs: 50, samples: 1_000 }), judge, LOOKS);
    expect(verdict.outcome).toBe('fail');
    const errors = verdict.evidence.find((e) => e.metric === 'error-rate')!;
    expect(errors.outcome).toBe('fail');
    expect(errors.regression.statistic).toBe('z');
    expect(errors.regression.pValue).toBeLessThan(errors.alpha);
    expect(verdict.words).toContain('→ fail');
  });

  it('fails a canary that is down, even on a handful of requests', () => {
    const verdict = judgeWindow(windowOf({ requests: 8, errors: 8, medianMs: 50, samples: 8 }, { requests: 72, errors: 0, medianMs: 50, samples: 72 }), judge, LOOKS);
    expect(verdict.outcome).toBe('fail');
  });

  it('fails a canary 50% slower, and does not fail one within the tolerance', () => {
    const slow = judgeWindow(windowOf({ requests: 1_000, errors: 0, medianMs: 75, samples: 500 }, { requests: 9_000, errors: 0, medianMs: 50, samples: 500 }), judge, LOOKS);
    expect(slow.evidence.find((e) => e.metric === 'latency')).toMatchObject({ outcome: 'fail', regression: { statistic: 'U' } });
    const close = judgeWindow(windowOf({ requests: 1_000, errors: 0, medianMs: 51, samples: 500 }, { requests: 9_000, errors: 0, medianMs: 50, samples: 500 }), judge, LOOKS);
    expect(close.evidence.find((e) => e.metric === 'latency')!.outcome).not.toBe('fail');
  });

  it('runs no rank test below the minimum number of latency samples', () => {
    const verdict = judgeWindow(windowOf({ requests: 10, errors: 0, medianMs: 500, samples: 10 }, { requests: 90, errors: 0, medianMs: 50, samples: 90 }), judge, LOOKS);
    expect(verdict.evidence.find((e) => e.metric === 'latency')).toMatchObject({ outcome: 'inconclusive', words: expect.stringContaining('fewer than 20 samples') });
  });
});

describe('the gate window', () => {
  it('adds counts and keeps the most recent latencies up to the cap', () => {
    const probe = (n: number, offset: number) => ({ requests: n, errors: 1, latenciesMs: Array.from({ length: n }, (_, i) => offset + i) });
    let window = emptyWindow();
    window = accumulateWindow(window, { canary: probe(4_000, 0), stable: { requests: 3, errors: 0 } });
    window = accumulateWindow(window, { canary: probe(4_000, 10_000), stable: { requests: 5, errors: 2 } });
    expect(window.canary.requests).toBe(8_000);
    expect(window.canary.errors).toBe(2);
    expect(window.canary.latenciesMs).toHaveLength(WINDOW_LATENCY_CAP);
    expect(window.canary.latenciesMs.at(-1)).toBe(13_999);
    expect(window.stable).toEqual({ requests: 8, errors: 2, latenciesMs: [] });
  });

  it('splits the error budget over one look per probe until the soak limit', () => {
    expect(looksPerGate(judge, 5_000)).toBe(120);
    expect(looksPerGate({ ...judge, maxSoakMs: 1_000 }, 5_000)).toBe(1);
  });
});

describe('the judge in a rollout plan', () => {
  it('is off unless asked for, and never judges the 100% step (no stable traffic to compare with)', () => {
    expect(parseRolloutPlan({}).judge).toBeUndefined();
    const plan = parseRolloutPlan({ judge: { latency: { margin: 0.07 } } });
    expect(plan.steps.map((_, i) => judgesStatistically(plan, i))).toEqual([true, true, false]);
    expect(describePlan(plan).split('\n')).toEqual([
      expect.stringMatching(/^1\. setWeight 10% → gate: canary against stable every 5000ms \(errors within 0\.5 points, latency within 7%, error budget 0\.01\), at least 3 probes, soak up to 600000ms while inconclusive, then rollback$/),
      expect.stringMatching(/^2\. setWeight 50% → gate: canary against stable/),
      expect.stringMatching(/^3\. setWeight 100% → gate: probe every 5000ms, pass after 3 green/),
    ]);
  });

  it('rejects a tolerance that is not below its margin, saying where', () => {
    expect(() => parseRolloutPlan({ judge: { errorRate: { tolerance: 0.01, margin: 0.005 } } })).toThrow(/judge\.errorRate\.tolerance.*smaller than the margin 0\.005/);
    expect(() => parseRolloutPlan({ judge: { onInconclusive: 'pass' } })).toThrow(/judge\.onInconclusive/);
  });
});
