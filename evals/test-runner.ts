/**
 * Runs a repository's declared test command in a work dir, in its own process group, with a time limit and
 * a scrubbed environment, and reads the per-test outcome from node's test runner output (TAP or spec).
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { Context } from '@temporalio/activity';

const MAX_CAPTURED_OUTPUT_CHARS = 1024 * 1024;
const HEARTBEAT_EVERY_MS = 5_000;

/** Only locale and PATH reach the tests: no tokens, no cloud credentials, no NODE_OPTIONS. */
export const PASSED_THROUGH_ENV = ['PATH', 'LANG', 'LANGUAGE', 'LC_ALL', 'LC_CTYPE', 'TZ'];

/** The environment for anything a scenario runs: HOME and TMPDIR point inside `sandbox` (when given). */
export function scrubbedEnv(sandbox?: { home: string; tmp: string }): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { NODE_ENV: 'test', CI: 'true', NO_COLOR: '1', FORCE_COLOR: '0' };
  for (const name of PASSED_THROUGH_ENV) if (process.env[name] !== undefined) env[name] = process.env[name];
  if (sandbox) Object.assign(env, { HOME: sandbox.home, TMPDIR: sandbox.tmp, TMP: sandbox.tmp, TEMP: sandbox.tmp });
  else for (const name of ['HOME', 'TMPDIR', 'TMP', 'TEMP']) if (process.env[name] !== undefined) env[name] = process.env[name];
  return env;
}

export interface TestRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  output: string;
  durationMs?: number;
}

/** Fills '{node}' and '{tsx}' in a service descriptor's test argv. */
export function fillTestArgv(argv: readonly string[], tsxCli: string): string[] {
  return argv.map((arg) => arg.split('{node}').join(process.execPath).split('{tsx}').join(tsxCli));
}

function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** Runs argv in its own process group (tsx spawns a child) so a timeout or cancellation kills all of it. */
export function runCommand(argv: readonly string[], cwd: string, timeoutMs: number, env: NodeJS.ProcessEnv = scrubbedEnv()): Promise<TestRun> {
  const [command, ...args] = argv;
  const context = activityContext();
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(command, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const append = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      if (output.length > MAX_CAPTURED_OUTPUT_CHARS) output = output.slice(-MAX_CAPTURED_OUTPUT_CHARS);
    };
    child.stdout.on('data', append);
    child.stderr.on('data', append);
    let timedOut = false;
    const killGroup = (): void => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, Math.max(1, timeoutMs));
    const heartbeat = context ? setInterval(() => context.heartbeat({ phase: 'tests', elapsedMs: Date.now() - started }), HEARTBEAT_EVERY_MS) : undefined;
    const onCancel = (): void => killGroup();
    context?.cancellationSignal.addEventListener('abort', onCancel);
    const finish = (): void => {
      clearTimeout(timer);
      if (heartbeat) clearInterval(heartbeat);
      context?.cancellationSignal.removeEventListener('abort', onCancel);
    };
    child.on('error', (error) => {
      finish();
      reject(new Error(`could not start ${argv.join(' ')}: ${error.message}`));
    });
    child.on('close', (exitCode, signal) => {
      finish();
      resolve({ exitCode, signal, timedOut, output, durationMs: Date.now() - started });
    });
  });
}

export interface TestCounts {
  pass: number;
  fail: number;
  failedTests: string[];
  /** The first failure's message, as the runner printed it (vitest, jest). */
  firstFailure?: string;
}

/**
 * Reads a test runner's summary and the names of failing tests: node's (TAP `# pass N`, spec `ℹ pass N`),
 * vitest's (`Tests  1 failed | 9 passed (10)`) or jest's (`Tests: 1 failed, 9 passed, 10 total`).
 */
