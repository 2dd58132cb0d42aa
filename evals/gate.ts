/**
 * The release-train gate as a harness scenario, and one function that runs it and turns the result into the
 * train's EvalReport: the runEvals activity (activities/evals.ts) and the gaming corpus (evals/corpus/gaming.ts)
 * call the same code, so what the corpus proves is what the train does.
 *
 * Gate scenario `gate.release-train@v1`, threshold 0.85:
 *   patch_applies    weight 1, required   the candidate commit differs from its base and changes every claimed file
 *   tests_pass       weight 3, required   the candidate's declared test command, graded by the share of passing tests
 *   base_tests_pass  weight 3, required   the BASE's tests and test command against the candidate's source
 *                                         (PASS_TO_PASS, evals/checks/base-tests.ts): a change cannot pass by
 *                                         deleting, skipping, weakening or excluding the tests it breaks
 *   changed_lines_covered  weight 2, required   diff coverage (evals/checks/diff-coverage.ts): the share of changed
 *                                         source code lines that the tests_pass run executes (its V8 coverage, no
 *                                         extra run); passes at 0.8, so an untested special case fails it
 *
 * Score (evals/scoring.ts `scoreScenario`): mean = (1·s_patch + 3·s_tests + 3·s_base + 2·s_cov) / 9; a failed required
 * check caps it: score = mean · min(score of the failed required checks), so score = mean when all pass.
 * passed = score ≥ 0.85 and every check passed.
 */
import type { CheckResult, EvalReport } from '../core/stages';
import type { TestChange } from '../core/test-changes';
import { defineScenario, type Scenario } from './dsl';
import { runScenarios, type RunOptions, type RunResult } from './runner';

export const EVAL_THRESHOLD = 0.85;
export const GATE_SCENARIO_ID = 'gate.release-train@v1';

/** The release-train gate; `timeoutMs` bounds everything it runs (both test runs included). */
export function gateScenario(timeoutMs = 120_000): Scenario {
  return defineScenario({
    id: GATE_SCENARIO_ID,
    title: "Release-train gate: the candidate carries its change, its tests pass, the base's tests still pass and its changed lines are tested",
    tags: ['gate'],
    checks: [
      { type: 'patch_applies', weight: 1, required: true },
      { type: 'tests_pass', weight: 3, required: true },
      { type: 'base_tests_pass', weight: 3, required: true },
      { type: 'changed_lines_covered', weight: 2, required: true },
    ],
    scoring: { threshold: EVAL_THRESHOLD },
    timeout: timeoutMs,
  });
}

export type GateOptions = Omit<RunOptions, 'scenarios' | 'cacheDir' | 'concurrency'> & { scenario?: Scenario };

/** Runs the gate scenario, uncached (the gate always runs). */
export function runGate(opts: GateOptions): Promise<RunResult> {
  const { scenario = gateScenario(), ...rest } = opts;
  return runScenarios({ ...rest, scenarios: [scenario], cacheDir: null, concurrency: 1 });
}

/** The gate scenario's result as the release train's EvalReport (without durationMs). */
export function toEvalReport(run: RunResult): Omit<EvalReport, 'durationMs'> {
  const [result] = run.scenarios;
  const checks: CheckResult[] = result.checks.map(({ check, score, passed, explanation }) => ({ check, score, passed, explanation }));
  const base = result.checks.find((c) => c.type === 'base_tests_pass');
  const testChanges = base?.details?.testChanges as TestChange[] | undefined;
  return { score: result.score, passed: result.passed, threshold: result.threshold, checks, ...(testChanges ? { testChanges } : {}) };
}
