/**
 * The risk formula. Six factors, each a value in [0, 1] with a fixed weight; the weights sum to 1,
 * so the score is in [0, 1]. Every score consults the code graph: `graph` is required, and the
 * centrality factor is always computed from it (an empty change still reads it and scores 0).
 *
 *   node(n)    = 0.5·min(1, fanIn(n) / max(1, F − 1)) + 0.25·pageRankRel(n) + 0.25·betweenness(n)
 *                F = files in the graph; fanIn counts importing files (for a file) or referencing
 *                files (for a symbol); pageRankRel and betweenness are in [0, 1] (see
 *                codegraph/analysis.ts)
 *   centrality = max of node(n) over the changed files and the touched symbols; a file the change
 *                deletes is not in the candidate's graph, so its node(n) is read from the base
 *                commit's graph (graph.base, with the base's F): deleting a hub breaks its importers
 *   size       = s / (s + SIZE_HALF_POINT),  s = insertions + deletions + LINES_PER_FILE × changed files
 *   protected  = 1 if any protected path is touched, else 0
 *   unfamiliar = mean over changed files of 1 − familiarity(f);  familiarity = 1 when the author is a
 *                CODEOWNER of f, else c / (c + FAMILIARITY_HALF_POINT), c = the author's commits to f
 *   churn      = c / (c + CHURN_HALF_POINT), c = the most commits any changed file has had
 *   untested   = share of the changed non-test files that no test file reaches through imports
 *
 *   score = 0.35·centrality + 0.15·size + 0.20·protected + 0.10·unfamiliar + 0.10·churn + 0.10·untested
 *           + 0.05·weakened, clamped to [0, 1]
 *   weakened   = n / (n + 1), n = test-weakening findings (core/test-changes.ts); a small extra factor, listed
 *                only when the caller reports findings, so scores and factor lists without them are unchanged.
 *                The tests-weakened policy rule is what stops such a change; this only ranks it riskier.
 *
 * Each factor is monotone in its input: more fan-in/PageRank/betweenness, a bigger change, a
 * protected path, more churn, fewer tests or a less familiar author never lowers the score.
 * core/policy.ts denies above RISK_DENY_THRESHOLD.
 */
import type { RiskFactor, RiskReport } from './stages';
import { ValidationError } from './validation';

export const RISK_WEIGHTS = { centrality: 0.35, size: 0.15, protected: 0.2, unfamiliar: 0.1, churn: 0.1, untested: 0.1 } as const;
/** How node centrality mixes its three measures. */
export const NODE_CENTRALITY_WEIGHTS = { fanIn: 0.5, pageRank: 0.25, betweenness: 0.25 } as const;
/** Weight of the extra test-weakening factor (added on top of the six, see the header). */
export const TEST_WEAKENING_WEIGHT = 0.05;
/** Weighted change size (lines) at which the size factor is 0.5. */
export const SIZE_HALF_POINT = 200;
/** A touched file costs a reviewer about this many lines of attention, whatever its diff size. */
export const LINES_PER_FILE = 10;
/** Commits to a file at which its churn factor is 0.5. */
export const CHURN_HALF_POINT = 10;
/** An author's commits to a file at which their familiarity with it is 0.5. */
export const FAMILIARITY_HALF_POINT = 3;

export interface NodeCentralityInput {
  fanIn: number;
  /** PageRank relative to the graph, in [0, 1]. */
  pageRank: number;
  /** Normalised betweenness, in [0, 1]. */
  betweenness: number;
}

/** Where the change sits in the code graph. Required: no score without it. */
export interface GraphInputs {
  /** The store it came from and the commit ingested, for the factor's detail. */
  source: string;
  totalFiles: number;
  /** Per changed file. Missing entries count as an isolated node. */
  files: Record<string, NodeCentralityInput>;
  /** Per touched symbol (`path#name`), e.g. those whose lines the diff touches. */
  symbols: Record<string, NodeCentralityInput>;
  /**
   * The base commit's graph, for changed files the change deletes (absent from `files` because the
   * candidate's graph no longer holds them). Without it a deleted file counts as an isolated node.
   */
  base?: { source: string; totalFiles: number; files: Record<string, NodeCentralityInput> };
}

export interface RiskInputs {
  changedFiles: string[];
  insertions: number;
  deletions: number;
  graph: GraphInputs;
  protectedTouched: string[];
  /** Commits touching each changed file. Missing entries count as 0. */
  churn?: Record<string, number>;
  /** The change's author's commits to each changed file. Missing entries count as 0. */
  authorCommits?: Record<string, number>;
  /** Changed files whose CODEOWNERS include the author. */
  authorOwns?: string[];
  /** Changed files that are tests, and changed source files some test reaches. */
  testFiles?: string[];
  testedFiles?: string[];
  /** Files the ingest could not parse; named in the centrality detail because they may hide importers. */
  unparsedFiles?: string[];
  /** Test-weakening findings of the change (core/test-changes.ts), as `file:line kind`. */
  testWeakening?: string[];
}

