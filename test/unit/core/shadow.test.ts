import { shadowReport } from '../../../core/shadow';

const evals = (passed: boolean) => ({
  score: passed ? 0.93 : 0.6,
  passed,
  threshold: 0.85,
  durationMs: 1,
  checks: [
    { check: 'tests_pass', score: passed ? 1 : 0, passed, explanation: '' },
    { check: 'patch_applies', score: 1, passed: true, explanation: '' },
  ],
});
const base = { branch: 'maestro/c-1', candidateSha: 'ab'.repeat(20), risk: { score: 0.314, factors: [] }, plannedRollout: '10% → 100% (the change request\'s own steps)' };

describe('shadowReport', () => {
  it('says an allowed shadow change would have been rolled out, and how', () => {
    const report = shadowReport({ ...base, evals: evals(true), decision: { outcome: 'allow', notes: [] } });
    expect(report).toMatchObject({ wouldBe: 'allowed', failedChecks: [], denials: [], risk: 0.314 });
    expect(report.words).toBe(
      "shadow change would have been allowed (Eval Score 0.930 ≥ 0.85, every check passed; risk 0.31) and rolled out: 10% → 100% (the change request's own steps); candidate abababababab kept on maestro/c-1, nothing merged or deployed",
    );
  });

  it('says a denied one would have met each denial, with its fix, and names the failing checks', () => {
    const denial = { rule: 'eval-score-below-threshold', reason: 'score 0.600 < 0.85', evidence: 'e', fix: 'make tests_pass pass' };
    const report = shadowReport({ ...base, evals: evals(false), decision: { outcome: 'deny', denials: [denial] } });
    expect(report).toMatchObject({ wouldBe: 'denied', failedChecks: ['tests_pass'], denials: [{ rule: denial.rule, reason: denial.reason, fix: denial.fix }] });
    expect(report.words).toBe(
      'shadow change would have been denied (Eval Score 0.600 < 0.85, failing tests_pass; risk 0.31): [eval-score-below-threshold] score 0.600 < 0.85 — fix: make tests_pass pass; candidate abababababab kept on maestro/c-1, nothing merged or deployed',
    );
  });
});
