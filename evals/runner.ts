/**
 * The runner: scores a candidate commit on a set of scenarios.
 *
 * - Isolation: each scenario gets its own directory under `workRoot` holding a detached git work tree of the
 *   candidate (and, on demand, of the base), plus its own HOME and TMPDIR; commands run there with a scrubbed
 *   environment (PATH and locale only: no tokens, no NODE_OPTIONS) and in their own process group.
 * - Time limit: the scenario's `timeout` bounds every command it runs; checks left when it is used up fail.
 * - Parallelism: up to `concurrency` scenarios at once; git work-tree bookkeeping is serialised per repository.
 * - Cache: results are stored under `cacheDir` keyed by sha256(scenario id + content hash, candidate and base
 *   commits, check config, test command, perturbation, agent); results with an errored check are not cached.
 * - Repeats: a scenario runs `repeats` times; a check whose pass/fail differs between repeats is flaky.
 */
import { createHash, randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { git, resolveCommit } from '../io/git';
import { addDetachedWorktree, linkNodeModules, removeWorktree } from '../io/worktree';
import { serviceDescriptorSchema } from '../core/stages';
import { runCheck, type CheckContext, type EvalCheckResult } from './checks';
import { checkoutFiles, TEST_FILE } from './checks/requirements';
import { collectTestChanges } from './test-changes';
import { V8_COVERAGE_ENV } from './coverage';
import { readPropertyRepros } from './property-repros';
import { PROPERTY_REPRO_DIR_ENV, type PropertyRepro } from '../core/property-repro';
import { stableStringify, type Scenario } from './dsl';
import { perturb, perturbationId, type Perturbation } from './perturbations';
import { isFlaky, mean, scoreScenario, summarise, type ScoreSummary } from './scoring';
import { lexicalProvider, type JudgeProvider, type SimilarityProvider } from './semantic';
import { fillTestArgv, runCommand, scrubbedEnv, type TestRun } from './test-runner';

export const DEFAULT_ARTIFACTS_DIR = path.join(__dirname, '..', 'artifacts', 'evals');
export const CACHE_FORMAT = 1;

/** Produces an agent's answer to a scenario's (possibly perturbed) prompt; `output` checks read it. */
export interface AgentProvider {
  readonly name: string;
  generate(input: { scenario: Scenario; prompt: string; inputs: Record<string, unknown>; contextFiles: Record<string, string> }): Promise<string>;
}

export interface RunOptions {
  repo: string;
  /** Candidate commit (sha or ref). */
  candidate: string;
  /** Base commit; default: the candidate's first parent. */
  base?: string;
  scenarios: Scenario[];
  tsxCli?: string;
  /** Test argv ('{node}', '{tsx}' filled); default: `test` of maestro.service.json at the candidate. */
  testCommand?: string[];
  claimedFiles?: string[];
  protectedPaths?: string[];
  /** The change request's intent (base_tests_pass: documented expectation updates). */
  intent?: string;
  concurrency?: number;
  /** Parent of the per-scenario work dirs; default os.tmpdir()/maestro-evals. */
  workRoot?: string;
  /** Result cache directory; null disables caching. Default: <artifacts>/cache. */
  cacheDir?: string | null;
  /** Overrides every scenario's repeats. */
  repeats?: number;
  perturbation?: Perturbation;
  agent?: AgentProvider;
  similarity?: SimilarityProvider[];
  judge?: JudgeProvider;
  /** The train the run is for (its model calls are charged to it in the ledger). */
  trainId?: string;
  onScenario?: (result: ScenarioResult) => void;
}

export interface RepeatResult {
  score: number;
  passed: boolean;
  checks: EvalCheckResult[];
  durationMs: number;
  /** Repro files of failing fast-check properties the repeat's test runs wrote (core/property-repro.ts). */
  propertyRepros?: PropertyRepro[];
}

export interface ScenarioResult {
  id: string;
  title: string;
  holdout: boolean;
  weight: number;
  threshold: number;
  perturbation?: string;
  skipped?: string;
  /** Mean score over repeats. */
  score: number;
  /** Every repeat passed. */
  passed: boolean;
  repeats: RepeatResult[];
  /** Per check: mean score over repeats, passed in every repeat, explanation of the last repeat. */
  checks: EvalCheckResult[];
  flakyChecks: string[];
  cached: boolean;
  cacheKey?: string;
  durationMs: number;
}

export interface RunResult {
  runId: string;
  repo: string;
  candidateSha: string;
  baseSha: string;
  startedAt: string;
  durationMs: number;
  perturbation?: string;
  scenarios: ScenarioResult[];
  /** Eval Score over the tuning scenarios (hold-out excluded). */
  tuning: ScoreSummary & { passed: boolean; count: number };
  /** Eval Score over the hold-out scenarios, null when none ran; gap = tuning − hold-out. */
  holdout: (ScoreSummary & { passed: boolean; count: number; gap: number }) | null;
  threshold: number;
  cache: { hits: number; misses: number };
}

/** The candidate or base commit is not in the repository: nothing can be checked out, so no scenario runs. */
export class CommitNotFoundError extends Error {
  constructor(
    readonly role: 'candidate' | 'base',
    readonly ref: string,
    readonly repo: string,
  ) {
    super(`${role} ${ref} is not a commit of ${repo}`);
    this.name = 'CommitNotFoundError';
  }
}

const repoLocks = new Map<string, Promise<unknown>>();
/** Serialises git work-tree bookkeeping per repository (concurrent `worktree add/prune` race on metadata). */
function withRepoLock<T>(repo: string, fn: () => Promise<T>): Promise<T> {
  const previous = repoLocks.get(repo) ?? Promise.resolve();
  const next = previous.then(fn, fn);
  repoLocks.set(repo, next.catch(() => undefined));
  return next;
}

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  });
  await Promise.all(workers);
  return results;
}

