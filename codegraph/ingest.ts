/**
 * Ingestion: a commit of a TS/JS repository → File, Symbol and Owner nodes with IMPORTS, DECLARES,
 * REFERENCES, CALLS and OWNS edges in a CodeGraphStore.
 *
 * Full: every source file is read (one `git cat-file --batch`), parsed, linked and written.
 * Incremental (the store already holds an ancestor commit): only files changed between the two
 * commits are parsed and written, plus the few files whose links they invalidate — importers of a
 * deleted file or of a file whose exports changed, and files with a dangling import an added file
 * now satisfies. Churn and git ownership are updated by adding the new commits' counts (a file
 * changed and changed back by them is re-read too: its counts grew). A one-file change costs no new
 * git process (the repository's long-lived GitBatch walks the commits, diffs their trees and reads
 * the blobs), one store read for the file list, one for the changed files' neighbourhood
 * (contextOf) and one write (update: one Neo4j transaction).
 */
import path from 'node:path';
import type { CodeEdge, CodeGraphStore, FileFragment, FileRecord, GraphMeta, OwnsEdge, SymbolRecord, WriteOptions } from '../core/codegraph';
import { CODEOWNERS_PATHS, ownersOf, parseCodeowners, type CodeownersRule } from './codeowners';
import { isAncestor } from '../io/git';
import { BlobPrefetch, commitOf, diffNames, fileHistory, GitBatch, listTree, rangeLog, readBlobs, walkRange, type BlobReader, type FileChange, type History, type RangeLog } from './git-objects';
import { parseSource, type ParsedSource } from './parse';
import { TEST_CONFIG_PATHS, testSelection, type TestSelection } from './test-config';
import { commitProgram, isProgramText, keptTexts, MAX_SEMANTIC_FILES, type CommitProgram } from './semantic';

export const SOURCE_FILE = /\.(?:[cm]?[jt]sx?)$/;
/** Bigger files are generated or vendored; parsing them costs much and tells little about coupling. */
export const MAX_SOURCE_BYTES = 2 * 1024 * 1024;
/** Extensions tried, in order, when an import specifier names a file without one (Node/TS resolution). */
const RESOLVE_EXTENSIONS = ['.ts', '.tsx', '.d.ts', '.js', '.jsx', '.mts', '.cts', '.mjs', '.cjs', '.json'];
/** Files per store write (one Neo4j transaction each); tuned with bench/codegraph.ts. */
export const WRITE_BATCH = 500;

export const isSourceFile = (f: string): boolean => SOURCE_FILE.test(f) && !f.endsWith('.d.ts') && !/(^|\/)node_modules\//.test(f) && !f.includes('\n');
export const isTestFile = (f: string): boolean => /(^|\/)(__tests__|tests?|spec)\//.test(f) || /\.(test|spec)\.[cm]?[jt]sx?$/.test(f);

/** The repository file a relative specifier names, by Node/TypeScript resolution rules; undefined for packages. */
export function resolveRelativeImport(importer: string, specifier: string, files: ReadonlySet<string>): string | undefined {
  const base = relativeBase(importer, specifier);
  if (base === undefined) return undefined;
  return candidatesFor(base).find((c) => c !== '' && files.has(c));
}

function relativeBase(importer: string, specifier: string): string | undefined {
  if (!/^\.\.?(?:\/|$)/.test(specifier)) return undefined; // package or path alias: not a repository file
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(importer), specifier));
  if (base === '..' || base.startsWith('../')) return undefined;
  return base === '.' ? '' : base.replace(/\/$/, '');
}

function candidatesFor(stem: string): string[] {
  const candidates = [stem, ...RESOLVE_EXTENSIONS.map((ext) => stem + ext), ...RESOLVE_EXTENSIONS.map((ext) => `${stem ? stem + '/' : ''}index${ext}`)];
  // TypeScript's ESM convention: './x.js' in source names './x.ts' (and .mjs → .mts, .cjs → .cts, .jsx → .tsx).
  const esm = /^(.*)\.([cm]?)js(x?)$/.exec(stem);
  if (esm) candidates.push(`${esm[1]}.${esm[2]}ts${esm[3]}`, `${esm[1]}.d.${esm[2]}ts`);
  return candidates;
}

/** What a file exports, for linking its importers: names → local symbol, and resolved re-exports. */
export interface ExportTable {
  names: Record<string, string | null>;
  reexports: { target: string | null; names: [string, string][] | '*' }[];
}

const EMPTY_TABLE: ExportTable = { names: {}, reexports: [] };

