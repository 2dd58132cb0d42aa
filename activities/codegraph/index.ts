/**
 * Risk assessment from the candidate's import graph. This embedded version scans the candidate
 * commit's TS/JS sources straight from git (no work tree needed); a Neo4j-backed graph will replace
 * the scan behind the same `assessRisk` interface.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { asyncLocalStorage } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { ts } from 'ts-morph';
import { z } from 'zod';
import { parseChangeRequest, type ChangeRequest } from '../../core/change-request';
import { protectedPathsTouched } from '../../core/policy';
import { computeRisk } from '../../core/risk';
import type { Candidate, RiskReport } from '../../core/stages';
import { parseOrThrow, ValidationError } from '../../core/validation';

const SOURCE_FILE = /\.(?:[cm]?[jt]sx?)$/;
/** Bigger files are generated or vendored; parsing them costs much and tells little about coupling. */
const MAX_SOURCE_BYTES = 2 * 1024 * 1024;
/** Extensions tried, in order, when an import specifier names a file without one (Node/TS resolution). */
const RESOLVE_EXTENSIONS = ['.ts', '.tsx', '.d.ts', '.js', '.jsx', '.mts', '.cts', '.mjs', '.cjs', '.json'];

export interface AssessRiskInput {
  changeRequest: ChangeRequest;
  candidate: Candidate;
}

/** An import graph of one commit: who imports each file, and what could not be read. */
export interface ImportGraph {
  sourceFiles: string[];
  /** Target file → distinct files that import it (never itself). */
  importers: Map<string, Set<string>>;
  unparsedFiles: string[];
}

const candidateInputSchema = z
  .object({
    sha: z.string().regex(/^[0-9a-f]{7,64}$/i, 'must be a git commit id'),
    changedFiles: z.array(z.string().min(1)),
    diffStat: z.object({ files: z.number().int().min(0), insertions: z.number().int().min(0), deletions: z.number().int().min(0) }).passthrough(),
  })
  .passthrough();

class GitCommandError extends Error {
  constructor(
    readonly args: string[],
    readonly stderr: string,
  ) {
    super(`git ${args.join(' ')} failed: ${stderr.trim() || 'no output'}`);
    this.name = 'GitCommandError';
  }
  /** Errors that name a missing repository or object; retrying will not make them appear. */
  get isPermanent(): boolean {
    return /not a valid object name|bad object|not a git repository|cannot change to|not a tree object|invalid object name/i.test(this.stderr);
  }
}

/** Runs git without a shell; `input` is written to its stdin. */
function git(repo: string, args: string[], input?: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile('git', ['-C', repo, ...args], { encoding: 'buffer', maxBuffer: 1024 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new GitCommandError(args, stderr.toString('utf8') || err.message));
      else resolve(stdout);
    });
    child.stdin?.end(input);
  });
}

/** Heartbeats when running as an activity; a no-op when called directly (tests, CLI). */
function heartbeat(details: unknown): void {
  asyncLocalStorage.getStore()?.heartbeat(details);
}

/**
 * Reads many blobs of one commit with a single `git cat-file --batch` (one process instead of one
 * `git show` per file). Returns path → content; objects git reports missing are left out.
 */
async function readBlobs(repo: string, sha: string, files: readonly string[]): Promise<Map<string, Buffer>> {
  const contents = new Map<string, Buffer>();
  if (files.length === 0) return contents;
  const out = await git(repo, ['cat-file', '--batch'], Buffer.from(files.map((f) => `${sha}:${f}\n`).join(''), 'utf8'));
  let offset = 0;
  for (const file of files) {
    const headerEnd = out.indexOf(0x0a, offset);
    if (headerEnd < 0) break;
    const header = out.subarray(offset, headerEnd).toString('utf8');
    offset = headerEnd + 1;
    const blob = /^[0-9a-f]+ (\w+) (\d+)$/.exec(header);
    if (!blob) continue; // '<name> missing' and similar: nothing follows the header
    const size = Number(blob[2]);
    if (blob[1] === 'blob') contents.set(file, out.subarray(offset, offset + size));
    offset += size + 1; // content, then a newline
  }
  return contents;
}

function scriptKindFor(file: string): ts.ScriptKind {
  if (/\.[cm]?ts$/.test(file)) return ts.ScriptKind.TS;
  if (file.endsWith('.tsx')) return ts.ScriptKind.TSX;
  // Plain .js often carries JSX (React projects); the JSX grammar reads JSX-free JS the same way.
  return ts.ScriptKind.JSX;
}

/**
 * Module specifiers a source file imports: import/export … from, import x = require(), require(),
 * dynamic import() and import('…') types. Returns null when the file does not parse.
 */
