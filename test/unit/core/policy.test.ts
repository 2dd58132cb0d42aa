import fc from 'fast-check';
import { arbitraryMutationReport } from '../../helpers/mutation-arbitrary';
import { ApplicationFailure } from '@temporalio/common';
import { createPolicyActivities as createPolicyActivitiesUnwrapped } from '../../../activities/policy';
import { asWorkerRuns } from '../../helpers/interceptors';
// Called directly, the activities run through the worker's interceptor as they would on a worker.
const createPolicyActivities = (...args: Parameters<typeof createPolicyActivitiesUnwrapped>) => asWorkerRuns(createPolicyActivitiesUnwrapped(...args));
import { decide, matchesPathPattern, policyRules, RISK_DENY_THRESHOLD, type PolicyInput } from '../../../core/policy';
import type { CheckResult, Denial } from '../../../core/stages';
import { TEST_CHANGE_KINDS } from '../../../core/test-changes';

const passingEvals = { score: 0.95, passed: true, threshold: 0.85, durationMs: 1200, checks: [{ check: 'greets', score: 1, passed: true, explanation: 'ok' }] };
const lowRisk = { score: 0.2, factors: [{ name: 'centrality', value: 0.1, weight: 0.45, detail: 'leaf file' }] };

function input(overrides: Partial<PolicyInput> = {}): PolicyInput {
  return {
    changeRequest: { id: 'c-1', protectedPaths: ['infra', 'src/auth/**'] },
    candidate: { sha: 'a'.repeat(40), changedFiles: ['src/greet.ts'] },
    risk: lowRisk,
    evals: passingEvals,
    ...overrides,
  };
}

function denials(decision: ReturnType<typeof decide>): Denial[] {
  return decision.outcome === 'deny' ? decision.denials : [];
}

describe('matchesPathPattern', () => {
  it.each([
    ['infra', 'infra', true],
    ['infra/k8s/deploy.yaml', 'infra', true],
    ['infra/k8s/deploy.yaml', 'infra/', true],
    ['./infra/a', 'infra', true],
    ['infrastructure/a', 'infra', false],
    ['src/auth/token.ts', 'src/auth/**', true],
    ['src/auth', 'src/auth/**', false], // like .gitignore: 'dir/**' is what is inside dir
    ['src/auth/deep/er/x.ts', 'src/**/x.ts', true],
    ['src/x.ts', 'src/**/x.ts', true],
    ['src/a/secret.ts', 'src/*/secret.ts', true],
    ['src/a/b/secret.ts', 'src/*/secret.ts', false],
    ['src/a/keys/k.pem', 'src/*/keys', true],
    ['package.json', '*.json', true],
    ['config/app.json', '*.json', false],
    ['config/app.json', '**/*.json', true],
    ['src/a.ts', 'src/a+ts', false],
    ['src/a.ts', '', false],
    ['src/a.ts', 'src/a?ts', false], // '?' is literal in policy patterns
    ['src/a?ts', 'src/a?ts', true],
    ['src/b.ts', 'src/{a,b}.ts', true],
    ['src/c.ts', 'src/{a,b}.ts', false],
    ['db/migrations/001.sql', 'db/migrations/[0-9]*.sql', true],
    ['db/migrations/init.sql', 'db/migrations/[0-9]*.sql', false],
    ['src/a/keys/k.pem', 'src/[!b]/keys', true],
    ['src/b/keys/k.pem', 'src/[!b]/keys', false],
    ['src/a.ts', '!src/b.ts', false], // a leading '!' is not a negation
    ['.env', '*', true],
    ['app/(auth)/page.tsx', 'app/(auth)/*.tsx', true],
    ['././infra/a', 'infra', true], // every leading './' goes, not only the first
    ['infra/a', 'infra//', true], // every trailing '/' goes
    ['docs./a', 'docs.', true], // a './' inside the path is part of a name, not a leading './'
    ['/etc/passwd', '', false], // an empty pattern protects nothing, not even an absolute path (which starts with '' + '/')
    ['/etc/passwd', './', false],
    ['src/x.ts', 'infra|src', false], // no glob syntax: the pattern is a literal path, '|' is not an alternation
  ])('%s vs %s → %s', (path, pattern, expected) => {
    expect(matchesPathPattern(path, pattern)).toBe(expected);
  });
});

