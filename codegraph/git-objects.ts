/** Git plumbing for the code graph: no shell, one process per question (or per range), blobs in one batch. */
import { type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { git, GitError, spawnGit } from '../io/git';

/** Text output of a whole-repository query, which may run for as long as the repository is big. */
async function gitText(repo: string, args: string[]): Promise<string> {
  return (await git(repo, args, { timeoutMs: 0 })).stdout;
}

/** The full commit id of a revision; a GitError (permanent) when it names none. */
export async function commitOf(repo: string, rev: string): Promise<string> {
  return (await gitText(repo, ['rev-parse', '--verify', '--end-of-options', `${rev}^{commit}`])).trim();
}

/** All paths in the commit's tree. */
export async function listTree(repo: string, sha: string): Promise<string[]> {
  const listing = await gitText(repo, ['ls-tree', '-r', '-z', '--full-tree', '--name-only', sha]);
  return listing.split('\0').filter((f) => f !== '');
}

/**
 * Reads many blobs of one commit with a single `git cat-file --batch` (one process instead of one
 * `git show` per file). Returns path → content; objects git reports missing are left out.
 */
export async function readBlobs(repo: string, sha: string, files: readonly string[]): Promise<Map<string, Buffer>> {
  const askable = files.filter((f) => !f.includes('\n')); // cat-file --batch reads one name per line
  if (askable.length === 0) return new Map();
  const { stdout } = await git(repo, ['cat-file', '--batch'], { input: batchRequest(sha, askable), encoding: 'buffer', timeoutMs: 0 });
  return parseBatch(stdout, askable);
}

const BATCH = ['cat-file', '--batch'];

const batchRequest = (sha: string, files: readonly string[]) => Buffer.from(files.map((f) => `${sha}:${f}\n`).join(''), 'utf8');

/** Splits `git cat-file --batch` output for `askable` (in order) into path → content. */
function parseBatch(out: Buffer, askable: readonly string[]): Map<string, Buffer> {
  const contents = new Map<string, Buffer>();
  let offset = 0;
  for (const file of askable) {
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

/**
 * A `git cat-file --batch` started before the names to read are known, so its start-up overlaps
 * other git work (an incremental ingest asks for the changed files once the diff is in). One
 * `read` per reader; `cancel` when it is not needed.
 */
export class BlobPrefetch {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly done: Promise<Buffer>;
  private used = false;

  constructor(repo: string) {
    this.child = spawnGit(repo, BATCH);
    this.done = new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      const errs: Buffer[] = [];
      this.child.stdout.on('data', (c: Buffer) => chunks.push(c));
      this.child.stderr.on('data', (c: Buffer) => errs.push(c));
      this.child.once('error', (err) => reject(new GitError(BATCH, repo, null, err.message, '')));
      this.child.once('close', (code) => (code === 0 ? resolve(Buffer.concat(chunks)) : reject(new GitError(BATCH, repo, code, Buffer.concat(errs).toString('utf8'), ''))));
    });
    this.done.catch(() => undefined);
    this.child.stdin.on('error', () => undefined); // the process may be gone (bad repository): `done` reports it
  }

  async read(sha: string, files: readonly string[]): Promise<Map<string, Buffer>> {
    if (this.used) throw new Error('BlobPrefetch.read called twice');
    this.used = true;
    const askable = files.filter((f) => !f.includes('\n'));
    this.child.stdin.end(askable.length > 0 ? batchRequest(sha, askable) : undefined);
    return parseBatch(await this.done, askable);
  }

  cancel(): void {
    if (this.used) return;
    this.used = true;
    this.child.stdin.end();
  }
}

export interface FileChange {
  status: 'A' | 'M' | 'D';
  path: string;
}

/** Files changed between two commits (renames as delete + add, type changes as modifications). */
export async function diffNames(repo: string, from: string, to: string): Promise<FileChange[]> {
  const out = await gitText(repo, ['diff', '--name-status', '--no-renames', '-z', from, to]);
  const parts = out.split('\0').filter((p) => p !== '');
  const changes: FileChange[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const s = parts[i]![0];
    changes.push({ status: s === 'A' ? 'A' : s === 'D' ? 'D' : 'M', path: parts[i + 1]! });
  }
  return changes;
}

export interface History {
  /** Commits touching each file. */
  churn: Map<string, number>;
  /** file → author e-mail → commits. */
  authors: Map<string, Map<string, number>>;
}

/** Per-file commit counts and authors over `range` (a commit: its whole history; `a..b`: what b adds). */
export async function fileHistory(repo: string, range: string): Promise<History> {
  const out = await gitText(repo, ['log', '--no-merges', '--no-renames', '--format=%x1e%aE', '--name-only', '-z', range, '--']);
  const churn = new Map<string, number>();
  const authors = new Map<string, Map<string, number>>();
  for (const record of out.split('\x1e')) {
    if (record === '') continue;
    const newline = record.indexOf('\n');
    const author = (newline < 0 ? record : record.slice(0, newline)).replace(/\0/g, '').trim().toLowerCase();
    const files = newline < 0 ? [] : record.slice(newline + 1).split('\0').map((f) => f.replace(/^\n/, '')).filter((f) => f !== '');
    for (const file of new Set(files)) {
      churn.set(file, (churn.get(file) ?? 0) + 1);
      let byAuthor = authors.get(file);
      if (!byAuthor) authors.set(file, (byAuthor = new Map()));
      byAuthor.set(author, (byAuthor.get(author) ?? 0) + 1);
    }
  }
  return { churn, authors };
}

/** What one `git log from..rev` tells an incremental ingest. */
export interface RangeLog {
  /** The commit `rev` names (the first one listed, in topological order). */
  sha: string;
  /** Whether `from` is an ancestor of `sha`: it is iff it is a parent of a commit of the range. */
  ancestor: boolean;
  /**
   * Net changes from `from` to `sha`, with every path a commit of the range touched (a path changed
   * and changed back is listed as modified: re-reading it is harmless, and its churn and authors
   * grew). Undefined when the range holds a merge commit, whose changes `log` does not list: ask
   * `diffNames` then.
   */
  changes?: FileChange[];
  /** Churn and authors of the range's non-merge commits, as `fileHistory(repo, 'from..rev')`. */
  history: History;
}

/**
 * One `git log --topo-order from..rev` answering, for an incremental ingest, what took a process
 * each: the commit `rev` names, whether `from` is its ancestor, the files changed and the new
 * commits' history. Undefined when the range is empty (`rev` is `from` or one of its ancestors).
 */
export async function rangeLog(repo: string, from: string, rev: string): Promise<RangeLog | undefined> {
  const out = await gitText(repo, ['log', '--topo-order', '--no-renames', '--format=%x1e%H %P%x1f%aE', '--name-status', '-z', `${from}..${rev}`, '--']);
  const commits: RangeCommit[] = [];
  let sha: string | undefined;
  for (const record of out.split('\x1e')) {
    if (record === '') continue;
    const headerEnd = record.indexOf('\0');
    const header = headerEnd < 0 ? record : record.slice(0, headerEnd);
    const sep = header.indexOf('\x1f');
    const [id, ...parents] = header.slice(0, sep).trim().split(' ').filter((x) => x !== '');
    sha ??= id;
    const author = header.slice(sep + 1).trim().toLowerCase();
    const parts = headerEnd < 0 ? [] : record.slice(headerEnd + 1).replace(/^\n/, '').split('\0');
    const changes: FileChange[] = [];
    for (let i = 0; i + 1 < parts.length; i += 2) {
      const s = parts[i]![0];
      if (parts[i + 1] === '' || s === undefined) continue;
      changes.push({ status: s === 'A' ? 'A' : s === 'D' ? 'D' : 'M', path: parts[i + 1]! });
    }
    commits.push({ parents, author, changes });
  }
  if (sha === undefined) return undefined;
  return summarize(sha, from, commits);
}

interface RangeCommit {
  parents: string[];
  author: string;
  changes: FileChange[];
}

/** A range's commits (newest first) → what RangeLog reports. */
function summarize(sha: string, from: string, commits: readonly RangeCommit[]): RangeLog {
  const churn = new Map<string, number>();
  const authors = new Map<string, Map<string, number>>();
  let merges = false;
  for (const c of commits) {
    if (c.parents.length > 1) {
      merges = true;
      continue; // as `log --no-merges`
    }
    for (const file of new Set(c.changes.map((x) => x.path))) {
      churn.set(file, (churn.get(file) ?? 0) + 1);
      let byAuthor = authors.get(file);
      if (!byAuthor) authors.set(file, (byAuthor = new Map()));
      byAuthor.set(c.author, (byAuthor.get(c.author) ?? 0) + 1);
    }
  }
  const ancestor = commits.some((c) => c.parents.includes(from));
  let changes: FileChange[] | undefined;
  if (!merges) {
    // A linear range: a path existed before it unless its first change (oldest first) adds it, and
    // exists after it unless its last change deletes it.
    const firstLast = new Map<string, [FileChange['status'], FileChange['status']]>();
    for (let i = commits.length - 1; i >= 0; i--)
      for (const c of commits[i]!.changes) {
        const seen = firstLast.get(c.path);
        firstLast.set(c.path, [seen ? seen[0] : c.status, c.status]);
      }
    changes = [];
    for (const [p, [first, last]] of firstLast) {
      const before = first !== 'A';
      const after = last !== 'D';
      if (before || after) changes.push({ status: before && after ? 'M' : after ? 'A' : 'D', path: p });
    }
  }
  return { sha, ancestor, ...(changes ? { changes } : {}), history: { churn, authors } };
}

/** Something that reads blobs of a commit by path (BlobPrefetch, GitBatch). */
export interface BlobReader {
  read(sha: string, files: readonly string[]): Promise<Map<string, Buffer>>;
  cancel(): void;
}

interface GitObject {
  oid: string;
  type: string;
  content: Buffer;
}

/** How long a GitBatch waits for its next request before its process ends. */
export const GIT_BATCH_IDLE_MS = 120_000;

/**
 * A long-lived `git cat-file --batch` per repository, answering one object per request line (git
 * flushes after each): an incremental ingest resolves the revision, walks the new commits, diffs
 * their trees and reads the changed blobs without starting a process — a fork of a big Node
 * process costs 5–50 ms, more than the rest of a one-file ingest. The process ends after
 * GIT_BATCH_IDLE_MS idle, when the repository directory is replaced, or with closeGitBatches();
 * it never keeps Node alive.
 */
export class GitBatch implements BlobReader {
  private static readonly open = new Map<string, GitBatch>();
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly queue: { name: string; resolve: (o: GitObject | undefined) => void; reject: (e: Error) => void }[] = [];
  private pending: Buffer = Buffer.alloc(0);
  private header: { oid: string; type: string; size: number } | undefined;
  private idle: NodeJS.Timeout | undefined;
  private closed = false;
  /** True when `git config` names a mailmap (authors would then differ from `git log %aE`). */
  readonly mailmapConfigured: Promise<boolean>;

  private constructor(
    readonly repo: string,
    private readonly ino: number,
  ) {
    this.child = spawnGit(repo, BATCH);
    this.child.stdout.on('data', (c: Buffer) => this.onData(c));
    this.child.stderr.on('data', () => undefined);
    this.child.stdin.on('error', () => undefined);
    this.child.once('error', (err) => this.fail(new GitError(BATCH, repo, null, err.message, '')));
    this.child.once('close', (code) => this.fail(new GitError(BATCH, repo, code, '', '')));
    this.unref();
    this.mailmapConfigured = gitText(repo, ['config', '--list']).then(
      (out) => out.split('\n').some((l) => l.toLowerCase().startsWith('mailmap.')),
      () => true,
    );
  }

  /** The repository's batch process, started when there is none (or the directory was replaced). */
  static for(repo: string): GitBatch {
    const key = path.resolve(repo);
    const ino = fs.statSync(key).ino;
    const found = GitBatch.open.get(key);
    if (found && !found.closed && found.ino === ino) return found;
    found?.close();
    const batch = new GitBatch(key, ino);
    GitBatch.open.set(key, batch);
    return batch;
  }

  static closeAll(): void {
    for (const b of [...GitBatch.open.values()]) b.close();
  }

  private unref(): void {
    this.child.unref();
    for (const s of [this.child.stdin, this.child.stdout, this.child.stderr] as unknown as { unref?: () => void }[]) s.unref?.();
  }

  private ref(): void {
    this.child.ref();
    for (const s of [this.child.stdin, this.child.stdout, this.child.stderr] as unknown as { ref?: () => void }[]) s.ref?.();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.idle) clearTimeout(this.idle);
    if (GitBatch.open.get(this.repo) === this) GitBatch.open.delete(this.repo);
    this.child.stdin.end();
    this.fail(new Error('git cat-file --batch closed'));
  }

  private fail(err: Error): void {
    this.closed = true;
    if (GitBatch.open.get(this.repo) === this) GitBatch.open.delete(this.repo);
    for (const q of this.queue.splice(0)) q.reject(err);
  }

  /** One object by name (`<rev>^{commit}`, `<oid>`, `<commit>:<path>`); undefined when git reports it missing. */
  get(name: string): Promise<GitObject | undefined> {
    if (this.closed) return Promise.reject(new Error('git cat-file --batch closed'));
    if (name.includes('\n')) return Promise.resolve(undefined);
    if (this.idle) clearTimeout(this.idle);
    if (this.queue.length === 0) this.ref(); // requests in flight keep Node waiting for the answers
    return new Promise((resolve, reject) => {
      this.queue.push({ name, resolve, reject });
      this.child.stdin.write(`${name}\n`);
    });
  }

  private onData(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    for (;;) {
      if (!this.header) {
        const nl = this.pending.indexOf(0x0a);
        if (nl < 0) return;
        const line = this.pending.subarray(0, nl).toString('utf8');
        this.pending = this.pending.subarray(nl + 1);
        const m = /^([0-9a-f]+) (\w+) (\d+)$/.exec(line);
        if (!m) {
          this.settle(undefined); // '<name> missing' / 'ambiguous': nothing follows
          continue;
        }
        this.header = { oid: m[1]!, type: m[2]!, size: Number(m[3]) };
      }
      if (this.pending.length < this.header.size + 1) return;
      const content = Buffer.from(this.pending.subarray(0, this.header.size));
      this.pending = this.pending.subarray(this.header.size + 1);
      const { oid, type } = this.header;
      this.header = undefined;
      this.settle({ oid, type, content });
    }
  }

  private settle(o: GitObject | undefined): void {
    this.queue.shift()?.resolve(o);
    if (this.queue.length === 0 && !this.closed) {
      this.unref();
      this.idle = setTimeout(() => this.close(), GIT_BATCH_IDLE_MS);
      this.idle.unref();
    }
  }

  async read(sha: string, files: readonly string[]): Promise<Map<string, Buffer>> {
    const objects = await Promise.all(files.map((f) => this.get(`${sha}:${f}`)));
    const out = new Map<string, Buffer>();
    files.forEach((f, i) => {
      const o = objects[i];
      if (o?.type === 'blob') out.set(f, o.content);
    });
    return out;
  }

  cancel(): void {}
}