/** The symbol id an export name of a file stands for, following re-export chains. */
export function resolveExport(tables: ReadonlyMap<string, ExportTable>, file: string, name: string, depth = 0): string | undefined {
  if (depth > 8) return undefined;
  const table = tables.get(file);
  if (!table) return undefined;
  if (Object.prototype.hasOwnProperty.call(table.names, name)) {
    const local = table.names[name];
    return local ? `${file}#${local}` : undefined;
  }
  for (const re of table.reexports) {
    if (re.target === null) continue;
    if (re.names === '*') {
      if (name === 'default') continue;
      const found = resolveExport(tables, re.target, name, depth + 1);
      if (found) return found;
    } else {
      for (const [imported, exported] of re.names) if (exported === name) return imported === '*' ? undefined : resolveExport(tables, re.target, imported, depth + 1);
    }
  }
  return undefined;
}

export interface UnparsedFile {
  path: string;
  error: string;
}

export interface IngestResult {
  mode: 'full' | 'incremental';
  repo: string;
  sha: string;
  fromSha?: string;
  totalFiles: number;
  /** Files read and parsed in this run (all source files for a full ingest). */
  filesParsed: number;
  filesRemoved: number;
  symbols: number;
  unparsed: UnparsedFile[];
  /**
   * The type checker's part: files in its program, calls it placed that the parser alone could not,
   * and why it did not run or what of the repository's tsconfig it could not use.
   */
  semantic: { files: number; resolvedCalls: number; ms: number; skipped?: string; configProblem?: string };
  /** Where the test files came from: the repo's test config, or the fallback by path and why. */
  testConfig?: string;
  /** Phases; `clear` (emptying the store before a full ingest) is kept out of `write`. */
  ms: { read: number; parse: number; history: number; clear: number; write: number; total: number };
}

export interface IngestOptions {
  /** 'auto' (default): incremental when the store holds an ancestor commit of the same repo. */
  mode?: 'auto' | 'full' | 'incremental';
  onProgress?: (details: Record<string, unknown>) => void;
  /** Files per store write (default WRITE_BATCH). */
  writeBatch?: number;
  /** Resolve calls through instances with the type checker (default true; false: the parser alone). */
  semantic?: boolean;
}

interface Parsed {
  path: string;
  lines: number;
  source?: ParsedSource;
  error?: string;
}

/**
 * Reads (one `git cat-file --batch`) and parses `files`; `extra` paths (CODEOWNERS candidates) ride
 * in the same batch and come back raw in `extras` when present.
 */
async function readAndParse(
  repo: string,
  sha: string,
  files: readonly string[],
  timing: IngestResult['ms'],
  extra: readonly string[] = [],
  extras?: Map<string, Buffer>,
  reader?: BlobReader,
  programOf?: (blobs: ReadonlyMap<string, Buffer>) => CommitProgram | undefined,
): Promise<Map<string, Parsed>> {
  let t = Date.now();
  const wanted = [...files, ...extra.filter((e) => !files.includes(e))];
  const blobs = reader ? await reader.read(sha, wanted) : await readBlobs(repo, sha, wanted);
  if (reader) {
    // Every name asked for is in the commit's tree: one a reused reader missed is read afresh.
    const missed = wanted.filter((f) => !blobs.has(f));
    if (missed.length > 0) for (const [f, b] of await readBlobs(repo, sha, missed)) blobs.set(f, b);
  }
  for (const e of extra) {
    const b = blobs.get(e);
    if (b && extras) extras.set(e, b);
  }
  timing.read += Date.now() - t;
  t = Date.now();
  const program = programOf?.(blobs);
  const parsed = new Map<string, Parsed>();
  for (const file of files) {
    const blob = blobs.get(file);
    if (!blob) parsed.set(file, { path: file, lines: 0, error: 'unreadable' });
    else if (blob.length > MAX_SOURCE_BYTES) parsed.set(file, { path: file, lines: 0, error: `over ${MAX_SOURCE_BYTES} bytes` });
    else {
      const text = blob.toString('utf8');
      const sourceFile = program?.sourceFile(file);
      const result = parseSource(file, text, sourceFile && sourceFile.text === text ? { sourceFile, resolve: program!.resolver } : undefined);
      parsed.set(file, result.ok ? { path: file, lines: result.lines, source: result } : { path: file, lines: result.lines, error: result.error });
    }
  }
  timing.parse += Date.now() - t;
  return parsed;
}