function checkInputs(inputs: RiskInputs): void {
  const issues: { path: string; message: string }[] = [];
  const nonNegative = (path: string, n: unknown) => {
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) issues.push({ path, message: `must be a non-negative finite number, got ${String(n)}` });
  };
  const unit = (path: string, n: unknown) => {
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0 || n > 1) issues.push({ path, message: `must be a number in [0, 1], got ${String(n)}` });
  };
  nonNegative('insertions', inputs.insertions);
  nonNegative('deletions', inputs.deletions);
  if (!Array.isArray(inputs.changedFiles)) issues.push({ path: 'changedFiles', message: 'must be an array of paths' });
  if (!Array.isArray(inputs.protectedTouched)) issues.push({ path: 'protectedTouched', message: 'must be an array of paths' });
  const graph = inputs.graph;
  if (!graph || typeof graph !== 'object') issues.push({ path: 'graph', message: 'is required: every risk score consults the code graph' });
  else {
    nonNegative('graph.totalFiles', graph.totalFiles);
    if (graph.base !== undefined) {
      if (!graph.base || typeof graph.base !== 'object') issues.push({ path: 'graph.base', message: 'must be an object' });
      else nonNegative('graph.base.totalFiles', graph.base.totalFiles);
    }
    const tables = [['files', graph.files], ['symbols', graph.symbols], ...(graph.base && typeof graph.base === 'object' ? [['base.files', graph.base.files] as const] : [])] as const;
    for (const [kind, table] of tables) {
      if (!table || typeof table !== 'object') {
        issues.push({ path: `graph.${kind}`, message: 'must be an object' });
        continue;
      }
      for (const [id, c] of Object.entries(table)) {
        nonNegative(`graph.${kind}.${id}.fanIn`, c?.fanIn);
        unit(`graph.${kind}.${id}.pageRank`, c?.pageRank);
        unit(`graph.${kind}.${id}.betweenness`, c?.betweenness);
      }
    }
  }
  for (const [file, n] of Object.entries(inputs.churn ?? {})) nonNegative(`churn.${file}`, n);
  for (const [file, n] of Object.entries(inputs.authorCommits ?? {})) nonNegative(`authorCommits.${file}`, n);
  if (issues.length > 0) throw new ValidationError('risk inputs', issues);
}

const round = (n: number): number => Math.round(n * 1e6) / 1e6;
const clamp01 = (n: number): number => Math.min(1, Math.max(0, n));
const list = (items: readonly string[], max = 5): string =>
  items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;

/** node(n) of the formula above. */
export function nodeCentrality(c: NodeCentralityInput | undefined, totalFiles: number): number {
  if (!c) return 0;
  const w = NODE_CENTRALITY_WEIGHTS;
  return clamp01(w.fanIn * Math.min(1, c.fanIn / Math.max(1, totalFiles - 1)) + w.pageRank * c.pageRank + w.betweenness * c.betweenness);
}