/** Ends every GitBatch process (tests, shutdown). */
export function closeGitBatches(): void {
  GitBatch.closeAll();
}

interface Commit {
  oid: string;
  tree: string;
  parents: string[];
  author: string;
}

function parseCommit(o: GitObject): Commit | undefined {
  if (o.type !== 'commit') return undefined;
  const text = o.content.toString('utf8');
  const head = text.slice(0, text.indexOf('\n\n') < 0 ? text.length : text.indexOf('\n\n'));
  let tree: string | undefined;
  const parents: string[] = [];
  let author = '';
  for (const line of head.split('\n')) {
    if (line.startsWith('tree ')) tree = line.slice(5).trim();
    else if (line.startsWith('parent ')) parents.push(line.slice(7).trim());
    else if (line.startsWith('author ')) author = (/<([^>]*)>[^<>]*$/.exec(line)?.[1] ?? '').trim().toLowerCase();
  }
  return tree ? { oid: o.oid, tree, parents, author } : undefined;
}

/** A tree object's entries: name → [mode, oid]. */
function parseTree(content: Buffer, oidBytes: number): Map<string, [string, string]> {
  const entries = new Map<string, [string, string]>();
  let i = 0;
  while (i < content.length) {
    const space = content.indexOf(0x20, i);
    const nul = content.indexOf(0, space);
    if (space < 0 || nul < 0) break;
    entries.set(content.subarray(space + 1, nul).toString('utf8'), [content.subarray(i, space).toString('latin1'), content.subarray(nul + 1, nul + 1 + oidBytes).toString('hex')]);
    i = nul + 1 + oidBytes;
  }
  return entries;
}

