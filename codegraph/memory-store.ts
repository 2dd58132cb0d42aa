/** The embedded store: one graphology multigraph in memory (zero set-up; the default). */
import Graph from 'graphology';
import type { CodeEdge, CodeGraphStore, FileContext, FileFragment, FileRecord, GraphMeta, GraphUpdate, GraphSnapshot, OwnerRecord, OwnsEdge, SymbolRecord, WriteOptions } from '../core/codegraph';

type NodeAttrs = { label: 'File'; record: FileRecord } | { label: 'Symbol'; record: SymbolRecord } | { label: 'Owner'; record: OwnerRecord };
type EdgeAttrs = { type: CodeEdge['type'] | 'OWNS'; source?: OwnsEdge['source']; commits?: number };

const F = (path: string) => `F:${path}`;
const S = (id: string) => `S:${id}`;
const O = (id: string) => `O:${id}`;
/** Node key of an edge endpoint: symbol ids contain '#', file paths do not (in practice). */
const endpoint = (type: CodeEdge['type'], end: 'from' | 'to', id: string) =>
  (end === 'from' ? type === 'CALLS' : !isImport(type)) ? S(id) : F(id);
const isImport = (type: EdgeAttrs['type'] | undefined): boolean => type === 'IMPORTS' || type === 'IMPORTS_TYPE';

export class MemoryGraphStore implements CodeGraphStore {
  readonly kind = 'memory' as const;
  readonly graph = new Graph<NodeAttrs, EdgeAttrs>({ type: 'directed', multi: true, allowSelfLoops: false });
  private meta: GraphMeta | undefined;

  async init(): Promise<void> {}

  async clear(): Promise<void> {
    this.graph.clear();
    this.meta = undefined;
  }

  async getMeta(): Promise<GraphMeta | undefined> {
    return this.meta && { ...this.meta, ...(this.meta.otherPaths ? { otherPaths: [...this.meta.otherPaths] } : {}) };
  }

  async setMeta(meta: GraphMeta): Promise<void> {
    this.meta = { ...meta, ...(meta.otherPaths ? { otherPaths: [...meta.otherPaths] } : {}) };
  }

  /** Symbols a file declares (not those it merely references). */
  private declared(fileKey: string): string[] {
    return this.graph.outEdges(fileKey).filter((e) => this.graph.getEdgeAttribute(e, 'type') === 'DECLARES').map((e) => this.graph.target(e));
  }

  private dropOutgoing(node: string, types: ReadonlySet<string>): void {
    if (!this.graph.hasNode(node)) return;
    for (const e of this.graph.outEdges(node)) if (types.has(this.graph.getEdgeAttribute(e, 'type'))) this.graph.dropEdge(e);
  }

  async replaceFiles(fragments: readonly FileFragment[], removedPaths: readonly string[], options: WriteOptions = {}): Promise<void> {
    const g = this.graph;
    for (const removed of removedPaths) {
      const key = F(removed);
      if (!g.hasNode(key)) continue;
      for (const sym of this.declared(key)) g.dropNode(sym);
      g.dropNode(key);
    }
    const fileOut = new Set(['IMPORTS', 'IMPORTS_TYPE', 'DECLARES', 'REFERENCES']);
    const symOut = new Set(['CALLS']);
    // Nodes first (edges of one fragment may point into another), then edges.
    for (const { file, symbols } of fragments) {
      const key = F(file.path);
      g.mergeNode(key, { label: 'File', record: { ...file } });
      if (options.fresh) {
        for (const s of symbols) g.mergeNode(S(s.id), { label: 'Symbol', record: { ...s } });
        continue;
      }
      const keep = new Set(symbols.map((s) => S(s.id)));
      for (const n of this.declared(key)) if (!keep.has(n)) g.dropNode(n);
      this.dropOutgoing(key, fileOut);
      for (const s of symbols) {
        g.mergeNode(S(s.id), { label: 'Symbol', record: { ...s } });
        this.dropOutgoing(S(s.id), symOut);
      }
    }
    for (const { edges } of fragments) {
      for (const e of edges) {
        const from = endpoint(e.type, 'from', e.from);
        const to = endpoint(e.type, 'to', e.to);
        if (!g.hasNode(from) || !g.hasNode(to)) continue; // a target the graph does not hold (never written)
        g.mergeEdgeWithKey(`${e.type}|${from}|${to}`, from, to, { type: e.type });
      }
    }
  }

