/**
 * Scoring. Pure functions, no I/O.
 *
 * Scenario score (one run):
 *   mean  = Σ wᵢ·sᵢ / Σ wᵢ            check scores sᵢ ∈ [0,1], weights wᵢ ≥ 0 normalised to sum 1
 *   gate  = min(sⱼ) over *required* checks j that failed (sⱼ < pass_atⱼ), 1 when none failed
 *   score = mean · gate               so a failed required check keeps the scenario low however good the rest
 *   passed = score ≥ threshold and every required check passed
 * The score never decreases when any single check score increases (a check that starts passing drops
 * its gate factor, which is ≤ 1): monotone in each check; bounded in [0,1].
 *
 * Eval Score (many scenarios): the weighted mean of scenario scores (each scenario's mean over its repeats),
 * with a 95 % confidence interval: Student-t over the per-scenario scores (n ≥ 2), or over the repeats of a
 * single scenario; a single deterministic sample has a zero-width interval.
 *
 * A drop against the base is *real* only when the two intervals do not overlap (candidate upper bound below
 * the base lower bound) and the drop is at least `minDelta`; a scenario counts as regressed only when it
 * passed in every base repeat and failed in every candidate repeat (a flaky scenario never does).
 */

export interface ScoredCheck {
  check: string;
  score: number;
  weight: number;
  required: boolean;
  passed: boolean;
}

export function clamp01(n: number): number {
  return Number.isFinite(n) ? Math.min(1, Math.max(0, n)) : 0;
}

/** Weights normalised to sum 1; all-zero weights give all-zero shares. */
export function normaliseWeights(weights: readonly number[]): number[] {
  const total = weights.reduce((a, w) => a + Math.max(0, w), 0);
  return weights.map((w) => (total > 0 ? Math.max(0, w) / total : 0));
}

export function scoreScenario(checks: readonly ScoredCheck[], threshold: number): { score: number; mean: number; gate: number; passed: boolean } {
  // Divided once at the end, so all-perfect checks score exactly 1 whatever the weights (shares like 1/9 would not).
  const total = checks.reduce((acc, c) => acc + Math.max(0, c.weight), 0);
  // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent; without weight the quotient is 0/0 = NaN, which clamp01 also makes 0. Kept so the rule reads plainly.
  const mean = total > 0 ? clamp01(checks.reduce((acc, c) => acc + Math.max(0, c.weight) * clamp01(c.score), 0) / total) : 0;
  const failedRequired = checks.filter((c) => c.required && !c.passed);
  const gate = failedRequired.length ? Math.min(...failedRequired.map((c) => clamp01(c.score))) : 1;
  const score = clamp01(mean * gate);
  return { score, mean, gate, passed: score >= threshold && failedRequired.length === 0 };
}

export function mean(values: readonly number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0;
}

export function weightedMean(values: readonly { value: number; weight: number }[]): number {
  const shares = normaliseWeights(values.map((v) => v.weight));
  return clamp01(values.reduce((acc, v, i) => acc + shares[i] * v.value, 0));
}

// Two-sided 97.5 % quantiles of Student's t for 1..30 degrees of freedom.
const T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];
export const tQuantile975 = (df: number): number => (df < 1 ? Infinity : df <= 30 ? T975[df - 1] : 1.96);

export interface Interval {
  low: number;
  high: number;
}

/** 95 % Student-t interval of the mean, clamped to [0,1]; zero width for one sample or no spread. */
export function confidenceInterval(samples: readonly number[]): Interval {
  const m = mean(samples);
  if (samples.length < 2) return { low: clamp01(m), high: clamp01(m) };
  const variance = samples.reduce((a, x) => a + (x - m) ** 2, 0) / (samples.length - 1);
  const half = tQuantile975(samples.length - 1) * Math.sqrt(variance / samples.length);
  return { low: clamp01(m - half), high: clamp01(m + half) };
}

/** Nearest-rank percentile (p in 0..100) of the values; 0 for none. */
export function percentile(values: readonly number[], p: number): number {
  if (!values.length) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export interface ScoreSummary {
  score: number;
  ci: Interval;
}

/** Eval Score of a set of scenarios, each given with its repeat scores. */
export function summarise(scenarios: readonly { scores: readonly number[]; weight: number }[]): ScoreSummary {
  const perScenario = scenarios.map((s) => ({ value: mean(s.scores), weight: s.weight }));
  const score = weightedMean(perScenario);
  // One scenario: the spread of its repeats; none or several: of the per-scenario means (none gives 0..0).
  const ci = scenarios.length === 1 ? confidenceInterval(scenarios[0].scores) : confidenceInterval(perScenario.map((s) => s.value));
  // The interval is centred on the unweighted mean; make sure it still contains the weighted score.
  return { score, ci: { low: Math.min(ci.low, score), high: Math.max(ci.high, score) } };
}

export interface DropVerdict {
  real: boolean;
  delta: number;
  rule: string;
  regressedScenarios: string[];
}

export const DROP_RULE =
  'a drop is real when the candidate 95% CI lies entirely below the base 95% CI (no overlap) and base − candidate ≥ minDelta, ' +
  'or when some scenario passed in every base repeat and failed in every candidate repeat';

export function detectDrop(
  base: ScoreSummary,
  candidate: ScoreSummary,
  perScenario: readonly { id: string; basePassed: readonly boolean[]; candidatePassed: readonly boolean[] }[] = [],
  minDelta = 0.02,
): DropVerdict {
  const delta = base.score - candidate.score;
  const regressedScenarios = perScenario
    .filter((s) => s.basePassed.length > 0 && s.candidatePassed.length > 0 && s.basePassed.every(Boolean) && s.candidatePassed.every((p) => !p))
    .map((s) => s.id);
  const separated = candidate.ci.high < base.ci.low && delta >= minDelta;
  return { real: separated || regressedScenarios.length > 0, delta, rule: DROP_RULE, regressedScenarios };
}

/** A check is flaky when its repeats disagree on pass/fail. */
export function isFlaky(passes: readonly boolean[]): boolean {
  return passes.some(Boolean) && passes.some((p) => !p);
}