describe('decide', () => {
  it('allows a passing, low-risk change that touches no protected path, with notes', () => {
    const decision = decide(input());
    expect(decision).toEqual({ outcome: 'allow', notes: expect.arrayContaining([expect.stringContaining('risk score 0.200')]) });
  });

  it('denies a failing eval run and names the failing checks', () => {
    const checks: CheckResult[] = [
      { check: 'greets', score: 1, passed: true, explanation: 'ok' },
      { check: 'p95-latency', score: 0.2, passed: false, explanation: 'p95 800ms > 300ms' },
      { check: 'no-pii', score: 0, passed: false, explanation: 'email in log line' },
    ];
    const [denial, ...others] = denials(decide(input({ evals: { ...passingEvals, score: 0.4, passed: false, checks } })));
    expect(others).toEqual([]);
    expect(denial!.rule).toBe('eval-score-below-threshold');
    expect(denial!.reason).toContain('0.400 is below the threshold 0.850');
    expect(denial!.reason).toContain('p95-latency, no-pii');
    expect(denial!.evidence).toContain('FAIL no-pii score=0.000: email in log line');
    expect(denial!.fix).toContain('Make p95-latency, no-pii pass');
  });

  it('denies a score below threshold even when every check passed, pointing at the weakest checks', () => {
    const checks: CheckResult[] = [
      { check: 'a', score: 0.7, passed: true, explanation: 'meh' },
      { check: 'b', score: 0.99, passed: true, explanation: 'good' },
    ];
    const [denial] = denials(decide(input({ evals: { ...passingEvals, score: 0.8, passed: true, checks } })));
    expect(denial!.rule).toBe('eval-score-below-threshold');
    expect(denial!.reason).toContain('the lowest scores are: a (0.700), b (0.990)');
  });

  it('denies a protected path change, naming the path and the pattern', () => {
    const [denial] = denials(decide(input({ candidate: { sha: 'b'.repeat(40), changedFiles: ['src/greet.ts', 'src/auth/session.ts'] } })));
    expect(denial!.rule).toBe('protected-path-touched');
    expect(denial!.reason).toContain('src/auth/session.ts');
    expect(denial!.reason).toContain("'src/auth/**'");
    expect(denial!.reason).not.toContain('src/greet.ts');
    expect(denial!.fix).toMatch(/approval from the owners of 'src\/auth\/\*\*'.*or drop the changes to src\/auth\/session.ts/);
  });

  it('denies risk strictly above the threshold only', () => {
    expect(decide(input({ risk: { ...lowRisk, score: RISK_DENY_THRESHOLD } })).outcome).toBe('allow');
    const [denial] = denials(decide(input({ risk: { ...lowRisk, score: 0.81 } })));
    expect(denial!.rule).toBe('risk-above-threshold');
    expect(denial!.fix).toMatch(/^Request owner approval/);
    expect(denial!.evidence).toContain('centrality: value=0.100');
  });

  it('reports every objection, critical rules before high ones', () => {
    const decision = decide(
      input({
        risk: { ...lowRisk, score: 0.95 },
        evals: { ...passingEvals, passed: false },
        candidate: { sha: 'c'.repeat(40), changedFiles: ['infra/x.yaml'] },
      }),
    );
    expect(denials(decision).map((d) => d.rule)).toEqual(['eval-score-below-threshold', 'protected-path-touched', 'risk-above-threshold']);
  });

  it('refuses a rule that produces an incomplete denial', () => {
    const broken = { id: 'broken', severity: 'high' as const, description: 'x', evaluate: () => ({ rule: 'broken', reason: ' ', evidence: 'e', fix: 'f' }) as never };
    expect(() => decide(input(), [broken])).toThrow('empty reason');
  });
});

