import fc from 'fast-check';
import { rng as uniforms } from '../../../evals/perturbations';
import { judgeWindow, statisticalJudgeSchema, type GateWindow, type MetricOutcome } from '../../../core/judge';

const judge = statisticalJudgeSchema.parse({});
const rank: Record<MetricOutcome, number> = { pass: 0, inconclusive: 1, fail: 2 };

function logNormal(next: () => number, medianMs: number): number {
  const z = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  return medianMs * Math.exp(0.5 * z);
}

function draw(seed: number, requests: number, errorRate: number, medianMs: number, samples: number) {
  const next = uniforms(seed);
  let errors = 0;
  for (let i = 0; i < requests; i++) if (next() < errorRate) errors++;
  return { requests, errors, latenciesMs: Array.from({ length: samples }, () => logNormal(next, medianMs)) };
}

describe('judgeWindow properties', () => {
  it('never fails a canary drawn from the same distribution as stable more often than the error budget', () => {
    // 200 windows at one look each: the budget per window is 1%, so more than 8 failures would be far out (p < 0.001).
    let failures = 0;
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 50, max: 5_000 }), fc.double({ min: 0, max: 0.05, noNaN: true }), (seed, requests, errorRate) => {
        const samples = Math.min(requests, 400);
        const window: GateWindow = { canary: draw(seed, requests, errorRate, 50, samples), stable: draw(seed ^ 0x5bd1e995, requests * 9, errorRate, 50, samples) };
        if (judgeWindow(window, judge, 1).outcome === 'fail') failures++;
      }),
      { numRuns: 200 },
    );
    expect(failures).toBeLessThanOrEqual(8);
  });

  it('is monotone in the effect: more canary errors or a slower canary never improve the verdict', () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.integer({ min: 20, max: 3_000 }),
        fc.integer({ min: 0, max: 3_000 }),
        fc.double({ min: 1, max: 4, noNaN: true }),
        (seed, requests, extraErrors, slowdown) => {
          const canary = draw(seed, requests, 0.01, 50, Math.min(requests, 300));
          const stable = draw(seed + 1, requests * 4, 0.01, 50, Math.min(requests * 4, 300));
          const before = judgeWindow({ canary, stable }, judge, 10);
          const worse = { ...canary, errors: Math.min(canary.requests, canary.errors + extraErrors), latenciesMs: canary.latenciesMs.map((v) => v * slowdown) };
          const after = judgeWindow({ canary: worse, stable }, judge, 10);
          for (const metric of ['error-rate', 'latency'] as const) {
            const b = before.evidence.find((e) => e.metric === metric)!;
            const a = after.evidence.find((e) => e.metric === metric)!;
            expect(rank[a.outcome]).toBeGreaterThanOrEqual(rank[b.outcome]);
            expect(a.regression.pValue).toBeLessThanOrEqual(b.regression.pValue + 1e-12);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('never passes without the samples its power calculation asks for, and every verdict carries its evidence', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 0, max: 2_000 }), fc.integer({ min: 0, max: 20_000 }), (seed, canaryRequests, stableRequests) => {
        const canary = draw(seed, canaryRequests, 0.002, 50, Math.min(canaryRequests, 300));
        const stable = draw(seed + 7, stableRequests, 0.002, 50, Math.min(stableRequests, 300));
        const verdict = judgeWindow({ canary, stable }, judge, 120);
        for (const e of verdict.evidence) {
          if (e.outcome === 'pass') expect(e.canary.samples).toBeGreaterThanOrEqual(e.requiredSamples);
          expect(e.words).toMatch(new RegExp(`→ ${e.outcome}$`));
          expect(e.alpha).toBeCloseTo(0.01 / 240, 12);
        }
        if (verdict.outcome === 'pass') expect(verdict.evidence.every((e) => e.outcome === 'pass')).toBe(true);
      }),
      { numRuns: 150 },
    );
  });
});
