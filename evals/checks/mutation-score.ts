/**
 * mutation_score: how many mutants of the code a change adds or rewrites its tests kill (StrykerJS, issue 14).
 * Stryker mutates only the changed code lines of the changed JS/TS source files (test files aside): `mutate` ranges
 * `file:start-end` (core/mutation.ts `mutateRanges`), so its time grows with the change, not with the repository.
 * Each mutant runs against the candidate's declared test command (maestro.service.json `test`, through Stryker's
 * command runner, so any JS/TS runner works: node:test, jest, vitest, mocha); Stryker and its test runs are one
 * process group under the scenario's time limit, heartbeating and killed on cancellation (evals/test-runner.ts).
 * For comparison, the lines the change rewrites or removes are mutated on the base commit against the base's tests.
 * The score is (killed + timeout) / (killed + timeout + survived + no coverage); the check passes at `pass_at`
 * (default 0.7). Every surviving mutant (file, line, mutator, original → replacement) goes into the details
 * (`details.mutation`, a core/mutation.ts ChangeMutationReport), which the EvalReport carries as `mutation`.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { git } from '../../io/git';
import { addedLines, removedLines } from '../../core/diff';
import { isTestFile } from '../../core/test-changes';
import { describeMutant, describeRun, formatScore, mutateRanges, strykerReportSchema, summarizeReport, type ChangeMutationReport, type MutationRun } from '../../core/mutation';
import { isCodeText } from '../coverage';
import type { CheckContext, CheckImpl } from './types';

const SOURCE_FILE = /\.[cm]?[jt]sx?$/;
const STRYKER_CLI = path.join(path.dirname(require.resolve('@stryker-mutator/core/package.json')), 'bin', 'stryker.js');
/** Surviving mutants named in the explanation; the details hold all of them. */
const LISTED_IN_EXPLANATION = 5;

