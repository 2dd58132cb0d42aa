import { decide, policyInputSchema } from '../../../../core/policy';
import { defaultPolicy, parsePolicyConfig, policyFrom, type PolicyInput } from '../../../../core/policy-rules';
import type { ChangeMutationReport, LiveMutant, MutationRun } from '../../../../core/mutation';

const survivor = (line: number, original: string, replacement: string, mutator = 'EqualityOperator'): LiveMutant => ({ file: 'src/greeting.ts', line, column: 7, mutator, original, replacement, status: 'Survived' });
const run = (over: Partial<MutationRun>): MutationRun => ({ score: 0.5, killed: 5, survived: 5, noCoverage: 0, timeout: 1, errors: 0, survivors: [], ...over });
const mutation = (candidate: MutationRun, base: ChangeMutationReport['base'] = null): ChangeMutationReport => ({
  check: 'mutation_score',
  passAt: 0.7,
  mutated: ['src/greeting.ts:30-34'],
  candidate,
  base,
  ...(base ? {} : { baseNote: 'the change only adds code: the base has no version of these lines' }),
  durationMs: 1000,
});
const input = (m?: ChangeMutationReport): PolicyInput => ({
  changeRequest: { id: 'c-1', protectedPaths: [] },
  candidate: { sha: 'a'.repeat(40), changedFiles: ['src/greeting.ts'] },
  risk: { score: 0, factors: [] },
  evals: { score: 1, passed: true, threshold: 0.85, durationMs: 1, checks: [], ...(m ? { mutation: m } : {}) },
});
const rule = defaultPolicy().rules.find((r) => r.id === 'mutation-score-below-threshold')!;

describe('mutation-score-below-threshold', () => {
  const weak = run({
    score: 6 / 12,
    killed: 5,
    timeout: 1,
    survived: 5,
    noCoverage: 1,
    survivors: [
      survivor(31, 'hour < 12', 'hour <= 12'),
      survivor(32, 'hour < 18', 'true', 'ConditionalExpression'),
      survivor(32, 'hour < 18', 'hour <= 18'),
      { ...survivor(33, "'Good evening'", '""', 'StringLiteral'), status: 'NoCoverage' },
    ],
  });

  it('denies below 70% by default: the fix names each live mutant with a test that kills it, and how many must die', () => {
    expect(rule.severity).toBe('high');
    expect(rule.evaluate(input(mutation(weak)))).toEqual({
      rule: 'mutation-score-below-threshold',
      reason: 'the tests kill 50.0% of the mutants in the changed code (6 of 12), below 70.0%; 6 survive in src/greeting.ts',
      evidence: [
        'eval check mutation_score: score 50.0% (5 killed, 5 survived, 1 no coverage, 1 timeout) over src/greeting.ts:30-34',
        'base: the change only adds code: the base has no version of these lines',
        'src/greeting.ts:31:7 EqualityOperator `hour < 12` → `hour <= 12` (survived)',
        'src/greeting.ts:32:7 ConditionalExpression `hour < 18` → `true` (survived)',
        'src/greeting.ts:32:7 EqualityOperator `hour < 18` → `hour <= 18` (survived)',
        "src/greeting.ts:33:7 StringLiteral `'Good evening'` → `\"\"` (no test reaches it)",
      ].join('\n'),
      fix: [
        'Add or sharpen tests so that at least 3 more of these mutants fail them (each line: the mutant, then a test that kills it), push a new candidate and re-run the train:',
        '- src/greeting.ts:31 EqualityOperator `hour < 12` → `hour <= 12`: a test where `hour` equals `12`: only there do `hour < 12` and `hour <= 12` differ; assert the outcome at that boundary',
        '- src/greeting.ts:32 ConditionalExpression `hour < 18` → `true`: a test where `hour < 18` is false, asserting what happens then (the mutant always takes the true path)',
        '- src/greeting.ts:32 EqualityOperator `hour < 18` → `hour <= 18`: a test where `hour` equals `18`: only there do `hour < 18` and `hour <= 18` differ; assert the outcome at that boundary',
        "- src/greeting.ts:33 StringLiteral `'Good evening'` → `\"\"`: no test reaches src/greeting.ts:33 yet: call it, then assert the exact text that `'Good evening'` produces at src/greeting.ts:33 (the whole message, not only that there is one): the mutant empties it",
      ].join('\n'),
    });
  });

  it('is silent at or above the bar, without a mutation check, and when the change had no mutant', () => {
    expect(rule.evaluate(input(mutation(run({ score: 0.7, killed: 7, timeout: 0, survived: 3 }))))).toBeNull();
    expect(rule.evaluate(input())).toBeNull();
    expect(rule.evaluate(input(mutation(run({ score: null, killed: 0, timeout: 0, survived: 0 }))))).toBeNull();
  });

  it('takes its bar and the number of outlines from the policy, and names the base figure when there is one', () => {
    const strict = policyFrom({ version: 1, roles: { 'release-manager': ['rita'] }, rules: [{ id: 'mutation-score-below-threshold', params: { minScore: 0.9, maxOutlines: 1 } }] }).rules[0]!;
    const denial = strict.evaluate(input(mutation(run({ score: 0.8, killed: 8, timeout: 0, survived: 2, survivors: [survivor(31, 'a > b', 'a >= b'), survivor(40, 'a > b', 'a >= b')] }), { ...run({ score: 1, killed: 4, timeout: 0, survived: 0 }), mutated: ['src/greeting.ts:24-24'] })));
    expect(denial?.reason).toBe('the tests kill 80.0% of the mutants in the changed code (8 of 10), below 90.0%; 2 survive in src/greeting.ts; on the base, the lines it rewrites scored 100.0%');
    expect(denial?.evidence.split('\n')[1]).toBe('base: score 100.0% (4 killed, 0 survived, 0 no coverage, 0 timeout) over src/greeting.ts:24-24');
    expect(denial?.fix).toMatch(/^Add or sharpen tests so that at least 1 more of these mutants/);
    expect(denial?.fix).toMatch(/\n- src\/greeting.ts:31 .*\n\(and 1 more in the evidence\)$/);
  });

  it("quotes a mutant's original code on one line, whatever whitespace it spans, and says when the base was not measured", () => {
    const { baseNote: _withoutNote, ...unmeasured } = mutation(run({ survivors: [survivor(31, '  hour <\n      12 ', 'hour <= 12')] }));
    const denial = rule.evaluate(input(unmeasured));
    expect(denial?.evidence.split('\n')[1]).toBe('base: not measured');
    expect(denial?.fix.split('\n')[1]).toMatch(/^- src\/greeting\.ts:31 EqualityOperator `hour < 12` → `hour <= 12`: a test where/);
  });

  it('the policy file validates its parameters; the policy input validates the mutation figures', () => {
    expect(() => parsePolicyConfig({ version: 1, rules: [{ id: 'mutation-score-below-threshold', params: { minScore: 70 } }] })).toThrow(/minScore/);
    expect(policyInputSchema.safeParse(input(mutation(weak))).success).toBe(true);
    expect(policyInputSchema.safeParse(input({ ...mutation(weak), candidate: { ...weak, score: 1.5 } })).success).toBe(false);
  });

  it('in the default policy, it denies the change through decide()', () => {
    const decision = decide(input(mutation(weak)));
    expect(decision.outcome === 'deny' && decision.denials.map((d) => d.rule)).toEqual(['mutation-score-below-threshold']);
  });
});