function exportTableOf(p: Parsed, repoFiles: ReadonlySet<string>): ExportTable {
  if (!p.source) return EMPTY_TABLE;
  return {
    names: p.source.exports,
    reexports: p.source.reexports.map((re) => ({ target: resolveRelativeImport(p.path, re.specifier, repoFiles) ?? null, names: re.names })),
  };
}

/** Links one parsed file against the export tables: its fragment, minus churn (filled by the caller). */
function linkFile(p: Parsed, repoFiles: ReadonlySet<string>, sourceFiles: ReadonlySet<string>, tables: ReadonlyMap<string, ExportTable>, churn: number, isSymbol: (id: string) => boolean, isTest: (path: string) => boolean): FileFragment {
  const file: FileRecord = {
    path: p.path,
    lines: p.lines,
    isTest: isTest(p.path),
    parsed: !!p.source,
    churn,
    exports: JSON.stringify(tables.get(p.path) ?? EMPTY_TABLE),
    unresolved: '[]',
  };
  if (p.error) file.parseError = p.error;
  const src = p.source;
  if (!src) return { file, symbols: [], edges: [] };
  const symbols: SymbolRecord[] = src.symbols.map((s) => ({ id: `${p.path}#${s.name}`, file: p.path, name: s.name, kind: s.kind, line: s.line, endLine: s.endLine }));
  const edges: CodeEdge[] = [];
  const seen = new Set<string>();
  const add = (e: CodeEdge) => {
    const key = `${e.type}\0${e.from}\0${e.to}`;
    if (!seen.has(key) && e.from !== e.to) {
      seen.add(key);
      edges.push(e);
    }
  };
  for (const s of symbols) add({ type: 'DECLARES', from: p.path, to: s.id });
  const unresolved: string[] = [];
  const bindings = new Map<string, { target: string; imported: string }>();
  const importTargets = (specifier: string, typeOnly = false): string | undefined => {
    const target = resolveRelativeImport(p.path, specifier, repoFiles);
    if (target === undefined) {
      const base = relativeBase(p.path, specifier);
      if (base !== undefined) unresolved.push(base);
      return undefined;
    }
    if (sourceFiles.has(target)) add({ type: typeOnly ? 'IMPORTS_TYPE' : 'IMPORTS', from: p.path, to: target });
    return target;
  };
  for (const imp of src.imports) {
    const target = importTargets(imp.specifier, imp.typeOnly);
    if (target !== undefined) for (const b of imp.bindings) bindings.set(b.local, { target, imported: b.imported });
  }
  for (const re of src.reexports) importTargets(re.specifier);
  const own = new Set(symbols.map((s) => s.name));
  for (const use of src.uses) {
    if (use.resolved) {
      // Placed by the type checker: a method of a repository class the graph holds.
      for (const m of use.resolved) {
        const target = `${m.file}#${m.symbol}`;
        if (!isSymbol(target)) continue;
        if (m.file !== p.path) add({ type: 'REFERENCES', from: p.path, to: target });
        if (use.from) add({ type: 'CALLS', from: `${p.path}#${use.from}`, to: target });
      }
      continue;
    }
    let target: string | undefined;
    if (use.name === 'this') target = use.member ? `${p.path}#${use.member}` : undefined;
    else {
      const b = bindings.get(use.name);
      if (b) {
        if (b.imported === '*') target = use.member ? resolveExport(tables, b.target, use.member) : undefined;
        else target = resolveExport(tables, b.target, b.imported);
      } else if (own.has(use.name)) target = `${p.path}#${use.name}`;
    }
    if (!target) continue;
    if (!target.startsWith(`${p.path}#`)) add({ type: 'REFERENCES', from: p.path, to: target });
    if (use.from && use.call) add({ type: 'CALLS', from: `${p.path}#${use.from}`, to: target });
  }
  file.unresolved = JSON.stringify([...new Set(unresolved)].sort());
  return { file, symbols, edges };
}

/** Closes `tables` over the import and re-export targets of `parsed`, reading missing tables from the store. */
async function loadTables(store: CodeGraphStore, parsed: Iterable<Parsed>, repoFiles: ReadonlySet<string>, tables: Map<string, ExportTable>): Promise<void> {
  let wanted = new Set<string>();
  for (const p of parsed) {
    if (!p.source) continue;
    for (const s of [...p.source.imports.map((i) => i.specifier), ...p.source.reexports.map((r) => r.specifier)]) {
      const t = resolveRelativeImport(p.path, s, repoFiles);
      if (t !== undefined && !tables.has(t)) wanted.add(t);
    }
  }
  for (let depth = 0; wanted.size > 0 && depth < 10; depth++) {
    const got = await store.getFiles([...wanted]);
    const next = new Set<string>();
    for (const file of wanted) {
      const table: ExportTable = got.has(file) ? (JSON.parse(got.get(file)!.exports) as ExportTable) : EMPTY_TABLE;
      tables.set(file, table);
      for (const re of table.reexports) if (re.target && !tables.has(re.target)) next.add(re.target);
    }
    wanted = next;
  }
}

