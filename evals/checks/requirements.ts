/**
 * structured_requirements: each requirement is verified by evidence, never by its wording.
 *   fail_to_pass          the target tests fail (or do not exist) on the base commit with the candidate's
 *                         test files copied in, and pass on the candidate — as SWE-bench does. Targets are
 *                         the named `tests` (or the scenario's `failing_tests`); without names, every test
 *                         that is not passing on base and passing on candidate counts, and there must be one.
 *   public_api_unchanged  the TypeScript compiler's emitted declarations (.d.ts, comments removed) of the
 *                         public files (`files`, default every non-test .ts under src/) are identical.
 *   llm_judge             the configured judge decides (injected, else MAESTRO_LLM_BASE_URL's, see ../semantic.ts);
 *                         without one, or when it fails or answers junk: unverified.
 *   (none)                unverified.
 * Score = share of requirements met; an unverified requirement counts as not met and the check never passes.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ts } from 'ts-morph';
import { git } from '../../io/git';
import { judgeProviderFromEnv, type JudgeProvider } from '../semantic';
import { parseTestOutcomes } from '../test-runner';
import { TEST_FILE } from '../../core/test-changes';
import type { CheckContext, CheckImpl } from './types';

type RequirementSpec = Extract<import('../dsl').CheckSpec, { type: 'structured_requirements' }>['requirements'][number];
export type RequirementStatus = 'met' | 'not_met' | 'unverified';
export interface RequirementResult {
  id: string;
  text: string;
  status: RequirementStatus;
  evidence: string;
}

export { TEST_FILE } from '../../core/test-changes';

export const structuredRequirements: CheckImpl<'structured_requirements'> = async (spec, ctx) => {
  const results: RequirementResult[] = [];
  for (const [i, requirement] of spec.requirements.entries()) {
    const id = requirement.id ?? `r${i + 1}`;
    try {
      results.push({ id, text: requirement.text, ...(await verify(requirement, ctx)) });
    } catch (error) {
      results.push({ id, text: requirement.text, status: 'not_met', evidence: `verifier failed: ${(error as Error).message}` });
    }
  }
  const met = results.filter((r) => r.status === 'met').length;
  const unverified = results.filter((r) => r.status === 'unverified').length;
  const explanation = results.map((r) => `[${r.status}] ${r.text}: ${r.evidence}`).join('\n');
  return {
    score: met / results.length,
    passed: met === results.length,
    status: met === results.length ? 'passed' : unverified > 0 && met + unverified === results.length ? 'unverified' : 'failed',
    explanation: `${met}/${results.length} requirements met${unverified ? `, ${unverified} unverified` : ''}\n${explanation}`,
    details: { requirements: results },
  };
};

async function verify(requirement: RequirementSpec, ctx: CheckContext): Promise<{ status: RequirementStatus; evidence: string }> {
  switch (requirement.verify) {
    case 'fail_to_pass':
      return failToPass(requirement.tests ?? ctx.fixtures.failing_tests, ctx);
    case 'public_api_unchanged':
      return publicApiUnchanged(requirement.files, ctx);
    case 'llm_judge': {
      // The injected judge, else the OpenAI-compatible one when MAESTRO_LLM_BASE_URL is set (runner's process env).
      let judge: JudgeProvider | undefined;
      try {
        judge = ctx.judge ?? judgeProviderFromEnv();
      } catch (error) {
        return { status: 'unverified', evidence: `no verifier: the LLM judge is misconfigured: ${(error as Error).message}` };
      }
      if (!judge) return { status: 'unverified', evidence: 'no verifier: no LLM judge is configured' };
      const diff = (await git(ctx.repo, ['diff', ctx.baseSha, ctx.candidateSha])).stdout;
      let verdict: Awaited<ReturnType<JudgeProvider['judge']>>;
      try {
        verdict = await judge.judge({ requirement: requirement.text, diff, prompt: ctx.fixtures.prompt, ...(ctx.trainId ? { trainId: ctx.trainId } : {}) });
      } catch (error) {
        // A judge that cannot answer verified nothing: unverified, never met.
        return { status: 'unverified', evidence: `${judge.name}: the judge failed: ${(error as Error).message}` };
      }
      return { status: verdict.verdict === 'met' ? 'met' : verdict.verdict === 'not_met' ? 'not_met' : 'unverified', evidence: `${judge.name}: ${verdict.reason}` };
    }
    case undefined:
      return { status: 'unverified', evidence: 'no verifier for this requirement (add verify: fail_to_pass | public_api_unchanged | llm_judge)' };
  }
}

async function failToPass(named: readonly string[], ctx: CheckContext): Promise<{ status: RequirementStatus; evidence: string }> {
  if (!ctx.testArgv) return { status: 'not_met', evidence: 'the repository declares no test command' };
  const candidate = await ctx.candidateTests();
  if (candidate.timedOut) return { status: 'not_met', evidence: 'the candidate test run timed out' };
  const { run: base, testFiles } = await ctx.baseTestsWithCandidateTests();
  if (base.timedOut) return { status: 'not_met', evidence: 'the base test run timed out' };
  const onCandidate = parseTestOutcomes(candidate.output);
  const onBase = parseTestOutcomes(base.output);
  if (named.length) {
    const notFailingOnBase = named.filter((t) => onBase.get(t) === 'pass');
    const notPassingOnCandidate = named.filter((t) => onCandidate.get(t) !== 'pass');
    if (!notFailingOnBase.length && !notPassingOnCandidate.length)
      return { status: 'met', evidence: `fail→pass: ${named.map((t) => `'${t}'`).join(', ')} fail on base ${ctx.baseSha.slice(0, 12)} and pass on the candidate` };
    const parts: string[] = [];
    if (notPassingOnCandidate.length) parts.push(`not passing on the candidate: ${notPassingOnCandidate.map((t) => `'${t}' (${onCandidate.get(t) ?? 'not found'})`).join(', ')}`);
    if (notFailingOnBase.length) parts.push(`already passing on base (does not reproduce the failure): ${notFailingOnBase.map((t) => `'${t}'`).join(', ')}`);
    return { status: 'not_met', evidence: parts.join('; ') };
  }
  if (!testFiles.length) return { status: 'not_met', evidence: 'the candidate adds or changes no test file, so no new test can reproduce the failure' };
  const flipped = [...onCandidate].filter(([name, outcome]) => outcome === 'pass' && onBase.get(name) !== 'pass').map(([name]) => name);
  if (flipped.length)
    return { status: 'met', evidence: `fail→pass on ${testFiles.join(', ')}: ${flipped.map((t) => `'${t}'`).join(', ')} fail on base and pass on the candidate` };
  return { status: 'not_met', evidence: `no test of ${testFiles.join(', ')} fails on base and passes on the candidate` };
}

/** Tracked files of a tree that make up its public API: `patterns` (path prefixes) or non-test .ts under src/. */
async function publicFiles(tree: string, patterns?: readonly string[]): Promise<string[]> {
  const files = (await git(tree, ['ls-files', '-z'])).stdout.split('\0').filter(Boolean);
  return files
    .filter((f) => /\.(ts|tsx|mts|cts)$/.test(f) && !f.endsWith('.d.ts') && !TEST_FILE.test(f))
    .filter((f) => (patterns?.length ? patterns.some((p) => f === p || f.startsWith(p.replace(/\/?$/, '/'))) : f.startsWith('src/')))
    .sort();
}

