/**
 * The eval activity: the release train's gate is one built-in scenario of the eval harness, defined and run by
 * evals/gate.ts (see its header for the checks, weights and scoring: patch_applies, tests_pass, base_tests_pass
 * (the base's tests judging the candidate) and changed_lines_covered), plus the registry scenarios that apply to
 * the change, combined into one Eval Score; so there is a single way to run checks.
 *
 * The harness runs the tests in isolated detached work trees with their own HOME/TMPDIR, a scrubbed environment
 * (PATH and locale only: no tokens) and in their own process group, killed when `testTimeoutMs` (the gate
 * scenario's time limit) is used up or the activity is cancelled. No result cache: the gate always runs.
 */
import * as path from 'node:path';
import { currentActivityContext, currentTrainId } from './context';
import type { ChangeRequest } from '../core/change-request';
import type { Candidate, CheckResult, EvalReport } from '../core/stages';
import type { Scenario } from '../evals/dsl';
import { gateScenario, runGate, selectScenarios, toEvalReport } from '../evals/gate';
import { DEFAULT_SCENARIOS_DIR, loadRegistry } from '../evals/registry';
import { writeArtifacts } from '../evals/report';
import { CommitNotFoundError, type RunResult } from '../evals/runner';

export { EVAL_THRESHOLD, GATE_SCENARIO_ID, gateScenario } from '../evals/gate';

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
  /** The scenario registry the gate selects from (evals/registry.ts); default evals/scenarios. */
  scenariosDir?: string;
}

export interface EvalInput {
  changeRequest: ChangeRequest;
  candidate: Candidate;
}

const HEARTBEAT_EVERY_MS = 5_000;

export function createEvalActivities(deps: EvalActivityDeps) {
  const scenario = gateScenario(deps.testTimeoutMs);
  // Loaded once per worker; a failed load is retried by the next eval (its error names file:line of each bad scenario).
  let registry: ReturnType<typeof loadRegistry> | undefined;
  return {
    async runEvals({ changeRequest, candidate }: EvalInput): Promise<EvalReport> {
      const started = Date.now();
      const context = currentActivityContext();
      const heartbeat = context
        ? setInterval(() => context.heartbeat({ phase: 'evals', scenario: scenario.id, elapsedMs: Date.now() - started }), HEARTBEAT_EVERY_MS)
        : undefined;
      try {
        context?.heartbeat({ phase: 'evals', scenario: scenario.id, elapsedMs: 0 });
        registry ??= loadRegistry(deps.scenariosDir ?? DEFAULT_SCENARIOS_DIR).catch((error: unknown) => {
          registry = undefined;
          throw error;
        });
        const selected = selectScenarios((await registry).tuning(), { changedFiles: candidate.changedFiles, prompt: changeRequest.prompt, tags: changeRequest.tags });
        const run = await runGate({
          repo: changeRequest.repo,
          candidate: candidate.sha,
          base: candidate.baseSha,
          scenario,
          selected,
          tsxCli: deps.tsxCli,
          testCommand: candidate.service.test,
          claimedFiles: candidate.changedFiles,
          intent: changeRequest.intent,
          // The judge's and the embeddings' calls go on the train's account (the ledger, budget caps, $/PR).
          ...(currentTrainId() ? { trainId: currentTrainId() } : {}),
        }).catch((error: unknown) => {
          if (error instanceof CommitNotFoundError) return error;
          throw error;
        });
        if (run instanceof CommitNotFoundError) return { ...notRun(scenario, run), durationMs: Date.now() - started };
        if (deps.artifactsDir) await writeRunArtifacts(path.join(deps.artifactsDir, changeRequest.id), run);
        return { ...toEvalReport(run, selected), durationMs: Date.now() - started };
      } finally {
        if (heartbeat) clearInterval(heartbeat);
      }
    },
  };
}

export type EvalActivities = ReturnType<typeof createEvalActivities>;

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

