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
 *
 * The registry's scenarios (evals/scenarios/*.yaml) run too when they apply to the change (`selectScenarios`): a
 * tuning (not hold-out) scenario whose `applies_to` names a glob a changed file matches, the change request's
 * `prompt`, or one of its `tags`. The Eval Score the train reports combines them with the gate scenario, which
 * counts as much as all of them together:
 *   Eval Score = s_gate                                   when no scenario applies
 *              = ½ · s_gate + ½ · Σ wᵢ·sᵢ / Σ wᵢ          otherwise (wᵢ the scenario's `weight`)
 *   passed     = Eval Score ≥ 0.85, the gate scenario passed and every selected scenario passed
 * A selected scenario the runner skips (its `requires_files` missing) does not count.
 */
import type { CheckResult, EvalReport, EvalScenarioResult } from '../core/stages';
import type { TestChange } from '../core/test-changes';
import { globMatcher } from '../core/glob';
import { MAX_CARRIED_REPROS } from '../core/property-repro';
import { mutationFigures } from './checks/mutation-score';
import { defineScenario, type Scenario } from './dsl';
import { failingPropertyRepros, runScenarios, type RunOptions, type RunResult, type ScenarioResult } from './runner';
import { weightedMean } from './scoring';

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

/** What a change says about itself, for choosing scenarios. */
export interface ChangeTraits {
  changedFiles: readonly string[];
  prompt?: string;
  tags?: readonly string[];
}

export interface SelectedScenario {
  scenario: Scenario;
  /** `path <file> ~ <glob>`, `prompt <name>`, `tag <tag>`. */
  reasons: string[];
}

/** The tuning scenarios whose `applies_to` matches the change, each with every reason it matches. */
export function selectScenarios(scenarios: readonly Scenario[], change: ChangeTraits): SelectedScenario[] {
  const selected: SelectedScenario[] = [];
  for (const scenario of scenarios) {
    if (scenario.holdout || !scenario.applies_to) continue;
    const { paths, prompts, tags } = scenario.applies_to;
    const reasons: string[] = [];
    for (const glob of paths) {
      const matches = globMatcher(glob, 'literal', 'self-or-below');
      const file = change.changedFiles.find((f) => matches(f));
      if (file) reasons.push(`path ${file} ~ ${glob}`);
    }
    if (change.prompt && prompts.includes(change.prompt)) reasons.push(`prompt ${change.prompt}`);
    for (const tag of change.tags ?? []) if (tags.includes(tag)) reasons.push(`tag ${tag}`);
    if (reasons.length) selected.push({ scenario, reasons });
  }
  return selected;
}

export type GateOptions = Omit<RunOptions, 'scenarios' | 'cacheDir' | 'concurrency'> & { scenario?: Scenario; selected?: readonly SelectedScenario[] };

/** Runs the gate scenario, then the selected registry scenarios, one at a time (each runs the tests), uncached (the gate always runs). */
export function runGate(opts: GateOptions): Promise<RunResult> {
  const { scenario = gateScenario(), selected = [], ...rest } = opts;
  return runScenarios({ ...rest, scenarios: [scenario, ...selected.map((s) => s.scenario)], cacheDir: null, concurrency: 1 });
}

const checkResults = (result: ScenarioResult): CheckResult[] => result.checks.map(({ check, score, passed, explanation }) => ({ check, score, passed, explanation }));

/** The gate run as the release train's EvalReport (without durationMs): the combined Eval Score, the gate's checks, every scenario and why it ran. */
export function toEvalReport(run: RunResult, selected: readonly SelectedScenario[] = []): Omit<EvalReport, 'durationMs'> {
  const [gate, ...others] = run.scenarios;
  const base = gate.checks.find((c) => c.type === 'base_tests_pass');
  const testChanges = base?.details?.testChanges as TestChange[] | undefined;
  const reasons = new Map(selected.map((s) => [s.scenario.id, s.reasons]));
  const scenarios: EvalScenarioResult[] = [
    { id: gate.id, score: gate.score, passed: gate.passed, weight: gate.weight, selectedBy: ['gate'], checks: checkResults(gate) },
    ...others.map((r) => ({ id: r.id, score: r.score, passed: r.passed, weight: r.weight, selectedBy: reasons.get(r.id) ?? [], ...(r.skipped ? { skipped: r.skipped } : {}), checks: checkResults(r) })),
  ];
  const ran = others.filter((r) => !r.skipped);
  const score = ran.length ? 0.5 * gate.score + 0.5 * weightedMean(ran.map((r) => ({ value: r.score, weight: r.weight }))) : gate.score;
  const passed = gate.passed && ran.every((r) => r.passed) && score >= gate.threshold;
  const mutation = mutationFigures(run.scenarios);
  const failingProperties = failingPropertiesOf(run.scenarios);
  return {
    score,
    passed,
    threshold: gate.threshold,
    checks: checkResults(gate),
    ...(testChanges ? { testChanges } : {}),
    scenarios,
    ...(mutation ? { mutation } : {}),
    ...(failingProperties ? { failingProperties } : {}),
  };
}

/** What the report carries of the failing properties: how many, and the first few repros. */
function failingPropertiesOf(results: readonly ScenarioResult[]): EvalReport['failingProperties'] {
  const repros = failingPropertyRepros(results);
  return repros.length ? { count: repros.length, repros: repros.slice(0, MAX_CARRIED_REPROS) } : undefined;
}
