/** Checks about the candidate commit itself: it carries a change, its tests pass, its risk is bounded. */
import { git, resolveCommit } from '../../io/git';
import { protectedPathsTouched } from '../../core/policy';
import { computeRisk } from '../../core/risk';
import { gradeTestRun, parseTestOutcomes } from '../test-runner';
import { importGraphAt } from './import-graph';
import { TEST_FILE } from './requirements';
import type { CheckImpl } from './types';

/** The candidate commit exists, differs from its base, and changes every file it claims to. */
export const patchApplies: CheckImpl<'patch_applies'> = async (_spec, ctx) => {
  const fail = (explanation: string) => ({ score: 0, passed: false, explanation });
  const sha = await resolveCommit(ctx.repo, ctx.candidateSha).catch(() => undefined);
  if (!sha) return fail(`candidate commit ${ctx.candidateSha} does not exist in ${ctx.repo}`);
  const baseSha = await resolveCommit(ctx.repo, ctx.baseSha).catch(() => undefined);
  if (!baseSha) return fail(`base commit ${ctx.baseSha} does not exist in ${ctx.repo}`);
  const { stdout } = await git(ctx.repo, ['diff', '--name-only', '--no-renames', '-z', baseSha, sha]);
  const changed = new Set(stdout.split('\0').filter(Boolean));
  if (changed.size === 0) return fail(`candidate ${sha.slice(0, 12)} has the same tree as its base ${baseSha.slice(0, 12)}`);
  const missing = (ctx.claimedFiles ?? []).filter((file) => !changed.has(file));
  if (missing.length) return fail(`candidate does not change ${missing.join(', ')}, which the change claims to touch`);
  return { score: 1, passed: true, explanation: `${sha.slice(0, 12)} changes ${changed.size} file(s) on top of ${baseSha.slice(0, 12)}` };
};

/** Whole suite (share of passing tests) or, with `tests`, the named tests (share of them passing). */
export const testsPass: CheckImpl<'tests_pass'> = async (spec, ctx) => {
  if (!ctx.testArgv) return { score: 0, passed: false, status: 'error', explanation: 'the repository declares no test command (maestro.service.json "test")' };
  const run = await ctx.candidateTests();
  const graded = gradeTestRun(run, ctx.testArgv, run.durationMs ?? 0);
  if (spec.tests.length === 0) return { score: graded.score, passed: graded.passed, explanation: graded.explanation };
  if (run.timedOut) return { score: 0, passed: false, explanation: graded.explanation };
  const outcomes = parseTestOutcomes(run.output);
  const missing = spec.tests.filter((t) => !outcomes.has(t));
  const failing = spec.tests.filter((t) => outcomes.get(t) === 'fail' || outcomes.get(t) === 'skip');
  const passing = spec.tests.filter((t) => outcomes.get(t) === 'pass');
  let explanation = `${passing.length}/${spec.tests.length} named tests passed`;
  if (failing.length) explanation += `; failing: ${failing.map((t) => `'${t}'`).join(', ')}`;
  if (missing.length) explanation += `; not found in the run: ${missing.map((t) => `'${t}'`).join(', ')}`;
  return { score: passing.length / spec.tests.length, passed: passing.length === spec.tests.length, explanation, details: { suite: graded.explanation } };
};

/**
 * Risk of the change by core/risk.ts (import-graph centrality, size, protected paths). Within the limit
 * scores 1; over it scores at most 0.5, falling linearly to 0 at risk 1, so the excess shows in the score.
 */
export const riskScoreMax: CheckImpl<'risk_score_max'> = async (spec, ctx) => {
  const graph = await importGraphAt(ctx.repo, ctx.candidateSha);
  const changedFiles = (await git(ctx.repo, ['diff', '--name-only', '--no-renames', '-z', ctx.baseSha, ctx.candidateSha])).stdout.split('\0').filter(Boolean);
  let insertions = 0;
  let deletions = 0;
  for (const line of (await git(ctx.repo, ['diff', '--numstat', '--no-renames', ctx.baseSha, ctx.candidateSha])).stdout.split('\n').filter(Boolean)) {
    const [added, deleted] = line.split('\t');
    insertions += Number(added) || 0;
    deletions += Number(deleted) || 0;
  }
  const protectedPaths = [...spec.protected_paths, ...ctx.protectedPaths];
  const touched = protectedPathsTouched(changedFiles, protectedPaths);
  const testFiles = changedFiles.filter((f) => TEST_FILE.test(f));
  // A changed source file counts as tested when some test file of the candidate imports it directly.
  const testedFiles = changedFiles.filter((f) => [...(graph.importers.get(f) ?? [])].some((importer) => TEST_FILE.test(importer)));
  const files: Record<string, { fanIn: number; pageRank: number; betweenness: number }> = {};
  for (const file of changedFiles) files[file] = { fanIn: graph.importers.get(file)?.size ?? 0, pageRank: 0, betweenness: 0 };
  const risk = computeRisk({
    changedFiles,
    insertions,
    deletions,
    graph: { source: `git import scan of ${ctx.candidateSha.slice(0, 12)}`, totalFiles: graph.sourceFiles.length, files, symbols: {} },
    protectedTouched: touched.map((t) => t.file),
    // The eval judges the change, not its author: familiarity is left out (every file counts as owned).
    authorOwns: changedFiles,
    testFiles,
    testedFiles,
  });
  const factors = risk.factors.map((f) => `${f.name} ${f.value.toFixed(2)}`).join(', ');
  const within = risk.score <= spec.max;
  const score = within ? 1 : Math.max(0, 0.5 * (1 - (risk.score - spec.max) / Math.max(1e-9, 1 - spec.max)));
  const protectedNote = touched.length ? `; protected paths touched: ${touched.map((t) => `${t.file} (${t.pattern})`).join(', ')}` : '';
  return {
    score,
    passed: within,
    explanation: `risk ${risk.score.toFixed(3)} ${within ? '≤' : '>'} max ${spec.max} (${factors})${protectedNote}`,
    details: { risk: risk.score, factors: risk.factors },
  };
};
