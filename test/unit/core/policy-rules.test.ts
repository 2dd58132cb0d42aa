import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { arbitraryMutationReport } from '../../helpers/mutation-arbitrary';
import { ApplicationFailure } from '@temporalio/common';
import { createPolicyActivities as createPolicyActivitiesUnwrapped } from '../../../activities/policy';
import { asWorkerRuns } from '../../helpers/interceptors';
// Called directly, the activities run through the worker's interceptor as they would on a worker.
const createPolicyActivities = (...args: Parameters<typeof createPolicyActivitiesUnwrapped>) => asWorkerRuns(createPolicyActivitiesUnwrapped(...args));
import { loadPolicyFile } from '../../../policy/load';
import { decide, type PolicyInput } from '../../../core/policy';
import { appealRoles, compilePolicy, defaultPolicy, parsePolicyConfig, parsePolicyYaml, PolicyConfigError, RULE_IDS, type CompiledPolicy } from '../../../core/policy-rules';
import type { Denial } from '../../../core/stages';
import { TEST_CHANGE_KINDS } from '../../../core/test-changes';

const FIXTURE = path.join(__dirname, '../../helpers/strict.policy.yaml');
const strict: CompiledPolicy = loadPolicyFile(FIXTURE);

const passingEvals = { score: 0.95, passed: true, threshold: 0.85, durationMs: 10, checks: [{ check: 'greets', score: 1, passed: true, explanation: 'ok' }] };
const diffOf = (file: string, ...lines: string[]) => `diff --git a/${file} b/${file}\n--- a/${file}\n+++ b/${file}\n@@ -0,0 +1,${lines.length} @@\n${lines.map((l) => `+${l}`).join('\n')}\n`;

function input(o: Partial<PolicyInput> & { diff?: string; files?: string[]; env?: 'dev' | 'staging' | 'prod' } = {}): PolicyInput {
  const { diff, files, env, ...rest } = o;
  return {
    changeRequest: { id: 'c-1', protectedPaths: [], environment: env ?? 'staging', author: 'dave' },
    candidate: { sha: 'a'.repeat(40), changedFiles: files ?? ['src/greet.ts'], diff: diff ?? diffOf('src/greet.ts', 'export const hi = 1;') },
    risk: { score: 0.2, factors: [{ name: 'centrality', value: 0.1, weight: 0.5, detail: 'leaf' }] },
    evals: passingEvals,
    now: '2026-11-25T12:00:00Z',
    llmCostUsd: 0.1,
    ...rest,
  };
}
const denialsOf = (i: PolicyInput, p: CompiledPolicy = strict): Denial[] => {
  const d = decide(i, p.rules);
  return d.outcome === 'deny' ? d.denials : [];
};
const only = (i: PolicyInput, p: CompiledPolicy = strict): Denial => {
  const ds = denialsOf(i, p);
  expect(ds).toHaveLength(1);
  return ds[0]!;
};

