/**
 * The built-in rules. Each is made from its validated config (core/policy-rules/config.ts) and the
 * roles of the policy; each returns null or a CompleteDenial (reason, evidence and fix all present).
 */
import type { EvalScenarioResult } from '../stages';
import type { TestChangeKind } from '../test-changes';
import type { RuleConfigOf, RuleId } from './config';
import { addedLines } from '../diff';
import { describeMutant, describeRun, formatScore, testOutline } from '../mutation';
import { findSecrets } from '../secrets';
import { describeRepro } from '../property-repro';
import { matchesPathPattern, protectedPathsTouched } from './paths';
import { specCriteriaUncovered } from './spec-coverage';
import { deny, rolesOf, type Approval, type PolicyInput, type PolicyRule, type Roles, type RuleSeverity } from './types';

const fmt = (n: number): string => (Number.isFinite(n) ? n.toFixed(3) : String(n));
const list = (items: readonly string[], max = 10): string =>
  items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
const quoted = (items: readonly string[]): string => list(items.map((p) => `'${p}'`));

/** The approval (if any) by someone holding one of `approverRoles` that covers `ruleId`. */
export function approvalFor(ruleId: string, approverRoles: readonly string[], approvals: readonly Approval[] | undefined, roles: Roles): Approval | undefined {
  return (approvals ?? []).find((a) => (a.rules === undefined || a.rules.includes(ruleId)) && rolesOf(a.by, roles).some((r) => approverRoles.includes(r)));
}

function holders(approverRoles: readonly string[], roles: Roles): string {
  const who = [...new Set(approverRoles.flatMap((r) => roles[r] ?? []))].filter((w) => w !== '*');
  return `${approverRoles.map((r) => `'${r}'`).join(' or ')}${who.length ? ` (${list(who)})` : ''}`;
}

type Factory<K extends RuleId> = (config: RuleConfigOf<K>, roles: Roles) => Omit<PolicyRule, 'severity'> & { defaultSeverity: RuleSeverity };

export const evalScoreBelowThreshold: Factory<'eval-score-below-threshold'> = (config) => ({
  id: 'eval-score-below-threshold',
  defaultSeverity: 'critical',
  description: 'The eval harness must pass and its score must reach the threshold.',
  evaluate({ evals }) {
    const threshold = Math.max(evals.threshold, config.params.minScore ?? 0);
    const belowThreshold = evals.score < threshold;
    if (evals.passed && !belowThreshold) return null;
    const failing = evals.checks.filter((c) => !c.passed);
    // The registry scenarios the change selected (evals/gate.ts) count for half the score: a failed one is the
    // cause when the gate's own checks all pass, and naming only those checks would send the author the wrong way.
    const failedScenarios = (evals.scenarios ?? []).filter((sc) => !sc.passed && !sc.skipped && !sc.selectedBy.includes('gate'));
    const scenarioWords = (sc: EvalScenarioResult) => `${sc.id} (${fmt(sc.score)}${sc.checks.some((c) => !c.passed) ? `: ${list(sc.checks.filter((c) => !c.passed).map((c) => c.check))} failed` : ''})`;
    const scenariosPart = failedScenarios.length > 0 ? `failing scenarios: ${list(failedScenarios.map(scenarioWords))}` : '';
    // With no failing check or scenario the aggregate is low because of weak passes: point at the weakest checks.
    const culprits = failing.length > 0 || failedScenarios.length > 0 ? failing : [...evals.checks].sort((a, b) => a.score - b.score).slice(0, 3);
    const what = belowThreshold
      ? `eval score ${fmt(evals.score)} is below the threshold ${fmt(threshold)}`
      : `the eval harness reported a failure (score ${fmt(evals.score)}, threshold ${fmt(threshold)})`;
    const reason =
      failing.length > 0
        ? `${what}; failing checks: ${list(failing.map((c) => c.check))}${scenariosPart ? `; ${scenariosPart}` : ''}`
        : scenariosPart
          ? `${what}; the gate's checks pass, ${scenariosPart}`
          : culprits.length > 0
            ? `${what}; no check failed outright, the lowest scores are: ${list(culprits.map((c) => `${c.check} (${fmt(c.score)})`))}`
            : `${what}; the report lists no checks`;
    const gateChecks =
      evals.checks.length > 0
        ? evals.checks.map((c) => `${c.passed ? 'pass' : 'FAIL'} ${c.check} score=${fmt(c.score)}: ${c.explanation || '(no explanation)'}`).join('\n')
        : `score=${fmt(evals.score)} threshold=${fmt(threshold)} passed=${evals.passed} checks=[]`;
    const scenarioChecks = failedScenarios.flatMap((sc) =>
      sc.checks.map((c) => `${c.passed ? 'pass' : 'FAIL'} ${sc.id} / ${c.check} score=${fmt(c.score)}: ${c.explanation || '(no explanation)'}`),
    );
    const checks = [gateChecks, ...scenarioChecks].join('\n');
    // A failing property's shrunk counterexample and replay command are the fastest way to the fault.
    const properties = evals.failingProperties;
    const evidence = properties ? `${checks}\n${properties.count} failing propert${properties.count === 1 ? 'y' : 'ies'}:\n${properties.repros.map(describeRepro).join('\n')}` : checks;
    const toPass = [...culprits.map((c) => c.check), ...failedScenarios.map((sc) => `scenario ${sc.id}`)];
    const fix =
      toPass.length > 0
        ? `Make ${list(toPass)} pass (see each check's explanation in the evidence${properties ? '; replay each failing property with its command' : ''}), push a new candidate and re-run the train.`
        : 'Add eval scenarios for this service so the harness has checks to run, then re-run the train.';
    return deny('eval-score-below-threshold', { reason, evidence, fix });
  },
});