/** Paths that differ between two trees, as `git diff --name-status --no-renames` lists them. */
async function diffTrees(batch: GitBatch, a: string | undefined, b: string | undefined, prefix: string, out: FileChange[]): Promise<void> {
  if (a === b) return;
  const read = async (oid: string | undefined) => {
    if (oid === undefined) return new Map<string, [string, string]>();
    const o = await batch.get(oid);
    if (!o || o.type !== 'tree') throw new Error(`tree ${oid} unreadable`);
    return parseTree(o.content, oid.length / 2);
  };
  const [ea, eb] = await Promise.all([read(a), read(b)]);
  const sub: Promise<void>[] = [];
  for (const name of new Set([...ea.keys(), ...eb.keys()])) {
    const x = ea.get(name);
    const y = eb.get(name);
    if (x && y && x[0] === y[0] && x[1] === y[1]) continue;
    const xTree = x?.[0] === '40000';
    const yTree = y?.[0] === '40000';
    if (xTree || yTree) sub.push(diffTrees(batch, xTree ? x![1] : undefined, yTree ? y![1] : undefined, `${prefix}${name}/`, out));
    const xFile = x !== undefined && !xTree;
    const yFile = y !== undefined && !yTree;
    if (xFile || yFile) out.push({ status: xFile && yFile ? 'M' : yFile ? 'A' : 'D', path: prefix + name });
  }
  await Promise.all(sub);
}