describe('built-in rules under a policy file', () => {
  it('allows a clean change', () => {
    expect(decide(input(), strict.rules).outcome).toBe('allow');
  });

  it('eval score below the policy floor (minScore above the report threshold)', () => {
    const d = only(input({ evals: { ...passingEvals, score: 0.88 } }));
    expect(d.rule).toBe('eval-score-below-threshold');
    expect(d.reason).toContain('0.880 is below the threshold 0.900');
  });

  it('secrets in the diff: file, line and kind as evidence, never the secret itself', () => {
    const secret = 'AKIAIOSFODNN7EXAMPLE';
    const token = 'ghp_' + 'x'.repeat(36);
    const d = only(input({ diff: diffOf('src/config.ts', 'const ok = 1;', `const key = "${secret}";`, `const t = '${token}';`) }));
    expect(d.rule).toBe('secrets-in-diff');
    expect(d.evidence).toContain('src/config.ts:2: AWS access key id');
    expect(d.evidence).toContain('src/config.ts:3: GitHub token');
    expect(d.evidence + d.reason + d.fix).not.toContain(secret);
    expect(d.evidence + d.reason + d.fix).not.toContain(token);
    expect(d.fix).toMatch(/rotate/);
    // removed lines and ignored paths do not count
    expect(decide(input({ diff: `--- a/x.ts\n+++ b/x.ts\n@@ -1,1 +1,0 @@\n-const key = "${secret}";\n` }), strict.rules).outcome).toBe('allow');
    expect(decide(input({ diff: diffOf('test/fixtures/keys.ts', `k = "${secret}"`) }), strict.rules).outcome).toBe('allow');
  });

  it('a migration touching a PII column without a redaction rule; a redacted column passes', () => {
    const d = only(input({ files: ['db/migrations/002_users.sql'], diff: diffOf('db/migrations/002_users.sql', 'ALTER TABLE users ADD COLUMN email text;') }));
    expect(d.rule).toBe('pii-migration-without-redaction');
    expect(d.reason).toContain('users.email');
    expect(d.evidence).toContain('db/migrations/002_users.sql:1: ALTER TABLE users ADD COLUMN email text;');
    expect(d.fix).toContain('redactedColumns');
    expect(decide(input({ diff: diffOf('db/migrations/003.sql', 'ALTER TABLE users ADD COLUMN phone text;') }), strict.rules).outcome).toBe('allow');
    expect(decide(input({ diff: diffOf('src/email.ts', 'const email = 1;') }), strict.rules).outcome).toBe('allow');
  });

  it('protected paths from the policy and from the change request; an owner approval lifts it, anyone else does not', () => {
    const touching = input({ files: ['infra/k8s/deploy.yaml'] });
    const d = only(touching);
    expect(d.rule).toBe('protected-path-touched');
    expect(d.fix).toContain("'owner' (olivia)");
    expect(only({ ...touching, approvals: [{ by: 'dave' }] }).rule).toBe('protected-path-touched');
    expect(only({ ...touching, approvals: [{ by: 'olivia', rules: ['risk-above-threshold'] }] }).rule).toBe('protected-path-touched');
    expect(decide({ ...touching, approvals: [{ by: 'olivia', rules: ['protected-path-touched'] }] }, strict.rules).outcome).toBe('allow');
  });

  it('environment protection: prod needs a release manager; a freeze window blocks even with approval', () => {
    const d = only(input({ env: 'prod' }));
    expect(d.rule).toBe('environment-protection');
    expect(d.reason).toContain('prod is a protected environment');
    expect(decide(input({ env: 'prod', approvals: [{ by: 'rita' }] }), strict.rules).outcome).toBe('allow');
    const frozen = only(input({ env: 'prod', approvals: [{ by: 'rita' }], now: '2026-12-24T10:00:00Z' }));
    expect(frozen.reason).toContain('year-end freeze');
    expect(frozen.fix).toContain('2027-01-04T00:00:00Z');
    expect(decide(input({ env: 'staging', now: '2026-12-24T10:00:00Z' }), strict.rules).outcome).toBe('allow');
  });

  it('risk above the policy threshold needs an owner; severity comes from the file', () => {
    const d = only(input({ risk: { score: 0.75, factors: [] } }));
    expect(d.rule).toBe('risk-above-threshold');
    expect(strict.rules.find((r) => r.id === 'risk-above-threshold')!.severity).toBe('medium');
    expect(decide(input({ risk: { score: 0.75, factors: [] }, approvals: [{ by: 'olivia' }] }), strict.rules).outcome).toBe('allow');
  });

  it('LLM budget cap per change', () => {
    const d = only(input({ llmCostUsd: 2.25 }));
    expect(d.rule).toBe('llm-budget-cap');
    expect(d.reason).toContain('$2.2500');
    expect(d.reason).toContain('$1.50');
  });

  it('a waiver from a granted appeal drops that denial and notes it; other denials stay', () => {
    const i = input({ llmCostUsd: 9, files: ['infra/x'] });
    const waived = decide({ ...i, waivers: [{ rule: 'llm-budget-cap', appealId: 'appeal-9', decidedBy: 'rita', reason: 'worth it' }] }, strict.rules);
    expect(waived.outcome === 'deny' && waived.denials.map((d) => d.rule)).toEqual(['protected-path-touched']);
    const all = decide({ ...i, approvals: [{ by: 'olivia' }], waivers: [{ rule: 'llm-budget-cap', appealId: 'appeal-9', decidedBy: 'rita', reason: 'worth it' }] }, strict.rules);
    expect(all.outcome).toBe('allow');
    expect(all.outcome === 'allow' && all.notes.join('\n')).toContain('llm-budget-cap waived by appeal appeal-9 (decided by rita: worth it)');
  });

  it('orders denials by severity', () => {
    const ds = denialsOf(input({ llmCostUsd: 9, risk: { score: 0.9, factors: [] }, files: ['infra/x'] }));
    expect(ds.map((d) => d.rule)).toEqual(['protected-path-touched', 'llm-budget-cap', 'risk-above-threshold']);
  });
});

