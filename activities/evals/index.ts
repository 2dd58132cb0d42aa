/**
 * The eval activity: checks that the candidate really carries the change (`patch_applies`) and runs the
 * candidate's own declared tests in a clean checkout (`tests_pass`), graded by the share of passing tests.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Context } from '@temporalio/activity';
import type { ChangeRequest } from '../../core/change-request';
import type { Candidate, CheckResult, EvalReport } from '../../core/stages';
import { git, resolveCommit } from '../repo/git';
import { addDetachedWorktree, removeWorktree } from '../repo/worktree';

export interface EvalActivityDeps {
  /** Absolute path of tsx's CLI (node_modules/tsx/dist/cli.mjs); replaces '{tsx}' in test commands. */
  tsxCli: string;
  /** Wall-clock limit for the test command; the whole process group is killed past it. Default 120 s. */
  testTimeoutMs?: number;
}

export interface EvalInput {
  changeRequest: ChangeRequest;
  candidate: Candidate;
}

export const EVAL_THRESHOLD = 0.85;
/**
 * Weights of the weighted mean. Tests dominate: they measure behaviour; `patch_applies` is a sanity check
 * that must pass anyway (every check must pass on top of the threshold).
 */
export const CHECK_WEIGHTS = { patch_applies: 1, tests_pass: 3 } as const;
const HEARTBEAT_EVERY_MS = 5_000;
const MAX_CAPTURED_OUTPUT_CHARS = 1024 * 1024;

/** Only locale, paths and temp dirs reach the tests: no tokens, no cloud credentials, no NODE_OPTIONS. */
const PASSED_THROUGH_ENV = ['PATH', 'HOME', 'LANG', 'LANGUAGE', 'LC_ALL', 'LC_CTYPE', 'TZ', 'TMPDIR', 'TMP', 'TEMP'];

export function createEvalActivities(deps: EvalActivityDeps) {
  const testTimeoutMs = deps.testTimeoutMs ?? 120_000;
  return {
    async runEvals({ changeRequest, candidate }: EvalInput): Promise<EvalReport> {
      const started = Date.now();
      const repo = changeRequest.repo;
      const patchApplies = await checkPatchApplies(repo, candidate);
      const testsPass = patchApplies.passed
        ? await checkTestsPass(repo, candidate, deps.tsxCli, testTimeoutMs)
        : { check: 'tests_pass', score: 0, passed: false, explanation: 'not run: the candidate commit does not carry the change' };
      const checks = [patchApplies, testsPass];
      return { ...scoreChecks(checks), checks, durationMs: Date.now() - started };
    },
  };
}

export type EvalActivities = ReturnType<typeof createEvalActivities>;

/** Weighted mean of the check scores; passed needs the threshold and every single check. */
export function scoreChecks(checks: CheckResult[]): { score: number; passed: boolean; threshold: number } {
  let weighted = 0;
  let totalWeight = 0;
  for (const check of checks) {
    const weight = (CHECK_WEIGHTS as Record<string, number>)[check.check] ?? 1;
    weighted += weight * check.score;
    totalWeight += weight;
  }
  const score = totalWeight === 0 ? 0 : weighted / totalWeight;
  return { score, passed: score >= EVAL_THRESHOLD && checks.every((check) => check.passed), threshold: EVAL_THRESHOLD };
}

/** The candidate commit exists, differs from its base, and its diff touches exactly the files the candidate claims. */
async function checkPatchApplies(repo: string, candidate: Candidate): Promise<CheckResult> {
  const fail = (explanation: string): CheckResult => ({ check: 'patch_applies', score: 0, passed: false, explanation });
  const sha = await resolveCommit(repo, candidate.sha).catch(() => undefined);
  if (!sha) return fail(`candidate commit ${candidate.sha} does not exist in ${repo}`);
  const baseSha = await resolveCommit(repo, candidate.baseSha).catch(() => undefined);
  if (!baseSha) return fail(`base commit ${candidate.baseSha} does not exist in ${repo}`);
  const { stdout } = await git(repo, ['diff', '--name-only', '--no-renames', '-z', baseSha, sha]);
  const changed = new Set(stdout.split('\0').filter(Boolean));
  if (changed.size === 0) return fail(`candidate ${sha.slice(0, 12)} has the same tree as its base ${baseSha.slice(0, 12)}`);
  const missing = candidate.changedFiles.filter((file) => !changed.has(file));
  if (missing.length) return fail(`candidate does not change ${missing.join(', ')}, which the change claims to touch`);
  return {
    check: 'patch_applies',
    score: 1,
    passed: true,
    explanation: `${sha.slice(0, 12)} changes ${changed.size} file(s) on top of ${baseSha.slice(0, 12)}`,
  };
}

