/**
 * changed_lines_covered (diff coverage): the share of the code lines the candidate adds or changes in source
 * files (test files aside) that its own test run executes. It reads the V8 coverage of the candidate test run
 * that tests_pass uses (the runner sets NODE_V8_COVERAGE on it when a scenario has this check), so it adds no
 * test run of its own. A changed line counts when it holds code: blank and comment lines never do, nor lines
 * that compile to nothing (a TypeScript interface member). A changed source file no test loads is wholly
 * uncovered. Passes at `pass_at` (default 0.8).
 */
import { git } from '../../io/git';
import { addedLines, lineRuns } from '../../core/diff';
import { isTestFile } from '../../core/test-changes';
import { isCodeText, readLineCoverage } from '../coverage';
import type { CheckImpl } from './types';

const SOURCE_FILE = /\.[cm]?[jt]sx?$/;

/** `a.ts:3, 5-7` — consecutive lines folded into ranges. */
export function formatLines(lines: readonly { file: string; line: number }[]): string {
  return [...lineRuns(lines)].map(([file, runs]) => `${file}:${runs.map(([first, last]) => (first === last ? `${first}` : `${first}-${last}`)).join(', ')}`).join('; ');
}

export const changedLinesCovered: CheckImpl<'changed_lines_covered'> = async (spec, ctx) => {
  if (!ctx.testArgv) return { score: 0, passed: false, status: 'error', explanation: 'the repository declares no test command (maestro.service.json "test")' };
  if (!ctx.coverageDir) return { score: 0, passed: false, status: 'error', explanation: 'the candidate test run was started without coverage' };
  const diff = (await git(ctx.repo, ['diff', '--find-renames', '--no-color', '--no-ext-diff', ctx.baseSha, ctx.candidateSha])).stdout;
  const changed = addedLines(diff).filter((l) => SOURCE_FILE.test(l.file) && !isTestFile(l.file) && isCodeText(l.text));
  if (changed.length === 0) return { score: 1, passed: true, explanation: 'the change adds or changes no source code lines', details: { changed: 0, covered: 0, uncovered: [] } };
  const run = await ctx.candidateTests();
  if (run.timedOut) return { score: 0, passed: false, explanation: 'the candidate tests timed out: coverage unknown', details: { changed: changed.length } };
  const started = Date.now();
  const files = [...new Set(changed.map((l) => l.file))];
  const coverage = await readLineCoverage(ctx.coverageDir, ctx.workDir, files);
  const measured = changed.filter((l) => !coverage.has(l.file) || coverage.get(l.file)!.has(l.line));
  const uncovered = measured.filter((l) => !(coverage.get(l.file)?.get(l.line) ?? 0));
  const notLoaded = files.filter((f) => !coverage.has(f));
  const covered = measured.length - uncovered.length;
  const share = measured.length ? covered / measured.length : 1;
  const passed = share >= spec.pass_at;
  const parts = [`${covered}/${measured.length} changed code lines run by the tests (${(share * 100).toFixed(1)}%, needs ${(spec.pass_at * 100).toFixed(0)}%)`];
  if (uncovered.length) parts.push(`not run: ${formatLines(uncovered)}`);
  if (notLoaded.length) parts.push(`never loaded by any test: ${notLoaded.join(', ')}`);
  return {
    score: share,
    passed,
    explanation: parts.join('; '),
    details: { changed: measured.length, covered, uncovered: uncovered.map(({ file, line }) => ({ file, line })), notLoaded, analysisMs: Date.now() - started },
  };
};
