import fc from 'fast-check';
import { policyFrom, type PolicyInput } from '../../../../core/policy-rules';

/** Every built-in rule with non-default settings, and one change that breaks all of them. */
const policy = policyFrom({
  version: 1,
  roles: { owner: ['olivia'], 'release-manager': ['rita', '*'], developer: ['dave'] },
  rules: [
    { id: 'eval-score-below-threshold', params: { minScore: 0.9 } },
    { id: 'risk-above-threshold', params: { threshold: 0.5, approverRoles: ['owner'] } },
    { id: 'secrets-in-diff' },
    { id: 'pii-migration-without-redaction', params: { redactedColumns: ['users.phone'] } },
    { id: 'protected-path-touched', params: { paths: ['infra/**'], approverRoles: ['owner'] } },
    {
      id: 'environment-protection',
      params: { environments: { prod: { requiresApproval: true, approverRoles: ['release-manager'], freezeWindows: [{ start: '2026-12-20T00:00:00Z', end: '2027-01-02T00:00:00Z', reason: 'holidays' }] } } },
    },
    { id: 'llm-budget-cap', params: { maxUsdPerChange: 2 } },
    { id: 'tests-weakened', params: { action: 'require-approval', approverRoles: ['owner'] } },
  ],
});
const diff = (file: string, ...lines: string[]) => `diff --git a/${file} b/${file}\n--- a/${file}\n+++ b/${file}\n@@ -0,0 +1,${lines.length} @@\n${lines.map((l) => `+${l}`).join('\n')}\n`;
const sha = 'f'.repeat(40);
const breaksAll: PolicyInput = {
  changeRequest: { id: 'c-7', protectedPaths: ['src/core'], environment: 'prod', author: 'dave' },
  candidate: {
    sha,
    changedFiles: ['infra/k8s.yaml', 'src/core/a.ts', 'db/migrations/2.sql'],
    diff: diff('src/core/a.ts', 'const k = "AKIAIOSFODNN7EXAMPLE";') + diff('db/migrations/2.sql', 'ALTER TABLE users ADD COLUMN email text;', 'UPDATE users SET phone = null;'),
  },
  risk: { score: 0.6, factors: [{ name: 'centrality', value: 0.2, weight: 0.35, detail: 'leaf' }, { name: 'change size', value: 0.9, weight: 0.15, detail: 'big' }] },
  evals: {
    score: 0.88,
    passed: true,
    threshold: 0.85,
    durationMs: 1,
    checks: [{ check: 'b', score: 0.9, passed: true, explanation: '' }, { check: 'a', score: 0.7, passed: true, explanation: 'weak' }],
    testChanges: [{ kind: 'assertion-removed', file: 'test/a.test.ts', line: 4, detail: 'expect(x) removed' }],
  },
  now: '2026-12-24T12:00:00Z',
  llmCostUsd: 2.5,
  approvals: [{ by: 'dave' }],
};
const evaluate = (input: PolicyInput) => Object.fromEntries(policy.rules.map((r) => [r.id, r.evaluate(input)]));