describe('policy files: bad input gets clear errors', () => {
  const bad = (yaml: string) => {
    try {
      parsePolicyYaml(yaml, 'bad.yaml');
    } catch (err) {
      expect(err).toBeInstanceOf(PolicyConfigError);
      return (err as Error).message;
    }
    throw new Error('expected a PolicyConfigError');
  };

  it('unknown rule id, naming the known ones', () => {
    const msg = bad('version: 1\nrules:\n  - id: eval-score-below-threshold\n  - id: no-friday-deploys\n');
    expect(msg).toContain('bad.yaml');
    expect(msg).toContain('rules.1.id: unknown rule id "no-friday-deploys"; known rules: ' + RULE_IDS.join(', '));
  });

  it('malformed YAML, with the position', () => {
    expect(bad('version: 1\nrules: [\n  - id: x\n')).toMatch(/bad.yaml is not valid YAML: .*line/s);
    expect(bad('')).toContain('bad.yaml is empty');
  });

  it('wrong field types, unknown fields, bad regexes and windows, duplicate rules, undefined roles', () => {
    expect(bad('version: 1\nrules:\n  - id: llm-budget-cap\n    params: { maxUsdPerChange: "lots" }\n')).toContain('rules.0.params.maxUsdPerChange: expected number, got string');
    expect(bad('version: 1\nrules:\n  - id: llm-budget-cap\n    params: { max: 3 }\n')).toContain("unknown field(s) 'max'");
    expect(bad("version: 1\nrules:\n  - id: secrets-in-diff\n    params: { extraPatterns: [{ name: x, regex: '(' }] }\n")).toContain('a valid regular expression');
    expect(bad("version: 1\nrules:\n  - id: environment-protection\n    params: { environments: { prod: { freezeWindows: [{ start: '2027-01-02T00:00:00Z', end: '2027-01-01T00:00:00Z', reason: r }] } } }\n")).toContain('start must be before end');
    expect(bad('version: 1\nrules:\n  - id: llm-budget-cap\n  - id: llm-budget-cap\n')).toContain('rule llm-budget-cap is listed twice');
    expect(bad('version: 1\nrules:\n  - id: risk-above-threshold\n    params: { approverRoles: [cto] }\n')).toContain("role 'cto' is used but not defined");
    expect(bad('version: 2\nrules: []\n')).toMatch(/version/);
    expect(bad('version: 1\nrules:\n  - id: llm-budget-cap\n    severity: catastrophic\n')).toContain("got 'catastrophic', allowed: 'critical', 'high', 'medium', 'low'");
  });

  it('a rule entry that is not an object (a bare id, null, a list) is named as such, each at its index', () => {
    expect(bad('version: 1\nrules:\n  - llm-budget-cap\n  - null\n  - [id, llm-budget-cap]\n  - id: secrets-in-diff\n')).toBe(
      "invalid policy file bad.yaml:\n  - rules.0: each rule is an object with an 'id'\n  - rules.1: each rule is an object with an 'id'\n  - rules.2: each rule is an object with an 'id'",
    );
  });

  it('a duplicate rule, a decider for an unknown rule and an undefined role are each reported at their field', () => {
    const yaml = 'version: 1\nroles: { release-manager: [rita] }\nrules:\n  - id: llm-budget-cap\n  - id: llm-budget-cap\nappeals:\n  appellants: [cto]\n  deciders: { default: [release-manager], no-such-rule: [release-manager] }\n';
    expect(bad(yaml)).toBe(
      [
        'invalid policy file bad.yaml:',
        '  - rules.1.id: rule llm-budget-cap is listed twice',
        `  - appeals.deciders.no-such-rule: unknown rule id "no-such-rule"; known rules: ${RULE_IDS.join(', ')}`,
        "  - roles: role 'cto' is used but not defined in roles",
      ].join('\n'),
    );
  });

  it("'author' is a role every policy has: it may approve, appeal and decide without being defined", () => {
    const config = parsePolicyYaml('version: 1\nrules:\n  - id: risk-above-threshold\n    params: { approverRoles: [author] }\nappeals:\n  appellants: [author]\n  deciders: { default: [author] }\n');
    expect(config.roles).toEqual({});
    expect(config.appeals).toEqual({ appellants: ['author'], deciders: { default: ['author'] }, allowSelfDecision: false });
  });

  it('a valid regular expression is accepted as an extra secret pattern', () => {
    const config = parsePolicyYaml("version: 1\nroles: { release-manager: [rita] }\nrules:\n  - id: secrets-in-diff\n    params: { extraPatterns: [{ name: house key, regex: 'HOUSE-[0-9]+' }] }\n");
    expect(config.rules).toEqual([{ id: 'secrets-in-diff', enabled: true, params: { extraPatterns: [{ name: 'house key', regex: 'HOUSE-[0-9]+' }], ignorePaths: [] } }]);
  });

  it('errors name their source ("policy" for data, "policy.yaml" for text unless told); a key given twice is invalid YAML', () => {
    expect(() => parsePolicyConfig({ version: 1, rules: [{ id: 'llm-budget-cap', params: { maxUsdPerChange: 0 } }] })).toThrow(/^invalid policy file policy:\n {2}- rules\.0\.params\.maxUsdPerChange: /);
    expect(() => parsePolicyYaml('# nothing but a comment\n')).toThrow(new PolicyConfigError('policy file policy.yaml is empty'));
    expect(bad('version: 1\nversion: 1\nrules:\n  - id: llm-budget-cap\n')).toMatch(/^policy file bad\.yaml is not valid YAML: Map keys must be unique at line 2/);
  });

  it('the activity fails without retry on a bad policy file, and decides nothing', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'maestro-policy-')), 'p.yaml');
    fs.writeFileSync(file, 'version: 1\nrules:\n  - id: nope\n');
    const err = await createPolicyActivities({ policyFile: file }).decidePolicy(input()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'InvalidPolicy', nonRetryable: true });
    expect((err as Error).message).toContain('unknown rule id "nope"');
  });
});

