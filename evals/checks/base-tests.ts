/**
 * base_tests_pass (PASS_TO_PASS, as SWE-bench judges a candidate): the BASE commit's tests judge the
 * candidate's source. In a scratch work tree of the candidate, every test file, snapshot and test-runner
 * configuration the candidate modified or deleted is put back as the base has it (except a test file the change
 * only renames identifiers in, as its source does: core/test-changes.ts `renamedOnly`), and the base's test command
 * (its maestro.service.json) runs, plus the candidate's added test files when that command lists files.
 * A base test failing there fails the check, except a test whose expectation the change updates as its
 * intent documents (core/test-changes.ts `intendedTests`): that failure is the intended behaviour change and
 * is reported as evidence. The candidate's edits to base tests never count as passes: they are not run here.
 */
import * as path from 'node:path';
import { git } from '../../io/git';
import { isTestFile, TEST_FILE } from '../../core/test-changes';
import { parseTestOutcomes, parseTestOutput } from '../test-runner';
import type { CheckImpl } from './types';

/** Files that decide which tests run and how: restored from the base along with the tests themselves. */
const RUNNER_FILE = /(^|\/)(jest|vitest|vite|mocha|ava|playwright)\.config\.[cm]?[jt]s$|(^|\/)\.mocharc(\.\w+)?$|^maestro\.service\.json$|(^|\/)(tsconfig\.json)$/;
const TEST_ENTRY = /\.(test|spec)\.[cm]?[jt]sx?$/;

export const baseTestsPass: CheckImpl<'base_tests_pass'> = async (_spec, ctx) => {
  if (!ctx.baseTestArgv) return { score: 0, passed: false, status: 'error', explanation: `the base ${ctx.baseSha.slice(0, 12)} declares no test command (maestro.service.json "test")` };
  const status = (await git(ctx.repo, ['diff', '--name-status', '--no-renames', '-z', ctx.baseSha, ctx.candidateSha])).stdout.split('\0').filter(Boolean);
  const analysis = await ctx.testChanges();
  const restored: string[] = [];
  const added: string[] = [];
  for (let i = 0; i + 1 < status.length; i += 2) {
    const [code, file] = [status[i], status[i + 1]];
    if (code === 'A') {
      if (TEST_ENTRY.test(file)) added.push(file);
    } else if ((isTestFile(file) || RUNNER_FILE.test(file)) && !analysis.renamedOnly.includes(file)) restored.push(file);
  }
  const tree = await ctx.scratchCandidateTree();
  if (restored.length) await git(tree, ['checkout', ctx.baseSha, '--', ...restored]);
  // The candidate's new tests run too when the base command names its test files (node --test a.ts b.ts).
  const listsFiles = ctx.baseTestArgv.some((arg) => TEST_FILE.test(arg) && !path.isAbsolute(arg));
  const argv = listsFiles ? [...ctx.baseTestArgv, ...added] : ctx.baseTestArgv;
  const run = await ctx.runTests(argv, tree);
  const command = argv.map((a) => path.basename(a)).join(' ');
  const details = { restored, renamedOnly: analysis.renamedOnly, added: listsFiles ? added : [], modifiedTests: analysis.modifiedTests, intendedTests: analysis.intendedTests, durationMs: run.durationMs, testChanges: analysis.findings, evidence: analysis.evidence };
  if (run.timedOut) return { score: 0, passed: false, explanation: `the base tests (\`${command}\`) timed out and were killed`, details };
  const counts = parseTestOutput(run.output);
  if (!counts || counts.pass + counts.fail === 0)
    return { score: 0, passed: false, explanation: `the base tests (\`${command}\`) reported no results (exit ${run.exitCode ?? run.signal}); last output:\n${run.output.trim().split('\n').slice(-15).join('\n')}`, details };
  const outcomes = parseTestOutcomes(run.output);
  const failing = [...new Set([...counts.failedTests, ...[...outcomes].filter(([, o]) => o === 'fail').map(([n]) => n)])];
  const intended = failing.filter((name) => analysis.intendedTests.includes(name));
  const broken = failing.filter((name) => !analysis.intendedTests.includes(name));
  const counted = counts.pass + counts.fail - intended.length;
  const score = counted > 0 ? counts.pass / counted : 0;
  // A failure the runner reports without a test name (a crash in a hook, say) is still a failure.
  const unnamed = counts.fail > failing.length;
  const passed = broken.length === 0 && !unnamed && (run.exitCode === 0 || intended.length > 0) && counted > 0;
  const parts = [`${counts.pass}/${counted} base tests pass on the candidate`];
  if (broken.length) parts.push(`failing: ${broken.map((n) => `'${n}'`).join(', ')}`);
  if (unnamed) parts.push(`${counts.fail - failing.length} unnamed failure(s)`);
  if (intended.length) parts.push(`intended by the change (expectation updated as its intent says): ${intended.map((n) => `'${n}'`).join(', ')}`);
  if (restored.length) parts.push(`restored from base: ${restored.join(', ')}`);
  if (analysis.renamedOnly.length) parts.push(`kept as the candidate has them (identifiers renamed as in the source): ${analysis.renamedOnly.join(', ')}`);
  if (analysis.modifiedTests.length) parts.push(`base tests the change edits (judged in their base version): ${analysis.modifiedTests.map((t) => `${t.file} '${t.test}'`).join(', ')}`);
  if (listsFiles && added.length) parts.push(`plus the candidate's new test file(s): ${added.join(', ')}`);
  return { score: passed ? 1 : Math.min(score, 0.99), passed, explanation: parts.join('; '), details };
};