/** Longest chain of new commits walkRange follows before leaving the range to `git log`. */
const WALK_LIMIT = 64;

/**
 * rangeLog's answer without starting a process, through the repository's GitBatch: the revision is
 * resolved, its first parents are followed back to `from`, and each commit's tree is diffed with
 * its parent's. 'same' when `rev` is `from`; undefined when this cannot answer exactly — a merge
 * commit, a root, a long range, `from` not found, a mailmap in effect (authors are mapped by
 * `git log` only), or anything unreadable — and `rangeLog` must.
 */
export async function walkRange(repo: string, from: string, rev: string): Promise<RangeLog | 'same' | undefined> {
  if (!fs.existsSync(path.join(repo, '.git')) || fs.existsSync(path.join(repo, '.mailmap'))) return undefined; // bare or not the top: git's mailmap lookup differs
  const batch = GitBatch.for(repo);
  const [tip, mailmap] = await Promise.all([batch.get(`${rev}^{commit}`), batch.mailmapConfigured]);
  if (!tip || mailmap) return undefined;
  let commit = parseCommit(tip);
  if (!commit) return undefined;
  if (commit.oid === from) return 'same';
  const chain: Commit[] = [];
  while (commit.oid !== from) {
    if (commit.parents.length !== 1 || chain.length >= WALK_LIMIT) return undefined;
    chain.push(commit);
    const parent = await batch.get(commit.parents[0]!);
    commit = parent && parseCommit(parent);
    if (!commit) return undefined;
  }
  const trees = [...chain.map((c) => c.tree), commit.tree];
  const commits: RangeCommit[] = await Promise.all(
    chain.map(async (c, i) => {
      const changes: FileChange[] = [];
      await diffTrees(batch, trees[i + 1], trees[i], '', changes);
      return { parents: c.parents, author: c.author, changes };
    }),
  );
  return summarize(chain[0]!.oid, from, commits);
}
