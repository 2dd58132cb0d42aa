/** spec-criteria-uncovered: an acceptance criterion no test cites is a medium-severity denial with reason, evidence and fix. */
import fc from 'fast-check';
import { decide, type PolicyInput } from '../../../core/policy';
import { defaultPolicy, parsePolicyYaml, policyFrom } from '../../../core/policy-rules';
import { describeSpecCoverage, specCoverage, traceSpec } from '../../../core/spec';
import type { Spec } from '../../../core/stages';

const spec: Spec = {
  changeId: 'c-1',
  title: 't',
  scenarios: [{ id: 'SPEC-c-1-1', given: 'g', when: 'w', then: 't' }],
  acceptanceCriteria: [
    { id: 'AC-c-1-1', text: 'one' },
    { id: 'AC-c-1-2', text: 'two' },
  ],
};
const coverageCheck = (cited: string[]) => {
  const coverage = specCoverage(traceSpec(spec, cited.map((id, i) => ({ id, file: 'test/a.test.ts', line: i + 1 }))));
  return { check: 'spec_coverage', score: coverage.score, passed: coverage.score >= 1, explanation: describeSpecCoverage(coverage) };
};
const input = (checks: PolicyInput['evals']['checks']): PolicyInput => ({
  changeRequest: { id: 'c-1', protectedPaths: [] },
  candidate: { sha: 'a'.repeat(40), changedFiles: ['src/a.ts'] },
  risk: { score: 0.1, factors: [] },
  evals: { score: 0.95, passed: true, threshold: 0.85, durationMs: 10, checks: [{ check: 'tests_pass', score: 1, passed: true, explanation: '3/3 tests pass' }, ...checks] },
});
const ROLES = { 'release-manager': ['rita'] };
const policy = policyFrom({ version: 1, rules: [{ id: 'eval-score-below-threshold' }, { id: 'spec-criteria-uncovered' }], roles: ROLES });

describe('spec-criteria-uncovered', () => {
  it('denies (medium) naming the uncovered criteria, with the check as evidence and how to cite them as the fix', () => {
    const decision = decide(input([coverageCheck(['AC-c-1-1'])]), policy.rules);
    expect(policy.rules.find((r) => r.id === 'spec-criteria-uncovered')?.severity).toBe('medium');
    expect(decision.outcome).toBe('deny');
    const [denial] = decision.outcome === 'deny' ? decision.denials : [];
    expect(denial).toMatchObject({ rule: 'spec-criteria-uncovered' });
    expect(denial!.reason).toBe('the tests of change c-1 cover 1/2 acceptance criteria of its spec; no test cites AC-c-1-2 (required: 100%)');
    expect(denial!.evidence).toContain('spec c-1: 1/2 acceptance criteria covered by tests; uncovered: AC-c-1-2');
    expect(denial!.fix).toContain('// covers: AC-c-1-2');
  });

  it('allows full coverage, a report without the check, and coverage above a lowered minimum', () => {
    expect(decide(input([coverageCheck(['AC-c-1-1', 'AC-c-1-2'])]), policy.rules).outcome).toBe('allow');
    expect(decide(input([]), policy.rules).outcome).toBe('allow');
    const lenient = policyFrom(parsePolicyYaml('version: 1\nroles: { release-manager: [rita] }\nrules:\n  - id: spec-criteria-uncovered\n    params: { minCoverage: 0.5 }\n'));
    expect(decide(input([coverageCheck(['AC-c-1-2'])]), lenient.rules).outcome).toBe('allow');
    expect(decide(input([coverageCheck([])]), lenient.rules).outcome).toBe('deny');
  });

  it('is opt-in: the default policy does not list it, a policy file validates its params', () => {
    expect(defaultPolicy().rules.map((r) => r.id)).not.toContain('spec-criteria-uncovered');
    expect(() => parsePolicyYaml('version: 1\nrules:\n  - id: spec-criteria-uncovered\n    params: { minCoverage: 2 }\n')).toThrow(/minCoverage/);
  });

  it('without a coverage line it judges the check score and says so in every field', () => {
    const [rule] = policyFrom({ version: 1, rules: [{ id: 'spec-criteria-uncovered' }], roles: ROLES }).rules;
    expect(rule!.evaluate(input([{ check: 'spec_coverage', score: 0.5, passed: true, explanation: '' }]))).toEqual({
      rule: 'spec-criteria-uncovered',
      reason: 'the tests of change c-1 cover a coverage score of 0.500 of its spec (required: 100%)',
      evidence: 'eval check spec_coverage (score 0.500, passed):\n(no explanation)',
      fix: 'Add or extend tests for the uncovered criteria and cite each id in the test (a `// covers: AC-<change>-<n>` comment above it, or the id in its title), check with `maestro spec trace`, push and re-run the train; a criterion that needs no test can be appealed.',
    });
    expect(rule!.evaluate(input([{ check: 'spec_coverage', score: 1, passed: false, explanation: 'the tracer crashed' }]))?.evidence).toBe('eval check spec_coverage (score 1.000, failed):\nthe tracer crashed');
    expect(rule!.evaluate(input([{ check: 'spec_coverage', score: 1, passed: true, explanation: 'the tracer found every id' }]))).toBeNull();
  });

  it('the share is covered/total (a spec without criteria is covered), and at 100% a criterion the line names as uncovered is never passed', () => {
    const line = (covered: number, total: number, uncovered: string[] = []) => `spec c-1: ${covered}/${total} acceptance criteria covered by tests${uncovered.length ? `; uncovered: ${uncovered.join(', ')}` : ''}`;
    const judge = (minCoverage: number, explanation: string) =>
      policyFrom({ version: 1, roles: ROLES, rules: [{ id: 'spec-criteria-uncovered', params: { minCoverage } }] }).rules[0]!.evaluate(input([{ check: 'spec_coverage', score: 0, passed: false, explanation }]));
    expect(judge(1, line(0, 0))).toBeNull();
    expect(judge(0.7, line(2, 3, ['AC-c-1-3']))?.reason).toBe('the tests of change c-1 cover 2/3 acceptance criteria of its spec; no test cites AC-c-1-3 (required: 70%)');
    expect(judge(0.6, line(2, 3, ['AC-c-1-3']))).toBeNull();
    expect(judge(1, line(2, 2, ['AC-c-1-3']))?.reason).toBe('the tests of change c-1 cover 2/2 acceptance criteria of its spec; no test cites AC-c-1-3 (required: 100%)');
    const two = judge(1, line(1, 3, ['AC-c-1-2', 'AC-c-1-3']));
    expect(two?.reason).toBe('the tests of change c-1 cover 1/3 acceptance criteria of its spec; no test cites AC-c-1-2, AC-c-1-3 (required: 100%)');
    expect(two?.fix).toMatch(/^Add or extend tests for AC-c-1-2, AC-c-1-3 and cite each id in the test \(a `\/\/ covers: AC-c-1-2` comment above it/);
  });

  it('every denial is complete, for any check explanation and score', () => {
    const [rule] = policyFrom({ version: 1, rules: [{ id: 'spec-criteria-uncovered' }], roles: ROLES }).rules;
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.subarray(['AC-c-1-1', 'AC-c-1-2']).map((ids) => coverageCheck(ids).explanation)), fc.double({ min: 0, max: 1, noNaN: true }), fc.boolean(), (explanation, score, passed) => {
        const denial = rule!.evaluate(input([{ check: 'spec_coverage', score, passed, explanation }]));
        if (denial) for (const key of ['rule', 'reason', 'evidence', 'fix'] as const) expect(denial[key].trim()).not.toBe('');
      }),
    );
  });
});
