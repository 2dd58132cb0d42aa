/**
 * The Policy Reasoner: rules as data (core/policy-rules: validated config → built-in rules), each
 * either silent or producing a Denial that says what broke, the evidence, and how to fix it.
 * `decide` allows only when no rule objects.
 */
import { z } from 'zod';
import type { PolicyDecision } from './stages';
import { TEST_CHANGE_KINDS } from './test-changes';
import { changeMutationReportSchema } from './mutation';
import { propertyReproSchema } from './property-repro';
import { defaultPolicy, deny, IncompleteDenialError, type CompleteDenial, type PolicyInput, type PolicyRule } from './policy-rules';

export { matchesPathPattern, protectedPathsTouched } from './policy-rules';
export type { PolicyInput, PolicyRule, RuleSeverity, Approval, CompleteDenial, Waiver } from './policy-rules';

/** Risk scores strictly above this are denied until an owner approves (the default policy's threshold). */
export const RISK_DENY_THRESHOLD = 0.8;

const byId = (id: string): PolicyRule => defaultPolicy().rules.find((r) => r.id === id)!;
export const evalScoreBelowThreshold: PolicyRule = byId('eval-score-below-threshold');
export const protectedPathTouched: PolicyRule = byId('protected-path-touched');
export const riskAboveThreshold: PolicyRule = byId('risk-above-threshold');

/** The rules of the embedded default policy, most severe first. */
export const policyRules: readonly PolicyRule[] = defaultPolicy().rules;

const fmt = (n: number): string => (Number.isFinite(n) ? n.toFixed(3) : String(n));

/** A denial with an empty field tells the operator nothing; treat it as a bug in the rule. */
function assertComplete(denial: CompleteDenial, ruleId: string): CompleteDenial {
  if (!denial || typeof denial !== 'object') throw new IncompleteDenialError(`policy rule ${ruleId} returned ${String(denial)} instead of a denial or null`);
  return deny(denial.rule || ruleId, denial);
}

/**
 * Runs every rule; allow when none objects, otherwise deny with every objection, most severe first.
 * A rule waived by a granted appeal still runs; its denial is dropped and the waiver noted.
 */
export function decide(input: PolicyInput, rules: readonly PolicyRule[] = policyRules): PolicyDecision {
  const order = { critical: 0, high: 1, medium: 2, low: 3 } as const;
  const waived: string[] = [];
  const denials = [...rules]
    .sort((a, b) => order[a.severity] - order[b.severity])
    .flatMap((rule) => {
      const denial = rule.evaluate(input);
      if (!denial) return [];
      const complete = assertComplete(denial, rule.id);
      const waiver = input.waivers?.find((w) => w.rule === rule.id);
      if (waiver) {
        waived.push(`${rule.id} waived by appeal ${waiver.appealId} (decided by ${waiver.decidedBy}: ${waiver.reason}); it reported: ${complete.reason}`);
        return [];
      }
      return [complete];
    });
  const [first, ...rest] = denials;
  if (first) return { outcome: 'deny', denials: [first, ...rest] };
  const approvals = input.approvals ?? [];
  return {
    outcome: 'allow',
    notes: [
      `eval score ${fmt(input.evals.score)} ≥ ${fmt(input.evals.threshold)}, ${input.evals.checks.length} check(s) passed`,
      `risk score ${fmt(input.risk.score)}${input.risk.score > RISK_DENY_THRESHOLD ? ' (approved)' : ` ≤ ${RISK_DENY_THRESHOLD}`}`,
      input.changeRequest.protectedPaths.length > 0
        ? `no protected path touched without approval (${input.changeRequest.protectedPaths.length} pattern(s) checked)`
        : 'no protected paths declared',
      ...waived,
      ...(approvals.length ? [`approvals: ${approvals.map((a) => `${a.by}${a.rules ? ` (${a.rules.join(', ')})` : ''}`).join('; ')}`] : []),
      `${rules.length} rule(s) checked: ${rules.map((r) => r.id).join(', ')}`,
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Boundary schema: what decidePolicy reads, validated before any rule runs.

const unitInterval = z.number().min(0).max(1);

export const policyInputSchema = z.object({
  changeRequest: z
    .object({ id: z.string().min(1), protectedPaths: z.array(z.string().min(1)), environment: z.string().min(1).optional(), author: z.string().optional() })
    .passthrough(),
  candidate: z.object({ sha: z.string().min(1), changedFiles: z.array(z.string().min(1)), diff: z.string().optional() }).passthrough(),
  risk: z.object({
    score: unitInterval,
    factors: z.array(z.object({ name: z.string().min(1), value: z.number().finite(), weight: z.number().finite(), detail: z.string() })),
  }),
  evals: z
    .object({
      score: unitInterval,
      passed: z.boolean(),
      threshold: unitInterval,
      checks: z.array(z.object({ check: z.string().min(1), score: z.number().finite(), passed: z.boolean(), explanation: z.string() })),
      durationMs: z.number().min(0),
      testChanges: z.array(z.object({ kind: z.enum(TEST_CHANGE_KINDS), file: z.string().min(1), line: z.number().int().min(0), detail: z.string() })).optional(),
      mutation: changeMutationReportSchema.optional(),
      failingProperties: z.object({ count: z.number().int().min(0), repros: z.array(propertyReproSchema) }).optional(),
    })
    .passthrough(),
  approvals: z.array(z.object({ by: z.string().min(1), rules: z.array(z.string().min(1)).optional(), reason: z.string().optional() }).strict()).optional(),
  now: z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'an ISO 8601 date-time').optional(),
  llmCostUsd: z.number().min(0).finite().optional(),
  waivers: z.array(z.object({ rule: z.string().min(1), appealId: z.string().min(1), decidedBy: z.string().min(1), reason: z.string().min(1) }).strict()).optional(),
});