/** One argv as a POSIX shell command line (Stryker's command runner runs a string through the shell). */
const shellCommand = (argv: readonly string[]): string => argv.map((arg) => `'${arg.replace(/'/g, `'\\''`)}'`).join(' ');

type StrykerOutcome = { run: MutationRun } | { failure: string };

/** Runs Stryker in `tree` on `ranges` with `testArgv` as the test command; its report is read back and summarised. */
async function runStryker(ctx: CheckContext, tree: string, testArgv: readonly string[], ranges: string[], concurrency: number): Promise<StrykerOutcome> {
  const dir = await fs.mkdtemp(path.join(ctx.env.TMPDIR ?? os.tmpdir(), 'stryker-'));
  try {
    const reportFile = path.join(dir, 'mutation.json');
    const configFile = path.join(dir, 'stryker.config.json');
    const config = {
      testRunner: 'command',
      commandRunner: { command: shellCommand(testArgv) },
      // The command runner runs the whole suite per mutant; it has no per-test coverage.
      coverageAnalysis: 'off',
      mutate: ranges,
      // The command runner is built in: no plugin to load from the target repository.
      plugins: [],
      checkers: [],
      reporters: ['json'],
      jsonReporter: { fileName: reportFile },
      concurrency,
      incremental: false,
      tempDirName: '.stryker-tmp',
      cleanTempDir: 'always',
      logLevel: 'warn',
    };
    await fs.writeFile(configFile, JSON.stringify(config, null, 2));
    const run = await ctx.runTests([process.execPath, STRYKER_CLI, 'run', configFile], tree);
    if (run.timedOut) return { failure: `Stryker was stopped at the scenario's time limit (${ctx.scenario.timeout} ms) after ${run.durationMs ?? 0} ms` };
    const text = await fs.readFile(reportFile, 'utf8').catch(() => undefined);
    const tail = run.output.trim().split('\n').slice(-15).join('\n');
    if (text === undefined) return { failure: `Stryker wrote no report (exit ${run.exitCode ?? run.signal}); last output:\n${tail}` };
    const parsed = strykerReportSchema.safeParse(JSON.parse(text));
    if (!parsed.success) return { failure: `Stryker's report is not a mutation-testing report: ${parsed.error.issues[0]?.message ?? 'unknown shape'}` };
    return { run: summarizeReport(parsed.data) };
  } finally {
    await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** Changed code lines of JS/TS source files (tests, blank and comment lines aside). */
const codeLines = (lines: { file: string; line: number; text: string }[]): { file: string; line: number }[] =>
  lines.filter((l) => SOURCE_FILE.test(l.file) && !isTestFile(l.file) && isCodeText(l.text)).map(({ file, line }) => ({ file, line }));

export const mutationScore: CheckImpl<'mutation_score'> = async (spec, ctx) => {
  const started = Date.now();
  if (!ctx.testArgv) return { score: 0, passed: false, status: 'error', explanation: 'the repository declares no test command (maestro.service.json "test"): no test can kill a mutant' };
  const diff = (await git(ctx.repo, ['diff', '--find-renames', '--no-color', '--no-ext-diff', ctx.baseSha, ctx.candidateSha])).stdout;
  const mutated = mutateRanges(codeLines(addedLines(diff)));
  const name = spec.name ?? spec.type;
  const report = (candidate: MutationRun, base: ChangeMutationReport['base'], baseNote?: string): ChangeMutationReport => ({
    check: name,
    passAt: spec.pass_at,
    mutated,
    candidate,
    base,
    ...(baseNote ? { baseNote } : {}),
    durationMs: Date.now() - started,
  });
  if (mutated.length === 0) {
    const none: MutationRun = { score: null, killed: 0, survived: 0, noCoverage: 0, timeout: 0, errors: 0, survivors: [] };
    return { score: 1, passed: true, explanation: 'the change adds or rewrites no JS/TS source code lines: nothing to mutate', details: { mutation: report(none, null, 'nothing to compare') } };
  }
  const candidate = await runStryker(ctx, ctx.workDir, ctx.testArgv, mutated, spec.concurrency);
  if ('failure' in candidate) return { score: 0, passed: false, status: 'error', explanation: `mutation testing of ${mutated.join(', ')} did not finish: ${candidate.failure}` };

  let base: ChangeMutationReport['base'] = null;
  let baseNote: string | undefined;
  const rewritten = mutateRanges(codeLines(removedLines(diff)));
  if (!spec.compare_base) baseNote = 'not measured (compare_base: false)';
  else if (rewritten.length === 0) baseNote = 'the change only adds code: the base has no version of these lines';
  else if (!ctx.baseTestArgv) baseNote = 'the base declares no test command';
  else {
    const measured = await runStryker(ctx, await ctx.baseTree(), ctx.baseTestArgv, rewritten, spec.concurrency);
    if ('failure' in measured) baseNote = `not measured: ${measured.failure}`;
    else base = { ...measured.run, mutated: rewritten };
  }

  const { run } = candidate;
  const score = run.score ?? 1;
  const passed = score >= spec.pass_at;
  const parts = [
    run.score === null
      ? `no mutant in the changed code lines (${mutated.join(', ')})`
      : `mutation score of the changed code ${describeRun(run)}, needs ${formatScore(spec.pass_at)}`,
    base ? `base (the ${base.mutated.join(', ')} it rewrites): ${describeRun(base)}` : `base: ${baseNote}`,
  ];
  if (run.survivors.length) {
    const listed = run.survivors.slice(0, LISTED_IN_EXPLANATION).map(describeMutant);
    parts.push(`alive: ${listed.join('; ')}${run.survivors.length > listed.length ? `; and ${run.survivors.length - listed.length} more` : ''}`);
  }
  return { score, passed, explanation: parts.join('; '), details: { mutation: report(run, base, baseNote) } };
};

/** The figures of the first mutation_score check among these scenarios' checks (the EvalReport's `mutation`, the tile's table). */
export function mutationFigures(scenarios: readonly { checks: readonly { type: string; details?: Record<string, unknown> }[] }[]): ChangeMutationReport | undefined {
  return scenarios.flatMap((s) => s.checks).find((c) => c.type === 'mutation_score' && c.details?.mutation)?.details?.mutation as ChangeMutationReport | undefined;
}