/** CODEOWNERS rules from the first of its conventional paths present among `blobs`. */
function codeownersFrom(blobs: ReadonlyMap<string, Buffer>): CodeownersRule[] {
  const present = CODEOWNERS_PATHS.find((p) => blobs.has(p));
  return present ? parseCodeowners(blobs.get(present)!.toString('utf8')) : [];
}

function ownsFor(files: readonly string[], rules: readonly CodeownersRule[], authors: (file: string) => Map<string, number> | undefined): OwnsEdge[] {
  const owns: OwnsEdge[] = [];
  for (const file of files) {
    for (const owner of ownersOf(rules, file)) owns.push({ owner, file, source: 'codeowners', commits: 0 });
    for (const [owner, commits] of authors(file) ?? []) owns.push({ owner, file, source: 'git', commits });
  }
  return owns;
}

async function writeFragments(store: CodeGraphStore, fragments: FileFragment[], removed: string[], options: WriteOptions = {}, batch = WRITE_BATCH): Promise<void> {
  if (fragments.length === 0 && removed.length > 0) await store.replaceFiles([], removed, options);
  for (let i = 0; i < fragments.length; i += batch) await store.replaceFiles(fragments.slice(i, i + batch), i === 0 ? removed : [], options);
}

/** Ingests `rev` of `repo` into the store: incrementally when it can, fully otherwise. */
export async function ingestRepo(store: CodeGraphStore, repo: string, rev: string, options: IngestOptions = {}): Promise<IngestResult> {
  const started = Date.now();
  const mode = options.mode ?? 'auto';
  const meta = await store.getMeta();
  const same = mode !== 'full' && meta !== undefined && meta.repo === path.resolve(repo);
  const target = `${rev}^{commit}`;
  const notIncremental = (sha: string) =>
    new Error(`cannot ingest ${sha} incrementally: the store holds ${meta ? `${meta.sha} of ${meta.repo}` : 'nothing'}, not an ancestor of it`);
  if (same && FAST_REV.test(rev) && !rev.includes('..')) {
    // The common case without a new process: the repository's long-lived `git cat-file --batch`
    // resolves the revision, walks the new commits and diffs their trees while the store lists its
    // files; then the same process reads the changed blobs. When it cannot answer exactly (a merge,
    // a mailmap…), one `git log stored..rev` does, with a blob reader starting alongside. An empty
    // range (rev behind) or a failed log (a bad revision, a stored commit git no longer has) goes
    // the general way below, which reports errors.
    const storedFiles = quiet(store.listFiles());
    const walked = await walkRange(repo, meta.sha, rev).catch(() => undefined);
    if (walked === 'same') {
      const total = (await storedFiles).length;
      return { mode: 'incremental', repo, sha: meta.sha, fromSha: meta.sha, totalFiles: total, filesParsed: 0, filesRemoved: 0, symbols: 0, unparsed: [], semantic: { files: 0, resolvedCalls: 0, ms: 0 }, ms: { read: 0, parse: 0, history: 0, clear: 0, write: 0, total: Date.now() - started } };
    }
    const blobs: BlobReader = walked ? GitBatch.for(repo) : new BlobPrefetch(repo);
    const log: RangeLog | undefined = walked ?? (await rangeLog(repo, meta.sha, target).catch(() => undefined));
    if (log?.ancestor) {
      const changes = log.changes ? Promise.resolve(log.changes) : quiet(diffNames(repo, meta.sha, log.sha));
      try {
        return await incrementalIngest(store, repo, meta, log.sha, started, options, { changes, history: Promise.resolve(log.history), blobs, storedFiles });
      } finally {
        blobs.cancel(); // a no-op once read; ends a prefetched reader when the ingest failed before reading
      }
    }
    blobs.cancel();
    if (log) {
      if (mode === 'incremental') throw notIncremental(log.sha);
      return fullIngest(store, repo, log.sha, started, options);
    }
  }
  const [sha, ancestor] = await Promise.all([commitOf(repo, rev), same ? isAncestor(repo, meta.sha, target).catch(() => false) : Promise.resolve(false)]);
  if (same) {
    if (meta.sha === sha) {
      const total = (await store.listFiles()).length;
      return { mode: 'incremental', repo, sha, fromSha: sha, totalFiles: total, filesParsed: 0, filesRemoved: 0, symbols: 0, unparsed: [], semantic: { files: 0, resolvedCalls: 0, ms: 0 }, ms: { read: 0, parse: 0, history: 0, clear: 0, write: 0, total: Date.now() - started } };
    }
    if (ancestor) {
      const pre = startPrefetch(store, repo, meta.sha, sha);
      try {
        return await incrementalIngest(store, repo, meta, sha, started, options, pre);
      } finally {
        pre.blobs.cancel();
      }
    }
  }
  if (mode === 'incremental') throw notIncremental(sha);
  return fullIngest(store, repo, sha, started, options);
}

