import { z } from 'zod';
import { durationMs } from './durations';
import { statisticalJudgeSchema, type StatisticalJudge } from './judge';
import { DEFAULT_METRIC_TEMPLATES, describeTemplates, metricTemplatesSchema } from './metric-gates';
import { tripwireSchema } from './tripwire';
import { parseOrThrow } from './validation';

export const healthThresholdsSchema = z
  .object({
    maxP95LatencyMs: z.number().positive().default(300),
    maxErrorRate: z.number().min(0).max(1).default(0.01),
    minEvalScore: z.number().min(0).max(1).default(0.85),
    /** Probes with fewer canary requests than this are inconclusive (neither green nor red). */
    minRequests: z.number().int().min(1).default(20),
  })
  .strict();

export const healthGateSchema = z
  .object({
    probeInterval: durationMs.default(5000),
    consecutiveGreen: z.number().int().min(1).max(100).default(3),
    maxRed: z.number().int().min(1).max(100).default(2),
    timeout: durationMs.default(120_000),
  })
  .strict();

export const rolloutStepSchema = z
  .object({ setWeight: z.number().int().min(1).max(100), gate: healthGateSchema.partial().strict().optional() })
  .strict();

/** Rollout weights rise step by step and end at 100 (full promotion); each break is an issue at `pathOf(step)`. */
function checkWeights(weights: number[], pathOf: (step: number) => (string | number)[], ctx: z.RefinementCtx): void {
  weights.forEach((w, i) => {
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent: at i = 0, weights[-1] is undefined and w <= undefined is false
    if (i > 0 && w <= weights[i - 1]!) ctx.addIssue({ code: 'custom', path: pathOf(i), message: `must be greater than the previous step's ${weights[i - 1]}` });
  });
  if (weights.length > 0 && weights.at(-1) !== 100) ctx.addIssue({ code: 'custom', path: pathOf(weights.length - 1), message: 'the last step must be 100 (full promotion)' });
}

/**
 * Approvals a change needs before it merges: `required` distinct people, of the named `of` when given (N of M),
 * else of anyone. Approvals come by the train's approve signal, each with its identity.
 */
export const approvalRequirementSchema = z
  .object({
    required: z.number().int().min(1).max(10),
    of: z.array(z.string().min(1).max(200)).min(1).max(50).optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (!r.of) return;
    const distinct = new Set(r.of);
    if (distinct.size !== r.of.length) ctx.addIssue({ code: 'custom', path: ['of'], message: 'names an approver twice' });
    if (distinct.size < r.required) ctx.addIssue({ code: 'custom', path: ['required'], message: `${r.required} approvals cannot come from the ${distinct.size} named in 'of'` });
  });
export type ApprovalRequirement = z.output<typeof approvalRequirementSchema>;

/** Where a change stands against its approval requirement: who counted, and how many more it needs. */
export function approvalProgress(requirement: ApprovalRequirement, approvers: readonly string[]): { counted: string[]; missing: number } {
  const counted = [...new Set(approvers)].filter((by) => !requirement.of || requirement.of.includes(by));
  return { counted, missing: Math.max(0, requirement.required - counted.length) };
}

/** `2 approvals of alice, bob, carol` / `1 approval of anyone`. */
export function describeApprovals(requirement: ApprovalRequirement): string {
  return `${requirement.required} approval${requirement.required === 1 ? '' : 's'} of ${requirement.of ? requirement.of.join(', ') : 'anyone'}`;
}

/** One band of risk scores and the rollout it gets: the weights, the green probes each step must soak, the approvals it needs. */
export const riskBandSchema = z
  .object({
    /** The band holds risk scores up to and including this (the last band must reach 1). */
    upTo: z.number().min(0).max(1),
    steps: z.array(z.number().int().min(1).max(100)).min(1),
    /** Green probes needed at each step (the soak); absent: the plan's gate. */
    consecutiveGreen: z.number().int().min(1).max(100).optional(),
    /** Approvals needed before the merge (N of M); absent: the plan's own `approvals`, if any. */
    approvals: approvalRequirementSchema.optional(),
  })
  .strict();

/**
 * The default bands: a change the code graph finds low-risk goes out in two steps, a risky one in four, each
 * soaking longer (at the default 5 s probe interval: 15 s, 15 s and 30 s per step).
 */
export const DEFAULT_RISK_BANDS: z.input<typeof riskBandSchema>[] = [
  { upTo: 0.3, steps: [25, 100] },
  { upTo: 0.6, steps: [10, 50, 100] },
  { upTo: 1, steps: [5, 25, 50, 100], consecutiveGreen: 6 },
];