export function parseTestOutput(output: string): TestCounts | undefined {
  return parseNodeTestOutput(output) ?? parseVitestOrJestOutput(output.replace(/\x1b\[[0-9;]*m/g, ''));
}

function parseVitestOrJestOutput(output: string): TestCounts | undefined {
  const summary = [...output.matchAll(/^\s*Tests:?\s+(.*?(?:passed|failed|skipped|todo).*)$/gm)].pop()?.[1];
  if (!summary) return undefined;
  const figure = (label: string) => Number(new RegExp(`(\\d+) ${label}`).exec(summary)?.[1] ?? 0);
  const failedTests = new Set<string>();
  let firstFailure: string | undefined;
  const lines = output.split('\n');
  lines.forEach((line, i) => {
    // vitest: ` FAIL  file > suite > test` in its failure report; jest: `  ● suite › test`.
    const m = /^\s*FAIL\s+(.+ > .+?)\s*$/.exec(line) ?? /^\s*● (?!Console\b)(.+?)\s*$/.exec(line);
    if (!m) return;
    failedTests.add(m[1]!.trim());
    if (firstFailure === undefined)
      firstFailure = lines
        .slice(i + 1)
        .map((l) => l.trim())
        .filter((l) => l !== '' && !/^[⎯─-]+$/.test(l))
        .slice(0, 4)
        .join(' ');
  });
  return { pass: figure('passed'), fail: figure('failed'), failedTests: [...failedTests], ...(firstFailure ? { firstFailure } : {}) };
}

function parseNodeTestOutput(output: string): TestCounts | undefined {
  const count = (label: string): number | undefined => {
    const matches = [...output.matchAll(new RegExp(`^(?:#|ℹ) ${label} (\\d+)\\s*$`, 'gm'))];
    return matches.length ? Number(matches[matches.length - 1][1]) : undefined;
  };
  const pass = count('pass');
  const fail = count('fail');
  if (pass === undefined || fail === undefined) return undefined;
  const failedTests = new Set<string>();
  for (const match of output.matchAll(/^\s*not ok \d+ - (.+?)(?:\s+#\s.*)?$/gm)) failedTests.add(match[1].trim());
  for (const match of output.matchAll(/^\s*✖ (.+?)(?: \([\d.]+m?s\))?$/gm)) if (!/^failing tests:?$/.test(match[1])) failedTests.add(match[1].trim());
  return { pass, fail: fail + (count('cancelled') ?? 0), failedTests: [...failedTests] };
}

export type TestOutcome = 'pass' | 'fail' | 'skip';

/** Per-test outcomes by name (TAP `ok`/`not ok`, spec ✔/✖); a name seen failing anywhere counts as failing. */
export function parseTestOutcomes(output: string): Map<string, TestOutcome> {
  const outcomes = new Map<string, TestOutcome>();
  const set = (name: string, outcome: TestOutcome): void => {
    const previous = outcomes.get(name);
    if (previous === 'fail') return;
    outcomes.set(name, outcome);
  };
  for (const m of output.matchAll(/^\s*(not ok|ok) \d+ - (.+?)(\s+#\s*(SKIP|TODO).*)?$/gim)) set(m[2].trim(), m[3] ? 'skip' : m[1] === 'ok' ? 'pass' : 'fail');
  for (const m of output.matchAll(/^\s*(✔|✖|﹣) (.+?)(?: \([\d.]+m?s\))?(?: # SKIP.*)?$/gm)) {
    if (/^failing tests:?$/.test(m[2])) continue;
    set(m[2].trim(), m[1] === '✔' ? 'pass' : m[1] === '✖' ? 'fail' : 'skip');
  }
  return outcomes;
}

/** Grades a whole-suite run: the share of passing tests; passed needs exit 0 and no failure. */
export function gradeTestRun(run: TestRun, argv: readonly string[], timeoutMs: number): { check: string; score: number; passed: boolean; explanation: string } {
  const command = argv.map((arg) => path.basename(arg)).join(' ');
  const tail = run.output.trim().split('\n').slice(-15).join('\n');
  if (run.timedOut) return { check: 'tests_pass', score: 0, passed: false, explanation: `\`${command}\` timed out after ${timeoutMs} ms and was killed` };
  const counts = parseTestOutput(run.output);
  if (!counts || counts.pass + counts.fail === 0)
    return { check: 'tests_pass', score: 0, passed: false, explanation: `\`${command}\` reported no test results (exit ${run.exitCode ?? run.signal}); last output:\n${tail}` };
  const total = counts.pass + counts.fail;
  const score = counts.pass / total;
  const passed = run.exitCode === 0 && counts.fail === 0;
  let explanation = `${counts.pass}/${total} tests passed`;
  if (counts.failedTests.length) explanation += `; failing: ${counts.failedTests.map((name) => `'${name}'`).join(', ')}`;
  if (!passed && counts.fail === 0) explanation += `; but \`${command}\` exited with ${run.exitCode ?? run.signal}:\n${tail}`;
  return { check: 'tests_pass', score, passed, explanation };
}
