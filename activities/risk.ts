/**
 * Code-graph activities. The graph of the candidate commit is ingested (incrementally when the store
 * already holds an ancestor) into a CodeGraphStore — in memory by default, Neo4j when configured —
 * and every risk score is computed from its centrality (core/risk.ts). Neo4j being down fails the
 * stage with a reason (CodeGraphUnavailable); there is no silent fallback to another store.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import { asyncLocalStorage } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { parseChangeRequest, type ChangeRequest } from '../core/change-request';
import type { CodeGraphStore } from '../core/codegraph';
import { protectedPathsTouched } from '../core/policy';
import { computeRisk, type NodeCentralityInput } from '../core/risk';
import { collectTestChanges } from '../evals/test-changes';
import type { Candidate, RiskReport } from '../core/stages';
import { parseOrThrow, ValidationError } from '../core/validation';
import { blastRadius, computeCentrality, dependentsOf, findSymbols, GraphIndex, hotPaths, ownersOfPath, type CentralityReport } from '../codegraph/analysis';
import { diffNames, GitCommandError } from '../codegraph/git-objects';
import { ingestRepo, isSourceFile, type IngestResult } from '../codegraph/ingest';
import { MemoryGraphStore } from '../codegraph/memory-store';
import { Neo4jGraphStore, Neo4jUnavailableError } from '../codegraph/neo4j-store';

export { resolveRelativeImport, ingestRepo, isTestFile } from '../codegraph/ingest';
export { closeGitBatches } from '../codegraph/git-objects';
export { parseSource } from '../codegraph/parse';
export { MemoryGraphStore } from '../codegraph/memory-store';
export { Neo4jGraphStore, Neo4jUnavailableError } from '../codegraph/neo4j-store';
export * from '../codegraph/analysis';

export interface AssessRiskInput {
  changeRequest: ChangeRequest;
  candidate: Candidate;
}

export type StoreConfig = { kind: 'memory' } | { kind: 'neo4j'; uri: string };

export interface CodegraphDeps {
  /** Default: MAESTRO_CODEGRAPH_STORE=neo4j (with MAESTRO_NEO4J_URI, default bolt://127.0.0.1:7687), else memory. */
  store?: StoreConfig;
  /** Overrides how a repository's store is made (tests). */
  storeFor?: (repo: string) => CodeGraphStore;
}

export function storeConfigFromEnv(env: NodeJS.ProcessEnv = process.env): StoreConfig {
  return env.MAESTRO_CODEGRAPH_STORE === 'neo4j' ? { kind: 'neo4j', uri: env.MAESTRO_NEO4J_URI ?? 'bolt://127.0.0.1:7687' } : { kind: 'memory' };
}

/** The name of a repository's graph inside a shared store. */
export function graphNameFor(repo: string): string {
  const abs = path.resolve(repo);
  return `${path.basename(abs)}-${crypto.createHash('sha256').update(abs).digest('hex').slice(0, 12)}`;
}

const candidateInputSchema = z
  .object({
    sha: z.string().regex(/^[0-9a-f]{7,64}$/i, 'must be a git commit id'),
    baseSha: z.string().regex(/^[0-9a-f]{7,64}$/i, 'must be a git commit id').optional(),
    changedFiles: z.array(z.string().min(1)),
    diffStat: z.object({ files: z.number().int().min(0), insertions: z.number().int().min(0), deletions: z.number().int().min(0) }).passthrough(),
    diff: z.string().optional(),
  })
  .passthrough();

/** Heartbeats when running as an activity; a no-op when called directly (tests, CLI). */
function heartbeat(details: unknown): void {
  asyncLocalStorage.getStore()?.heartbeat(details);
}

/** New-side line ranges per file of a unified diff. */
export function touchedLines(diff: string): Map<string, [number, number][]> {
  const out = new Map<string, [number, number][]>();
  let file: string | undefined;
  for (const line of diff.split('\n')) {
    const header = /^\+\+\+ (?:b\/)?(.+)$/.exec(line);
    if (header) {
      file = header[1] === '/dev/null' ? undefined : header[1]!.trim();
      continue;
    }
    const hunk = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@/.exec(line);
    if (hunk && file) {
      const start = Number(hunk[1]);
      const count = hunk[2] === undefined ? 1 : Number(hunk[2]);
      const list = out.get(file) ?? [];
      list.push([start, start + Math.max(count, 1) - 1]);
      out.set(file, list);
    }
  }
  return out;
}

/** Files some test file reaches through IMPORTS (tests themselves included). */
export function filesReachedByTests(index: GraphIndex): Set<string> {
  const reached = new Set<string>();
  const queue = [...index.testFiles];
  while (queue.length > 0) {
    const f = queue.pop()!;
    if (reached.has(f)) continue;
    reached.add(f);
    for (const next of index.imports.get(f) ?? []) queue.push(next);
  }
  return reached;
}