export function cacheKey(parts: {
  scenario: Scenario;
  candidateSha: string;
  baseSha: string;
  testArgv?: string[];
  repeats: number;
  perturbation?: Perturbation;
  agent?: string;
  claimedFiles?: string[];
  protectedPaths?: string[];
  /** Who judges and measures similarity: a cached offline verdict must not stand in for a model's. */
  providers?: string[];
  intent?: string;
}): string {
  const checkConfig = createHash('sha256').update(stableStringify({ checks: parts.scenario.checks, fixtures: parts.scenario.fixtures, scoring: parts.scenario.scoring, timeout: parts.scenario.timeout })).digest('hex');
  return createHash('sha256')
    .update(
      stableStringify({
        format: CACHE_FORMAT,
        scenario: parts.scenario.id,
        content: parts.scenario.contentHash,
        candidate: parts.candidateSha,
        base: parts.baseSha,
        checkConfig,
        // Test argv with machine-specific paths reduced to their names.
        test: parts.testArgv?.map((a) => (path.isAbsolute(a) ? path.basename(a) : a)),
        repeats: parts.repeats,
        perturbation: parts.perturbation ? perturbationId(parts.perturbation) : null,
        agent: parts.agent ?? null,
        claimed: parts.claimedFiles ?? null,
        protected: parts.protectedPaths ?? [],
        providers: parts.providers ?? [],
        // Only when given, so keys of runs without an intent stay what they were.
        ...(parts.intent !== undefined ? { intent: parts.intent } : {}),
      }),
    )
    .digest('hex');
}

async function readTestArgv(repo: string, sha: string, tsxCli: string): Promise<string[] | undefined> {
  const shown = await git(repo, ['show', `${sha}:maestro.service.json`], { allowExitCodes: [128] });
  if (shown.exitCode !== 0) return undefined;
  const parsed = serviceDescriptorSchema.safeParse(JSON.parse(shown.stdout));
  return parsed.success ? fillTestArgv(parsed.data.test, tsxCli) : undefined;
}

