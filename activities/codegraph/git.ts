/** Git plumbing for the code graph: no shell, one process per question, blobs in one batch. */
import { execFile, type ChildProcess } from 'node:child_process';

export class GitCommandError extends Error {
  constructor(
    readonly args: string[],
    readonly stderr: string,
  ) {
    super(`git ${args.join(' ')} failed: ${stderr.trim() || 'no output'}`);
    this.name = 'GitCommandError';
  }
  /** Errors that name a missing repository or object; retrying will not make them appear. */
  get isPermanent(): boolean {
    return /not a valid object name|bad object|not a git repository|cannot change to|not a tree object|invalid object name|unknown revision|bad revision|needed a single revision/i.test(this.stderr);
  }
}

/** Runs git without a shell; `input` is written to its stdin. */
export function git(repo: string, args: string[], input?: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile('git', ['-C', repo, ...args], { encoding: 'buffer', maxBuffer: 1024 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new GitCommandError(args, stderr.toString('utf8') || err.message));
      else resolve(stdout);
    });
    child.stdin?.end(input);
  });
}

export async function gitText(repo: string, args: string[]): Promise<string> {
  return (await git(repo, args)).toString('utf8');
}

/** The full commit id of a revision. */
export async function resolveCommit(repo: string, rev: string): Promise<string> {
  return (await gitText(repo, ['rev-parse', '--verify', '--end-of-options', `${rev}^{commit}`])).trim();
}

export async function isAncestor(repo: string, ancestor: string, descendant: string): Promise<boolean> {
  try {
    await git(repo, ['merge-base', '--is-ancestor', ancestor, descendant]);
    return true;
  } catch {
    return false;
  }
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
  const out = await git(repo, ['cat-file', '--batch'], batchRequest(sha, askable));
  return parseBatch(out, askable);
}

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
  private readonly child: ChildProcess;
  private readonly done: Promise<Buffer>;
  private used = false;

  constructor(repo: string) {
    this.child = execFile('git', ['-C', repo, 'cat-file', '--batch'], { encoding: 'buffer', maxBuffer: 1024 * 1024 * 1024 }, () => undefined);
    this.done = new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      const errs: Buffer[] = [];
      this.child.stdout!.on('data', (c: Buffer) => chunks.push(c));
      this.child.stderr!.on('data', (c: Buffer) => errs.push(c));
      this.child.once('error', (err) => reject(new GitCommandError(['cat-file', '--batch'], err.message)));
      this.child.once('close', (code) => (code === 0 ? resolve(Buffer.concat(chunks)) : reject(new GitCommandError(['cat-file', '--batch'], Buffer.concat(errs).toString('utf8') || `exit code ${code}`))));
    });
    this.done.catch(() => undefined);
    this.child.stdin!.on('error', () => undefined); // the process may be gone (bad repository): `done` reports it
  }

  async read(sha: string, files: readonly string[]): Promise<Map<string, Buffer>> {
    if (this.used) throw new Error('BlobPrefetch.read called twice');
    this.used = true;
    const askable = files.filter((f) => !f.includes('\n'));
    this.child.stdin!.end(askable.length > 0 ? batchRequest(sha, askable) : undefined);
    return parseBatch(await this.done, askable);
  }

  cancel(): void {
    if (this.used) return;
    this.used = true;
    this.child.stdin!.end();
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