describe('the decidePolicy activity', () => {
  it('fills in the decision time and the LLM spend from the ledger', async () => {
    const { decidePolicy } = createPolicyActivities({ policy: strict, now: () => new Date('2026-12-25T00:00:00Z'), llmCostUsd: async (id) => (id === 'c-1' ? 3 : 0) });
    const { now: _now, llmCostUsd: _cost, ...rest } = input({ env: 'prod', approvals: [{ by: 'rita' }] });
    const decision = await decidePolicy(rest);
    expect(decision.outcome === 'deny' && decision.denials.map((d) => d.rule)).toEqual(['environment-protection', 'llm-budget-cap']);
  });
});

describe('appeal roles come from the policy', () => {
  it('who may appeal and who decides', () => {
    expect(appealRoles(strict.config, 'dave', 'dave', ['llm-budget-cap'])).toEqual({ mayAppeal: true, deciderRoles: ['release-manager'] });
    expect(appealRoles(strict.config, 'mallory', 'dave', [])).toMatchObject({ mayAppeal: false });
    expect(appealRoles(strict.config, 'mallory', 'mallory', [])).toMatchObject({ mayAppeal: true }); // the author always may
    expect(appealRoles(strict.config, 'olivia', 'dave', [])).toMatchObject({ mayAppeal: true }); // not the author, but a developer: an appellant role
    expect(appealRoles(strict.config, 'dave', 'dave', ['risk-above-threshold', 'llm-budget-cap']).deciderRoles).toEqual(['owner', 'release-manager']);
  });
});

