/**
 * The LLM router's calibration (RouteLLM-style: a threshold on a difficulty feature, fitted on labels).
 * Per call type, prompts of up to `smallUpToChars` characters go to the small tier, longer ones to the
 * large tier. The labels are the ledger's `passed` (eval pass/fail, reviewer overrides: labelFromEval, written when
 * the record closes a train) on prompts both
 * tiers answered fresh; the fit picks the threshold that costs least while the routed pass rate stays
 * within `tolerance` of always-large. Pass rates carry Wilson 95% intervals (normal quantile: @stdlib).
 */
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';

/** One labelled fresh answer from the ledger. */
export interface LabelledCall {
  callType: string;
  promptKey: string;
  promptChars: number;
  tier: 'small' | 'large';
  passed: boolean;
  costUsd: number;
}

export interface Rate {
  passed: number;
  n: number;
  rate: number;
  /** Wilson score interval at `confidence`. */
  low: number;
  high: number;
}

export interface CallTypeCalibration {
  callType: string;
  /** Prompts answered and labelled by both tiers. */
  tasks: number;
  smallUpToChars: number;
  picks: { small: number; large: number };
  passRate: { small: Rate; large: Rate; routed: Rate };
  costUsd: { alwaysLarge: number; routed: number; alwaysSmall: number };
  /** 1 − routed / always-large. */
  savings: number;
  /** Whether the routed pass rate's interval contains always-large's rate. */
  samePassRateWithinCi: boolean;
}

/** Wilson score interval of `passed` out of `n`. */
export function wilson(passed: number, n: number, confidence = 0.95): Rate {
  if (n === 0) return { passed, n, rate: 0, low: 0, high: 1 };
  const z = normalQuantile(1 - (1 - confidence) / 2, 0, 1);
  const p = passed / n;
  const denominator = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / denominator;
  // The bounds are exact at the edges (0/n, n/n), where the float arithmetic would miss 0 or 1 by 1e-17.
  return { passed, n, rate: p, low: passed === 0 ? 0 : Math.max(0, centre - half), high: passed === n ? 1 : Math.min(1, centre + half) };
}

/**
 * Fits the threshold of each call type. A prompt counts once per tier (its latest label). Without any
 * prompt answered by both tiers a call type gets no route (the gateway then uses the large tier).
 */
export function calibrateRouter(calls: LabelledCall[], opts: { tolerance?: number; confidence?: number } = {}): CallTypeCalibration[] {
  const tolerance = opts.tolerance ?? 0.01;
  const byType = new Map<string, Map<string, { chars: number; small?: LabelledCall; large?: LabelledCall }>>();
  for (const c of calls) {
    const tasks = byType.get(c.callType) ?? new Map();
    byType.set(c.callType, tasks);
    const task = tasks.get(c.promptKey) ?? { chars: c.promptChars };
    task[c.tier] = c;
    tasks.set(c.promptKey, task);
  }
  const result: CallTypeCalibration[] = [];
  for (const [callType, taskMap] of [...byType].sort(([a], [b]) => a.localeCompare(b))) {
    const tasks = [...taskMap.values()].filter((t): t is { chars: number; small: LabelledCall; large: LabelledCall } => !!t.small && !!t.large);
    if (tasks.length === 0) continue;
    const evaluate = (threshold: number) => {
      let passed = 0;
      let cost = 0;
      let small = 0;
      for (const t of tasks) {
        const pick = t.chars <= threshold ? t.small : t.large;
        if (pick === t.small) small++;
        if (pick.passed) passed++;
        cost += pick.costUsd;
      }
      return { passed, cost, small };
    };
    const large = evaluate(-1);
    const candidates = [-1, ...new Set(tasks.map((t) => t.chars))].sort((a, b) => a - b);
    let best = { threshold: -1, ...large };
    for (const threshold of candidates) {
      const e = evaluate(threshold);
      if (e.passed / tasks.length >= large.passed / tasks.length - tolerance && e.cost < best.cost) best = { threshold, ...e };
    }
    const confidence = opts.confidence ?? 0.95;
    const routed = wilson(best.passed, tasks.length, confidence);
    const largeRate = wilson(large.passed, tasks.length, confidence);
    const alwaysSmall = evaluate(Number.POSITIVE_INFINITY);
    result.push({
      callType,
      tasks: tasks.length,
      smallUpToChars: best.threshold,
      picks: { small: best.small, large: tasks.length - best.small },
      passRate: { small: wilson(alwaysSmall.passed, tasks.length, confidence), large: largeRate, routed },
      costUsd: { alwaysLarge: large.cost, routed: best.cost, alwaysSmall: alwaysSmall.cost },
      savings: large.cost > 0 ? 1 - best.cost / large.cost : 0,
      samePassRateWithinCi: routed.low <= largeRate.rate && largeRate.rate <= routed.high,
    });
  }
  return result;
}