describe('built-in rules: what each denial says', () => {
  it('reason, evidence and fix of every rule for a change that breaks them all (an approval by someone without the role lifts nothing)', () => {
    expect(evaluate(breaksAll)).toEqual({
      'eval-score-below-threshold': {
        rule: 'eval-score-below-threshold',
        reason: 'eval score 0.880 is below the threshold 0.900; no check failed outright, the lowest scores are: a (0.700), b (0.900)',
        evidence: 'pass b score=0.900: (no explanation)\npass a score=0.700: weak',
        fix: "Make a, b pass (see each check's explanation in the evidence), push a new candidate and re-run the train.",
      },
      'secrets-in-diff': {
        rule: 'secrets-in-diff',
        reason: 'the diff adds 1 likely secret(s) (AWS access key id) in src/core/a.ts',
        evidence: 'src/core/a.ts:1: AWS access key id: AKIA… (20 chars, redacted)',
        fix: "Remove the secret(s) from src/core/a.ts, rotate them (they reached a branch), and read them from the environment or a secret store instead; a false positive in a fixture can be excluded with the rule's ignorePaths.",
      },
      'pii-migration-without-redaction': {
        rule: 'pii-migration-without-redaction',
        reason: 'a migration touches PII column(s) users.email that have no redaction rule',
        evidence: 'db/migrations/2.sql:1: ALTER TABLE users ADD COLUMN email text;  [users.email]',
        fix: 'Add a redaction rule for users.email (redactedColumns of pii-migration-without-redaction in the policy file, with the redaction in logs, exports and eval artifacts), or do not touch these columns in this migration.',
      },
      'protected-path-touched': {
        rule: 'protected-path-touched',
        reason: "the change touches protected path(s) infra/k8s.yaml, src/core/a.ts (protected by 'infra/**', 'src/core')",
        evidence: `infra/k8s.yaml matches protected pattern 'infra/**' (candidate ${sha})\nsrc/core/a.ts matches protected pattern 'src/core' (candidate ${sha})`,
        fix: "Get approval from the owners of 'infra/**', 'src/core': 'owner' (olivia) (approve signal on this train), or drop the changes to infra/k8s.yaml, src/core/a.ts and re-run the train.",
      },
      'environment-protection': {
        rule: 'environment-protection',
        reason: 'prod is in a freeze window (holidays)',
        evidence: 'freeze 2026-12-20T00:00:00Z – 2027-01-02T00:00:00Z: holidays; decision time 2026-12-24T12:00:00Z',
        fix: "Wait until 2027-01-02T00:00:00Z and re-run the train, or appeal to 'release-manager' (rita) for an emergency exception.",
      },
      'tests-weakened': {
        rule: 'tests-weakened',
        reason: 'the change weakens the tests that judge it (assertion-removed) in test/a.test.ts, and no owner has approved it',
        evidence: 'test/a.test.ts:4: assertion-removed: expect(x) removed',
        fix: "restore the removed assertions; then push a new candidate. Or ask 'owner' (olivia) to approve (approve signal on this train).",
      },
      'risk-above-threshold': {
        rule: 'risk-above-threshold',
        reason: 'risk score 0.600 is above 0.5, driven mostly by change size, and no owner has approved it',
        evidence: 'centrality: value=0.200 weight=0.350 (leaf)\nchange size: value=0.900 weight=0.150 (big)',
        fix: "Request owner approval from 'owner' (olivia) (approve signal on this train), or split the change so each part touches fewer, less central files.",
      },
      'llm-budget-cap': {
        rule: 'llm-budget-cap',
        reason: 'change c-7 has spent $2.5000 on LLM calls, above its cap of $2.00',
        evidence: 'llmCostUsd=2.500000 maxUsdPerChange=2 (sum of the cost ledger for this train)',
        fix: 'Narrow the change or use a cheaper model and re-run; or raise maxUsdPerChange of llm-budget-cap in the policy file if this change is worth it.',
      },
    });
  });

  it('an owner lifts the rules owners approve; a release manager (anyone, by "*") lifts environment protection outside a freeze', () => {
    const byOwner = evaluate({ ...breaksAll, approvals: [{ by: 'olivia' }], now: '2027-01-02T00:00:00Z' });
    expect(byOwner['risk-above-threshold']).toBeNull();
    expect(byOwner['protected-path-touched']).toBeNull();
    expect(byOwner['tests-weakened']).toBeNull();
    // The freeze ended at its end instant; olivia holds release-manager through '*'.
    expect(byOwner['environment-protection']).toBeNull();
    const scoped = evaluate({ ...breaksAll, approvals: [{ by: 'olivia', rules: ['risk-above-threshold'] }], now: '2026-12-19T23:59:59Z' });
    expect(scoped['risk-above-threshold']).toBeNull();
    expect(scoped['protected-path-touched']?.rule).toBe('protected-path-touched');
    // An approval scoped to some rules covers only those.
    expect(scoped['environment-protection']?.reason).toBe('prod is a protected environment and no release-manager has approved this change');
  });

  it('protected environments need an approval; the time of the decision decides the freeze', () => {
    const strict = policyFrom({
      version: 1,
      roles: { 'release-manager': ['rita'] },
      rules: [{ id: 'environment-protection', params: { environments: { prod: { requiresApproval: true, approverRoles: ['release-manager'] } } } }],
    }).rules[0]!;
    expect(strict.evaluate({ ...breaksAll, approvals: [{ by: 'dave' }, { by: 'olivia' }] })).toEqual({
      rule: 'environment-protection',
      reason: 'prod is a protected environment and no release-manager has approved this change',
      evidence: 'environment=prod requiresApproval=true approvals=[dave, olivia]',
      fix: "Ask 'release-manager' (rita) to approve this train (approve signal), then re-run the policy.",
    });
    expect(strict.evaluate({ ...breaksAll, approvals: undefined })?.evidence).toBe('environment=prod requiresApproval=true approvals=[]');
    expect(strict.evaluate({ ...breaksAll, approvals: [{ by: 'rita' }] })).toBeNull();
    expect(strict.evaluate({ ...breaksAll, changeRequest: { ...breaksAll.changeRequest, environment: 'dev' } })).toBeNull();
    expect(strict.evaluate({ ...breaksAll, changeRequest: { ...breaksAll.changeRequest, environment: undefined } })).toBeNull();
    const frozen = evaluate({ ...breaksAll, now: '2026-12-20T00:00:00Z' })['environment-protection'];
    expect(frozen?.reason).toBe('prod is in a freeze window (holidays)');
    expect(evaluate({ ...breaksAll, now: 'not a date', approvals: [{ by: 'rita' }] })['environment-protection']).toBeNull();
  });

  it('figures exactly at a limit pass: risk at the threshold, spend at the cap, score at the floor', () => {
    const atLimits = evaluate({ ...breaksAll, risk: { ...breaksAll.risk, score: 0.5 }, llmCostUsd: 2, evals: { ...breaksAll.evals, score: 0.9 } });
    expect(atLimits['risk-above-threshold']).toBeNull();
    expect(atLimits['llm-budget-cap']).toBeNull();
    expect(atLimits['eval-score-below-threshold']).toBeNull();
    expect(evaluate({ ...breaksAll, llmCostUsd: undefined })['llm-budget-cap']).toBeNull();
    expect(evaluate({ ...breaksAll, risk: { score: 0.9, factors: [] } })['risk-above-threshold']).toMatchObject({
      reason: 'risk score 0.900 is above 0.5, and no owner has approved it',
      evidence: 'score=0.900 (no factors reported)',
    });
  });

  it('an eval failure names the failing checks; a report with no checks asks for scenarios', () => {
    const failing = evaluate({ ...breaksAll, evals: { ...breaksAll.evals, score: 0.95, passed: false, checks: [{ check: 'x', score: 0.2, passed: false, explanation: 'broke' }, { check: 'y', score: 1, passed: true, explanation: 'ok' }] } });
    expect(failing['eval-score-below-threshold']).toEqual({
      rule: 'eval-score-below-threshold',
      reason: 'the eval harness reported a failure (score 0.950, threshold 0.900); failing checks: x',
      evidence: 'FAIL x score=0.200: broke\npass y score=1.000: ok',
      fix: "Make x pass (see each check's explanation in the evidence), push a new candidate and re-run the train.",
    });
    const empty = evaluate({ ...breaksAll, evals: { ...breaksAll.evals, score: 0, passed: false, checks: [] } });
    expect(empty['eval-score-below-threshold']).toEqual({
      rule: 'eval-score-below-threshold',
      reason: 'eval score 0.000 is below the threshold 0.900; the report lists no checks',
      evidence: 'score=0.000 threshold=0.900 passed=false checks=[]',
      fix: 'Add eval scenarios for this service so the harness has checks to run, then re-run the train.',
    });
    const repro = { test: 'sum is commutative', file: 'test/sum.test.ts', seed: 7, path: '3:0', counterexample: '[-1,2]', numRuns: 4, error: 'boom', replay: 'npm test -- --seed 7' };
    const withProperty = evaluate({ ...breaksAll, evals: { ...breaksAll.evals, score: 0.5, passed: false, checks: [{ check: 'tests_pass', score: 0.5, passed: false, explanation: '1/2 passed' }], failingProperties: { count: 3, repros: [repro] } } });
    expect(withProperty['eval-score-below-threshold']).toMatchObject({
      evidence: "FAIL tests_pass score=0.500: 1/2 passed\n3 failing properties:\nproperty 'sum is commutative' (test/sum.test.ts) fails for [-1,2] after 4 run(s), seed 7; replay: npm test -- --seed 7",
      fix: "Make tests_pass pass (see each check's explanation in the evidence; replay each failing property with its command), push a new candidate and re-run the train.",
    });
    const weakest = evaluate({ ...breaksAll, evals: { ...breaksAll.evals, checks: ['p', 'q', 'r', 's'].map((check, i) => ({ check, score: 1 - i / 10, passed: true, explanation: '' })) } });
    // The three weakest, not every check.
    expect(weakest['eval-score-below-threshold']?.reason).toBe('eval score 0.880 is below the threshold 0.900; no check failed outright, the lowest scores are: s (0.700), r (0.800), q (0.900)');
  });

  it('risk names the factor with the largest weighted value wherever it stands, and every approver role; every secret is a line of evidence', () => {
    const rule = policyFrom({ version: 1, roles: { owner: ['olivia'], lead: ['lee'], 'release-manager': ['rita'] }, rules: [{ id: 'risk-above-threshold', params: { threshold: 0.5, approverRoles: ['owner', 'lead'] } }] }).rules[0]!;
    // value × weight: coverage drop 0.45 beats author history 0.05, though author history's value ÷ weight (5) is larger.
    const factors = [
      { name: 'author history', value: 0.5, weight: 0.1, detail: 'new' },
      { name: 'coverage drop', value: 0.9, weight: 0.5, detail: '-12%' },
    ];
    for (const ordered of [factors, [...factors].reverse()]) {
      expect(rule.evaluate({ ...breaksAll, risk: { score: 0.7, factors: ordered } })?.reason).toBe('risk score 0.700 is above 0.5, driven mostly by coverage drop, and no owner/lead has approved it');
    }
    const twoSecrets = evaluate({ ...breaksAll, candidate: { ...breaksAll.candidate, diff: diff('src/core/a.ts', 'const k = "AKIAIOSFODNN7EXAMPLE";', 'const j = "AKIAIOSFODNN7EXAMPLF";') } });
    expect(twoSecrets['secrets-in-diff']?.evidence).toBe('src/core/a.ts:1: AWS access key id: AKIA… (20 chars, redacted)\nsrc/core/a.ts:2: AWS access key id: AKIA… (20 chars, redacted)');
  });

  it('a selected scenario that fails while the gate passes is named as the cause, with its checks as evidence', () => {
    // The shape of examples/changes/loosened-validation-change.json: the gate scores 1, greeter.validation@v1 0.
    const gate = ['patch_applies', 'tests_pass'].map((check) => ({ check, score: 1, passed: true, explanation: 'ok' }));
    const scenarios = [
      { id: 'gate.release-train@v1', score: 1, passed: true, weight: 1, selectedBy: ['gate'], checks: gate },
      { id: 'greeter.validation@v1', score: 0, passed: false, weight: 1, selectedBy: ['tag area:greeter'], checks: [{ check: 'json_schema', score: 0, passed: false, explanation: 'must be equal to constant' }] },
      { id: 'docs.readme@v1', score: 0, passed: false, weight: 1, selectedBy: ['path README.md ~ README.md'], skipped: 'requires README.md', checks: [] },
    ];
    const denied = evaluate({ ...breaksAll, evals: { ...breaksAll.evals, score: 0.5, passed: false, checks: gate, scenarios } });
    expect(denied['eval-score-below-threshold']).toEqual({
      rule: 'eval-score-below-threshold',
      reason: "eval score 0.500 is below the threshold 0.900; the gate's checks pass, failing scenarios: greeter.validation@v1 (0.000: json_schema failed)",
      evidence: 'pass patch_applies score=1.000: ok\npass tests_pass score=1.000: ok\nFAIL greeter.validation@v1 / json_schema score=0.000: must be equal to constant',
      fix: "Make scenario greeter.validation@v1 pass (see each check's explanation in the evidence), push a new candidate and re-run the train.",
    });
    // A failing gate check and a failing scenario: both are named.
    const both = evaluate({ ...breaksAll, evals: { ...breaksAll.evals, score: 0.3, passed: false, checks: [{ ...gate[0]! }, { check: 'tests_pass', score: 0.5, passed: false, explanation: '1/2' }], scenarios } });
    expect(both['eval-score-below-threshold']?.reason).toBe('eval score 0.300 is below the threshold 0.900; failing checks: tests_pass; failing scenarios: greeter.validation@v1 (0.000: json_schema failed)');
    expect(both['eval-score-below-threshold']?.fix).toMatch(/^Make tests_pass, scenario greeter\.validation@v1 pass /);
  });

  it('without a diff, the diff rules have nothing to judge; a denying tests-weakened rule ignores the kinds it is told to', () => {
    const noDiff = evaluate({ ...breaksAll, candidate: { ...breaksAll.candidate, diff: undefined } });
    expect(noDiff['secrets-in-diff']).toBeNull();
    expect(noDiff['pii-migration-without-redaction']).toBeNull();
    const rule = policyFrom({ version: 1, roles: { owner: ['olivia'], 'release-manager': ['rita'] }, rules: [{ id: 'tests-weakened', params: { action: 'deny', ignoreKinds: ['test-skipped'] } }] }).rules[0]!;
    expect(rule.description).toBe('A change must not weaken the tests that judge it.');
    const skippedOnly = { ...breaksAll, evals: { ...breaksAll.evals, testChanges: [{ kind: 'test-skipped' as const, file: 't.ts', line: 1, detail: 'it.skip' }] } };
    expect(rule.evaluate(skippedOnly)).toBeNull();
    expect(rule.evaluate({ ...breaksAll, approvals: [{ by: 'olivia' }] })).toEqual({
      rule: 'tests-weakened',
      reason: 'the change weakens the tests that judge it (assertion-removed) in test/a.test.ts',
      evidence: 'test/a.test.ts:4: assertion-removed: expect(x) removed',
      fix: 'restore the removed assertions; then push a new candidate.',
    });
  });
});