/** Declarations the TypeScript compiler emits for `files` of `tree`, comments removed, keyed by source file. */
export function emitDeclarations(tree: string, files: readonly string[]): Map<string, string> {
  const options: ts.CompilerOptions = {
    declaration: true,
    emitDeclarationOnly: true,
    removeComments: true,
    noEmitOnError: false,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    strict: true,
    types: [],
    rootDir: tree,
    outDir: path.join(tree, '.maestro-dts'),
  };
  const host = ts.createCompilerHost(options);
  const out = new Map<string, string>();
  host.writeFile = (fileName, text) => {
    const rel = path.relative(options.outDir!, fileName).split(path.sep).join('/').replace(/\.d\.ts$/, '.ts');
    out.set(rel, text.trim());
  };
  const program = ts.createProgram(files.map((f) => path.join(tree, f)), options, host);
  program.emit(undefined, undefined, undefined, true);
  return out;
}

async function publicApiUnchanged(patterns: readonly string[] | undefined, ctx: CheckContext): Promise<{ status: RequirementStatus; evidence: string }> {
  const baseTree = await ctx.baseTree();
  // Read the candidate from a pristine tree: perturbations may have added comments to the work dir (removed anyway).
  const [baseFiles, candidateFiles] = await Promise.all([publicFiles(baseTree, patterns), publicFiles(ctx.workDir, patterns)]);
  const before = emitDeclarations(baseTree, baseFiles);
  const after = emitDeclarations(ctx.workDir, candidateFiles);
  const changes: string[] = [];
  for (const file of new Set([...baseFiles, ...candidateFiles])) {
    const a = before.get(file);
    const b = after.get(file);
    if (a === b) continue;
    if (a === undefined) changes.push(`${file}: new public file`);
    else if (b === undefined) changes.push(`${file}: removed`);
    else {
      const la = new Set(a.split('\n').map((l) => l.trim()));
      const lb = new Set(b.split('\n').map((l) => l.trim()));
      const removed = [...la].filter((l) => !lb.has(l));
      const added = [...lb].filter((l) => !la.has(l));
      changes.push(`${file}: ${[...removed.map((l) => `- ${l}`), ...added.map((l) => `+ ${l}`)].slice(0, 6).join(' | ')}`);
    }
  }
  if (!baseFiles.length && !candidateFiles.length) return { status: 'unverified', evidence: 'no public TypeScript files found (set files:)' };
  return changes.length
    ? { status: 'not_met', evidence: `emitted declarations differ: ${changes.join('; ')}` }
    : { status: 'met', evidence: `emitted declarations of ${candidateFiles.length} file(s) are identical` };
}

/** Copies files from `fromSha` into `tree` (checkout of the candidate's versions of its test files). */
export async function checkoutFiles(tree: string, fromSha: string, files: readonly string[]): Promise<void> {
  if (!files.length) return;
  const existing: string[] = [];
  for (const file of files) {
    const shown = await git(tree, ['cat-file', '-e', `${fromSha}:${file}`], { allowExitCodes: [1, 128] });
    if (shown.exitCode === 0) existing.push(file);
    else await fs.rm(path.join(tree, file), { force: true }); // deleted by the candidate
  }
  if (existing.length) await git(tree, ['checkout', fromSha, '--', ...existing]);
}