/** Revisions `git log a..<rev>^{commit}` reads as one commit: no options, ranges, paths or spaces. */
const FAST_REV = /^[\w/@{}~^.+-]+$/;

async function fullIngest(store: CodeGraphStore, repo: string, sha: string, started: number, options: IngestOptions): Promise<IngestResult> {
  const ms = { read: 0, parse: 0, history: 0, clear: 0, write: 0, total: 0 };
  let t = Date.now();
  try {
    GitBatch.for(repo); // started now, it answers the next incremental ingest without a new process
  } catch {
    // an unreadable directory: the ingest reports it below
  }
  const historyRun = fileHistory(repo, sha); // runs while the tree is listed, read and parsed
  historyRun.catch(() => undefined);
  const all = await listTree(repo, sha);
  ms.read += Date.now() - t;
  const repoFiles = new Set(all);
  const sources = all.filter(isSourceFile);
  const sourceSet = new Set(sources);
  options.onProgress?.({ phase: 'parse', files: sources.length });
  const extras = new Map<string, Buffer>();
  const semantic = new SemanticRun(options, sources.length);
  const programTexts = semantic.on ? all.filter(isProgramText) : [];
  const parsed = await readAndParse(repo, sha, sources, ms, [...CODEOWNERS_PATHS.filter((p) => repoFiles.has(p)), ...TEST_CONFIG_PATHS.filter((p) => repoFiles.has(p)), ...programTexts], extras, undefined, (blobs) =>
    semantic.build(repo, sha, sources, [...sources, ...programTexts], blobs),
  );
  const rules = codeownersFrom(extras);
  const tests = testSelectionFrom(extras);
  t = Date.now();
  const history = await historyRun;
  ms.history += Date.now() - t;
  t = Date.now();
  const tables = new Map<string, ExportTable>();
  for (const p of parsed.values()) tables.set(p.path, exportTableOf(p, repoFiles));
  const isSymbol = symbolLookup(parsed, semantic.program);
  const fragments = sources.map((f) => linkFile(parsed.get(f)!, repoFiles, sourceSet, tables, history.churn.get(f) ?? 0, isSymbol, tests.isTest));
  ms.parse += Date.now() - t;
  options.onProgress?.({ phase: 'write', files: fragments.length });
  t = Date.now();
  await store.clear();
  await store.init();
  ms.clear += Date.now() - t;
  t = Date.now();
  // The store is empty now: nothing old to delete (fresh), so the write is pure MERGE.
  await writeFragments(store, fragments, [], { fresh: true }, options.writeBatch);
  await store.replaceOwnership(sources, ownsFor(sources, rules, (f) => history.authors.get(f)), { fresh: true });
  await store.setMeta({ repo: path.resolve(repo), sha, ingestedAt: new Date().toISOString(), otherPaths: all.filter((f) => !sourceSet.has(f)), testConfig: tests.source });
  ms.write += Date.now() - t;
  ms.total = Date.now() - started;
  return {
    mode: 'full',
    repo,
    sha,
    totalFiles: sources.length,
    filesParsed: sources.length,
    filesRemoved: 0,
    symbols: fragments.reduce((n, f) => n + f.symbols.length, 0),
    unparsed: [...parsed.values()].filter((p) => p.error).map((p) => ({ path: p.path, error: p.error! })),
    semantic: semantic.report(parsed.values(), isSymbol),
    testConfig: tests.source,
    ms,
  };
}

/**
 * Unchanged files whose text names a method the changed files declare now and did not before (`before`:
 * the previous commit's texts). A name is a cheap test: a file is re-read when it may call the method.
 */
