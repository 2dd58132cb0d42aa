import fc from 'fast-check';
import { confidenceInterval, detectDrop, normaliseWeights, percentile, scoreScenario, summarise, type ScoredCheck } from '../../../evals/scoring';
import { lexicalSimilarity } from '../../../evals/semantic';
import { perturb, PERTURBATION_KINDS } from '../../../evals/perturbations';

const unit = fc.double({ min: 0, max: 1, noNaN: true });
const check = fc.record({ check: fc.constantFrom('a', 'b', 'c'), score: unit, weight: fc.oneof(fc.constant(0), fc.double({ min: 0.001, max: 10, noNaN: true })) /* the DSL's weights */, required: fc.boolean(), passAt: unit });
const toScored = (c: { check: string; score: number; weight: number; required: boolean; passAt: number }): ScoredCheck => ({ ...c, passed: c.score >= c.passAt });

describe('scoring properties', () => {
  it('scenario scores stay in [0, 1] and pass only at or above the threshold', () => {
    fc.assert(
      fc.property(fc.array(check, { minLength: 1, maxLength: 8 }), unit, (checks, threshold) => {
        const r = scoreScenario(checks.map(toScored), threshold);
        expect(r.score).toBeGreaterThanOrEqual(0);
        expect(r.score).toBeLessThanOrEqual(1);
        if (r.passed) expect(r.score).toBeGreaterThanOrEqual(threshold);
      }),
    );
  });

  it('raising any single check score never lowers the scenario score (monotone in each check)', () => {
    fc.assert(
      fc.property(fc.array(check, { minLength: 1, maxLength: 8 }), fc.nat(), unit, (checks, pick, raised) => {
        const i = pick % checks.length;
        const before = scoreScenario(checks.map(toScored), 0.85).score;
        const better = checks.map((c, j) => (j === i ? { ...c, score: Math.max(c.score, raised) } : c));
        expect(scoreScenario(better.map(toScored), 0.85).score).toBeGreaterThanOrEqual(before - 1e-12);
      }),
    );
  });

  it('weights are normalised: shares sum to 1, and scaling every weight changes nothing', () => {
    fc.assert(
      fc.property(fc.array(check, { minLength: 1, maxLength: 8 }), fc.double({ min: 0.01, max: 100, noNaN: true }), (checks, k) => {
        const shares = normaliseWeights(checks.map((c) => c.weight));
        const total = shares.reduce((a, b) => a + b, 0);
        if (checks.some((c) => c.weight > 0)) expect(total).toBeCloseTo(1, 9);
        const scaled = checks.map((c) => ({ ...c, weight: c.weight * k }));
        expect(scoreScenario(scaled.map(toScored), 0.5).score).toBeCloseTo(scoreScenario(checks.map(toScored), 0.5).score, 9);
      }),
    );
  });

  it('all checks perfect scores 1; a failed required check caps the score at its own score', () => {
    fc.assert(
      fc.property(fc.array(check, { minLength: 1, maxLength: 8 }), (checks) => {
        const perfect = checks.map((c) => toScored({ ...c, score: 1, passAt: 1, weight: c.weight + 0.1 }));
        const top = scoreScenario(perfect, 0.999999);
        expect(top.score).toBeCloseTo(1, 9);
        expect(top.passed).toBe(true);
        const failedRequired = checks.map(toScored).filter((c) => c.required && !c.passed);
        const r = scoreScenario(checks.map(toScored), 0);
        for (const c of failedRequired) expect(r.score).toBeLessThanOrEqual(c.score + 1e-12);
        if (failedRequired.length) expect(r.passed).toBe(false);
      }),
    );
  });

  it('the confidence interval contains the mean and lies in [0, 1]; the Eval Score lies in its interval', () => {
    fc.assert(
      fc.property(fc.array(unit, { minLength: 1, maxLength: 30 }), (samples) => {
        const ci = confidenceInterval(samples);
        const m = samples.reduce((a, b) => a + b, 0) / samples.length;
        expect(ci.low).toBeLessThanOrEqual(m + 1e-12);
        expect(ci.high).toBeGreaterThanOrEqual(m - 1e-12);
        expect(ci.low).toBeGreaterThanOrEqual(0);
        expect(ci.high).toBeLessThanOrEqual(1);
        const s = summarise(samples.map((x, i) => ({ scores: [x], weight: 1 + (i % 3) })));
        expect(s.score).toBeGreaterThanOrEqual(s.ci.low - 1e-12);
        expect(s.score).toBeLessThanOrEqual(s.ci.high + 1e-12);
      }),
    );
  });

  it('a drop is real only when the intervals separate or a scenario consistently regresses', () => {
    fc.assert(
      fc.property(fc.array(unit, { minLength: 2, maxLength: 10 }), fc.array(unit, { minLength: 2, maxLength: 10 }), (a, b) => {
        const base = summarise(a.map((x) => ({ scores: [x], weight: 1 })));
        const cand = summarise(b.map((x) => ({ scores: [x], weight: 1 })));
        const verdict = detectDrop(base, cand);
        expect(verdict.real).toBe(cand.ci.high < base.ci.low && base.score - cand.score >= 0.02);
        expect(detectDrop(base, base).real).toBe(false);
      }),
    );
    const same = { score: 0.9, ci: { low: 0.85, high: 0.95 } };
    expect(detectDrop(same, same, [{ id: 's', basePassed: [true, true], candidatePassed: [false, false] }]).regressedScenarios).toEqual(['s']);
    // A flaky scenario (passes once of two on the candidate) is not a regression.
    expect(detectDrop(same, same, [{ id: 's', basePassed: [true, true], candidatePassed: [true, false] }]).real).toBe(false);
  });

  it('percentile is an element of the data, monotone in p', () => {
    fc.assert(
      fc.property(fc.array(unit, { minLength: 1, maxLength: 50 }), fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100 }), (xs, p, q) => {
        expect(xs).toContain(percentile(xs, p));
        if (p <= q) expect(percentile(xs, p)).toBeLessThanOrEqual(percentile(xs, q));
      }),
    );
  });
});

