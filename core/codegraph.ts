/**
 * The code graph's vocabulary: nodes (File, Symbol, Owner), edges (IMPORTS, IMPORTS_TYPE, DECLARES,
 * REFERENCES, CALLS, OWNS) and the one interface both stores implement (in-memory graphology, Neo4j).
 *
 *   (:File)-[:IMPORTS]->(:File)        a relative import that resolves to a repository file and brings a value
 *   (:File)-[:IMPORTS_TYPE]->(:File)   one that brings types only (`import type`, every name `type`): gone at run time
 *   (:File)-[:DECLARES]->(:Symbol)     exported functions, classes, and the methods of exported classes
 *   (:File)-[:REFERENCES]->(:Symbol)   the file uses an imported (or its own) symbol anywhere in its code
 *   (:Symbol)-[:CALLS]->(:Symbol)      a function/method body calls (or `new`s) another symbol
 *   (:Owner)-[:OWNS {source, commits}]->(:File)   from CODEOWNERS (commits 0) or git history
 *
 * Ids: a File is its repository path, a Symbol is `path#name` (methods `path#Class.method`),
 * an Owner is a CODEOWNERS handle (`@team`) or a git author e-mail.
 */

export type SymbolKind = 'function' | 'class' | 'method';
export type EdgeType = 'IMPORTS' | 'IMPORTS_TYPE' | 'DECLARES' | 'REFERENCES' | 'CALLS' | 'OWNS';
export type OwnershipSource = 'codeowners' | 'git';

export interface FileRecord {
  path: string;
  lines: number;
  isTest: boolean;
  /** False when the file did not parse (it is still a node, with no outgoing edges). */
  parsed: boolean;
  parseError?: string;
  /** Commits touching the file in the history up to the ingested commit. */
  churn: number;
  /** JSON of the file's export table (names it exports, re-exports), used to link importers incrementally. */
  exports: string;
  /** Resolved-but-missing relative import stems (JSON array): re-linked when such a file appears. */
  unresolved: string;
}

export interface SymbolRecord {
  id: string;
  file: string;
  name: string;
  kind: SymbolKind;
  line: number;
  endLine: number;
}

export interface OwnerRecord {
  id: string;
  kind: 'team' | 'person';
}

export interface CodeEdge {
  type: Exclude<EdgeType, 'OWNS'>;
  from: string;
  to: string;
}

export interface OwnsEdge {
  owner: string;
  file: string;
  source: OwnershipSource;
  /** Commits by this owner touching the file (git); 0 for CODEOWNERS. */
  commits: number;
}

/** Everything derived from one file: its node, its symbols and its outgoing edges. */
export interface FileFragment {
  file: FileRecord;
  symbols: SymbolRecord[];
  /** IMPORTS/REFERENCES/DECLARES from the file and CALLS from its symbols. */
  edges: CodeEdge[];
}

export interface GraphMeta {
  repo: string;
  sha: string;
  ingestedAt: string;
  /**
   * Paths of the commit's tree that are not source files (JSON, .d.ts, assets…): with the File nodes
   * they make the whole tree, so an incremental ingest that adds and deletes nothing resolves imports
   * without listing the tree again. Absent: the next incremental ingest lists the tree.
   */
  otherPaths?: string[];
  /** Where the File nodes' isTest came from: the repo's test config, or the path convention and why. */
  testConfig?: string;
}

export interface WriteOptions {
  /**
   * The store holds none of the files written (a full ingest into a cleared graph): skip looking
   * for and deleting their old symbols and edges.
   */
  fresh?: boolean;
}

/** The whole graph as plain data: what the analysis (centrality, hot paths, queries) reads. */
export interface GraphSnapshot {
  meta?: GraphMeta;
  files: FileRecord[];
  symbols: SymbolRecord[];
  owners: OwnerRecord[];
  edges: CodeEdge[];
  owns: OwnsEdge[];
}

/** The stored neighbourhood of some files, read in one go (one query in Neo4j) by an incremental ingest. */
export interface FileContext {
  /** The files' stored records (a file the graph does not hold is absent). */
  records: Map<string, FileRecord>;
  /** Per stored file, the files that import it (sorted). */
  importers: Map<string, string[]>;
  /** OWNS edges into the files. */
  owns: OwnsEdge[];
  /** Stored records of the files they import: the export tables their new versions link against. */
  imported: Map<string, FileRecord>;
}

/** `replaceFiles`, then `replaceOwnership` when given, then `setMeta`: one write (one transaction in Neo4j). */
export interface GraphUpdate {
  fragments: readonly FileFragment[];
  removedPaths: readonly string[];
  ownership?: { files: readonly string[]; owns: readonly OwnsEdge[] };
  meta: GraphMeta;
}

/**
 * One interface, two stores. Writes are per file: `replaceFiles` makes each fragment's file, symbols
 * and outgoing edges exactly as given (symbols the file no longer declares are removed with their
 * edges; symbols that stay keep their incoming edges) and deletes the removed paths.
 */
export interface CodeGraphStore {
  readonly kind: 'memory' | 'neo4j';
  /** Creates constraints/indexes where the store has them; idempotent. */
  init(): Promise<void>;
  /** Removes this graph's nodes and edges. */
  clear(): Promise<void>;
  getMeta(): Promise<GraphMeta | undefined>;
  setMeta(meta: GraphMeta): Promise<void>;
  replaceFiles(fragments: readonly FileFragment[], removedPaths: readonly string[], options?: WriteOptions): Promise<void>;
  /** Replaces every OWNS edge into the given files by the given ones (owners are created as needed). */
  replaceOwnership(files: readonly string[], owns: readonly OwnsEdge[], options?: WriteOptions): Promise<void>;
  getFiles(paths: readonly string[]): Promise<Map<string, FileRecord>>;
  /** All file paths in the graph. */
  listFiles(): Promise<string[]>;
  /** Per path, the files that import it. */
  importersOf(paths: readonly string[]): Promise<Map<string, string[]>>;
  ownershipOf(paths: readonly string[]): Promise<OwnsEdge[]>;
  /** getFiles, importersOf and ownershipOf of `paths`, and the records of the files they import. */
  contextOf(paths: readonly string[]): Promise<FileContext>;
  update(update: GraphUpdate): Promise<void>;
  snapshot(): Promise<GraphSnapshot>;
  close(): Promise<void>;
}