// Each test compiles its own policy: a rule's id and description are made when the policy is compiled, so a policy
// compiled while the test file loads would hide a wrong one from the test that reads it.
describe('built-in rules: what a compiled policy lists, and the wording of lists in denials', () => {
  it('lists each enabled rule once, most severe first (the file order within a severity), with its id and a description drawn from its settings', () => {
    const compiled = policyFrom({
      version: 1,
      roles: { owner: ['olivia'], 'release-manager': ['rita'] },
      rules: [
        { id: 'llm-budget-cap', params: { maxUsdPerChange: 3 } },
        { id: 'spec-criteria-uncovered', params: { check: 'spec' } },
        { id: 'risk-above-threshold', params: { threshold: 0.6 } },
        { id: 'tests-weakened', params: { action: 'require-approval' } },
        { id: 'secrets-in-diff', severity: 'low' },
        { id: 'mutation-score-below-threshold', params: { minScore: 0.75 } },
        { id: 'pii-migration-without-redaction' },
        { id: 'eval-score-below-threshold', enabled: false },
        { id: 'protected-path-touched', severity: 'medium' },
        { id: 'environment-protection' },
      ],
    });
    expect(compiled.rules.map(({ id, severity, description }) => ({ id, severity, description }))).toEqual([
      { id: 'tests-weakened', severity: 'critical', description: 'A change that weakens the tests that judge it needs an approval.' },
      { id: 'pii-migration-without-redaction', severity: 'critical', description: 'A migration touching PII columns needs a redaction rule for each of them.' },
      { id: 'environment-protection', severity: 'critical', description: 'Protected environments need an approval and are closed during freeze windows.' },
      { id: 'llm-budget-cap', severity: 'high', description: 'LLM spend per change is capped at $3.' },
      { id: 'risk-above-threshold', severity: 'high', description: "Changes with a risk score above 0.6 need an owner's approval." },
      { id: 'mutation-score-below-threshold', severity: 'high', description: 'The tests kill at least 75.0% of the mutants in the code a change adds or rewrites (eval check mutation_score).' },
      { id: 'spec-criteria-uncovered', severity: 'medium', description: "Every acceptance criterion of the change's spec is covered by a test (eval check 'spec')." },
      { id: 'protected-path-touched', severity: 'medium', description: "Changes to protected paths need their owners' approval." },
      { id: 'secrets-in-diff', severity: 'low', description: 'The diff must not add secrets or credentials (keys, tokens, passwords).' },
    ]);
  });

  it('a list of names shows at most ten, then counts the rest', () => {
    const rule = policyFrom({ version: 1, roles: { owner: ['olivia'], 'release-manager': ['rita'] }, rules: [{ id: 'protected-path-touched', params: { paths: ['infra'] } }] }).rules[0]!;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 14 }), (n) => {
        const files = Array.from({ length: n }, (_, i) => `infra/f${i}.yaml`);
        const shown = `${files.slice(0, 10).join(', ')}${n > 10 ? ` and ${n - 10} more` : ''}`;
        expect(rule.evaluate({ ...breaksAll, candidate: { sha, changedFiles: files } })?.reason).toBe(`the change touches protected path(s) ${shown} (protected by 'infra')`);
      }),
    );
  });

  it('an approver role nobody holds (author, which needs no definition) is named without a list of people', () => {
    const rule = policyFrom({ version: 1, roles: { 'release-manager': ['rita'] }, rules: [{ id: 'risk-above-threshold', params: { threshold: 0.5, approverRoles: ['author'] } }] }).rules[0]!;
    expect(rule.evaluate(breaksAll)?.fix).toBe("Request owner approval from 'author' (approve signal on this train), or split the change so each part touches fewer, less central files.");
  });

  it('a failed scenario is named by its score and its failing checks, if any; its passing checks are evidence too', () => {
    const scenarios = [
      { id: 'perf.latency@v1', score: 0.4, passed: false, weight: 1, selectedBy: ['tag perf'], checks: [{ check: 'p95', score: 1, passed: true, explanation: '' }] },
      { id: 'api.errors@v1', score: 0.5, passed: false, weight: 1, selectedBy: ['tag api'], checks: [{ check: 'status', score: 1, passed: true, explanation: 'ok' }, { check: 'body', score: 0, passed: false, explanation: 'no body' }] },
      // The gate's own scenario is the report's checks: it is never named twice.
      { id: 'gate.release-train@v1', score: 0.9, passed: false, weight: 1, selectedBy: ['gate'], checks: [{ check: 'tests_pass', score: 1, passed: true, explanation: 'ok' }] },
    ];
    const checks = [{ check: 'tests_pass', score: 1, passed: true, explanation: 'ok' }];
    expect(evaluate({ ...breaksAll, evals: { ...breaksAll.evals, score: 0.7, passed: false, checks, scenarios } })['eval-score-below-threshold']).toEqual({
      rule: 'eval-score-below-threshold',
      reason: "eval score 0.700 is below the threshold 0.900; the gate's checks pass, failing scenarios: perf.latency@v1 (0.400), api.errors@v1 (0.500: body failed)",
      evidence: 'pass tests_pass score=1.000: ok\npass perf.latency@v1 / p95 score=1.000: (no explanation)\npass api.errors@v1 / status score=1.000: ok\nFAIL api.errors@v1 / body score=0.000: no body',
      fix: "Make scenario perf.latency@v1, scenario api.errors@v1 pass (see each check's explanation in the evidence), push a new candidate and re-run the train.",
    });
  });

  it('failing properties: one is a property, several are properties, each repro on its own line', () => {
    const repro = (test: string, seed: number) => ({ test, file: 'test/sum.test.ts', seed, path: '0', counterexample: '[0]', numRuns: 1, error: 'boom', replay: `npm test -- --seed ${seed}` });
    const evidenceWith = (count: number, repros: ReturnType<typeof repro>[]) =>
      evaluate({ ...breaksAll, evals: { ...breaksAll.evals, score: 0.5, passed: false, checks: [{ check: 'tests_pass', score: 0.5, passed: false, explanation: '1/2 passed' }], failingProperties: { count, repros } } })['eval-score-below-threshold']?.evidence;
    const line = (test: string, seed: number) => `property '${test}' (test/sum.test.ts) fails for [0] after 1 run(s), seed ${seed}; replay: npm test -- --seed ${seed}`;
    expect(evidenceWith(1, [repro('a', 1)])).toBe(`FAIL tests_pass score=0.500: 1/2 passed\n1 failing property:\n${line('a', 1)}`);
    expect(evidenceWith(2, [repro('a', 1), repro('b', 2)])).toBe(`FAIL tests_pass score=0.500: 1/2 passed\n2 failing properties:\n${line('a', 1)}\n${line('b', 2)}`);
  });

  it('PII columns: matched in any case, redacted by bare or table-qualified name in any case, the table read past IF [NOT] EXISTS and any run of spaces; every hit is evidence', () => {
    const piiRule = (redactedColumns: string[]) => policyFrom({ version: 1, roles: { 'release-manager': ['rita'] }, rules: [{ id: 'pii-migration-without-redaction', params: { redactedColumns } }] }).rules[0]!;
    const migrationOf = (...lines: string[]) => ({ ...breaksAll, candidate: { ...breaksAll.candidate, diff: diff('db/migrations/3.sql', ...lines) } });
    const create = 'CREATE TABLE  IF  NOT  EXISTS  customers (EMAIL text, phone text);';
    const alter = 'ALTER TABLE IF EXISTS people ADD COLUMN email text;';
    expect(piiRule([]).evaluate(migrationOf(create, alter))).toEqual({
      rule: 'pii-migration-without-redaction',
      reason: 'a migration touches PII column(s) customers.email, customers.phone, people.email that have no redaction rule',
      evidence: `db/migrations/3.sql:1: ${create}  [customers.email]\ndb/migrations/3.sql:1: ${create}  [customers.phone]\ndb/migrations/3.sql:2: ${alter}  [people.email]`,
      fix: 'Add a redaction rule for customers.email, customers.phone, people.email (redactedColumns of pii-migration-without-redaction in the policy file, with the redaction in logs, exports and eval artifacts), or do not touch these columns in this migration.',
    });
    expect(piiRule(['Email', 'CUSTOMERS.PHONE']).evaluate(migrationOf(create, alter))).toBeNull();
    // A line that names no table (inside a multi-line statement) is redacted by bare names only: no entry can name its missing table.
    expect(piiRule(['undefined.email']).evaluate(migrationOf('  email = lower(email),'))).toMatchObject({
      reason: 'a migration touches PII column(s) email that have no redaction rule',
      evidence: 'db/migrations/3.sql:1: email = lower(email),  [email]',
    });
    // Any one migration pattern is enough (a .sql file outside migrations/), and a long line is quoted up to 160 characters.
    const long = `ALTER TABLE users ADD COLUMN email text; -- ${'x'.repeat(200)}`;
    expect(piiRule([]).evaluate({ ...breaksAll, candidate: { ...breaksAll.candidate, diff: diff('db/schema.sql', long) } })?.evidence).toBe(`db/schema.sql:1: ${long.slice(0, 160)}  [users.email]`);
  });

  it('environment protection: overlapping freezes are all named and the fix waits for the last to end; a scoped approval lifts it; every approver role is named', () => {
    const rule = policyFrom({
      version: 1,
      roles: { 'release-manager': ['rita'], owner: ['olivia'] },
      rules: [
        {
          id: 'environment-protection',
          params: {
            environments: {
              prod: {
                requiresApproval: true,
                approverRoles: ['release-manager', 'owner'],
                freezeWindows: [
                  { start: '2026-12-20T00:00:00Z', end: '2027-01-05T00:00:00Z', reason: 'holidays' },
                  { start: '2026-12-24T00:00:00Z', end: '2026-12-27T00:00:00Z', reason: 'offsite' },
                ],
              },
            },
          },
        },
      ],
    }).rules[0]!;
    expect(rule.evaluate({ ...breaksAll, now: '2026-12-25T00:00:00Z' })).toEqual({
      rule: 'environment-protection',
      reason: 'prod is in a freeze window (holidays; offsite)',
      evidence: 'freeze 2026-12-20T00:00:00Z – 2027-01-05T00:00:00Z: holidays; decision time 2026-12-25T00:00:00Z\nfreeze 2026-12-24T00:00:00Z – 2026-12-27T00:00:00Z: offsite; decision time 2026-12-25T00:00:00Z',
      fix: "Wait until 2027-01-05T00:00:00Z and re-run the train, or appeal to 'release-manager' or 'owner' (rita, olivia) for an emergency exception.",
    });
    const afterFreezes = { ...breaksAll, now: '2027-02-01T00:00:00Z' };
    expect(rule.evaluate({ ...afterFreezes, approvals: [{ by: 'dave' }] })?.reason).toBe('prod is a protected environment and no release-manager/owner has approved this change');
    expect(rule.evaluate({ ...afterFreezes, approvals: [{ by: 'rita', rules: ['environment-protection'] }] })).toBeNull();
  });

  it('tests-weakened: every finding is evidence and every kind gets its fix; an approval scoped to the rule lifts it; every approver role is named', () => {
    const rule = policyFrom({ version: 1, roles: { owner: ['olivia'], lead: ['lena'], 'release-manager': ['rita'] }, rules: [{ id: 'tests-weakened', params: { action: 'require-approval', approverRoles: ['owner', 'lead'] } }] }).rules[0]!;
    const testChanges = [
      { kind: 'assertion-removed' as const, file: 'test/a.test.ts', line: 4, detail: 'expect(x) removed' },
      { kind: 'test-skipped' as const, file: 'test/b.test.ts', line: 9, detail: 'it.skip' },
    ];
    const weakened = { ...breaksAll, evals: { ...breaksAll.evals, testChanges } };
    expect(rule.evaluate(weakened)).toEqual({
      rule: 'tests-weakened',
      reason: 'the change weakens the tests that judge it (assertion-removed, test-skipped) in test/a.test.ts, test/b.test.ts, and no owner/lead has approved it',
      evidence: 'test/a.test.ts:4: assertion-removed: expect(x) removed\ntest/b.test.ts:9: test-skipped: it.skip',
      fix: "restore the removed assertions; remove the skip/only/todo and make the test pass; then push a new candidate. Or ask 'owner' or 'lead' (olivia, lena) to approve (approve signal on this train).",
    });
    expect(rule.evaluate({ ...weakened, approvals: [{ by: 'lena', rules: ['tests-weakened'] }] })).toBeNull();
  });
});