const toInput = (c: { fanIn: number; pageRankRel: number; betweenness: number }): NodeCentralityInput => ({ fanIn: c.fanIn, pageRank: c.pageRankRel, betweenness: c.betweenness });

interface Analysed {
  sha: string;
  index: GraphIndex;
  centrality: CentralityReport;
  testReached: Set<string>;
  ingest: IngestResult;
}

/** A repository's graph, kept up to date per commit; one ingest at a time per repository. */
export class CodeGraphService {
  private readonly stores = new Map<string, CodeGraphStore>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly cache = new Map<string, Analysed>();

  constructor(private readonly deps: CodegraphDeps = {}) {}

  storeFor(repo: string): CodeGraphStore {
    const key = path.resolve(repo);
    let store = this.stores.get(key);
    if (!store) {
      const config = this.deps.store ?? storeConfigFromEnv();
      store = this.deps.storeFor?.(key) ?? (config.kind === 'neo4j' ? new Neo4jGraphStore({ uri: config.uri, graph: graphNameFor(key) }) : new MemoryGraphStore());
      this.stores.set(key, store);
    }
    return store;
  }

  private serial<T>(repo: string, work: () => Promise<T>): Promise<T> {
    const key = path.resolve(repo);
    const run = (this.locks.get(key) ?? Promise.resolve()).catch(() => undefined).then(work);
    this.locks.set(key, run);
    return run;
  }

  /** Ingests `rev` and analyses the graph (cached per repository and commit). */
  analyse(repo: string, rev: string): Promise<Analysed> {
    return this.serial(repo, async () => {
      const store = this.storeFor(repo);
      if (store.kind === 'neo4j') await store.init();
      const ingest = await ingestRepo(store, repo, rev, { onProgress: heartbeat });
      const cached = this.cache.get(path.resolve(repo));
      if (cached && cached.sha === ingest.sha) return { ...cached, ingest };
      const index = new GraphIndex(await store.snapshot());
      const analysed: Analysed = { sha: ingest.sha, index, centrality: computeCentrality(index), testReached: filesReachedByTests(index), ingest };
      this.cache.set(path.resolve(repo), analysed);
      return analysed;
    });
  }

  async close(): Promise<void> {
    for (const store of this.stores.values()) await store.close();
    this.stores.clear();
  }
}

/** Maps failures to Temporal's vocabulary: bad input and a down Neo4j fail the stage without retry. */
function asFailure(err: unknown, what: string): unknown {
  if (err instanceof ValidationError) return ApplicationFailure.nonRetryable(err.message, 'InvalidInput');
  if (err instanceof GitCommandError && err.isPermanent) return ApplicationFailure.nonRetryable(`${what}: ${err.stderr.trim()}`, 'InvalidInput');
  if (err instanceof Neo4jUnavailableError) return ApplicationFailure.nonRetryable(`code graph unavailable: ${err.message}`, 'CodeGraphUnavailable');
  return err;
}

export type GraphQuery =
  | { kind: 'blast-radius'; files: string[] }
  | { kind: 'dependents'; symbol: string }
  | { kind: 'owners'; path: string }
  | { kind: 'hot-paths'; level?: 'file' | 'symbol'; limit?: number };

