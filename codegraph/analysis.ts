/**
 * Everything computed from the graph — centrality, hot paths, blast radius, dependents, owners —
 * is computed here, from a GraphSnapshot, whichever store it came from. Loading the same graph from
 * the in-memory store or from Neo4j therefore gives the same numbers (test/codegraph proves it).
 *
 * Centrality, per node:
 *   fanIn        files: distinct files importing it; symbols: distinct other files referencing it
 *   pageRank     PageRank (α = 0.85) on the dependency graph, edges pointing from user to used
 *                (files: IMPORTS, the value imports — type-only imports vanish at run time and would rank a
 *                types file above the logic; symbols: REFERENCES file→symbol and CALLS symbol→symbol)
 *   pageRankRel  (pageRank·N − 1) / (max pageRank·N − 1), clamped to [0, 1]: 0 for a node no more
 *                depended upon than the average, 1 for the most depended upon
 *   betweenness  Brandes betweenness, normalised by (N−1)(N−2), clamped to [0, 1]
 * Nodes are added in sorted order so the iteration (and its floating point) never depends on the store.
 */
import Graph from 'graphology';
import betweennessCentrality from 'graphology-metrics/centrality/betweenness';
import pagerank from 'graphology-metrics/centrality/pagerank';
import type { GraphSnapshot, OwnsEdge, SymbolRecord } from '../core/codegraph';

export interface NodeCentrality {
  id: string;
  fanIn: number;
  pageRank: number;
  pageRankRel: number;
  betweenness: number;
}

export interface CentralityReport {
  totalFiles: number;
  totalSymbols: number;
  files: Map<string, NodeCentrality>;
  symbols: Map<string, NodeCentrality>;
}

const clamp01 = (n: number) => (Number.isFinite(n) ? Math.min(1, Math.max(0, n)) : 0);
const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function buildGraph(nodes: readonly string[], edges: readonly [string, string][]): Graph {
  const g = new Graph({ type: 'directed', multi: false, allowSelfLoops: false });
  for (const n of [...nodes].sort(byString)) g.addNode(n);
  const sorted = [...edges].sort((a, b) => byString(a[0], b[0]) || byString(a[1], b[1]));
  for (const [from, to] of sorted) if (from !== to && g.hasNode(from) && g.hasNode(to)) g.mergeEdge(from, to);
  return g;
}

function scores(g: Graph, ids: readonly string[], fanIn: (id: string) => number): Map<string, NodeCentrality> {
  const out = new Map<string, NodeCentrality>();
  if (g.order === 0) return out;
  const pr = g.size > 0 ? pagerank(g, { alpha: 0.85, maxIterations: 200, tolerance: 1e-10, getEdgeWeight: null }) : Object.fromEntries(g.nodes().map((n) => [n, 1 / g.order]));
  const bc = g.size > 0 ? betweennessCentrality(g, { normalized: true, getEdgeWeight: null }) : {};
  const n = g.order;
  const maxPr = Math.max(...Object.values(pr));
  for (const id of ids) {
    const p = pr[id] ?? 0;
    out.set(id, {
      id,
      fanIn: fanIn(id),
      pageRank: p,
      pageRankRel: maxPr * n - 1 > 1e-9 ? clamp01((p * n - 1) / (maxPr * n - 1)) : 0,
      betweenness: clamp01(bc[id] ?? 0),
    });
  }
  return out;
}

/** Adjacency of a snapshot, built once and shared by the queries. */
export class GraphIndex {
  readonly files: Set<string>;
  readonly testFiles: Set<string>;
  readonly symbols: Map<string, SymbolRecord>;
  /** Value imports (IMPORTS) only: what runs. */
  readonly imports = new Map<string, Set<string>>();
  readonly importers = new Map<string, Set<string>>();
  /** Every import, type-only ones too (IMPORTS and IMPORTS_TYPE): what a change can break at compile time. */
  readonly anyImporters = new Map<string, Set<string>>();
  readonly referencedBy = new Map<string, Set<string>>();
  readonly callers = new Map<string, Set<string>>();
  readonly callees = new Map<string, Set<string>>();
  readonly declares = new Map<string, string[]>();
  readonly owns: OwnsEdge[];

