import fc from 'fast-check';
import { advanceGate, judgeProbe, percentile, type GateProgress, type ProbeSample } from '../../../core/health';
import type { HealthGate, HealthThresholds } from '../../../core/rollout-plan';

const thresholds: HealthThresholds = { maxP95LatencyMs: 300, maxErrorRate: 0.01, minEvalScore: 0.85, minRequests: 20 };
const gate: HealthGate = { probeInterval: 1000, consecutiveGreen: 3, maxRed: 2, timeout: 60_000 };
const healthy = { requests: 100, errors: 0, p50Ms: 10, p95Ms: 50 };

function sample(canary: Partial<ProbeSample['canary']>): ProbeSample {
  return { at: 1, weight: 10, canary: { ...healthy, ...canary }, stable: healthy };
}

describe('judgeProbe', () => {
  it('is green for a canary within every threshold, with no reasons', () => {
    expect(judgeProbe(sample({}), thresholds, 0.9)).toMatchObject({ verdict: 'green', reasons: [] });
  });

  it('is red below the minimum eval score, whatever the traffic, and says by how much', () => {
    expect(judgeProbe(sample({}), thresholds, 0.8)).toMatchObject({ verdict: 'red', reasons: ['eval score 0.800 < 0.85'] });
    expect(judgeProbe(sample({ requests: 0 }), thresholds, 0.8)).toMatchObject({ verdict: 'red', reasons: ['eval score 0.800 < 0.85'] });
  });

  it('treats an eval score, error rate or latency exactly at its threshold as healthy', () => {
    expect(judgeProbe(sample({ requests: 100, errors: 1, p95Ms: 300 }), thresholds, 0.85).verdict).toBe('green');
  });

  it('is red above the error rate or the p95 latency, naming each figure', () => {
    expect(judgeProbe(sample({ requests: 200, errors: 10 }), thresholds, 0.9)).toMatchObject({ verdict: 'red', reasons: ['error rate 5.00% > 1.00%'] });
    expect(judgeProbe(sample({ p95Ms: 300.5 }), thresholds, 0.9)).toMatchObject({ verdict: 'red', reasons: ['p95 latency 300.5ms > 300ms'] });
    expect(judgeProbe(sample({ requests: 20, errors: 20, p95Ms: 999 }), thresholds, 0.5).reasons).toEqual([
      'eval score 0.500 < 0.85',
      'error rate 100.00% > 1.00%',
      'p95 latency 999.0ms > 300ms',
    ]);
  });

  it('is inconclusive below the minimum request count (exactly the minimum is judged)', () => {
    expect(judgeProbe(sample({ requests: 19, errors: 19, p95Ms: 999 }), thresholds, 0.9)).toMatchObject({
      verdict: 'inconclusive',
      reasons: ['only 19 canary requests (< 20)'],
    });
    expect(judgeProbe(sample({ requests: 20, errors: 1 }), thresholds, 0.9).verdict).toBe('red');
    expect(judgeProbe(sample({ requests: 20 }), thresholds, 0.9).verdict).toBe('green');
  });

  it('agrees with the rule it implements: red on a breach, inconclusive on too little traffic, else green', () => {
    const t = fc.record({
      maxP95LatencyMs: fc.integer({ min: 1, max: 2_000 }),
      maxErrorRate: fc.constantFrom(0, 0.01, 0.05, 0.5, 1),
      minEvalScore: fc.constantFrom(0, 0.5, 0.85, 1),
      minRequests: fc.integer({ min: 1, max: 50 }),
    });
    const canary = fc.integer({ min: 0, max: 100 }).chain((requests) =>
      fc.record({ requests: fc.constant(requests), errors: fc.integer({ min: 0, max: requests }), p50Ms: fc.constant(1), p95Ms: fc.integer({ min: 0, max: 2_500 }) }),
    );
    fc.assert(
      fc.property(t, canary, fc.constantFrom(0, 0.5, 0.85, 0.9, 1), (th, c, evalScore) => {
        const judged = judgeProbe({ at: 0, weight: 50, canary: c, stable: healthy }, th, evalScore);
        const enough = c.requests >= th.minRequests;
        const breach = evalScore < th.minEvalScore || (enough && (c.errors / c.requests > th.maxErrorRate || c.p95Ms > th.maxP95LatencyMs));
        expect(judged.verdict).toBe(breach ? 'red' : enough ? 'green' : 'inconclusive');
      }),
    );
  });
});

describe('advanceGate', () => {
  const start: GateProgress = { consecutiveGreen: 0, red: 0, probes: 0 };

  it('counts green probes one by one and passes at exactly the required run', () => {
    const one = advanceGate(start, 'green', gate);
    expect(one).toEqual({ progress: { consecutiveGreen: 1, red: 0, probes: 1 }, outcome: 'continue' });
    const two = advanceGate(one.progress, 'green', gate);
    expect(two).toEqual({ progress: { consecutiveGreen: 2, red: 0, probes: 2 }, outcome: 'continue' });
    expect(advanceGate(two.progress, 'green', gate)).toEqual({ progress: { consecutiveGreen: 3, red: 0, probes: 3 }, outcome: 'passed' });
  });

  it('a red resets the green run and counts; an inconclusive probe keeps the run as it is', () => {
    const progress: GateProgress = { consecutiveGreen: 2, red: 0, probes: 2 };
    expect(advanceGate(progress, 'red', gate)).toEqual({ progress: { consecutiveGreen: 0, red: 1, probes: 3 }, outcome: 'continue' });
    expect(advanceGate(progress, 'inconclusive', gate)).toEqual({ progress: { consecutiveGreen: 2, red: 0, probes: 3 }, outcome: 'continue' });
  });

  it('fails at exactly the maximum red count, even with enough greens', () => {
    expect(advanceGate({ consecutiveGreen: 0, red: 1, probes: 5 }, 'red', gate).outcome).toBe('failed');
    expect(advanceGate({ consecutiveGreen: 5, red: 2, probes: 9 }, 'green', gate).outcome).toBe('failed');
  });
});

describe('percentile', () => {
  it('is the nearest-rank value', () => {
    const values = [40, 10, 30, 20];
    expect(percentile(values, 0)).toBe(10);
    expect(percentile(values, 25)).toBe(10);
    expect(percentile(values, 26)).toBe(20);
    expect(percentile(values, 50)).toBe(20);
    expect(percentile(values, 95)).toBe(40);
    expect(percentile(values, 100)).toBe(40);
  });

  it('is the smallest sample with at least p% of the samples at or below it', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -100, max: 100 }), { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 100 }), (values, p) => {
        const atOrBelow = (x: number) => values.filter((v) => v <= x).length;
        const expected = Math.min(...values.filter((x) => atOrBelow(x) * 100 >= p * values.length));
        expect(percentile(values, p)).toBe(expected);
      }),
    );
  });
});
