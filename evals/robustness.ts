/**
 * Robustness: the same scenarios on the same candidate, once clean and once per perturbation.
 * Δ = clean score − perturbed score for every (scenario, perturbation); the p95 of the Δs is compared with
 * the target (default 0.05): above it is a robustness regression.
 */
import type { Scenario } from './dsl';
import { PERTURBATION_KINDS, type Perturbation, type PerturbationKind } from './perturbations';
import { runScenarios, type RunOptions, type RunResult } from './runner';
import { percentile } from './scoring';

export const ROBUSTNESS_TARGET = 0.05;

export interface RobustnessDelta {
  scenario: string;
  perturbation: string;
  base: number;
  perturbed: number;
  delta: number;
}

export interface RobustnessReport {
  deltas: RobustnessDelta[];
  p95Delta: number;
  maxDelta: number;
  target: number;
  regression: boolean;
  /** Scenario/perturbation pairs whose Δ exceeds the target. */
  offenders: RobustnessDelta[];
  runs: { base: RunResult; perturbed: RunResult[] };
}

export function robustnessFrom(base: RunResult, perturbed: RunResult[], target = ROBUSTNESS_TARGET): RobustnessReport {
  const baseScores = new Map(base.scenarios.filter((s) => !s.skipped).map((s) => [s.id, s.score]));
  const deltas: RobustnessDelta[] = [];
  for (const run of perturbed)
    for (const s of run.scenarios) {
      const b = baseScores.get(s.id);
      if (b === undefined || s.skipped) continue;
      deltas.push({ scenario: s.id, perturbation: s.perturbation ?? run.perturbation ?? '?', base: b, perturbed: s.score, delta: b - s.score });
    }
  const values = deltas.map((d) => d.delta);
  const p95Delta = percentile(values, 95);
  return {
    deltas,
    p95Delta,
    maxDelta: values.length ? Math.max(...values) : 0,
    target,
    regression: p95Delta > target,
    offenders: deltas.filter((d) => d.delta > target),
    runs: { base, perturbed },
  };
}

export async function runRobustness(
  opts: Omit<RunOptions, 'perturbation'> & { scenarios: Scenario[]; kinds?: readonly PerturbationKind[]; seeds?: readonly number[]; target?: number },
): Promise<RobustnessReport> {
  const base = await runScenarios(opts);
  const perturbations: Perturbation[] = (opts.kinds ?? PERTURBATION_KINDS).flatMap((kind) => (opts.seeds ?? [1]).map((seed) => ({ kind, seed })));
  const perturbed: RunResult[] = [];
  for (const perturbation of perturbations) perturbed.push(await runScenarios({ ...opts, perturbation }));
  return robustnessFrom(base, perturbed, opts.target);
}