  async replaceOwnership(files: readonly string[], owns: readonly OwnsEdge[], options: WriteOptions = {}): Promise<void> {
    const g = this.graph;
    if (!options.fresh) for (const file of files) {
      const key = F(file);
      if (!g.hasNode(key)) continue;
      for (const e of g.inEdges(key)) if (g.getEdgeAttribute(e, 'type') === 'OWNS') g.dropEdge(e);
    }
    for (const o of owns) {
      if (!g.hasNode(F(o.file))) continue;
      g.mergeNode(O(o.owner), { label: 'Owner', record: { id: o.owner, kind: o.owner.startsWith('@') ? 'team' : 'person' } });
      g.mergeEdgeWithKey(`OWNS|${o.source}|${o.owner}|${o.file}`, O(o.owner), F(o.file), { type: 'OWNS', source: o.source, commits: o.commits });
    }
    // Owners left without files go.
    if (!options.fresh) for (const n of g.filterNodes((_, a) => a.label === 'Owner')) if (g.outDegree(n) === 0) g.dropNode(n);
  }

  async getFiles(paths: readonly string[]): Promise<Map<string, FileRecord>> {
    const out = new Map<string, FileRecord>();
    for (const p of paths) if (this.graph.hasNode(F(p))) out.set(p, { ...(this.graph.getNodeAttribute(F(p), 'record') as FileRecord) });
    return out;
  }

  async listFiles(): Promise<string[]> {
    return this.graph.filterNodes((_, a) => a.label === 'File').map((k) => k.slice(2));
  }

  async importersOf(paths: readonly string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (const p of paths) {
      const key = F(p);
      if (!this.graph.hasNode(key)) continue;
      const importers = this.graph.inEdges(key).filter((e) => isImport(this.graph.getEdgeAttribute(e, 'type'))).map((e) => this.graph.source(e).slice(2));
      out.set(p, [...new Set(importers)].sort());
    }
    return out;
  }

  async ownershipOf(paths: readonly string[]): Promise<OwnsEdge[]> {
    const out: OwnsEdge[] = [];
    for (const p of paths) {
      const key = F(p);
      if (!this.graph.hasNode(key)) continue;
      for (const e of this.graph.inEdges(key)) {
        const a = this.graph.getEdgeAttributes(e);
        if (a.type === 'OWNS') out.push({ owner: this.graph.source(e).slice(2), file: p, source: a.source!, commits: a.commits ?? 0 });
      }
    }
    return out;
  }

  async contextOf(paths: readonly string[]): Promise<FileContext> {
    const [records, importers, owns] = await Promise.all([this.getFiles(paths), this.importersOf(paths), this.ownershipOf(paths)]);
    const imported = new Set<string>();
    for (const p of records.keys())
      for (const e of this.graph.outEdges(F(p))) if (isImport(this.graph.getEdgeAttribute(e, 'type'))) imported.add(this.graph.target(e).slice(2));
    return { records, importers, owns, imported: await this.getFiles([...imported]) };
  }

  async update(u: GraphUpdate): Promise<void> {
    await this.replaceFiles(u.fragments, u.removedPaths);
    if (u.ownership) await this.replaceOwnership(u.ownership.files, u.ownership.owns);
    await this.setMeta(u.meta);
  }

  async snapshot(): Promise<GraphSnapshot> {
    const g = this.graph;
    const snap: GraphSnapshot = { files: [], symbols: [], owners: [], edges: [], owns: [] };
    if (this.meta) snap.meta = { ...this.meta };
    g.forEachNode((_, a) => {
      if (a.label === 'File') snap.files.push({ ...a.record });
      else if (a.label === 'Symbol') snap.symbols.push({ ...a.record });
      else snap.owners.push({ ...a.record });
    });
    g.forEachEdge((_, a, source, target) => {
      if (a.type === 'OWNS') snap.owns.push({ owner: source.slice(2), file: target.slice(2), source: a.source!, commits: a.commits ?? 0 });
      else snap.edges.push({ type: a.type, from: source.slice(2), to: target.slice(2) });
    });
    return snap;
  }

  async close(): Promise<void> {}
}
