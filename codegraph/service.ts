/**
 * The code graph of a repository, kept up to date per commit, and what the release train asks of it.
 * The graph of a commit is ingested (incrementally when the store already holds an ancestor) into a
 * CodeGraphStore — in memory by default, Neo4j when configured — and every risk score is computed from
 * its centrality (core/risk.ts). Neo4j being down fails with Neo4jUnavailableError (CodeGraphUnavailable);
 * there is no silent fallback to another store.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import { parseChangeRequest, type ChangeRequest } from '../core/change-request';
import type { CodeGraphStore } from '../core/codegraph';
import { InvalidInputError } from '../core/errors';
import { protectedPathsTouched } from '../core/policy';
import { computeRisk, type NodeCentralityInput } from '../core/risk';
import type { Candidate, RiskReport } from '../core/stages';
import { parseOrThrow } from '../core/validation';
import { blastRadius, computeCentrality, dependentsOf, findSymbols, GraphIndex, hotPaths, ownersOfPath, type CentralityReport } from './analysis';
import { diffNames } from './git-objects';
import { GitError } from '../io/git';
import { touchedLines } from '../core/diff';
import { collectTestChanges } from '../evals/test-changes';
import { ingestRepo, isSourceFile, type IngestResult } from './ingest';
import { MemoryGraphStore } from './memory-store';
import { Neo4jGraphStore } from './neo4j-store';

export type StoreConfig = { kind: 'memory' } | { kind: 'neo4j'; uri: string };

export interface CodeGraphServiceOptions {
  /** Where graphs are kept; default: in memory. */
  store?: StoreConfig;
  /** Overrides how a repository's store is made (tests). */
  storeFor?: (repo: string) => CodeGraphStore;
}

/** Called during long ingests (an activity passes its heartbeat). */
export type OnProgress = (details: unknown) => void;

/** The name of a repository's graph inside a shared store. */
export function graphNameFor(repo: string): string {
  const abs = path.resolve(repo);
  return `${path.basename(abs)}-${crypto.createHash('sha256').update(abs).digest('hex').slice(0, 12)}`;
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

export interface Analysed {
  sha: string;
  index: GraphIndex;
  centrality: CentralityReport;
  testReached: Set<string>;
  ingest: IngestResult;
}

/** A missing commit or repository is bad input; other git failures (e.g. a crash) may pass on retry. */
function asInputError(err: unknown, what: string): unknown {
  return err instanceof GitError && err.isPermanent ? new InvalidInputError(`${what}: ${err.stderr.trim()}`) : err;
}

/** A repository's graph, kept up to date per commit; one ingest at a time per repository. */
export class CodeGraphService {
  private readonly stores = new Map<string, CodeGraphStore>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly cache = new Map<string, Analysed>();

  constructor(private readonly options: CodeGraphServiceOptions = {}) {}

  storeFor(repo: string): CodeGraphStore {
    const key = path.resolve(repo);
    let store = this.stores.get(key);
    if (!store) {
      const config = this.options.store ?? { kind: 'memory' };
      store = this.options.storeFor?.(key) ?? (config.kind === 'neo4j' ? new Neo4jGraphStore({ uri: config.uri, graph: graphNameFor(key) }) : new MemoryGraphStore());
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
  analyse(repo: string, rev: string, onProgress?: OnProgress): Promise<Analysed> {
    return this.serial(repo, async () => {
      const store = this.storeFor(repo);
      if (store.kind === 'neo4j') await store.init();
      const ingest = await ingestRepo(store, repo, rev, { onProgress });
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

const commitId = z.string().regex(/^[0-9a-f]{7,64}$/i, 'must be a git commit id');
const candidateInputSchema = z
  .object({
    sha: commitId,
    baseSha: commitId.optional(),
    changedFiles: z.array(z.string().min(1)),
    diffStat: z.object({ files: z.number().int().min(0), insertions: z.number().int().min(0), deletions: z.number().int().min(0) }).passthrough(),
    diff: z.string().optional(),
  })
  .passthrough();

export interface AssessRiskInput {
  changeRequest: ChangeRequest;
  candidate: Candidate;
}
export interface ParsedRiskInput {
  changeRequest: ChangeRequest;
  candidate: z.output<typeof candidateInputSchema>;
}

/** Validates assessRisk's input; throws ValidationError naming the bad fields. */
export function parseAssessRiskInput(input: unknown): ParsedRiskInput {
  const raw = (input ?? {}) as Partial<AssessRiskInput>;
  return {
    changeRequest: parseChangeRequest(raw.changeRequest),
    candidate: parseOrThrow(candidateInputSchema, raw.candidate, 'candidate'),
  };
}

/** Ingests the candidate commit and scores the change with core/risk.ts from the graph's centrality. */
export async function assessRisk(service: CodeGraphService, { changeRequest, candidate }: ParsedRiskInput, onProgress?: OnProgress): Promise<RiskReport> {
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
  if (deleted.length > 0) {
    base = await service.analyse(changeRequest.repo, candidate.baseSha!, onProgress).catch((err: unknown) => {
      throw asInputError(err, `cannot read base commit ${candidate.baseSha} in ${changeRequest.repo}`);
    });
  }
  const analysed = await service.analyse(changeRequest.repo, candidate.sha, onProgress).catch((err: unknown) => {
    throw asInputError(err, `cannot read commit ${candidate.sha} in ${changeRequest.repo}`);
  });
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
  const kind = service.storeFor(changeRequest.repo).kind;
  return computeRisk({
    changedFiles: candidate.changedFiles,
    insertions: candidate.diffStat.insertions,
    deletions: candidate.diffStat.deletions,
    graph: {
      source: `${kind}@${analysed.sha.slice(0, 12)}`,
      totalFiles: centrality.totalFiles,
      files,
      symbols,
      ...(base && Object.keys(baseFiles).length > 0 ? { base: { source: `${kind}@${base.sha.slice(0, 12)}`, totalFiles: base.centrality.totalFiles, files: baseFiles } } : {}),
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
}

export const graphQuerySchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('blast-radius'), files: z.array(z.string()) }),
  z.object({ kind: z.literal('dependents'), symbol: z.string() }),
  z.object({ kind: z.literal('owners'), path: z.string() }),
  z.object({ kind: z.literal('hot-paths'), level: z.enum(['file', 'symbol']).optional(), limit: z.number().int().positive().optional() }),
]);
export type GraphQuery = z.output<typeof graphQuerySchema>;
const queryGraphInputSchema = z.object({ repo: z.string().min(1), rev: z.string().min(1), query: graphQuerySchema });
export type QueryGraphInput = z.output<typeof queryGraphInputSchema>;

/** Validates queryGraph's input; throws ValidationError naming the bad fields (an unknown query kind among them). */
export function parseQueryGraphInput(input: unknown): QueryGraphInput {
  return parseOrThrow(queryGraphInputSchema, input, 'graph query');
}

/** Answers a graph query at a commit: blast radius, dependents of a symbol, owners of a path, hot paths. */
export async function queryGraph(service: CodeGraphService, input: QueryGraphInput, onProgress?: OnProgress): Promise<unknown> {
  const { index, centrality } = await service.analyse(input.repo, input.rev, onProgress).catch((err: unknown) => {
    throw asInputError(err, `cannot read ${input.rev} in ${input.repo}`);
  });
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
  }
}
