import { z } from 'zod';
import { durationMs } from './durations';
import { statisticalJudgeSchema } from './judge';
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
  })
  .strict()
  .superRefine((plan, ctx) => {
    plan.steps.forEach((step, i) => {
      if (i > 0 && step.setWeight <= plan.steps[i - 1]!.setWeight)
        ctx.addIssue({ code: 'custom', path: ['steps', i, 'setWeight'], message: `must be greater than the previous step's ${plan.steps[i - 1]!.setWeight}` });
    });
    const last = plan.steps[plan.steps.length - 1];
    if (last && last.setWeight !== 100)
      ctx.addIssue({ code: 'custom', path: ['steps', plan.steps.length - 1, 'setWeight'], message: 'the last step must be 100 (full promotion)' });
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

/** One line per step, for people reading a plan before it runs. */
export function describePlan(plan: RolloutPlan): string {
  return plan.steps
    .map((step, i) => {
      const g = gateForStep(plan, i);
      const judge = plan.judge;
      if (judge && judgesStatistically(plan, i))
        return `${i + 1}. setWeight ${step.setWeight}% → gate: canary against stable every ${g.probeInterval}ms (errors within ${hundredths(judge.errorRate.margin)} points, latency within ${hundredths(judge.latency.margin)}%, error budget ${judge.errorBudget}), at least ${g.consecutiveGreen} probes, soak up to ${judge.maxSoakMs}ms while inconclusive, then ${judge.onInconclusive}`;
      return `${i + 1}. setWeight ${step.setWeight}% → gate: probe every ${g.probeInterval}ms, pass after ${g.consecutiveGreen} green, fail on ${g.maxRed} red, timeout ${g.timeout}ms`;
    })
    .join('\n');
}

/** The plan's metric templates and tripwire in words, for people reading a plan before it runs. */
export function describeHealthChecks(plan: RolloutPlan): string {
  const metrics = `metric checks where the health source runs PromQL${plan.metrics ? '' : ' (the defaults)'}:\n${describeTemplates(plan.metrics ?? DEFAULT_METRIC_TEMPLATES)}`;
  const tripwire = plan.tripwire
    ? `tripwire: roll back at once on ${plan.tripwire.errors} canary errors within ${plan.tripwire.withinMs}ms (≥ ${hundredths(plan.tripwire.minErrorRatio)}% of its requests) or ${plan.tripwire.unreachableAfter} unanswered requests in a row`
    : 'tripwire: off';
  return [metrics, tripwire].join('\n');
}