  constructor(readonly snapshot: GraphSnapshot) {
    this.files = new Set(snapshot.files.map((f) => f.path));
    this.testFiles = new Set(snapshot.files.filter((f) => f.isTest).map((f) => f.path));
    this.symbols = new Map(snapshot.symbols.map((s) => [s.id, s]));
    const add = (m: Map<string, Set<string>>, k: string, v: string) => {
      let s = m.get(k);
      if (!s) m.set(k, (s = new Set()));
      s.add(v);
    };
    for (const e of snapshot.edges) {
      if (e.type === 'IMPORTS' || e.type === 'IMPORTS_TYPE') {
        add(this.anyImporters, e.to, e.from);
        if (e.type === 'IMPORTS') add(this.imports, e.from, e.to), add(this.importers, e.to, e.from);
      } else if (e.type === 'REFERENCES') add(this.referencedBy, e.to, e.from);
      else if (e.type === 'CALLS') {
        add(this.callers, e.to, e.from);
        add(this.callees, e.from, e.to);
      }
    }
    for (const s of snapshot.symbols) {
      const list = this.declares.get(s.file) ?? [];
      list.push(s.id);
      this.declares.set(s.file, list);
    }
    this.owns = snapshot.owns;
  }

  fileGraph(): Graph {
    return buildGraph([...this.files], this.snapshot.edges.filter((e) => e.type === 'IMPORTS').map((e) => [e.from, e.to]));
  }

  symbolGraph(): Graph {
    const edges = this.snapshot.edges.filter((e) => e.type === 'REFERENCES' || e.type === 'CALLS').map((e) => [e.from, e.to] as [string, string]);
    return buildGraph([...this.files, ...this.symbols.keys()], edges);
  }
}

export function computeCentrality(index: GraphIndex): CentralityReport {
  const files = scores(index.fileGraph(), [...index.files], (f) => index.importers.get(f)?.size ?? 0);
  const symbolFanIn = (id: string) => index.referencedBy.get(id)?.size ?? 0;
  const symbols = scores(index.symbolGraph(), [...index.symbols.keys()], symbolFanIn);
  return { totalFiles: index.files.size, totalSymbols: index.symbols.size, files, symbols };
}

export interface HotPath {
  level: 'file' | 'symbol';
  nodes: string[];
  /** Sum over the path of (pageRankRel + betweenness). */
  score: number;
  /** Other entry nodes whose walk continues with the same chain (nodes[1..]): one hot path, several ways in. */
  otherEntries?: string[];
}

/**
 * Hot paths: the most central chains. From every entry node (depended upon by none, depending on
 * some) walk to the most central not-yet-visited dependency until none is left; score a chain by
 * the summed centrality (pageRankRel + betweenness) of its nodes; chains that share everything after their
 * entry are one (the others listed as `otherEntries`); return the best `limit` chains.
 */
export function hotPaths(index: GraphIndex, centrality: CentralityReport, options: { level?: 'file' | 'symbol'; limit?: number } = {}): HotPath[] {
  const level = options.level ?? 'file';
  const limit = options.limit ?? 5;
  const nodes = level === 'file' ? [...index.files].sort(byString) : [...index.symbols.keys()].sort(byString);
  const out = level === 'file' ? index.imports : index.callees;
  const inn = level === 'file' ? index.importers : index.callers;
  const table = level === 'file' ? centrality.files : centrality.symbols;
  const weight = (id: string) => {
    const c = table.get(id);
    return c ? c.pageRankRel + c.betweenness : 0;
  };
  let roots = nodes.filter((n) => (inn.get(n)?.size ?? 0) === 0 && (out.get(n)?.size ?? 0) > 0);
  if (roots.length === 0) roots = nodes.filter((n) => (out.get(n)?.size ?? 0) > 0); // everything is in cycles
  const paths: HotPath[] = [];
  const seen = new Set<string>();
  for (const root of roots) {
    const chain = [root];
    const visited = new Set(chain);
    for (;;) {
      const next = [...(out.get(chain[chain.length - 1]!) ?? [])].filter((n) => !visited.has(n)).sort((a, b) => weight(b) - weight(a) || byString(a, b))[0];
      if (next === undefined) break;
      chain.push(next);
      visited.add(next);
    }
    if (chain.length < 2) continue;
    const key = chain.join('\0');
    if (seen.has(key)) continue;
    seen.add(key);
    paths.push({ level, nodes: chain, score: Math.round(chain.reduce((s, n) => s + weight(n), 0) * 1e9) / 1e9 });
  }
  // Chains that differ only in their entry are one hot path: the best-scoring one stands for them.
  const byChain = new Map<string, HotPath>();
  for (const p of paths.sort((a, b) => b.score - a.score || b.nodes.length - a.nodes.length || byString(a.nodes.join(), b.nodes.join()))) {
    const chainKey = p.nodes.slice(1).join('\0');
    const kept = byChain.get(chainKey);
    if (kept) kept.otherEntries = [...(kept.otherEntries ?? []), p.nodes[0]!].sort(byString);
    else byChain.set(chainKey, p);
  }
  return [...byChain.values()].slice(0, limit);
}

