/**
 * The production store: Neo4j through neo4j-driver. Several graphs share one database (Community
 * has one), told apart by a `graph` property; every node has a `uid` = graph|id with a uniqueness
 * constraint, so MERGE is an index lookup. Writes are batched: one `UNWIND $rows … MERGE` statement
 * per kind of row per transaction. `writeMode: 'per-row'` runs one statement per row instead (only
 * for the bench's side-by-side measurement).
 */
import neo4j, { type Driver, type ManagedTransaction } from 'neo4j-driver';
import { PermanentError } from '../core/errors';
import type { CodeEdge, CodeGraphStore, FileContext, FileFragment, FileRecord, GraphMeta, GraphUpdate, GraphSnapshot, OwnerRecord, OwnsEdge, SymbolRecord, WriteOptions } from '../core/codegraph';

/** Not retried: the stage fails with a reason instead of waiting for someone to start Neo4j. */
export class Neo4jUnavailableError extends PermanentError {
  constructor(
    readonly uri: string,
    readonly causeMessage: string,
  ) {
    super(
      `Neo4j is not reachable at ${uri}: ${causeMessage}. Start it with 'maestro graph neo4j' (or scripts/setup-neo4j.sh then ensureNeo4j()), or unset MAESTRO_NEO4J_URI to use the in-memory graph.`,
      'CodeGraphUnavailable',
    );
  }
}

export interface Neo4jStoreOptions {
  uri: string;
  /** Name of this graph inside the database (e.g. one per repository). */
  graph: string;
  writeMode?: 'batched' | 'per-row';
  user?: string;
  password?: string;
}

/**
 * Every query of this store starts from a uid (unique constraint) or the graph property (index), so
 * its plan never depends on counts: a cached plan is kept even when the statistics moved (a graph
 * cleared or filled), instead of being recompiled — hundreds of ms on a small-heap server, paid by
 * the next small incremental write.
 */
const CYPHER = 'CYPHER replan=skip ';

/** A write statement: run once, or with $rows (see runAll). */
interface Statement {
  query: string;
  rows?: readonly unknown[];
  params?: Record<string, unknown>;
}

const FILE_PROPS = ['path', 'lines', 'isTest', 'parsed', 'parseError', 'churn', 'exports', 'unresolved'] as const;

function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; name?: string; message?: string };
  return e?.code === 'ServiceUnavailable' || e?.code === 'SessionExpired' || /ECONNREFUSED|connect|Could not perform discovery/i.test(e?.message ?? '');
}

export class Neo4jGraphStore implements CodeGraphStore {
  readonly kind = 'neo4j' as const;
  readonly driver: Driver;
  readonly graph: string;
  private readonly writeMode: 'batched' | 'per-row';

  constructor(readonly options: Neo4jStoreOptions) {
    this.graph = options.graph;
    this.writeMode = options.writeMode ?? 'batched';
    const auth = options.user ? neo4j.auth.basic(options.user, options.password ?? '') : undefined;
    this.driver = neo4j.driver(options.uri, auth, { disableLosslessIntegers: true, connectionAcquisitionTimeout: 10_000, maxTransactionRetryTime: 5_000 });
  }