export function importSpecifiers(file: string, text: string): string[] | null {
  const sourceFile = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, scriptKindFor(file));
  // parseDiagnostics is internal but has been stable for years; the public route needs a whole Program.
  const parseErrors = (sourceFile as unknown as { parseDiagnostics?: readonly ts.Diagnostic[] }).parseDiagnostics ?? [];
  if (parseErrors.length > 0) return null;
  const specifiers: string[] = [];
  const literal = (node: ts.Node | undefined) => {
    if (node && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node))) specifiers.push(node.text);
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) literal(node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) literal(node.moduleReference.expression);
    else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require')) literal(node.arguments[0]);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) literal(node.argument.literal);
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return specifiers;
}

/** The repository file a relative specifier names, by Node/TypeScript resolution rules; undefined for packages. */
export function resolveRelativeImport(importer: string, specifier: string, files: ReadonlySet<string>): string | undefined {
  if (!/^\.\.?(?:\/|$)/.test(specifier)) return undefined; // package or path alias: not a repository file
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(importer), specifier));
  if (base === '..' || base.startsWith('../')) return undefined;
  const stem = base === '.' ? '' : base.replace(/\/$/, '');
  const candidates = [stem, ...RESOLVE_EXTENSIONS.map((ext) => stem + ext), ...RESOLVE_EXTENSIONS.map((ext) => `${stem ? stem + '/' : ''}index${ext}`)];
  // TypeScript's ESM convention: './x.js' in source names './x.ts' (and .mjs → .mts, .cjs → .cts, .jsx → .tsx).
  const esm = /^(.*)\.([cm]?)js(x?)$/.exec(stem);
  if (esm) candidates.push(`${esm[1]}.${esm[2]}ts${esm[3]}`, `${esm[1]}.d.${esm[2]}ts`);
  return candidates.find((c) => c !== '' && files.has(c));
}

/** Builds the import graph of the TS/JS sources (outside node_modules) at one commit. */
export async function buildImportGraph(repo: string, sha: string): Promise<ImportGraph> {
  const listing = (await git(repo, ['ls-tree', '-r', '-z', '--full-tree', '--name-only', sha])).toString('utf8');
  const allFiles = listing.split('\0').filter((f) => f !== '');
  const fileSet = new Set(allFiles);
  // cat-file --batch reads one name per line, so a path containing a newline cannot be asked for.
  const sourceFiles = allFiles.filter((f) => SOURCE_FILE.test(f) && !f.endsWith('.d.ts') && !/(^|\/)node_modules\//.test(f) && !f.includes('\n'));
  heartbeat({ phase: 'read', files: sourceFiles.length });
  const blobs = await readBlobs(repo, sha, sourceFiles);

  const importers = new Map<string, Set<string>>();
  const unparsedFiles: string[] = [];
  sourceFiles.forEach((file, i) => {
    if (i % 500 === 0) heartbeat({ phase: 'parse', done: i, of: sourceFiles.length });
    const blob = blobs.get(file);
    if (!blob) return void unparsedFiles.push(`${file} (unreadable)`);
    if (blob.length > MAX_SOURCE_BYTES) return void unparsedFiles.push(`${file} (over ${MAX_SOURCE_BYTES} bytes)`);
    const specifiers = importSpecifiers(file, blob.toString('utf8'));
    if (specifiers === null) return void unparsedFiles.push(file);
    for (const specifier of specifiers) {
      const target = resolveRelativeImport(file, specifier, fileSet);
      if (target === undefined || target === file) continue;
      let set = importers.get(target);
      if (!set) importers.set(target, (set = new Set()));
      set.add(file);
    }
  });
  return { sourceFiles, importers, unparsedFiles };
}

/** Code-graph activities: risk from the import graph of the candidate commit. */
export function createCodegraphActivities() {
  return {
    /** Scans the candidate's import graph and scores the change with core/risk.ts. */
    async assessRisk(input: AssessRiskInput): Promise<RiskReport> {
      let changeRequest: ChangeRequest;
      let candidate: z.output<typeof candidateInputSchema>;
      try {
        changeRequest = parseChangeRequest(input?.changeRequest);
        candidate = parseOrThrow(candidateInputSchema, input?.candidate, 'candidate');
      } catch (err) {
        if (err instanceof ValidationError) throw ApplicationFailure.nonRetryable(err.message, 'InvalidInput');
        throw err;
      }

      let graph: ImportGraph;
      try {
        graph = await buildImportGraph(changeRequest.repo, candidate.sha);
      } catch (err) {
        if (err instanceof GitCommandError && err.isPermanent)
          throw ApplicationFailure.nonRetryable(`cannot read commit ${candidate.sha} in ${changeRequest.repo}: ${err.stderr.trim()}`, 'InvalidInput');
        throw err;
      }

      const fanIn: Record<string, number> = {};
      for (const file of candidate.changedFiles) fanIn[file] = graph.importers.get(file)?.size ?? 0;
      return computeRisk({
        changedFiles: candidate.changedFiles,
        insertions: candidate.diffStat.insertions,
        deletions: candidate.diffStat.deletions,
        fanIn,
        totalFiles: graph.sourceFiles.length,
        protectedTouched: protectedPathsTouched(candidate.changedFiles, changeRequest.protectedPaths).map((t) => t.file),
        unparsedFiles: graph.unparsedFiles,
      });
    },
  };
}