export const riskAboveThreshold: Factory<'risk-above-threshold'> = (config, roles) => ({
  id: 'risk-above-threshold',
  defaultSeverity: 'high',
  description: `Changes with a risk score above ${config.params.threshold} need an owner's approval.`,
  evaluate({ risk, approvals }) {
    const { threshold, approverRoles } = config.params;
    if (!(risk.score > threshold)) return null;
    if (approvalFor('risk-above-threshold', approverRoles, approvals, roles)) return null;
    const top = [...risk.factors].sort((a, b) => b.value * b.weight - a.value * a.weight)[0];
    return deny('risk-above-threshold', {
      reason: `risk score ${fmt(risk.score)} is above ${threshold}${top ? `, driven mostly by ${top.name}` : ''}, and no ${approverRoles.join('/')} has approved it`,
      evidence: risk.factors.length > 0 ? risk.factors.map((f) => `${f.name}: value=${fmt(f.value)} weight=${fmt(f.weight)} (${f.detail})`).join('\n') : `score=${fmt(risk.score)} (no factors reported)`,
      fix: `Request owner approval from ${holders(approverRoles, roles)} (approve signal on this train), or split the change so each part touches fewer, less central files.`,
    });
  },
});

export const secretsInDiff: Factory<'secrets-in-diff'> = (config) => {
  return {
    id: 'secrets-in-diff',
    defaultSeverity: 'critical',
    description: 'The diff must not add secrets or credentials (keys, tokens, passwords).',
    evaluate({ candidate }) {
      if (!candidate.diff) return null;
      const findings = findSecrets(candidate.diff, config.params.extraPatterns, config.params.ignorePaths);
      const hits = findings.map((f) => f.redacted);
      const kinds = new Set(findings.map((f) => f.kind));
      const files = new Set(findings.map((f) => f.file));
      if (hits.length === 0) return null;
      return deny('secrets-in-diff', {
        reason: `the diff adds ${hits.length} likely secret(s) (${list([...kinds])}) in ${list([...files])}`,
        evidence: hits.join('\n'),
        fix: `Remove the secret(s) from ${list([...files])}, rotate them (they reached a branch), and read them from the environment or a secret store instead; a false positive in a fixture can be excluded with the rule's ignorePaths.`,
      });
    },
  };
};