/** Scores a change by the formula above; throws ValidationError on bad figures or a missing graph. */
export function computeRisk(inputs: RiskInputs): RiskReport {
  checkInputs(inputs);
  const changedFiles = [...new Set(inputs.changedFiles)].sort();
  const graph = inputs.graph;

  // Centrality: the most central touched node decides, since breaking it breaks its dependents.
  let hub: { id: string; value: number; c: NodeCentralityInput; deleted: boolean } | undefined;
  const consider = (id: string, c: NodeCentralityInput | undefined, totalFiles = graph.totalFiles, deleted = false) => {
    const value = nodeCentrality(c, totalFiles);
    if (c && (!hub || value > hub.value)) hub = { id, value, c, deleted };
  };
  const deleted: string[] = [];
  for (const file of changedFiles) {
    const atBase = graph.files[file] === undefined ? graph.base?.files[file] : undefined;
    if (atBase) {
      deleted.push(file);
      consider(file, atBase, graph.base!.totalFiles, true);
    } else consider(file, graph.files[file]);
  }
  for (const id of Object.keys(graph.symbols).sort()) consider(id, graph.symbols[id]);
  const centrality = hub?.value ?? 0;
  const unparsed = inputs.unparsedFiles ?? [];
  const centralityDetail =
    `graph ${graph.source} (${graph.totalFiles} files); ` +
    (hub && hub.value > 0
      ? `most central touched node: ${hub.id}${hub.deleted ? `, deleted (centrality in the base graph ${graph.base!.source})` : ''} (fan-in ${hub.c.fanIn}, PageRank ${round(hub.c.pageRank)}, betweenness ${round(hub.c.betweenness)})`
      : `no touched node is depended upon (${changedFiles.length} file(s), ${Object.keys(graph.symbols).length} symbol(s) checked)`) +
    (deleted.length > 0 && !hub?.deleted ? `; deleted file(s) read from the base graph ${graph.base!.source}: ${list(deleted)}` : '') +
    (unparsed.length > 0 ? `; skipped ${unparsed.length} unparseable file(s): ${list(unparsed)}` : '');

  const weightedLines = inputs.insertions + inputs.deletions + LINES_PER_FILE * changedFiles.length;
  const size = weightedLines / (weightedLines + SIZE_HALF_POINT);

  const protectedTouched = [...new Set(inputs.protectedTouched)].sort();
  const protectedValue = protectedTouched.length > 0 ? 1 : 0;

  // Stryker disable next-line ArrayDeclaration: the fallback's contents matter only for a changed file named like Stryker's filler text ('Stryker was here'); no path is.
  const owned = new Set(inputs.authorOwns ?? []);
  const familiarity = (f: string) => {
    if (owned.has(f)) return 1;
    const c = inputs.authorCommits?.[f] ?? 0;
    return c / (c + FAMILIARITY_HALF_POINT);
  };
  const unfamiliar = changedFiles.length === 0 ? 0 : changedFiles.reduce((s, f) => s + (1 - familiarity(f)), 0) / changedFiles.length;
  // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent: sorting no files yields undefined as well, so the guard only says why.
  const leastFamiliar = changedFiles.length > 0 ? [...changedFiles].sort((a, b) => familiarity(a) - familiarity(b))[0]! : undefined;

  let churnMax = 0;
  let churnFile: string | undefined;
  for (const f of changedFiles) {
    const c = inputs.churn?.[f] ?? 0;
    if (c > churnMax) [churnMax, churnFile] = [c, f];
  }
  const churn = churnMax / (churnMax + CHURN_HALF_POINT);

  // Stryker disable next-line ArrayDeclaration: as for `owned`: the fallback's contents matter only for a file named 'Stryker was here'.
  const tests = new Set(inputs.testFiles ?? []);
  // Stryker disable next-line ArrayDeclaration: as for `owned`.
  const tested = new Set(inputs.testedFiles ?? []);
  const sources = changedFiles.filter((f) => !tests.has(f));
  const untestedFiles = sources.filter((f) => !tested.has(f));
  const untested = sources.length === 0 ? 0 : untestedFiles.length / sources.length;

  const factors: RiskFactor[] = [
    { name: 'centrality', value: round(centrality), weight: RISK_WEIGHTS.centrality, detail: centralityDetail },
    {
      name: 'change size',
      value: round(size),
      weight: RISK_WEIGHTS.size,
      detail: `+${inputs.insertions} −${inputs.deletions} lines in ${changedFiles.length} file(s); saturates as s/(s+${SIZE_HALF_POINT})`,
    },
    {
      name: 'protected paths',
      value: protectedValue,
      weight: RISK_WEIGHTS.protected,
      detail: protectedTouched.length > 0 ? `touches protected path(s): ${list(protectedTouched)}` : 'no protected path touched',
    },
    {
      name: 'owner familiarity',
      value: round(unfamiliar),
      weight: RISK_WEIGHTS.unfamiliar,
      detail:
        leastFamiliar === undefined
          ? 'no file changed'
          : `1 − mean familiarity of the author with the changed files; least familiar: ${leastFamiliar} (${owned.has(leastFamiliar) ? 'CODEOWNER' : `${inputs.authorCommits?.[leastFamiliar] ?? 0} commit(s)`})`,
    },
    {
      name: 'churn',
      value: round(churn),
      weight: RISK_WEIGHTS.churn,
      detail: churnFile ? `most churned changed file: ${churnFile}, ${churnMax} commit(s); c/(c+${CHURN_HALF_POINT})` : 'no changed file has history',
    },
    {
      name: 'test coverage',
      value: round(untested),
      weight: RISK_WEIGHTS.untested,
      detail:
        sources.length === 0
          ? 'only tests changed'
          : untestedFiles.length === 0
            ? `every changed source file is reached by a test (${sources.length})`
            : `no test reaches ${untestedFiles.length} of ${sources.length} changed source file(s): ${list(untestedFiles)}`,
    },
  ];
  const weakening = inputs.testWeakening ?? [];
  const weakened = weakening.length / (weakening.length + 1);
  if (weakening.length > 0)
    factors.push({ name: 'test weakening', value: round(weakened), weight: TEST_WEAKENING_WEIGHT, detail: `${weakening.length} test-weakening finding(s): ${list(weakening)}` });
  // Score from the unrounded values so rounding never breaks monotonicity.
  const w = RISK_WEIGHTS;
  const score = clamp01(w.centrality * centrality + w.size * size + w.protected * protectedValue + w.unfamiliar * unfamiliar + w.churn * churn + w.untested * untested + TEST_WEAKENING_WEIGHT * weakened);
  return { score: round(score), factors };
}