function callersOfAddedMethods(changed: readonly string[], parsed: ReadonlyMap<string, Parsed>, before: ReadonlyMap<string, string>): string[] {
  const added = new Set<string>();
  for (const f of changed) {
    const now = parsed.get(f)?.source?.symbols.filter((s) => s.kind === 'method') ?? [];
    if (now.length === 0) continue;
    const old = before.get(f);
    const was = old === undefined ? undefined : parseSource(f, old);
    const had = new Set(was?.ok ? was.symbols.map((s) => s.name) : []);
    for (const s of now) if (!had.has(s.name)) added.add(s.name.slice(s.name.lastIndexOf('.') + 1));
  }
  if (added.size === 0) return [];
  const changedSet = new Set(changed);
  const names = new RegExp(`\\b(?:${[...added].map((n) => n.replace(/[$]/g, '\\$&')).join('|')})\\b`);
  return [...before].filter(([f, text]) => !changedSet.has(f) && isSourceFile(f) && names.test(text)).map(([f]) => f);
}

/** The test selection from the config files read alongside the sources. */
function testSelectionFrom(extras: ReadonlyMap<string, Buffer>): TestSelection {
  return testSelection(new Map(TEST_CONFIG_PATHS.filter((p) => extras.has(p)).map((p) => [p, extras.get(p)!.toString('utf8')])), isTestFile);
}

/**
 * Whether a symbol id names a symbol of the graph: the parsed files' symbols, else (an incremental ingest
 * resolving a call into a file it did not read) the symbols of the program's parse of that file.
 */
function symbolLookup(parsed: ReadonlyMap<string, Parsed>, program: CommitProgram | undefined): (id: string) => boolean {
  const byFile = new Map<string, Set<string>>();
  return (id) => {
    const at = id.lastIndexOf('#');
    const file = id.slice(0, at);
    let names = byFile.get(file);
    if (!names) {
      const p = parsed.get(file);
      let symbols = p?.source?.symbols;
      if (!p) {
        const sourceFile = program?.sourceFile(file);
        const r = sourceFile ? parseSource(file, sourceFile.text, { sourceFile, resolve: () => [] }) : undefined;
        symbols = r?.ok ? r.symbols : undefined;
      }
      byFile.set(file, (names = new Set((symbols ?? []).map((s) => s.name))));
    }
    return names.has(id.slice(at + 1));
  };
}

/** The type checker's part of one ingest: whether it runs, its program, its time. */
class SemanticRun {
  readonly on: boolean;
  private readonly skipped: string | undefined;
  program: CommitProgram | undefined;
  private ms = 0;

  constructor(options: IngestOptions, sourceFiles: number) {
    this.skipped = options.semantic === false ? 'turned off' : sourceFiles > MAX_SEMANTIC_FILES ? `over ${MAX_SEMANTIC_FILES} source files` : undefined;
    this.on = this.skipped === undefined;
  }

  /** The commit's program over `texts` (the read blobs, else the kept program's texts). */
  build(repo: string, sha: string, sources: readonly string[], paths: readonly string[], blobs: ReadonlyMap<string, Buffer>, base?: ReadonlyMap<string, string>): CommitProgram | undefined {
    if (!this.on) return undefined;
    const t = Date.now();
    const texts = new Map(base ?? []);
    for (const f of paths) {
      const b = blobs.get(f);
      if (b && b.length <= MAX_SOURCE_BYTES) texts.set(f, b.toString('utf8'));
      else texts.delete(f); // generated or vendored files stay out, as from the parse
    }
    this.program = commitProgram(repo, sha, texts, sources.filter((f) => texts.has(f)));
    this.ms += Date.now() - t;
    return this.program;
  }

  /** Adds the time the checker's queries took (they run during the parse). */
  report(parsed: Iterable<Parsed>, isSymbol: (id: string) => boolean): IngestResult['semantic'] {
    let files = 0;
    let resolvedCalls = 0;
    for (const p of parsed) {
      if (!p.source) continue;
      files++;
      for (const u of p.source.uses) if (u.resolved?.some((m) => isSymbol(`${m.file}#${m.symbol}`))) resolvedCalls++;
    }
    return {
      files: this.program ? files : 0,
      resolvedCalls,
      ms: this.ms,
      ...(this.skipped ? { skipped: this.skipped } : {}),
      ...(this.program?.configProblem ? { configProblem: this.program.configProblem } : {}),
    };
  }
}

interface IncrementalPrefetch {
  changes: Promise<FileChange[]>;
  history: Promise<History>;
  blobs: BlobReader;
  storedFiles: Promise<string[]>;
}