// Every denial any rule can produce carries a non-empty rule, reason, evidence and fix.
describe('denials are complete', () => {
  const check = fc.record({
    check: fc.string({ minLength: 1 }),
    score: fc.double({ min: 0, max: 1, noNaN: true }),
    passed: fc.boolean(),
    explanation: fc.string(),
  });
  const arbitraryInput: fc.Arbitrary<PolicyInput> = fc.record({
    changeRequest: fc.record({
      id: fc.constant('c-1'),
      protectedPaths: fc.array(fc.constantFrom('infra', 'src/**', '*.json', 'db/migrations'), { maxLength: 3 }),
      environment: fc.constantFrom('dev' as const, 'staging' as const, 'prod' as const),
    }),
    candidate: fc.record({
      sha: fc.constant('d'.repeat(40)),
      changedFiles: fc.array(fc.constantFrom('infra/a.yaml', 'src/x.ts', 'package.json', 'db/migrations/001.sql', 'README.md'), { maxLength: 5 }),
      diff: fc
        .array(
          fc.record({
            file: fc.constantFrom('src/x.ts', 'db/migrations/002.sql', 'README.md'),
            line: fc.oneof(fc.string(), fc.constantFrom('const key = "AKIAABCDEFGHIJKLMNOP";', 'ALTER TABLE users ADD COLUMN email text;', 'password = "hunter2hunter2"', 'ok')),
          }),
          { maxLength: 4 },
        )
        .map((lines) => lines.map((l) => `diff --git a/${l.file} b/${l.file}\n--- a/${l.file}\n+++ b/${l.file}\n@@ -1,0 +1,1 @@\n+${l.line}`).join('\n')),
    }),
    approvals: fc.array(fc.record({ by: fc.constantFrom('alice', 'bob') }), { maxLength: 1 }),
    now: fc.date({ min: new Date('2026-01-01'), max: new Date('2027-01-01'), noInvalidDate: true }).map((d) => d.toISOString()),
    llmCostUsd: fc.double({ min: 0, max: 20, noNaN: true }),
    risk: fc.record({
      score: fc.double({ min: 0, max: 1, noNaN: true }),
      factors: fc.array(fc.record({ name: fc.string({ minLength: 1 }), value: fc.double({ min: 0, max: 1, noNaN: true }), weight: fc.double({ min: 0, max: 1, noNaN: true }), detail: fc.string() }), { maxLength: 3 }),
    }),
    evals: fc.record({
      score: fc.double({ min: 0, max: 1, noNaN: true }),
      passed: fc.boolean(),
      threshold: fc.double({ min: 0, max: 1, noNaN: true }),
      checks: fc.array(check, { maxLength: 4 }),
      durationMs: fc.nat(),
      testChanges: fc.option(fc.array(fc.record({ kind: fc.constantFrom(...TEST_CHANGE_KINDS), file: fc.constantFrom('test/x.test.ts', 'src/x.ts'), line: fc.nat(), detail: fc.string() }), { maxLength: 2 }), { nil: undefined }),
      mutation: fc.option(arbitraryMutationReport, { nil: undefined }),
    }),
  });

  it('for every rule and any input', () => {
    fc.assert(
      fc.property(arbitraryInput, (policyInput) => {
        for (const rule of policyRules) {
          const denial = rule.evaluate(policyInput);
          if (denial === null) continue;
          expect(denial.rule).toBe(rule.id);
          for (const key of ['rule', 'reason', 'evidence', 'fix'] as const) expect(denial[key].trim()).not.toBe('');
        }
        const decision = decide(policyInput);
        if (decision.outcome === 'deny') expect(decision.denials.length).toBeGreaterThanOrEqual(1);
      }),
      { numRuns: 500 },
    );
  });

  it('every rule fires for some input (so the property above covers all of them)', () => {
    const fired = new Set<string>();
    fc.assert(
      fc.property(arbitraryInput, (policyInput) => {
        for (const rule of policyRules) if (rule.evaluate(policyInput)) fired.add(rule.id);
      }),
      { numRuns: 500 },
    );
    expect([...fired].sort()).toEqual(policyRules.map((r) => r.id).sort());
  });
});

describe('decidePolicy activity', () => {
  const { decidePolicy } = createPolicyActivities();

  it('returns the decision of the rules', async () => {
    await expect(decidePolicy(input())).resolves.toMatchObject({ outcome: 'allow' });
  });

  it('fails without retry on malformed input, naming the field', async () => {
    const failure = await decidePolicy({ ...input(), risk: { score: 7, factors: [] } }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'InvalidInput', nonRetryable: true });
    expect((failure as Error).message).toContain('risk.score');
  });
});
