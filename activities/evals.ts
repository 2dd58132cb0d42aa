/**
 * The eval activity: the release train's gate is one built-in scenario of the eval harness (evals/), run by
 * `runScenarios` like every other scenario, so there is a single way to run checks.
 *
 * Gate scenario `gate.release-train@v1`, threshold 0.85:
 *   patch_applies  weight 1, required   the candidate commit differs from its base and changes every claimed file
 *   tests_pass     weight 3, required   the candidate's declared test command, graded by the share of passing tests
 *
 * Score (evals/scoring.ts `scoreScenario`): mean = (1·s_patch + 3·s_tests) / 4; a failed required check caps
 * it: score = mean · min(score of the failed required checks), so score = mean when both pass.
 * passed = score ≥ 0.85 and both checks passed. Example: 6/10 tests passing → (1 + 3·0.6)/4 · 0.6 = 0.42.
 *
 * The harness runs the tests in an isolated detached work tree with its own HOME/TMPDIR, a scrubbed environment
 * (PATH and locale only: no tokens) and in their own process group, killed when `testTimeoutMs` (the gate
 * scenario's time limit) is used up or the activity is cancelled. No result cache: the gate always runs.
 */
import * as path from 'node:path';
import { Context } from '@temporalio/activity';
import type { ChangeRequest } from '../core/change-request';
import type { Candidate, CheckResult, EvalReport } from '../core/stages';
import { defineScenario, type Scenario } from '../evals/dsl';
import { writeArtifacts } from '../evals/report';
import { CommitNotFoundError, runScenarios, type RunResult } from '../evals/runner';

export interface EvalActivityDeps {
  /** Absolute path of tsx's CLI (node_modules/tsx/dist/cli.mjs); replaces '{tsx}' in test commands. */
  tsxCli: string;
  /** Time limit of the gate scenario (work tree, patch check, test run); the test process group is killed past it. Default 120 s. */
  testTimeoutMs?: number;
  /**
   * When set, each run's artifacts go to `<artifactsDir>/<changeId>/`: runs/<runId>.json, latest.json,
   * eval-score.md (the Eval Score tile) and badge.svg, explanations redacted (evals/report.ts).
   */
  artifactsDir?: string;
}

export interface EvalInput {
  changeRequest: ChangeRequest;
  candidate: Candidate;
}

export const EVAL_THRESHOLD = 0.85;
export const GATE_SCENARIO_ID = 'gate.release-train@v1';
const HEARTBEAT_EVERY_MS = 5_000;

/** The release-train gate as a harness scenario; `timeoutMs` bounds everything it runs. */
export function gateScenario(timeoutMs = 120_000): Scenario {
  return defineScenario({
    id: GATE_SCENARIO_ID,
    title: 'Release-train gate: the candidate carries its change and its tests pass',
    tags: ['gate'],
    checks: [
      { type: 'patch_applies', weight: 1, required: true },
      { type: 'tests_pass', weight: 3, required: true },
    ],
    scoring: { threshold: EVAL_THRESHOLD },
    timeout: timeoutMs,
  });
}

export function createEvalActivities(deps: EvalActivityDeps) {
  const scenario = gateScenario(deps.testTimeoutMs);
  return {
    async runEvals({ changeRequest, candidate }: EvalInput): Promise<EvalReport> {
      const started = Date.now();
      const context = currentActivityContext();
      const heartbeat = context
        ? setInterval(() => context.heartbeat({ phase: 'evals', scenario: scenario.id, elapsedMs: Date.now() - started }), HEARTBEAT_EVERY_MS)
        : undefined;
      try {
        context?.heartbeat({ phase: 'evals', scenario: scenario.id, elapsedMs: 0 });
        const run = await runScenarios({
          repo: changeRequest.repo,
          candidate: candidate.sha,
          base: candidate.baseSha,
          scenarios: [scenario],
          tsxCli: deps.tsxCli,
          testCommand: candidate.service.test,
          claimedFiles: candidate.changedFiles,
          cacheDir: null,
          concurrency: 1,
        }).catch((error: unknown) => {
          if (error instanceof CommitNotFoundError) return error;
          throw error;
        });
        if (run instanceof CommitNotFoundError) return { ...notRun(scenario, run), durationMs: Date.now() - started };
        if (deps.artifactsDir) await writeRunArtifacts(path.join(deps.artifactsDir, changeRequest.id), run);
        return { ...toEvalReport(run), durationMs: Date.now() - started };
      } finally {
        if (heartbeat) clearInterval(heartbeat);
      }
    },
  };
}

export type EvalActivities = ReturnType<typeof createEvalActivities>;

/** The gate scenario's result as the release train's EvalReport (without durationMs). */
function toEvalReport(run: RunResult): Omit<EvalReport, 'durationMs'> {
  const [result] = run.scenarios;
  const checks: CheckResult[] = result.checks.map(({ check, score, passed, explanation }) => ({ check, score, passed, explanation }));
  return { score: result.score, passed: result.passed, threshold: result.threshold, checks };
}

/** The candidate or base commit is missing: every gate check fails with the harness's reason, score 0. */
function notRun(scenario: Scenario, error: CommitNotFoundError): Omit<EvalReport, 'durationMs'> {
  const checks = scenario.checks.map((spec): CheckResult => ({
    check: spec.name ?? spec.type,
    score: 0,
    passed: false,
    explanation: spec.type === 'patch_applies' ? error.message : `not run: ${error.message}`,
  }));
  return { score: 0, passed: false, threshold: scenario.scoring.threshold, checks };
}

/** Artifacts help people; failing to write them must not fail (and so re-run) the gate. */
async function writeRunArtifacts(dir: string, run: RunResult): Promise<void> {
  try {
    await writeArtifacts(dir, { run });
  } catch (error) {
    const message = `could not write eval artifacts to ${dir}: ${(error as Error).message}`;
    const context = currentActivityContext();
    if (context) context.log.warn(message);
    else console.warn(message);
  }
}

/** The Temporal activity context when running as an activity; undefined in plain calls (tests, scripts). */
function currentActivityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}