export interface BlastRadius {
  changed: string[];
  /** Files that import a changed file, directly or transitively, with their distance. */
  affectedFiles: { path: string; distance: number }[];
  /** Symbols declared in changed files and the symbols/files that depend on them. */
  touchedSymbols: string[];
  dependentSymbols: string[];
  /** Test files among the affected files: what to run. */
  testsToRun: string[];
  /** Where the graph's test files came from (the repo's test config, or the path convention and why). */
  testsFrom?: string;
  /** Owners of the changed and affected files, most involved first. */
  owners: string[];
  share: number;
}

/** Files (and symbols) a change can break: everything that depends on a changed file, transitively. */
export function blastRadius(index: GraphIndex, changedFiles: readonly string[], maxDepth = Infinity): BlastRadius {
  const changed = [...new Set(changedFiles)].filter((f) => index.files.has(f)).sort(byString);
  const distance = new Map<string, number>(changed.map((f) => [f, 0]));
  let frontier = changed;
  for (let d = 1; frontier.length > 0 && d <= maxDepth; d++) {
    const next: string[] = [];
    for (const f of frontier) for (const i of index.anyImporters.get(f) ?? []) if (!distance.has(i)) {
      distance.set(i, d);
      next.push(i);
    }
    frontier = next;
  }
  const affectedFiles = [...distance].filter(([, d]) => d > 0).map(([path, d]) => ({ path, distance: d })).sort((a, b) => a.distance - b.distance || byString(a.path, b.path));
  const touchedSymbols = changed.flatMap((f) => index.declares.get(f) ?? []).sort(byString);
  const dependentSymbols = new Set<string>();
  for (const s of touchedSymbols) for (const d of dependentsOf(index, s).transitiveCallers) dependentSymbols.add(d);
  const involved = new Set([...changed, ...affectedFiles.map((a) => a.path)]);
  return {
    changed,
    affectedFiles,
    touchedSymbols,
    dependentSymbols: [...dependentSymbols].filter((s) => !touchedSymbols.includes(s)).sort(byString),
    testsToRun: affectedFiles.map((a) => a.path).filter((p) => index.testFiles.has(p)).concat(changed.filter((c) => index.testFiles.has(c))).sort(byString),
    ...(index.snapshot.meta?.testConfig ? { testsFrom: index.snapshot.meta.testConfig } : {}),
    owners: rankOwners(index.owns.filter((o) => involved.has(o.file))).map((o) => o.owner),
    share: index.files.size > 0 ? affectedFiles.length / index.files.size : 0,
  };
}

export interface Dependents {
  symbol: string;
  referencingFiles: string[];
  callers: string[];
  transitiveCallers: string[];
}

/** Symbols matching a query: an exact id (`path#name`) or every symbol with that name. */
export function findSymbols(index: GraphIndex, query: string): string[] {
  if (index.symbols.has(query)) return [query];
  return [...index.symbols.values()].filter((s) => s.name === query || s.name.endsWith(`.${query}`)).map((s) => s.id).sort(byString);
}

export function dependentsOf(index: GraphIndex, symbolId: string): Dependents {
  const transitive = new Set<string>();
  const queue = [...(index.callers.get(symbolId) ?? [])];
  while (queue.length > 0) {
    const s = queue.shift()!;
    if (transitive.has(s) || s === symbolId) continue;
    transitive.add(s);
    queue.push(...(index.callers.get(s) ?? []));
  }
  return {
    symbol: symbolId,
    referencingFiles: [...(index.referencedBy.get(symbolId) ?? [])].sort(byString),
    callers: [...(index.callers.get(symbolId) ?? [])].sort(byString),
    transitiveCallers: [...transitive].sort(byString),
  };
}

export interface OwnerSummary {
  owner: string;
  /** Listed in CODEOWNERS for some of the files. */
  codeowner: boolean;
  files: number;
  commits: number;
}

function rankOwners(owns: readonly OwnsEdge[]): OwnerSummary[] {
  const by = new Map<string, OwnerSummary & { fileSet: Set<string> }>();
  for (const o of owns) {
    let s = by.get(o.owner);
    if (!s) by.set(o.owner, (s = { owner: o.owner, codeowner: false, files: 0, commits: 0, fileSet: new Set() }));
    if (o.source === 'codeowners') s.codeowner = true;
    s.commits += o.commits;
    s.fileSet.add(o.file);
  }
  return [...by.values()]
    .map(({ fileSet, ...s }) => ({ ...s, files: fileSet.size }))
    .sort((a, b) => Number(b.codeowner) - Number(a.codeowner) || b.commits - a.commits || byString(a.owner, b.owner));
}

/** Owners of a file or of every file under a directory: CODEOWNERS first, then by commits. */
export function ownersOfPath(index: GraphIndex, target: string): OwnerSummary[] {
  const prefix = target.replace(/\/$/, '');
  const match = (f: string) => prefix === '' || prefix === '.' || f === prefix || f.startsWith(`${prefix}/`);
  return rankOwners(index.owns.filter((o) => match(o.file)));
}