export const piiMigrationWithoutRedaction: Factory<'pii-migration-without-redaction'> = (config) => ({
  id: 'pii-migration-without-redaction',
  defaultSeverity: 'critical',
  description: 'A migration touching PII columns needs a redaction rule for each of them.',
  evaluate({ candidate }) {
    if (!candidate.diff) return null;
    const { migrationPaths, piiColumns, redactedColumns } = config.params;
    const redacted = (column: string, table?: string) =>
      redactedColumns.some((r) => r.toLowerCase() === column.toLowerCase() || (table !== undefined && r.toLowerCase() === `${table}.${column}`.toLowerCase()));
    const hits: { where: string; column: string }[] = [];
    for (const line of addedLines(candidate.diff)) {
      if (!migrationPaths.some((p) => matchesPathPattern(line.file, p))) continue;
      const table = /\b(?:TABLE|UPDATE|INTO)\s+(?:IF\s+(?:NOT\s+)?EXISTS\s+)?"?(\w+)"?/i.exec(line.text)?.[1];
      for (const column of piiColumns) {
        if (!new RegExp(`(?:^|[^\\w])"?${column}"?(?:[^\\w]|$)`, 'i').test(line.text)) continue;
        if (redacted(column, table)) continue;
        hits.push({ where: `${line.file}:${line.line}: ${line.text.trim().slice(0, 160)}`, column: table ? `${table}.${column}` : column });
      }
    }
    if (hits.length === 0) return null;
    const columns = [...new Set(hits.map((h) => h.column))];
    return deny('pii-migration-without-redaction', {
      reason: `a migration touches PII column(s) ${list(columns)} that have no redaction rule`,
      evidence: hits.map((h) => `${h.where}  [${h.column}]`).join('\n'),
      fix: `Add a redaction rule for ${list(columns)} (redactedColumns of pii-migration-without-redaction in the policy file, with the redaction in logs, exports and eval artifacts), or do not touch these columns in this migration.`,
    });
  },
});

export const protectedPathTouched: Factory<'protected-path-touched'> = (config, roles) => ({
  id: 'protected-path-touched',
  defaultSeverity: 'critical',
  description: "Changes to protected paths need their owners' approval.",
  evaluate({ changeRequest, candidate, approvals }) {
    const patterns = [...config.params.paths, ...changeRequest.protectedPaths];
    const touched = protectedPathsTouched(candidate.changedFiles, patterns);
    if (touched.length === 0) return null;
    if (approvalFor('protected-path-touched', config.params.approverRoles, approvals, roles)) return null;
    const files = touched.map((t) => t.file);
    const used = [...new Set(touched.map((t) => t.pattern))];
    return deny('protected-path-touched', {
      reason: `the change touches protected path(s) ${list(files)} (protected by ${quoted(used)})`,
      evidence: touched.map((t) => `${t.file} matches protected pattern '${t.pattern}' (candidate ${candidate.sha})`).join('\n'),
      fix: `Get approval from the owners of ${quoted(used)}: ${holders(config.params.approverRoles, roles)} (approve signal on this train), or drop the changes to ${list(files)} and re-run the train.`,
    });
  },
});

