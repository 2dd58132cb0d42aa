/**
 * A rollout's gate configuration as one identity (issue 11 "evidence bound to a revision"): every verdict
 * belongs to (commit, gate-config hash). An operator may change the gates of a running rollout; the
 * analysis of the current step then starts again under the new configuration and every earlier verdict is
 * marked superseded by it (Kargo re-runs nothing when only a gate changes; Flagger must restart by hand).
 * Pure: the rollout workflow, the CLI and the record hash the same configuration the same way.
 */
import { z } from 'zod';
import { digestOf } from './provenance';
import { statisticalJudgeSchema } from './judge';
import { metricTemplatesSchema } from './metric-gates';
import type { JudgedProbe } from './health';
import { describePlan, healthGateSchema, healthThresholdsSchema, rolloutPlanSchema, type RolloutPlan } from './rollout-plan';
import { parseOrThrow } from './validation';

/** What a gate change may replace; the steps and the tripwire are fixed once the rollout runs. */
export const CHANGEABLE_GATE_FIELDS = ['gate', 'thresholds', 'judge', 'metrics'] as const;

export const gateChangeSchema = z
  .object({
    by: z.string().min(1, 'the operator identity is required').max(200),
    reason: z.string().max(2000).optional(),
    gates: z
      .object({
        gate: healthGateSchema.partial().strict().optional(),
        thresholds: healthThresholdsSchema.partial().strict().optional(),
        /** null switches the statistical judge off (back to the thresholds). */
        judge: statisticalJudgeSchema.nullable().optional(),
        metrics: metricTemplatesSchema.optional(),
      })
      .strict()
      .refine((g) => Object.values(g).some((v) => v !== undefined), `give at least one of ${CHANGEABLE_GATE_FIELDS.join(', ')}`),
  })
  .strict();
export type GateChangeInput = z.input<typeof gateChangeSchema>;
export type GateChange = z.output<typeof gateChangeSchema>;

/** The part of a plan its verdicts depend on: plan-wide and per-step gates, thresholds, judge, metric templates, tripwire. */
export function gateConfigOf(plan: RolloutPlan): Record<string, unknown> {
  return {
    gate: plan.gate,
    stepGates: plan.steps.map((step) => step.gate ?? null),
    thresholds: plan.thresholds,
    judge: plan.judge ?? null,
    metrics: plan.metrics ?? null,
    tripwire: plan.tripwire ?? null,
  };
}

/** sha256 of the canonical JSON of the plan's gate configuration. */
export function gateConfigHash(plan: RolloutPlan): string {
  return digestOf(gateConfigOf(plan));
}

/** A hash as people read it in a status line. */
export const shortHash = (hash: string) => hash.slice(0, 12);

/**
 * The plan with the change applied: `gate` and `thresholds` merge into the plan's, `judge` and `metrics`
 * replace them. The result is validated as a whole plan (a gate timeout too short for its soak is refused
 * here, not discovered at the gate); a refusal is a ValidationError naming the field.
 */
export function applyGateChange(plan: RolloutPlan, change: GateChange): RolloutPlan {
  const { gate, thresholds, judge, metrics } = change.gates;
  const next: Record<string, unknown> = {
    ...plan,
    gate: { ...plan.gate, ...gate },
    thresholds: { ...plan.thresholds, ...thresholds },
    ...(metrics !== undefined ? { metrics } : {}),
  };
  if (judge === null) delete next.judge;
  else if (judge !== undefined) next.judge = judge;
  // The change moves nothing but gates: the risk bands already chose the steps, so they are not applied again.
  delete next.byRisk;
  return parseOrThrow(rolloutPlanSchema, next, 'gate change (the rollout plan it would make)');
}

/** What changed between two gate configurations, by field, for the history line. */
export function changedGateFields(before: RolloutPlan, after: RolloutPlan): string[] {
  const a = gateConfigOf(before);
  const b = gateConfigOf(after);
  return Object.keys(a).filter((key) => digestOf(a[key]) !== digestOf(b[key]));
}

/**
 * The gates' decision log for the signed release (evidence/health-gates.json): the gates in force at the end, in
 * words and as data, their hash, and every verdict with the commit and gate configuration it belongs to
 * (superseded verdicts stay, marked, so the log shows what was judged under which gates).
 */
export function gateDecisionLog(plan: RolloutPlan, decisions: readonly JudgedProbe[]) {
  return {
    plan: describePlan(plan),
    gateConfig: gateConfigHash(plan),
    thresholds: plan.thresholds,
    ...(plan.judge ? { judge: plan.judge } : {}),
    ...(plan.metrics ? { metrics: plan.metrics } : {}),
    decisions,
  };
}