/** Code-graph activities: risk of a candidate, and graph queries for agents and people. */
export function createCodegraphActivities(deps: CodegraphDeps & { service?: CodeGraphService } = {}) {
  // One service per worker: the spec stage's symbol lookup and assessRisk share its ingested graphs.
  const service = deps.service ?? new CodeGraphService(deps);
  return {
    /** Ingests the candidate commit and scores the change with core/risk.ts from the graph's centrality. */
    async assessRisk(input: AssessRiskInput): Promise<RiskReport> {
      let changeRequest: ChangeRequest;
      let candidate: z.output<typeof candidateInputSchema>;
      try {
        changeRequest = parseChangeRequest(input?.changeRequest);
        candidate = parseOrThrow(candidateInputSchema, input?.candidate, 'candidate');
      } catch (err) {
        throw asFailure(err, 'invalid input');
      }
      // A source file the candidate deletes is gone from its graph, yet deleting a hub breaks every
      // importer: its centrality comes from the base commit's graph, analysed first so the
      // candidate's ingest is then an incremental step from it.
      let deleted: string[] = [];
      if (candidate.baseSha) {
        const changed = new Set(candidate.changedFiles);
        deleted = (await diffNames(changeRequest.repo, candidate.baseSha, candidate.sha).catch(() => []))
          .filter((c) => c.status === 'D' && changed.has(c.path) && isSourceFile(c.path))
          .map((c) => c.path);
      }
      let base: Analysed | undefined;
      let analysed: Analysed;
      try {
        if (deleted.length > 0) base = await service.analyse(changeRequest.repo, candidate.baseSha!);
      } catch (err) {
        throw asFailure(err, `cannot read base commit ${candidate.baseSha} in ${changeRequest.repo}`);
      }
      try {
        analysed = await service.analyse(changeRequest.repo, candidate.sha);
      } catch (err) {
        throw asFailure(err, `cannot read commit ${candidate.sha} in ${changeRequest.repo}`);
      }
      const baseFiles: Record<string, NodeCentralityInput> = {};
      for (const file of deleted) {
        const c = base?.centrality.files.get(file);
        if (c && !analysed.centrality.files.has(file)) baseFiles[file] = toInput(c);
      }
      const { index, centrality, testReached, ingest } = analysed;
      const files: Record<string, NodeCentralityInput> = {};
      const symbols: Record<string, NodeCentralityInput> = {};
      const lines = touchedLines(candidate.diff ?? '');
      for (const file of candidate.changedFiles) {
        const c = centrality.files.get(file);
        if (c) files[file] = toInput(c);
        for (const id of index.declares.get(file) ?? []) {
          const s = index.symbols.get(id)!;
          if ((lines.get(file) ?? []).some(([a, b]) => a <= s.endLine && b >= s.line)) {
            const sc = centrality.symbols.get(id);
            if (sc) symbols[id] = toInput(sc);
          }
        }
      }
      const author = changeRequest.author.toLowerCase();
      const isAuthor = (owner: string) => owner === author || owner === `@${author}` || owner.startsWith(`${author}@`);
      const authorCommits: Record<string, number> = {};
      const authorOwns: string[] = [];
      const changed = new Set(candidate.changedFiles);
      for (const o of index.owns) {
        if (!changed.has(o.file) || !isAuthor(o.owner)) continue;
        if (o.source === 'codeowners') authorOwns.push(o.file);
        else authorCommits[o.file] = (authorCommits[o.file] ?? 0) + o.commits;
      }
      const records = new Map(index.snapshot.files.map((f) => [f.path, f]));
      return computeRisk({
        changedFiles: candidate.changedFiles,
        insertions: candidate.diffStat.insertions,
        deletions: candidate.diffStat.deletions,
        graph: {
          source: `${service.storeFor(changeRequest.repo).kind}@${analysed.sha.slice(0, 12)}`,
          totalFiles: centrality.totalFiles,
          files,
          symbols,
          ...(base && Object.keys(baseFiles).length > 0 ? { base: { source: `${service.storeFor(changeRequest.repo).kind}@${base.sha.slice(0, 12)}`, totalFiles: base.centrality.totalFiles, files: baseFiles } } : {}),
        },
        protectedTouched: protectedPathsTouched(candidate.changedFiles, changeRequest.protectedPaths).map((t) => t.file),
        churn: Object.fromEntries(candidate.changedFiles.map((f) => [f, records.get(f)?.churn ?? 0])),
        authorCommits,
        authorOwns,
        testFiles: candidate.changedFiles.filter((f) => index.testFiles.has(f)),
        testedFiles: candidate.changedFiles.filter((f) => testReached.has(f)),
        testWeakening: candidate.baseSha ? (await collectTestChanges(changeRequest.repo, candidate.baseSha, candidate.sha, changeRequest.intent)).findings.map((f) => `${f.file}:${f.line} ${f.kind}`) : undefined,
        unparsedFiles: ingest.mode === 'full' ? ingest.unparsed.map((u) => u.path) : index.snapshot.files.filter((f) => !f.parsed).map((f) => f.path),
      });
    },

    /** Answers a graph query at a commit: blast radius, dependents of a symbol, owners of a path, hot paths. */
    async queryGraph(input: { repo: string; rev: string; query: GraphQuery }): Promise<unknown> {
      let analysed: Analysed;
      try {
        analysed = await service.analyse(input.repo, input.rev);
      } catch (err) {
        throw asFailure(err, `cannot read ${input.rev} in ${input.repo}`);
      }
      const { index, centrality } = analysed;
      const q = input.query;
      switch (q.kind) {
        case 'blast-radius':
          return blastRadius(index, q.files);
        case 'dependents':
          return findSymbols(index, q.symbol).map((id) => dependentsOf(index, id));
        case 'owners':
          return ownersOfPath(index, q.path);
        case 'hot-paths':
          return hotPaths(index, centrality, { level: q.level ?? 'file', limit: q.limit ?? 5 });
        default:
          throw ApplicationFailure.nonRetryable(`unknown graph query ${(q as { kind: string }).kind}`, 'InvalidInput');
      }
    },
  };
}