/** A promise whose rejection is handled later (or never, when its work is discarded). */
function quiet<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/** The general way: `git diff --name-status` and `git log`, with the blob reader and the file list alongside. */
function startPrefetch(store: CodeGraphStore, repo: string, from: string, to: string): IncrementalPrefetch {
  return { changes: quiet(diffNames(repo, from, to)), history: quiet(fileHistory(repo, `${from}..${to}`)), blobs: new BlobPrefetch(repo), storedFiles: quiet(store.listFiles()) };
}

async function incrementalIngest(store: CodeGraphStore, repo: string, meta: GraphMeta, sha: string, started: number, options: IngestOptions, pre: IncrementalPrefetch): Promise<IngestResult> {
  const ms = { read: 0, parse: 0, history: 0, clear: 0, write: 0, total: 0 };
  const fromSha = meta.sha;
  let t = Date.now();
  const [diff, storedFiles] = await Promise.all([pre.changes, pre.storedFiles]);
  ms.read += Date.now() - t;
  t = Date.now();
  const history = await pre.history;
  ms.history += Date.now() - t;
  t = Date.now();
  // The tree is the stored one (File nodes + otherPaths) changed by the diff: listed again only when
  // the stored graph does not carry its other paths.
  let all: string[];
  if (meta.otherPaths) {
    const tree = new Set([...storedFiles, ...meta.otherPaths]);
    for (const c of diff) {
      if (c.status === 'D') tree.delete(c.path);
      else tree.add(c.path);
    }
    all = [...tree];
  } else all = await listTree(repo, sha);
  ms.read += Date.now() - t;
  const repoFiles = new Set(all);
  // A file the new commits changed and changed back is not in the diff, yet its churn and authors
  // grew: it is re-read like a modified one (a full ingest counts those commits too).
  const changes = [...diff];
  const listed = new Set(diff.map((c) => c.path));
  for (const f of history.churn.keys()) if (!listed.has(f) && repoFiles.has(f)) changes.push({ status: 'M', path: f });
  const sourceSet = new Set(all.filter(isSourceFile));
  const changed = changes.filter((c) => c.status !== 'D' && isSourceFile(c.path)).map((c) => c.path);
  const deleted = changes.filter((c) => c.status === 'D' && isSourceFile(c.path)).map((c) => c.path);
  const added = changes.filter((c) => c.status === 'A' && isSourceFile(c.path)).map((c) => c.path);
  const changedSet = new Set(changed);
  const codeownersChanged = changes.some((c) => CODEOWNERS_PATHS.includes(c.path));
  // Which files are tests depends on the runner's config: when it changed, every file may have changed side.
  if (changes.some((c) => TEST_CONFIG_PATHS.includes(c.path))) return fullIngest(store, repo, sha, started, options);
  options.onProgress?.({ phase: 'parse', files: changed.length });

  // The changed files are read (CODEOWNERS rides in the same cat-file batch) and parsed while the
  // store reads, in one query, their records, importers, owners and the files they import.
  const extras = new Map<string, Buffer>();
  // The checker's program: the kept one's texts with the change applied, else (a new process) every
  // source text of the commit, read in the same batch as the changed files.
  const semantic = new SemanticRun(options, sourceSet.size);
  const base = semantic.on ? keptTexts(repo, fromSha) : undefined;
  const programTexts = !semantic.on ? [] : base ? changes.filter((c) => c.status !== 'D' && isProgramText(c.path)).map((c) => c.path) : [...sourceSet].filter((f) => !changedSet.has(f)).concat(all.filter(isProgramText));
  if (base) for (const c of changes) if (c.status === 'D') base.delete(c.path);
  const [parsed, context] = await Promise.all([
    readAndParse(repo, sha, changed, ms, [...CODEOWNERS_PATHS.filter((p) => repoFiles.has(p)), ...TEST_CONFIG_PATHS.filter((p) => repoFiles.has(p)), ...programTexts], extras, pre.blobs, (blobs) =>
      semantic.build(repo, sha, [...sourceSet], [...changed, ...programTexts], blobs, base),
    ),
    store.contextOf([...changed, ...deleted]),
  ]);
  const rules = codeownersFrom(extras);
  const tests = testSelectionFrom(extras);
  const before = context.records;
  // Files whose links the change invalidates: importers of deleted files and of files whose exports changed…
  const tables = new Map<string, ExportTable>();
  for (const p of parsed.values()) tables.set(p.path, exportTableOf(p, repoFiles));
  const exportsChanged = changed.filter((f) => before.get(f)?.exports !== JSON.stringify(tables.get(f)));
  const relink = new Set<string>();
  for (const f of [...exportsChanged, ...deleted]) for (const importer of context.importers.get(f) ?? []) relink.add(importer);
  // …and files with a dangling relative import that an added file now satisfies.
  if (added.length > 0) {
    const addedSet = new Set(added);
    const others = storedFiles.filter((f) => !addedSet.has(f));
    const records = await store.getFiles(others);
    for (const record of records.values()) {
      const stems = JSON.parse(record.unresolved) as string[];
      if (stems.some((stem) => candidatesFor(stem).some((c) => addedSet.has(c)))) relink.add(record.path);
    }
  }
  // …and files that may call a method a changed file added (a rename adds one): the checker places those
  // calls only when the caller is read again. The kept program's texts say what the file declared before.
  if (base) for (const f of callersOfAddedMethods(changed, parsed, base)) relink.add(f);
  for (const f of [...changed, ...deleted]) relink.delete(f);
  for (const f of [...relink]) if (!sourceSet.has(f)) relink.delete(f);
  let relinkRecords = new Map<string, FileRecord>();
  if (relink.size > 0) {
    const [relinked, records] = await Promise.all([readAndParse(repo, sha, [...relink], ms, [], undefined, undefined, () => semantic.program), store.getFiles([...relink])]);
    relinkRecords = records;
    for (const p of relinked.values()) {
      parsed.set(p.path, p);
      tables.set(p.path, exportTableOf(p, repoFiles));
    }
  }

  t = Date.now();
  // What loadTables would read from the store for the changed files' imports is in the context already.
  for (const [p, record] of context.imported) if (!tables.has(p)) tables.set(p, JSON.parse(record.exports) as ExportTable);
  await loadTables(store, parsed.values(), repoFiles, tables);
  const isSymbol = symbolLookup(parsed, semantic.program);
  const fragments = [...parsed.values()].map((p) => {
    const churn = relink.has(p.path) ? (relinkRecords.get(p.path)?.churn ?? 0) : (before.get(p.path)?.churn ?? 0) + (history.churn.get(p.path) ?? 0);
    return linkFile(p, repoFiles, sourceSet, tables, churn, isSymbol, tests.isTest);
  });
  ms.parse += Date.now() - t;

  // Ownership: git counts of the changed files grow by the new commits; CODEOWNERS is re-applied
  // to the changed files, or to every file when CODEOWNERS itself changed.
  const gitBefore = new Map<string, Map<string, number>>();
  for (const o of context.owns) {
    if (o.source !== 'git' || !changedSet.has(o.file)) continue;
    let m = gitBefore.get(o.file);
    if (!m) gitBefore.set(o.file, (m = new Map()));
    m.set(o.owner, o.commits);
  }
  const merged = (file: string) => {
    const m = new Map(gitBefore.get(file) ?? []);
    for (const [a, n] of history.authors.get(file) ?? []) m.set(a, (m.get(a) ?? 0) + n);
    return m;
  };
  let ownership = { files: changed, owns: ownsFor(changed, rules, merged) };
  if (codeownersChanged) {
    const rest = [...sourceSet].filter((f) => !changedSet.has(f));
    const restGit = (await store.ownershipOf(rest)).filter((o) => o.source === 'git');
    ownership = { files: [...changed, ...rest], owns: [...ownership.owns, ...ownsFor(rest, rules, () => undefined), ...restGit] };
  }
  t = Date.now();
  // One write (one transaction in Neo4j) unless the fragments need more than one batch.
  const newMeta: GraphMeta = { repo: path.resolve(repo), sha, ingestedAt: new Date().toISOString(), otherPaths: all.filter((f) => !sourceSet.has(f)), testConfig: tests.source };
  const batch = options.writeBatch ?? WRITE_BATCH;
  if (fragments.length <= batch) await store.update({ fragments, removedPaths: deleted, ownership, meta: newMeta });
  else {
    await writeFragments(store, fragments, deleted, {}, batch);
    await store.update({ fragments: [], removedPaths: [], ownership, meta: newMeta });
  }
  ms.write += Date.now() - t;
  ms.total = Date.now() - started;
  return {
    mode: 'incremental',
    repo,
    sha,
    fromSha,
    totalFiles: sourceSet.size,
    filesParsed: parsed.size,
    filesRemoved: deleted.length,
    symbols: fragments.reduce((n, f) => n + f.symbols.length, 0),
    unparsed: [...parsed.values()].filter((p) => p.error).map((p) => ({ path: p.path, error: p.error! })),
    semantic: semantic.report(parsed.values(), isSymbol),
    testConfig: tests.source,
    ms,
  };
}