export const riskShapingSchema = z
  .object({ bands: z.array(riskBandSchema).min(1).default(DEFAULT_RISK_BANDS) })
  .strict()
  .superRefine(({ bands }, ctx) => {
    bands.forEach((band, i) => {
      if (i > 0 && band.upTo <= bands[i - 1]!.upTo) ctx.addIssue({ code: 'custom', path: ['bands', i, 'upTo'], message: `must be greater than the previous band's ${bands[i - 1]!.upTo}` });
      checkWeights(band.steps, (j) => ['bands', i, 'steps', j], ctx);
    });
    if (bands.at(-1)?.upTo !== 1) ctx.addIssue({ code: 'custom', path: ['bands', bands.length - 1, 'upTo'], message: 'the last band must reach 1, so that every risk score has a band' });
  });

export const rolloutPlanSchema = z
  .object({
    steps: z.array(rolloutStepSchema).min(1).default([{ setWeight: 10 }, { setWeight: 50 }, { setWeight: 100 }]),
    gate: healthGateSchema.default({}),
    thresholds: healthThresholdsSchema.default({}),
    /**
     * When given, gates below 100% judge the canary against stable statistically (core/judge.ts) instead
     * of by the thresholds; the 100% step has no stable traffic to compare with and keeps the thresholds.
     */
    judge: statisticalJudgeSchema.optional(),
    /**
     * The checks a PromQL health source (Prometheus) runs at every probe, as metric templates; absent: Flagger's
     * request-success-rate and request-duration. The proxy's own figures ignore them.
     */
    metrics: metricTemplatesSchema.optional(),
    /** When given, a hard failure of the canary (error burst, unreachable) rolls back at once, between probes. */
    tripwire: tripwireSchema.optional(),
    /**
     * When given, the change's risk score (code graph) chooses the steps and the soak from these bands
     * (`shapeByRisk`), replacing `steps`; an operator may still override the plan before the rollout starts.
     */
    byRisk: riskShapingSchema.optional(),
    /** Approvals the change needs before it merges (a risk band's replace them); shown with the plan, an override may change them. */
    approvals: approvalRequirementSchema.optional(),
  })
  .strict()
  .superRefine((plan, ctx) => {
    plan.byRisk?.bands.forEach((band, i) => {
      const gate = { ...plan.gate, ...(band.consecutiveGreen ? { consecutiveGreen: band.consecutiveGreen } : {}) };
      if (gate.timeout < gate.probeInterval * gate.consecutiveGreen)
        ctx.addIssue({ code: 'custom', path: ['byRisk', 'bands', i, 'consecutiveGreen'], message: `${gate.consecutiveGreen} green probes × ${gate.probeInterval}ms exceed the gate timeout ${gate.timeout}ms: the gate could never pass` });
    });
    checkWeights(plan.steps.map((step) => step.setWeight), (i) => ['steps', i, 'setWeight'], ctx);
    for (const [i, step] of plan.steps.entries()) {
      const gate = mergeGate(plan.gate, step.gate);
      if (gate.timeout < gate.probeInterval * gate.consecutiveGreen)
        ctx.addIssue({ code: 'custom', path: ['steps', i, 'gate', 'timeout'], message: `gate timeout ${gate.timeout}ms is shorter than ${gate.consecutiveGreen} green probes × ${gate.probeInterval}ms: the gate could never pass` });
    }
  });

export type RolloutPlanInput = z.input<typeof rolloutPlanSchema>;
export type RolloutPlan = z.output<typeof rolloutPlanSchema>;
export type HealthGate = z.output<typeof healthGateSchema>;
export type HealthThresholds = z.output<typeof healthThresholdsSchema>;

export function parseRolloutPlan(input: unknown): RolloutPlan {
  return parseOrThrow(rolloutPlanSchema, input ?? {}, 'rollout plan');
}

/** Plan-wide gate overridden by a step's own settings; a key present but undefined overrides nothing. */
function mergeGate(planGate: HealthGate, stepGate: Partial<HealthGate> | undefined): HealthGate {
  const overrides = Object.fromEntries(Object.entries(stepGate ?? {}).filter(([, value]) => value !== undefined));
  return { ...planGate, ...overrides };
}

/** The gate that applies at one step: plan-wide settings overridden by the step's own. */
export function gateForStep(plan: RolloutPlan, index: number): HealthGate {
  return mergeGate(plan.gate, plan.steps[index]!.gate);
}

/** Whether the gate after a step is judged statistically (canary against stable) rather than by thresholds. */
export function judgesStatistically(plan: RolloutPlan, index: number): boolean {
  return plan.judge !== undefined && plan.steps[index]!.setWeight < 100;
}

/** A fraction as a percentage without float noise (0.07 → '7'). */
const hundredths = (fraction: number) => String(Number((fraction * 100).toPrecision(6)));