describe('semantic similarity and perturbations', () => {
  it('lexical similarity is symmetric, in [0, 1] and 1 for identical text', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        const s = lexicalSimilarity(a, b);
        expect(s).toBeGreaterThanOrEqual(0);
        expect(s).toBeLessThanOrEqual(1 + 1e-9);
        expect(s).toBeCloseTo(lexicalSimilarity(b, a), 9);
        if (a.trim()) expect(lexicalSimilarity(a, a)).toBeCloseTo(1, 9);
      }),
    );
    expect(lexicalSimilarity('refactor the code without changing its behaviour', 'Refactor greeting code; behaviour unchanged')).toBeGreaterThan(0.3);
    expect(lexicalSimilarity('refactor the code without changing its behaviour', 'bump the version of left-pad')).toBeLessThan(0.2);
  });

  it('perturbations are deterministic for a seed and keep context file names (adversarial adds one)', () => {
    const fixtures = { prompt: 'Please fix the failing function and add a test.', inputs: { a: 1, b: 2 }, failing_tests: [], context_files: { 'docs/TASK.md': 'line one\nline two\nline three' } };
    for (const kind of PERTURBATION_KINDS) {
      expect(perturb(fixtures, { kind, seed: 7 })).toEqual(perturb(fixtures, { kind, seed: 7 }));
      expect(Object.keys(perturb(fixtures, { kind, seed: 7 }).fixtures.context_files)).toEqual(expect.arrayContaining(['docs/TASK.md']));
    }
    expect(perturb(fixtures, { kind: 'paraphrase', seed: 1 }).fixtures.prompt).toBe('Repair the broken routine and introduce a test, please.');
    expect(perturb(fixtures, { kind: 'adversarial', seed: 1 }).fixtures.context_files['INJECTED_NOTES.md']).toMatch(/IGNORE ALL PREVIOUS INSTRUCTIONS/);
  });
});