  private uid(id: string): string {
    return `${this.graph}|${id}`;
  }

  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (isConnectionError(err)) throw new Neo4jUnavailableError(this.options.uri, (err as Error).message);
      throw err;
    }
  }

  private write(work: (tx: ManagedTransaction) => Promise<void>): Promise<void> {
    return this.guard(async () => {
      const session = this.driver.session();
      try {
        await session.executeWrite(work);
      } finally {
        await session.close();
      }
    });
  }

  private read(query: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>[]> {
    return this.guard(async () => {
      const session = this.driver.session({ defaultAccessMode: neo4j.session.READ });
      try {
        const result = await session.run(CYPHER + query, { g: this.graph, ...params });
        return result.records.map((r) => r.toObject() as Record<string, unknown>);
      } finally {
        await session.close();
      }
    });
  }

  /**
   * Runs the statements in order: each with $rows = all its rows (batched) or once per row with
   * $rows = [row] (per-row); a statement without rows runs once, one with an empty list not at all.
   * Batched statements are pipelined: all are sent before the first answer is awaited (the server
   * runs them in order), so a transaction costs one round trip rather than one per statement.
   */
  private async runAll(tx: ManagedTransaction, statements: readonly Statement[]): Promise<void> {
    const live = statements.filter((s) => s.rows === undefined || s.rows.length > 0);
    if (this.writeMode === 'batched') {
      await Promise.all(live.map((s) => tx.run(CYPHER + s.query, { g: this.graph, ...(s.rows ? { rows: s.rows } : {}), ...s.params })));
      return;
    }
    for (const s of live) {
      if (s.rows === undefined) await tx.run(CYPHER + s.query, { g: this.graph, ...s.params });
      else for (const row of s.rows) await tx.run(CYPHER + s.query, { g: this.graph, rows: [row], ...s.params });
    }
  }

  async verify(): Promise<void> {
    await this.guard(() => this.driver.verifyConnectivity().then(() => undefined));
  }

  async init(): Promise<void> {
    const statements = [
      'CREATE CONSTRAINT maestro_file_uid IF NOT EXISTS FOR (n:File) REQUIRE n.uid IS UNIQUE',
      'CREATE CONSTRAINT maestro_symbol_uid IF NOT EXISTS FOR (n:Symbol) REQUIRE n.uid IS UNIQUE',
      'CREATE CONSTRAINT maestro_owner_uid IF NOT EXISTS FOR (n:Owner) REQUIRE n.uid IS UNIQUE',
      'CREATE CONSTRAINT maestro_meta_graph IF NOT EXISTS FOR (n:CodeGraph) REQUIRE n.graph IS UNIQUE',
      'CREATE INDEX maestro_file_graph IF NOT EXISTS FOR (n:File) ON (n.graph)',
      'CREATE INDEX maestro_symbol_graph IF NOT EXISTS FOR (n:Symbol) ON (n.graph)',
      'CREATE INDEX maestro_owner_graph IF NOT EXISTS FOR (n:Owner) ON (n.graph)',
    ];
    await this.guard(async () => {
      const session = this.driver.session();
      try {
        for (const s of statements) await session.run(s);
        await session.run('CALL db.awaitIndexes(60)');
      } finally {
        await session.close();
      }
    });
  }

  async clear(): Promise<void> {
    await this.guard(async () => {
      const session = this.driver.session();
      try {
        for (const label of ['Symbol', 'File', 'Owner', 'CodeGraph'])
          await session.run(`MATCH (n:${label} {graph: $g}) CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS`, { g: this.graph });
      } finally {
        await session.close();
      }
    });
  }

  async getMeta(): Promise<GraphMeta | undefined> {
    const rows = await this.read('MATCH (m:CodeGraph {graph: $g}) RETURN m.repo AS repo, m.sha AS sha, m.ingestedAt AS ingestedAt, m.otherPaths AS otherPaths, m.testConfig AS testConfig');
    const row = rows[0] as unknown as (GraphMeta & { otherPaths: string[] | null; testConfig: string | null }) | undefined;
    if (!row) return undefined;
    const meta: GraphMeta = { repo: row.repo, sha: row.sha, ingestedAt: row.ingestedAt };
    if (row.otherPaths) meta.otherPaths = row.otherPaths;
    if (row.testConfig) meta.testConfig = row.testConfig;
    return meta;
  }

  async setMeta(meta: GraphMeta): Promise<void> {
    await this.write((tx) => this.runAll(tx, this.metaStatements(meta)));
  }

  private metaStatements(meta: GraphMeta): Statement[] {
    const params = { repo: meta.repo, sha: meta.sha, ingestedAt: meta.ingestedAt, otherPaths: meta.otherPaths ?? null, testConfig: meta.testConfig ?? null };
    return [{ query: 'MERGE (m:CodeGraph {graph: $g}) SET m.repo = $repo, m.sha = $sha, m.ingestedAt = $ingestedAt, m.otherPaths = $otherPaths, m.testConfig = $testConfig', params }];
  }

  async replaceFiles(fragments: readonly FileFragment[], removedPaths: readonly string[], options: WriteOptions = {}): Promise<void> {
    await this.write((tx) => this.runAll(tx, this.filesStatements(fragments, removedPaths, options)));
  }

  /** An incremental ingest's whole write in one transaction (one commit, one log flush). */
  async update(u: GraphUpdate): Promise<void> {
    const statements = [
      ...this.filesStatements(u.fragments, u.removedPaths, {}),
      ...(u.ownership ? this.ownershipStatements(u.ownership.files, u.ownership.owns, {}) : []),
      ...this.metaStatements(u.meta),
    ];
    await this.write((tx) => this.runAll(tx, statements));
  }

  private filesStatements(fragments: readonly FileFragment[], removedPaths: readonly string[], options: WriteOptions): Statement[] {
    const files = fragments.map(({ file, symbols }) => ({
      uid: this.uid(file.path),
      props: { graph: this.graph, ...Object.fromEntries(FILE_PROPS.map((k) => [k, file[k] ?? null])) },
      symbolUids: symbols.map((s) => this.uid(s.id)),
    }));
    const symbols = fragments.flatMap(({ symbols: list }) => list.map((s) => ({ uid: this.uid(s.id), props: { graph: this.graph, ...s } })));
    const byType = (type: CodeEdge['type']) =>
      fragments.flatMap(({ edges }) => edges.filter((e) => e.type === type).map((e) => ({ from: this.uid(e.from), to: this.uid(e.to) })));
    const q = (query: string, rows: readonly unknown[]): Statement => ({ query, rows });
    return [
      q('UNWIND $rows AS uid MATCH (f:File {uid: uid}) OPTIONAL MATCH (f)-[:DECLARES]->(s:Symbol) DETACH DELETE s, f', removedPaths.map((p) => this.uid(p))),
      q('UNWIND $rows AS row MERGE (f:File {uid: row.uid}) SET f += row.props', files),
      ...(options.fresh
        ? // A full ingest into a cleared graph: nothing old to find and delete.
          [q('UNWIND $rows AS row MERGE (s:Symbol {uid: row.uid}) SET s += row.props', symbols)]
        : [
            q('UNWIND $rows AS row MATCH (:File {uid: row.uid})-[:DECLARES]->(s:Symbol) WHERE NOT s.uid IN row.symbolUids DETACH DELETE s', files),
            q('UNWIND $rows AS row MATCH (:File {uid: row.uid})-[r:IMPORTS|IMPORTS_TYPE|DECLARES|REFERENCES]->() DELETE r', files),
            q('UNWIND $rows AS row MERGE (s:Symbol {uid: row.uid}) SET s += row.props WITH s MATCH (s)-[r:CALLS]->() DELETE r', symbols),
          ]),
      q('UNWIND $rows AS row MATCH (a:File {uid: row.from}) MATCH (b:File {uid: row.to}) MERGE (a)-[:IMPORTS]->(b)', byType('IMPORTS')),
      q('UNWIND $rows AS row MATCH (a:File {uid: row.from}) MATCH (b:File {uid: row.to}) MERGE (a)-[:IMPORTS_TYPE]->(b)', byType('IMPORTS_TYPE')),
      q('UNWIND $rows AS row MATCH (a:File {uid: row.from}) MATCH (b:Symbol {uid: row.to}) MERGE (a)-[:DECLARES]->(b)', byType('DECLARES')),
      q('UNWIND $rows AS row MATCH (a:File {uid: row.from}) MATCH (b:Symbol {uid: row.to}) MERGE (a)-[:REFERENCES]->(b)', byType('REFERENCES')),
      q('UNWIND $rows AS row MATCH (a:Symbol {uid: row.from}) MATCH (b:Symbol {uid: row.to}) MERGE (a)-[:CALLS]->(b)', byType('CALLS')),
    ];
  }

  async replaceOwnership(files: readonly string[], owns: readonly OwnsEdge[], options: WriteOptions = {}): Promise<void> {
    await this.write((tx) => this.runAll(tx, this.ownershipStatements(files, owns, options)));
  }

  private ownershipStatements(files: readonly string[], owns: readonly OwnsEdge[], options: WriteOptions): Statement[] {
    const rows = owns.map((o) => ({ file: this.uid(o.file), ouid: this.uid(o.owner), owner: o.owner, kind: o.owner.startsWith('@') ? 'team' : 'person', source: o.source, commits: o.commits }));
    const statements: Statement[] = [];
    if (!options.fresh) statements.push({ query: 'UNWIND $rows AS uid MATCH (:Owner)-[r:OWNS]->(:File {uid: uid}) DELETE r', rows: files.map((f) => this.uid(f)) });
    statements.push({
      query:
        'UNWIND $rows AS row MATCH (f:File {uid: row.file}) MERGE (o:Owner {uid: row.ouid}) ON CREATE SET o.graph = $g, o.id = row.owner, o.kind = row.kind MERGE (o)-[r:OWNS {source: row.source}]->(f) SET r.commits = row.commits',
      rows,
    });
    if (!options.fresh) statements.push({ query: 'MATCH (o:Owner {graph: $g}) WHERE NOT (o)-->() DELETE o' });
    return statements;
  }

  private static fileOf(row: Record<string, unknown>): FileRecord {
    const f = row as unknown as FileRecord & { parseError: string | null };
    const record: FileRecord = { path: f.path, lines: f.lines, isTest: f.isTest, parsed: f.parsed, churn: f.churn, exports: f.exports, unresolved: f.unresolved };
    if (f.parseError !== null && f.parseError !== undefined) record.parseError = f.parseError;
    return record;
  }

  async getFiles(paths: readonly string[]): Promise<Map<string, FileRecord>> {
    const rows = await this.read('UNWIND $uids AS uid MATCH (f:File {uid: uid}) RETURN f { .* } AS f', { uids: paths.map((p) => this.uid(p)) });
    return new Map(rows.map((r) => Neo4jGraphStore.fileOf(r.f as Record<string, unknown>)).map((f) => [f.path, f]));
  }

  async listFiles(): Promise<string[]> {
    // One record (a list) rather than one per file: the driver streams records slowly.
    const rows = await this.read('MATCH (f:File {graph: $g}) RETURN collect(f.path) AS paths');
    return (rows[0]?.paths as string[] | undefined) ?? [];
  }

  async contextOf(paths: readonly string[]): Promise<FileContext> {
    const context: FileContext = { records: new Map(), importers: new Map(), owns: [], imported: new Map() };
    if (paths.length === 0) return context;
    const rows = await this.read(
      `UNWIND $uids AS uid MATCH (f:File {uid: uid})
       RETURN f { .* } AS f,
         [(i:File)-[:IMPORTS|IMPORTS_TYPE]->(f) | i.path] AS importers,
         [(o:Owner)-[r:OWNS]->(f) | {owner: o.id, source: r.source, commits: r.commits}] AS owns,
         [(f)-[:IMPORTS|IMPORTS_TYPE]->(t:File) | t { .* }] AS imported`,
      { uids: paths.map((p) => this.uid(p)) },
    );
    for (const row of rows) {
      const file = Neo4jGraphStore.fileOf(row.f as Record<string, unknown>);
      context.records.set(file.path, file);
      context.importers.set(file.path, [...new Set(row.importers as string[])].sort());
      for (const o of row.owns as { owner: string; source: OwnsEdge['source']; commits: number }[]) context.owns.push({ owner: o.owner, file: file.path, source: o.source, commits: o.commits });
      for (const t of row.imported as Record<string, unknown>[]) {
        const record = Neo4jGraphStore.fileOf(t);
        context.imported.set(record.path, record);
      }
    }
    return context;
  }

  async importersOf(paths: readonly string[]): Promise<Map<string, string[]>> {
    const rows = await this.read('UNWIND $uids AS uid MATCH (f:File {uid: uid}) OPTIONAL MATCH (i:File)-[:IMPORTS|IMPORTS_TYPE]->(f) RETURN f.path AS path, collect(DISTINCT i.path) AS importers', {
      uids: paths.map((p) => this.uid(p)),
    });
    return new Map(rows.map((r) => [r.path as string, (r.importers as string[]).sort()]));
  }

  async ownershipOf(paths: readonly string[]): Promise<OwnsEdge[]> {
    const rows = await this.read('UNWIND $uids AS uid MATCH (o:Owner)-[r:OWNS]->(f:File {uid: uid}) RETURN o.id AS owner, f.path AS file, r.source AS source, r.commits AS commits', {
      uids: paths.map((p) => this.uid(p)),
    });
    return rows as unknown as OwnsEdge[];
  }

  async snapshot(): Promise<GraphSnapshot> {
    const [meta, files, symbols, owners, fileEdges, calls, owns] = await Promise.all([
      this.getMeta(),
      this.read('MATCH (f:File {graph: $g}) RETURN f { .* } AS f'),
      this.read('MATCH (s:Symbol {graph: $g}) RETURN s.id AS id, s.file AS file, s.name AS name, s.kind AS kind, s.line AS line, s.endLine AS endLine'),
      this.read('MATCH (o:Owner {graph: $g}) RETURN o.id AS id, o.kind AS kind'),
      this.read('MATCH (a:File {graph: $g})-[r:IMPORTS|IMPORTS_TYPE|DECLARES|REFERENCES]->(b) RETURN type(r) AS type, a.path AS from, coalesce(b.path, b.id) AS to'),
      this.read("MATCH (a:Symbol {graph: $g})-[:CALLS]->(b:Symbol) RETURN 'CALLS' AS type, a.id AS from, b.id AS to"),
      this.read('MATCH (o:Owner {graph: $g})-[r:OWNS]->(f:File) RETURN o.id AS owner, f.path AS file, r.source AS source, r.commits AS commits'),
    ]);
    const snap: GraphSnapshot = {
      files: files.map((r) => Neo4jGraphStore.fileOf(r.f as Record<string, unknown>)),
      symbols: symbols as unknown as SymbolRecord[],
      owners: owners as unknown as OwnerRecord[],
      edges: [...fileEdges, ...calls] as unknown as CodeEdge[],
      owns: owns as unknown as OwnsEdge[],
    };
    if (meta) snap.meta = meta;
    return snap;
  }

  async close(): Promise<void> {
    await this.driver.close();
  }
}