/** The calibration report as text. */
export function formatCalibration(report: CallTypeCalibration[]): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const rate = (r: Rate) => `${pct(r.rate)} [${pct(r.low)}, ${pct(r.high)}] (${r.passed}/${r.n})`;
  if (report.length === 0) return 'no call type has prompts answered and labelled by both tiers: nothing to calibrate (the gateway routes every call to the large tier)';
  return report
    .map((c) =>
      [
        `${c.callType}: ${c.tasks} prompts answered by both tiers`,
        `  route: prompts ≤ ${c.smallUpToChars} characters → small (${c.picks.small} picked), longer → large (${c.picks.large})`,
        `  pass rate  small ${rate(c.passRate.small)}   large ${rate(c.passRate.large)}   routed ${rate(c.passRate.routed)}`,
        `  cost       always-large $${c.costUsd.alwaysLarge.toFixed(6)}   routed $${c.costUsd.routed.toFixed(6)}   always-small $${c.costUsd.alwaysSmall.toFixed(6)}   savings ${pct(c.savings)}`,
        `  routed pass rate ${c.samePassRateWithinCi ? 'is' : 'is NOT'} the same as always-large within its 95% interval`,
      ].join('\n'),
    )
    .join('\n');
}

/** Call types the eval harness makes (its LLM judge and its embeddings). */
export const EVAL_CALL_TYPES: readonly string[] = ['judge', 'embedding'];

/** What became of a train's eval, as the record tells it. */
export interface EvalVerdict {
  /** The eval gate's verdict on the train's last candidate; null: no eval ran. */
  passed: boolean | null;
  /** A person lifted a denial that the eval-score rule gave (a granted appeal of it, or an approval after it). */
  overridden: boolean;
}

/**
 * The label a train's outcome gives one of its fresh answers, for the router's calibration. Answers that made
 * the change (a spec) were good when the change passed the eval or a person overrode its failure; the eval's
 * own answers (judge, embeddings) were good unless a person overrode the eval. Null: nothing is known yet.
 */
export function labelFromEval(callType: string, verdict: EvalVerdict): boolean | null {
  if (verdict.passed === null) return null;
  return EVAL_CALL_TYPES.includes(callType) ? !verdict.overridden : verdict.passed || verdict.overridden;
}

/**
 * Whether a person lifted an eval-score denial: an appeal of that rule granted, or a deny naming it followed by
 * an allow (an approval turns a deny into an allow).
 */
export function evalOverridden(decisions: readonly { outcome: string; rules: readonly string[] }[], grantedAppealRules: readonly (readonly string[])[]): boolean {
  const rule = 'eval-score-below-threshold';
  if (grantedAppealRules.some((rules) => rules.includes(rule))) return true;
  return decisions.some((d, i) => d.outcome === 'deny' && d.rules.includes(rule) && decisions.slice(i + 1).some((later) => later.outcome === 'allow'));
}