async function checkTestsPass(repo: string, candidate: Candidate, tsxCli: string, timeoutMs: number): Promise<CheckResult> {
  const checkoutRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'maestro-eval-'));
  const checkout = path.join(checkoutRoot, 'tree');
  try {
    await addDetachedWorktree(repo, checkout, candidate.sha);
    const argv = candidate.service.test.map((arg) => arg.split('{node}').join(process.execPath).split('{tsx}').join(tsxCli));
    const run = await runTestCommand(argv, checkout, timeoutMs);
    return gradeTestRun(run, argv, timeoutMs);
  } finally {
    await removeWorktree(repo, checkout);
    await fs.rm(checkoutRoot, { recursive: true, force: true });
  }
}

export interface TestRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  output: string;
}

function scrubbedEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { NODE_ENV: 'test', CI: 'true', NO_COLOR: '1', FORCE_COLOR: '0' };
  for (const name of PASSED_THROUGH_ENV) if (process.env[name] !== undefined) env[name] = process.env[name];
  return env;
}

/** The Temporal activity context when running as an activity; undefined in plain calls (tests, scripts). */
function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** Runs argv in its own process group (tsx spawns a child) so a timeout or cancellation kills all of it. */
function runTestCommand(argv: string[], cwd: string, timeoutMs: number): Promise<TestRun> {
  const [command, ...args] = argv;
  const context = activityContext();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: scrubbedEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const append = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      if (output.length > MAX_CAPTURED_OUTPUT_CHARS) output = output.slice(-MAX_CAPTURED_OUTPUT_CHARS); // the summary is at the end
    };
    child.stdout.on('data', append);
    child.stderr.on('data', append);

    let timedOut = false;
    const killGroup = (): void => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL'); // the group is already gone or was never made
      }
    };
    const started = Date.now();
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutMs);
    const heartbeat = context
      ? setInterval(() => context.heartbeat({ phase: 'tests_pass', elapsedMs: Date.now() - started }), HEARTBEAT_EVERY_MS)
      : undefined;
    const onCancel = (): void => killGroup();
    context?.cancellationSignal.addEventListener('abort', onCancel);
    const finish = (): void => {
      clearTimeout(timer);
      if (heartbeat) clearInterval(heartbeat);
      context?.cancellationSignal.removeEventListener('abort', onCancel);
    };
    child.on('error', (error) => {
      finish();
      reject(new Error(`could not start test command ${argv.join(' ')}: ${error.message}`));
    });
    child.on('close', (exitCode, signal) => {
      finish();
      resolve({ exitCode, signal, timedOut, output });
    });
  });
}

export interface TestCounts {
  pass: number;
  fail: number;
  failedTests: string[];
}

/** Reads node's test runner summary, TAP (`# pass N`) or spec (`ℹ pass N`), and the names of failing tests. */
export function parseTestOutput(output: string): TestCounts | undefined {
  const count = (label: string): number | undefined => {
    const matches = [...output.matchAll(new RegExp(`^(?:#|ℹ) ${label} (\\d+)\\s*$`, 'gm'))];
    return matches.length ? Number(matches[matches.length - 1][1]) : undefined;
  };
  const pass = count('pass');
  const fail = count('fail');
  if (pass === undefined || fail === undefined) return undefined;
  const failedTests = new Set<string>();
  for (const match of output.matchAll(/^\s*not ok \d+ - (.+?)(?:\s+#\s.*)?$/gm)) failedTests.add(match[1].trim());
  for (const match of output.matchAll(/^\s*✖ (.+?)(?: \([\d.]+m?s\))?$/gm))
    if (!/^failing tests:?$/.test(match[1])) failedTests.add(match[1].trim());
  // Cancelled tests (timeouts inside the runner) did not pass either.
  return { pass, fail: fail + (count('cancelled') ?? 0), failedTests: [...failedTests] };
}

export function gradeTestRun(run: TestRun, argv: string[], timeoutMs: number): CheckResult {
  const command = argv.map((arg) => path.basename(arg)).join(' ');
  const tail = run.output.trim().split('\n').slice(-15).join('\n');
  if (run.timedOut)
    return { check: 'tests_pass', score: 0, passed: false, explanation: `\`${command}\` timed out after ${timeoutMs} ms and was killed` };
  const counts = parseTestOutput(run.output);
  if (!counts || counts.pass + counts.fail === 0)
    return {
      check: 'tests_pass',
      score: 0,
      passed: false,
      explanation: `\`${command}\` reported no test results (exit ${run.exitCode ?? run.signal}); last output:\n${tail}`,
    };
  const total = counts.pass + counts.fail;
  const score = counts.pass / total;
  const passed = run.exitCode === 0 && counts.fail === 0;
  let explanation = `${counts.pass}/${total} tests passed`;
  if (counts.failedTests.length) explanation += `; failing: ${counts.failedTests.map((name) => `'${name}'`).join(', ')}`;
  if (!passed && counts.fail === 0) explanation += `; but \`${command}\` exited with ${run.exitCode ?? run.signal}:\n${tail}`;
  return { check: 'tests_pass', score, passed, explanation };
}