export const environmentProtection: Factory<'environment-protection'> = (config, roles) => ({
  id: 'environment-protection',
  defaultSeverity: 'critical',
  description: 'Protected environments need an approval and are closed during freeze windows.',
  evaluate({ changeRequest, approvals, now }) {
    const env = changeRequest.environment;
    const rules = env ? config.params.environments[env] : undefined;
    if (!env || !rules) return null;
    const at = now ? Date.parse(now) : Number.NaN;
    const frozen = Number.isNaN(at) ? [] : rules.freezeWindows.filter((w) => Date.parse(w.start) <= at && at < Date.parse(w.end));
    if (frozen.length > 0) {
      return deny('environment-protection', {
        reason: `${env} is in a freeze window (${frozen.map((w) => w.reason).join('; ')})`,
        evidence: frozen.map((w) => `freeze ${w.start} – ${w.end}: ${w.reason}; decision time ${now}`).join('\n'),
        fix: `Wait until ${frozen.map((w) => w.end).sort().at(-1)} and re-run the train, or appeal to ${holders(rules.approverRoles, roles)} for an emergency exception.`,
      });
    }
    if (rules.requiresApproval && !approvalFor('environment-protection', rules.approverRoles, approvals, roles)) {
      return deny('environment-protection', {
        reason: `${env} is a protected environment and no ${rules.approverRoles.join('/')} has approved this change`,
        evidence: `environment=${env} requiresApproval=true approvals=[${(approvals ?? []).map((a) => a.by).join(', ')}]`,
        fix: `Ask ${holders(rules.approverRoles, roles)} to approve this train (approve signal), then re-run the policy.`,
      });
    }
    return null;
  },
});

export const llmBudgetCap: Factory<'llm-budget-cap'> = (config) => ({
  id: 'llm-budget-cap',
  defaultSeverity: 'high',
  description: `LLM spend per change is capped at $${config.params.maxUsdPerChange}.`,
  evaluate({ llmCostUsd, changeRequest }) {
    const cap = config.params.maxUsdPerChange;
    if (llmCostUsd === undefined || !(llmCostUsd > cap)) return null;
    return deny('llm-budget-cap', {
      reason: `change ${changeRequest.id} has spent $${llmCostUsd.toFixed(4)} on LLM calls, above its cap of $${cap.toFixed(2)}`,
      evidence: `llmCostUsd=${llmCostUsd.toFixed(6)} maxUsdPerChange=${cap} (sum of the cost ledger for this train)`,
      fix: `Narrow the change or use a cheaper model and re-run; or raise maxUsdPerChange of llm-budget-cap in the policy file if this change is worth it.`,
    });
  },
});

/** What to do about each kind of test weakening: the fix text names the honest alternative. */
const WEAKENING_FIX: Record<TestChangeKind, string> = {
  'test-file-deleted': 'keep the test file (move or rename it in a separate, behaviour-preserving change)',
  'test-case-deleted': 'restore the deleted test cases, or explain in the change intent why the behaviour they check is gone',
  'assertion-removed': 'restore the removed assertions',
  'assertion-weakened': 'keep the strict assertion (strictEqual/deepStrictEqual, node:assert/strict)',
  'expectation-changed': 'keep the expected values, or describe the new behaviour in the change intent (words the new expectation adds)',
  'test-skipped': 'remove the skip/only/todo and make the test pass',
  'tests-excluded': 'run every test file the base ran (test command, runner include/exclude)',
  'unit-mocked': 'test the real unit: mock only its collaborators (I/O, clock), never the function under test',
  'special-cased-input': 'implement the general rule instead of branching on the inputs the tests use',
  'error-swallowed': 'let the unit report its error (rethrow, or return an explicit error outcome)',
  'comparison-overloaded': 'remove the valueOf/toString/toPrimitive/equals override the assertions would go through',
  'threshold-lowered': 'keep the threshold, or lower it in its own reviewed change',
  'snapshot-rewritten': 'review the snapshot change and land it with the behaviour change it records, or keep the old snapshot',
};

