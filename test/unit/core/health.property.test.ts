import fc from 'fast-check';
import { advanceGate, judgeProbe, percentile, type GateProgress, type ProbeSample, type ProbeVerdict } from '../../../core/health';
import type { HealthGate, HealthThresholds } from '../../../core/rollout-plan';

const thresholds: fc.Arbitrary<HealthThresholds> = fc.record({
  maxP95LatencyMs: fc.integer({ min: 1, max: 2_000 }),
  maxErrorRate: fc.double({ min: 0, max: 1, noNaN: true }),
  minEvalScore: fc.double({ min: 0, max: 1, noNaN: true }),
  minRequests: fc.integer({ min: 1, max: 100 }),
});

const versionSample = fc.integer({ min: 0, max: 1_000 }).chain((requests) =>
  fc.record({
    requests: fc.constant(requests),
    errors: fc.integer({ min: 0, max: requests }),
    p50Ms: fc.double({ min: 0, max: 5_000, noNaN: true }),
    p95Ms: fc.double({ min: 0, max: 5_000, noNaN: true }),
  }),
);

const probe: fc.Arbitrary<ProbeSample> = fc.record({ at: fc.nat(), weight: fc.integer({ min: 1, max: 100 }), canary: versionSample, stable: versionSample });

const verdictRank: Record<ProbeVerdict, number> = { green: 0, inconclusive: 1, red: 2 };

describe('judgeProbe properties', () => {
  it('is monotone: more canary errors or latency never turns red into green (or green into better)', () => {
    fc.assert(
      fc.property(probe, thresholds, fc.double({ min: 0, max: 1, noNaN: true }), fc.nat(1_000), fc.double({ min: 0, max: 5_000, noNaN: true }), (sample, t, evalScore, extraErrors, extraLatency) => {
        const before = judgeProbe(sample, t, evalScore);
        const worse = {
          ...sample,
          canary: { ...sample.canary, errors: Math.min(sample.canary.requests, sample.canary.errors + extraErrors), p95Ms: sample.canary.p95Ms + extraLatency },
        };
        const after = judgeProbe(worse, t, evalScore);
        if (before.verdict === 'red') expect(after.verdict).toBe('red');
        expect(verdictRank[after.verdict]).toBeGreaterThanOrEqual(verdictRank[before.verdict]);
      }),
    );
  });

  it('a lower eval score never improves the verdict, and below the minimum it is always red', () => {
    fc.assert(
      fc.property(probe, thresholds, fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (sample, t, a, b) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        const atLow = judgeProbe(sample, t, low);
        expect(verdictRank[atLow.verdict]).toBeGreaterThanOrEqual(verdictRank[judgeProbe(sample, t, high).verdict]);
        if (low < t.minEvalScore) expect(atLow.verdict).toBe('red');
      }),
    );
  });

  it('red always comes with reasons, green with none, and the sample is kept as measured', () => {
    fc.assert(
      fc.property(probe, thresholds, fc.double({ min: 0, max: 1, noNaN: true }), (sample, t, evalScore) => {
        const judged = judgeProbe(sample, t, evalScore);
        if (judged.verdict === 'green') expect(judged.reasons).toEqual([]);
        else expect(judged.reasons.length).toBeGreaterThan(0);
        expect({ at: judged.at, weight: judged.weight, canary: judged.canary, stable: judged.stable }).toEqual(sample);
      }),
    );
  });
});

const gate: fc.Arbitrary<HealthGate> = fc.record({
  probeInterval: fc.integer({ min: 1, max: 10_000 }),
  consecutiveGreen: fc.integer({ min: 1, max: 10 }),
  maxRed: fc.integer({ min: 1, max: 10 }),
  timeout: fc.integer({ min: 1, max: 1_000_000 }),
});
const verdicts = fc.array(fc.constantFrom<ProbeVerdict>('green', 'red', 'inconclusive'), { maxLength: 60 });

/** Feeds verdicts into a fresh gate until it is decided; returns the outcome and the verdicts it saw. */
function runGate(g: HealthGate, seq: readonly ProbeVerdict[]) {
  let progress: GateProgress = { consecutiveGreen: 0, red: 0, probes: 0 };
  const seen: ProbeVerdict[] = [];
  for (const verdict of seq) {
    seen.push(verdict);
    const step = advanceGate(progress, verdict, g);
    progress = step.progress;
    if (step.outcome !== 'continue') return { outcome: step.outcome, seen, progress };
  }
  return { outcome: 'continue' as const, seen, progress };
}

describe('advanceGate properties', () => {
  it('never passes with fewer than N green probes since the last red, nor with a red in that run', () => {
    fc.assert(
      fc.property(gate, verdicts, (g, seq) => {
        const { outcome, seen } = runGate(g, seq);
        if (outcome !== 'passed') return;
        const sinceLastRed = seen.slice(seen.lastIndexOf('red') + 1);
        expect(sinceLastRed.filter((v) => v === 'green').length).toBeGreaterThanOrEqual(g.consecutiveGreen);
        expect(seen[seen.length - 1]).toBe('green');
      }),
    );
  });

  it('always fails at the M-th red, unless it passed before', () => {
    fc.assert(
      fc.property(gate, verdicts, (g, seq) => {
        const { outcome, seen } = runGate(g, seq);
        const reds = seen.filter((v) => v === 'red').length;
        if (outcome === 'failed') {
          expect(reds).toBe(g.maxRed);
          expect(seen[seen.length - 1]).toBe('red');
        }
        if (outcome === 'continue') expect(reds).toBeLessThan(g.maxRed);
        // Had the gate not passed, M reds in the sequence would have failed it.
        if (seq.filter((v) => v === 'red').length >= g.maxRed) expect(outcome).not.toBe('continue');
      }),
    );
  });

  it('counts every probe and never decreases the red count', () => {
    fc.assert(
      fc.property(gate, verdicts, (g, seq) => {
        let progress: GateProgress = { consecutiveGreen: 0, red: 0, probes: 0 };
        for (const verdict of seq) {
          const next = advanceGate(progress, verdict, g).progress;
          expect(next.probes).toBe(progress.probes + 1);
          expect(next.red).toBeGreaterThanOrEqual(progress.red);
          if (verdict === 'red') expect(next.consecutiveGreen).toBe(0);
          progress = next;
        }
      }),
    );
  });
});

describe('percentile properties', () => {
  const values = fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 200 });
  const p = fc.double({ min: 0, max: 100, noNaN: true });

  it('lies within min..max and is one of the samples', () => {
    fc.assert(
      fc.property(values, p, (vs, q) => {
        const result = percentile(vs, q);
        expect(result).toBeGreaterThanOrEqual(Math.min(...vs));
        expect(result).toBeLessThanOrEqual(Math.max(...vs));
        expect(vs).toContain(result);
      }),
    );
  });

  it('is monotone in p, with p=100 the maximum', () => {
    fc.assert(
      fc.property(values, p, p, (vs, a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(percentile(vs, lo)).toBeLessThanOrEqual(percentile(vs, hi));
        expect(percentile(vs, 100)).toBe(Math.max(...vs));
      }),
    );
  });

  it('does not depend on sample order and leaves the input untouched', () => {
    fc.assert(
      fc.property(values, p, (vs, q) => {
        const copy = [...vs];
        expect(percentile([...vs].reverse(), q)).toBe(percentile(vs, q));
        expect(vs).toEqual(copy);
      }),
    );
    expect(percentile([], 95)).toBe(0);
  });
});
