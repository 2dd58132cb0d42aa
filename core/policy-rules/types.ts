/** Types shared by the policy rules (core/policy-rules) and the reasoner (core/policy.ts). */
import type { ChangeRequest } from '../change-request';
import type { Candidate, Denial, EvalReport, RiskReport } from '../stages';

export type RuleSeverity = 'critical' | 'high' | 'medium' | 'low';
export const SEVERITIES: readonly RuleSeverity[] = ['critical', 'high', 'medium', 'low'];

/** Someone with authority lifting rules for this change (approve signal, granted appeal). */
export interface Approval {
  by: string;
  /** Rule ids this approval covers; absent = every rule the approver's roles may lift. */
  rules?: string[];
  reason?: string;
}

export interface PolicyInput {
  changeRequest: Pick<ChangeRequest, 'id' | 'protectedPaths'> & Partial<Pick<ChangeRequest, 'environment' | 'author'>>;
  candidate: Pick<Candidate, 'sha' | 'changedFiles'> & Partial<Pick<Candidate, 'diff'>>;
  risk: RiskReport;
  evals: EvalReport;
  approvals?: Approval[];
  /** ISO time the decision is made at (freeze windows); the activity fills it in. */
  now?: string;
  /** LLM spend recorded for this change so far, in USD. */
  llmCostUsd?: number;
  /** Rules waived for this change by granted appeals: their denials are dropped and noted. */
  waivers?: Waiver[];
}

/** A rule set aside for one change by a granted appeal (workflows/appeal.ts). */
export interface Waiver {
  rule: string;
  appealId: string;
  decidedBy: string;
  reason: string;
}

declare const complete: unique symbol;
/**
 * A denial whose rule, reason, evidence and fix are all non-empty. The only way to make one is
 * `deny()`, which checks it; rules must return this type, so no rule can skip a field.
 */
export type CompleteDenial = Denial & { readonly [complete]: true };

export class IncompleteDenialError extends Error {}

export function deny(rule: string, fields: { reason: string; evidence: string; fix: string }): CompleteDenial {
  const denial = { rule, reason: fields.reason, evidence: fields.evidence, fix: fields.fix };
  for (const key of ['rule', 'reason', 'evidence', 'fix'] as const)
    if (typeof denial[key] !== 'string' || denial[key].trim() === '') throw new IncompleteDenialError(`policy rule ${rule} produced a denial with an empty ${key}`);
  return denial as CompleteDenial;
}

export interface PolicyRule {
  id: string;
  severity: RuleSeverity;
  /** One line for people reading the rule list. */
  description: string;
  evaluate(input: PolicyInput): CompleteDenial | null;
}

/** Who holds which role; '*' means everyone. */
export type Roles = Record<string, string[]>;

export function rolesOf(identity: string, roles: Roles): string[] {
  return Object.keys(roles).filter((role) => roles[role]!.includes(identity) || roles[role]!.includes('*'));
}