export const testsWeakened: Factory<'tests-weakened'> = (config, roles) => ({
  id: 'tests-weakened',
  defaultSeverity: 'critical',
  description:
    config.params.action === 'deny' ? 'A change must not weaken the tests that judge it.' : 'A change that weakens the tests that judge it needs an approval.',
  evaluate({ evals, approvals }) {
    const findings = (evals.testChanges ?? []).filter((f) => !config.params.ignoreKinds.includes(f.kind));
    if (findings.length === 0) return null;
    const { action, approverRoles } = config.params;
    if (action === 'require-approval' && approvalFor('tests-weakened', approverRoles, approvals, roles)) return null;
    const kinds = [...new Set(findings.map((f) => f.kind))];
    const files = [...new Set(findings.map((f) => f.file))];
    return deny('tests-weakened', {
      reason: `the change weakens the tests that judge it (${list(kinds)}) in ${list(files)}${action === 'require-approval' ? `, and no ${approverRoles.join('/')} has approved it` : ''}`,
      evidence: findings.map((f) => `${f.file}:${f.line}: ${f.kind}: ${f.detail}`).join('\n'),
      fix: `${kinds.map((k) => WEAKENING_FIX[k]).join('; ')}; then push a new candidate.${action === 'require-approval' ? ` Or ask ${holders(approverRoles, roles)} to approve (approve signal on this train).` : ''}`,
    });
  },
});

export const mutationScoreBelowThreshold: Factory<'mutation-score-below-threshold'> = (config) => ({
  id: 'mutation-score-below-threshold',
  defaultSeverity: 'high',
  description: `The tests kill at least ${formatScore(config.params.minScore)} of the mutants in the code a change adds or rewrites (eval check mutation_score).`,
  evaluate({ evals }) {
    const mutation = evals.mutation;
    const run = mutation?.candidate;
    const { minScore, maxOutlines } = config.params;
    if (!mutation || !run || run.score === null || run.score >= minScore) return null;
    const detected = run.killed + run.timeout;
    const judged = detected + run.survived + run.noCoverage;
    // The smallest next step: how many of the live mutants a better test must kill to reach the bar.
    const toKill = Math.max(1, Math.ceil(minScore * judged - detected - 1e-9));
    const files = [...new Set(run.survivors.map((m) => m.file))];
    const base = mutation.base ? `; on the base, the lines it rewrites scored ${formatScore(mutation.base.score)}` : '';
    const outlines = run.survivors.slice(0, maxOutlines).map((m) => `- ${m.file}:${m.line} ${m.mutator} \`${m.original.replace(/\s+/g, ' ').trim()}\` → \`${m.replacement}\`: ${testOutline(m)}`);
    const more = run.survivors.length > outlines.length ? `\n(and ${run.survivors.length - outlines.length} more in the evidence)` : '';
    return deny('mutation-score-below-threshold', {
      reason: `the tests kill ${formatScore(run.score)} of the mutants in the changed code (${detected} of ${judged}), below ${formatScore(minScore)}; ${run.survived + run.noCoverage} survive in ${list(files)}${base}`,
      evidence: [
        `eval check ${mutation.check}: ${describeRun(run)} over ${list(mutation.mutated)}`,
        mutation.base ? `base: ${describeRun(mutation.base)} over ${list(mutation.base.mutated)}` : `base: ${mutation.baseNote ?? 'not measured'}`,
        ...run.survivors.map(describeMutant),
      ].join('\n'),
      fix: `Add or sharpen tests so that at least ${toKill} more of these mutants fail them (each line: the mutant, then a test that kills it), push a new candidate and re-run the train:\n${outlines.join('\n')}${more}`,
    });
  },
});

export const ruleFactories: { [K in RuleId]: Factory<K> } = {
  'eval-score-below-threshold': evalScoreBelowThreshold,
  'risk-above-threshold': riskAboveThreshold,
  'secrets-in-diff': secretsInDiff,
  'pii-migration-without-redaction': piiMigrationWithoutRedaction,
  'protected-path-touched': protectedPathTouched,
  'environment-protection': environmentProtection,
  'llm-budget-cap': llmBudgetCap,
  'spec-criteria-uncovered': specCriteriaUncovered,
  'tests-weakened': testsWeakened,
  'mutation-score-below-threshold': mutationScoreBelowThreshold,
};

export type { Approval, PolicyInput };