// 100% of denials carry a reason, evidence and a fix: every rule of both policies, any input.
describe('every denial is complete', () => {
  const text = fc.string({ maxLength: 30 });
  const line = fc.oneof(text, fc.constantFrom('k = "AKIAIOSFODNN7EXAMPLE"', '-----BEGIN RSA PRIVATE KEY-----', 'api_key: "abcdefghijkl"', 'ALTER TABLE users ADD COLUMN ssn text;', 'UPDATE customers SET email = NULL;', 'postgres://u:pw12@h/db'));
  const file = fc.constantFrom('src/a.ts', 'db/migrations/1.sql', 'infra/k8s/x.yaml', 'test/fixtures/k.ts', 'schema.sql');
  const arbitraryInput: fc.Arbitrary<PolicyInput> = fc.record({
    changeRequest: fc.record({ id: fc.constant('c-1'), protectedPaths: fc.array(fc.constantFrom('src/**', 'infra'), { maxLength: 2 }), environment: fc.constantFrom('dev' as const, 'staging' as const, 'prod' as const), author: fc.constant('dave') }),
    candidate: fc.record({
      sha: fc.constant('e'.repeat(40)),
      changedFiles: fc.array(file, { maxLength: 3 }),
      diff: fc.array(fc.tuple(file, fc.array(line, { minLength: 1, maxLength: 3 })), { maxLength: 3 }).map((parts) => parts.map(([f, ls]) => diffOf(f, ...ls)).join('')),
    }),
    risk: fc.record({ score: fc.double({ min: 0, max: 1, noNaN: true }), factors: fc.array(fc.record({ name: fc.string({ minLength: 1 }), value: fc.double({ min: 0, max: 1, noNaN: true }), weight: fc.double({ min: 0, max: 1, noNaN: true }), detail: fc.string() }), { maxLength: 2 }) }),
    evals: fc.record({
      score: fc.double({ min: 0, max: 1, noNaN: true }),
      passed: fc.boolean(),
      threshold: fc.double({ min: 0, max: 1, noNaN: true }),
      checks: fc.array(fc.record({ check: fc.string({ minLength: 1 }), score: fc.double({ min: 0, max: 1, noNaN: true }), passed: fc.boolean(), explanation: fc.string() }), { maxLength: 3 }),
      durationMs: fc.nat(),
      testChanges: fc.option(fc.array(fc.record({ kind: fc.constantFrom(...TEST_CHANGE_KINDS), file: fc.constantFrom('test/a.test.ts', 'src/a.ts'), line: fc.nat(), detail: fc.string() }), { maxLength: 2 }), { nil: undefined }),
      mutation: fc.option(arbitraryMutationReport, { nil: undefined }),
    }),
    approvals: fc.array(fc.record({ by: fc.constantFrom('olivia', 'rita', 'dave') }), { maxLength: 2 }),
    now: fc.date({ min: new Date('2026-12-01'), max: new Date('2027-01-31'), noInvalidDate: true }).map((d) => d.toISOString()),
    llmCostUsd: fc.double({ min: 0, max: 10, noNaN: true }),
  });

  it.each([
    ['the default policy', defaultPolicy()],
    ['a policy file', strict],
  ])('under %s, and every rule fires for some input', (_name, policy) => {
    const fired = new Set<string>();
    fc.assert(
      fc.property(arbitraryInput, (i) => {
        for (const rule of policy.rules) {
          const d = rule.evaluate(i);
          if (!d) continue;
          fired.add(rule.id);
          expect(d.rule).toBe(rule.id);
          for (const key of ['rule', 'reason', 'evidence', 'fix'] as const) expect(d[key].trim()).not.toBe('');
        }
        const decision = decide(i, policy.rules);
        if (decision.outcome === 'deny') for (const d of decision.denials) expect(d.reason && d.evidence && d.fix).toBeTruthy();
      }),
      { numRuns: 400 },
    );
    expect([...fired].sort()).toEqual(policy.rules.map((r) => r.id).sort());
  });

  it('the policy digest changes with the policy and only with it', () => {
    expect(compilePolicy(strict.config).digest).toBe(strict.digest);
    expect(strict.digest).not.toBe(defaultPolicy().digest);
  });
});