/** One line per step (and one for the approvals it needs), for people reading a plan before it runs. */
export function describePlan(plan: RolloutPlan): string {
  const approvals = plan.approvals ? `\nbefore the merge: ${describeApprovals(plan.approvals)}` : '';
  return plan.steps
    .map((step, i) => {
      const g = gateForStep(plan, i);
      const judge = plan.judge;
      if (judge && judgesStatistically(plan, i))
        return `${i + 1}. setWeight ${step.setWeight}% → gate: canary against stable every ${g.probeInterval}ms (errors within ${hundredths(judge.errorRate.margin)} points, latency within ${hundredths(judge.latency.margin)}%, error budget ${judge.errorBudget}), at least ${g.consecutiveGreen} probes, soak up to ${judge.maxSoakMs}ms while inconclusive, then ${judge.onInconclusive}`;
      return `${i + 1}. setWeight ${step.setWeight}% → gate: probe every ${g.probeInterval}ms, pass after ${g.consecutiveGreen} green, fail on ${g.maxRed} red, timeout ${g.timeout}ms`;
    })
    .join('\n') + approvals;
}

/** The risk bands in words (none without `byRisk`): which score gets which steps and soak. */
export function describeRiskBands(plan: RolloutPlan): string {
  if (!plan.byRisk) return 'risk bands: off (the steps above run whatever the risk)';
  return [
    'risk bands (the code graph\'s risk score picks the steps, replacing the ones above):',
    ...plan.byRisk.bands.map((b, i, all) => {
      const approvals = b.approvals ?? plan.approvals;
      return `  ${i > 0 ? `above ${all[i - 1]!.upTo} ` : ''}up to ${b.upTo}: steps ${b.steps.join(' → ')}%, ${b.consecutiveGreen ?? plan.gate.consecutiveGreen} green probes per step${approvals ? `, ${describeApprovals(approvals)}` : ''}`;
    }),
  ].join('\n');
}

/** The plan's metric templates and tripwire in words, for people reading a plan before it runs. */
export function describeHealthChecks(plan: RolloutPlan): string {
  const metrics = `metric checks where the health source runs PromQL${plan.metrics ? '' : ' (the defaults)'}:\n${describeTemplates(plan.metrics ?? DEFAULT_METRIC_TEMPLATES)}`;
  const tripwire = plan.tripwire
    ? `tripwire: roll back at once on ${plan.tripwire.errors} canary errors within ${plan.tripwire.withinMs}ms (≥ ${hundredths(plan.tripwire.minErrorRatio)}% of its requests) or ${plan.tripwire.unreachableAfter} unanswered requests in a row`
    : 'tripwire: off';
  return [metrics, ...(plan.judge ? [describeJudgeOnPromql(plan.judge, plan.metrics !== undefined)] : []), tripwire].join('\n');
}

/** What the judge reads on a PromQL source: latency as histogram buckets, not samples. */
function describeJudgeOnPromql(judge: StatisticalJudge, ownMetrics: boolean): string {
  return [
    `judged steps where the health source runs PromQL: the statistical judge ${ownMetrics ? 'beside the metric checks above' : 'instead of the default metric checks'}, errors from maestro_proxy_requests_total, latency from the proxy's histogram buckets (maestro_proxy_request_duration_seconds_bucket)`,
    `  latency by a rank test on the buckets: stable moved by whole buckets, the ${hundredths(judge.latency.tolerance)}% tolerance rounded up to the next bound, the ${hundredths(judge.latency.margin)}% margin rounded down; counts since the last probe, rounded to whole requests (probes under 2s apart are not added twice)`,
  ].join('\n');
}

/** The plan a risk score gets: its band's steps and soak (the plan unchanged without `byRisk`), and why, in words. */
export function shapeByRisk(plan: RolloutPlan, risk: number): { plan: RolloutPlan; why: string } {
  if (!plan.byRisk) return { plan, why: 'the change request\'s own steps' };
  const bands = plan.byRisk.bands;
  // A score past the last band (risk scores are in [0, 1]; a bad one must not escape every band) gets the last.
  const found = bands.findIndex((b) => risk <= b.upTo);
  const index = found === -1 ? bands.length - 1 : found;
  const band = bands[index]!;
  const lower = index > 0 ? bands[index - 1]!.upTo : 0;
  const shaped: RolloutPlan = {
    ...plan,
    steps: band.steps.map((setWeight) => ({ setWeight })),
    gate: band.consecutiveGreen ? { ...plan.gate, consecutiveGreen: band.consecutiveGreen } : plan.gate,
    ...(band.approvals ? { approvals: band.approvals } : {}),
  };
  const approvals = shaped.approvals ? `, ${describeApprovals(shaped.approvals)} before the merge` : '';
  return { plan: shaped, why: `risk ${risk.toFixed(2)} is in band ${index + 1} of ${bands.length} (${index > 0 ? `above ${lower}, ` : ''}up to ${band.upTo}): steps ${band.steps.join(' → ')}%, ${gateForStep(shaped, 0).consecutiveGreen} green probes per step${approvals}` };
}