export async function runScenarios(opts: RunOptions): Promise<RunResult> {
  const started = Date.now();
  // The checks fall back to the environment's LLM judge and embedding model (evals/semantic.ts).
  const providerIds = [
    `judge:${opts.judge?.name ?? process.env.MAESTRO_LLM_MODEL ?? 'none'}@${process.env.MAESTRO_LLM_BASE_URL ?? 'offline'}`,
    `similarity:${(opts.similarity ?? []).map((p) => p.name).join(',') || 'default'}`,
    `embedding:${process.env.MAESTRO_LLM_EMBEDDING_MODEL ?? 'none'}`,
  ];
  const repo = await fs.realpath(opts.repo);
  const resolvedCandidate = await resolveCommit(repo, opts.candidate);
  if (!resolvedCandidate) throw new CommitNotFoundError('candidate', opts.candidate, repo);
  const candidateSha: string = resolvedCandidate;
  const resolvedBase = await resolveCommit(repo, opts.base ?? `${candidateSha}^1`);
  if (!resolvedBase) throw new CommitNotFoundError('base', opts.base ?? `${opts.candidate}^1`, repo);
  const baseSha: string = resolvedBase;
  const tsxCli = opts.tsxCli ?? require.resolve('tsx/cli');
  const testArgv = opts.testCommand ? fillTestArgv(opts.testCommand, tsxCli) : await readTestArgv(repo, candidateSha, tsxCli);
  const baseTestArgv = await readTestArgv(repo, baseSha, tsxCli);
  const cacheDir = opts.cacheDir === undefined ? path.join(DEFAULT_ARTIFACTS_DIR, 'cache') : opts.cacheDir;
  const workRoot = opts.workRoot ?? path.join(os.tmpdir(), 'maestro-evals');
  const runId = `${new Date(started).toISOString().replace(/[:.]/g, '-')}-${candidateSha.slice(0, 12)}-${randomUUID().slice(0, 8)}`;
  const similarity = new Map<string, SimilarityProvider>([[lexicalProvider.name, lexicalProvider], ...(opts.similarity ?? []).map((p) => [p.name, p] as const)]);
  const cache = { hits: 0, misses: 0 };

  const scenarios = await mapLimit(opts.scenarios, opts.concurrency ?? 2, async (scenario) => {
    const result = await runOne(scenario);
    opts.onScenario?.(result);
    return result;
  });

  async function runOne(scenario: Scenario): Promise<ScenarioResult> {
    const t0 = Date.now();
    const repeats = opts.repeats ?? scenario.repeats;
    const head = { id: scenario.id, title: scenario.title, holdout: scenario.holdout, weight: scenario.weight, threshold: scenario.scoring.threshold, perturbation: opts.perturbation ? perturbationId(opts.perturbation) : undefined };
    for (const file of scenario.requires_files) {
      const exists = await git(repo, ['cat-file', '-e', `${candidateSha}:${file}`], { allowExitCodes: [1, 128] });
      if (exists.exitCode !== 0)
        return { ...head, skipped: `requires ${file}, which the candidate does not have`, score: 0, passed: false, repeats: [], checks: [], flakyChecks: [], cached: false, durationMs: Date.now() - t0 };
    }
    const key = cacheKey({ scenario, candidateSha, baseSha, testArgv, repeats, perturbation: opts.perturbation, agent: opts.agent?.name, claimedFiles: opts.claimedFiles, protectedPaths: opts.protectedPaths, providers: providerIds, intent: opts.intent });
    const cacheFile = cacheDir ? path.join(cacheDir, key.slice(0, 2), `${key}.json`) : undefined;
    if (cacheFile) {
      const hit = await fs.readFile(cacheFile, 'utf8').then((t) => JSON.parse(t) as ScenarioResult, () => undefined);
      if (hit) {
        cache.hits++;
        return { ...hit, cached: true, cacheKey: key, durationMs: Date.now() - t0 };
      }
    }
    cache.misses++;
    const dir = path.join(workRoot, runId, `${scenario.name}-v${scenario.version}`);
    const runs: RepeatResult[] = [];
    try {
      for (let r = 0; r < repeats; r++) runs.push(await runRepeat(scenario, path.join(dir, `r${r}`)));
    } finally {
      await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
    }
    const checks: EvalCheckResult[] = runs[0].checks.map((first, i) => {
      const all = runs.map((run) => run.checks[i]);
      const last = all[all.length - 1];
      return { ...last, score: mean(all.map((c) => c.score)), passed: all.every((c) => c.passed), durationMs: Math.round(mean(all.map((c) => c.durationMs))), type: first.type };
    });
    const flakyChecks = runs[0].checks.map((c, i) => ({ name: c.check, passes: runs.map((run) => run.checks[i].passed) })).filter((c) => isFlaky(c.passes)).map((c) => c.name);
    const result: ScenarioResult = { ...head, score: mean(runs.map((r) => r.score)), passed: runs.every((r) => r.passed), repeats: runs, checks, flakyChecks, cached: false, cacheKey: key, durationMs: Date.now() - t0 };
    if (cacheFile && !checks.some((c) => c.status === 'error')) {
      await fs.mkdir(path.dirname(cacheFile), { recursive: true });
      const tmp = `${cacheFile}.${process.pid}.${randomUUID().slice(0, 8)}`;
      await fs.writeFile(tmp, JSON.stringify(result));
      await fs.rename(tmp, cacheFile);
    }
    return result;
  }

  async function runRepeat(scenario: Scenario, dir: string): Promise<RepeatResult> {
    const t0 = Date.now();
    const deadline = t0 + scenario.timeout;
    const timeLeftMs = (): number => deadline - Date.now();
    const tree = path.join(dir, 'tree');
    const baseDir = path.join(dir, 'base');
    const scratchDir = path.join(dir, 'p2p');
    // TMPDIR is short and directly under the system temp dir: tools put unix sockets there (108-byte path limit).
    const sandbox = { home: path.join(dir, 'home'), tmp: await fs.mkdtemp(path.join(os.tmpdir(), 'mev-')) };
    await fs.mkdir(sandbox.home, { recursive: true });
    const env = scrubbedEnv(sandbox);
    let baseCreated: Promise<string> | undefined;
    let scratchCreated: Promise<string> | undefined;
    await withRepoLock(repo, () => addDetachedWorktree(repo, tree, candidateSha));
    await linkNodeModules(repo, tree);
    try {
      const inputs = opts.perturbation ? perturb(scenario.fixtures, opts.perturbation) : { fixtures: scenario.fixtures };
      for (const [name, text] of Object.entries(inputs.fixtures.context_files)) {
        const target = path.resolve(tree, name);
        if (path.relative(tree, target).startsWith('..') || path.relative(tree, target).split(path.sep).includes('.git'))
          throw new Error(`context file ${name} would be written outside the work dir`);
        await fs.mkdir(path.dirname(target), { recursive: true });
        await fs.writeFile(target, text);
      }
      const changed = (await git(repo, ['diff', '--name-only', '--no-renames', '-z', baseSha, candidateSha])).stdout.split('\0').filter(Boolean);
      if (inputs.misleadingComment)
        for (const file of changed.filter((f) => /\.[cm]?[jt]sx?$/.test(f))) {
          const target = path.join(tree, file);
          const text = await fs.readFile(target, 'utf8').catch(() => undefined);
          if (text !== undefined) await fs.writeFile(target, `${inputs.misleadingComment}\n${text}`);
        }
      const output = opts.agent
        ? await opts.agent.generate({ scenario, prompt: inputs.fixtures.prompt, inputs: inputs.fixtures.inputs, contextFiles: inputs.fixtures.context_files })
        : undefined;

      const memo = new Map<string, Promise<unknown>>();
      const once = <T>(name: string, fn: () => Promise<T>): Promise<T> => {
        if (!memo.has(name)) memo.set(name, fn());
        return memo.get(name) as Promise<T>;
      };
      // A failing property of the repository's tests leaves its repro here, for the train's evidence.
      const reproDir = path.join(dir, 'property-repros');
      const runArgv = (argv: readonly string[], cwd: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<TestRun> =>
        runCommand(argv, cwd, Math.max(1, timeLeftMs()), { ...env, [PROPERTY_REPRO_DIR_ENV]: reproDir, ...extraEnv });
      const runTests = (cwd: string): Promise<TestRun> => runArgv(testArgv!, cwd);
      // Coverage slows the tests a little: only the run a changed_lines_covered check reads collects it.
      const coverageDir = scenario.checks.some((c) => c.type === 'changed_lines_covered') ? path.join(dir, 'v8-coverage') : undefined;
      const baseTree = (): Promise<string> => {
        baseCreated ??= withRepoLock(repo, () => addDetachedWorktree(repo, baseDir, baseSha)).then(() => linkNodeModules(repo, baseDir)).then(() => baseDir);
        return baseCreated;
      };
      const ctx: CheckContext = {
        scenario,
        fixtures: inputs.fixtures,
        repo,
        baseSha,
        candidateSha,
        workDir: tree,
        claimedFiles: opts.claimedFiles,
        protectedPaths: opts.protectedPaths ?? [],
        testArgv,
        env,
        timeLeftMs,
        output,
        candidateTests: () =>
          once('candidate-tests', () => runArgv(testArgv!, tree, coverageDir ? { [V8_COVERAGE_ENV]: coverageDir } : {})),
        coverageDir,
        baseTestsWithCandidateTests: () =>
          once('base-tests', async () => {
            const testFiles = changed.filter((f) => TEST_FILE.test(f));
            const dirPath = await baseTree();
            await checkoutFiles(dirPath, candidateSha, testFiles);
            return { run: await runTests(dirPath), testFiles };
          }),
        baseTree,
        scratchCandidateTree: () => {
          scratchCreated ??= withRepoLock(repo, () => addDetachedWorktree(repo, scratchDir, candidateSha)).then(() => scratchDir);
          return scratchCreated;
        },
        baseTestArgv,
        runTests: runArgv,
        testChanges: () => once('test-changes', () => collectTestChanges(repo, baseSha, candidateSha, opts.intent)),
        intent: opts.intent,
        similarity,
        judge: opts.judge,
        ...(opts.trainId ? { trainId: opts.trainId } : {}),
      };
      const checks: EvalCheckResult[] = [];
      for (const spec of scenario.checks) checks.push(await runCheck(spec, ctx));
      const { score, passed } = scoreScenario(checks, scenario.scoring.threshold);
      const repros = await readPropertyRepros(reproDir);
      return { score, passed, checks, durationMs: Date.now() - t0, ...(repros.length ? { propertyRepros: repros } : {}) };
    } finally {
      await withRepoLock(repo, async () => {
        await removeWorktree(repo, tree);
        if (baseCreated) await removeWorktree(repo, baseDir);
        if (scratchCreated) await removeWorktree(repo, scratchDir);
      });
      await fs.rm(sandbox.tmp, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  const ran = scenarios.filter((s) => !s.skipped);
  const threshold = Math.max(0, ...ran.map((s) => s.threshold), ran.length ? 0 : 0.85);
  const group = (items: ScenarioResult[]) => {
    const summary = summarise(items.map((s) => ({ scores: s.repeats.map((r) => r.score), weight: s.weight })));
    return { ...summary, count: items.length, passed: items.length > 0 && summary.score >= threshold && items.every((s) => s.passed) };
  };
  const tuning = group(ran.filter((s) => !s.holdout));
  const holdoutItems = ran.filter((s) => s.holdout);
  const holdout = holdoutItems.length ? { ...group(holdoutItems), gap: 0 } : null;
  if (holdout) holdout.gap = tuning.score - holdout.score;
  return {
    runId,
    repo,
    candidateSha,
    baseSha,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    perturbation: opts.perturbation ? perturbationId(opts.perturbation) : undefined,
    scenarios,
    tuning,
    holdout,
    threshold,
    cache,
  };
}

/** The repros every test run of these scenarios wrote, once per property and seed (the base's and the candidate's runs may both fail it). */
export function failingPropertyRepros(results: readonly ScenarioResult[]): PropertyRepro[] {
  const unique = new Map<string, PropertyRepro>();
  for (const repro of results.flatMap((r) => r.repeats.flatMap((rep) => rep.propertyRepros ?? []))) unique.set(`${repro.file}\0${repro.test}\0${repro.seed}`, repro);
  return [...unique.values()];
}
