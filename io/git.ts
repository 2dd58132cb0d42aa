import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

/** Committer identity for every commit Maestro makes; passed with -c so no global git config is read or written. */
export const MAESTRO_IDENTITY = { name: 'Maestro Conductor', email: 'maestro@localhost' } as const;

/** `-c` flags that make commits reproducible regardless of the host's git config (identity, signing, hooks). */
export const MAESTRO_COMMIT_CONFIG: readonly string[] = [
  '-c', `user.name=${MAESTRO_IDENTITY.name}`,
  '-c', `user.email=${MAESTRO_IDENTITY.email}`,
  '-c', 'commit.gpgsign=false',
  '-c', 'core.hooksPath=/dev/null',
];

export interface GitOptions {
  /** Bytes written to git's stdin (a patch, `cat-file --batch` requests). */
  input?: string | Buffer;
  /** Extra environment on top of the inherited one. */
  env?: NodeJS.ProcessEnv;
  /** 0 waits as long as git runs (whole-history walks of big repositories). */
  timeoutMs?: number;
  /** Exit codes that are answers, not failures (e.g. 1 for `merge-base --is-ancestor`). */
  allowExitCodes?: number[];
  /** 'buffer' keeps stdout as bytes (blobs, which need not be UTF-8). */
  encoding?: 'utf8' | 'buffer';
}

export interface GitResult<Out = string> {
  stdout: Out;
  stderr: string;
  exitCode: number;
}

/** Raised when git exits with an unexpected code; carries the command, exit code and git's own stderr. */
export class GitError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly cwd: string,
    readonly exitCode: number | null,
    readonly stderr: string,
    readonly stdout: string,
  ) {
    super(`git ${args.join(' ')} (in ${cwd}) failed with exit code ${exitCode ?? 'none'}: ${stderr.trim() || stdout.trim() || '(no output)'}`);
    this.name = 'GitError';
  }

  /** Errors that name a missing repository, object or revision; retrying will not make them appear. */
  get isPermanent(): boolean {
    return /not a valid object name|bad object|not a git repository|cannot change to|not a tree object|invalid object name|unknown revision|bad revision|needed a single revision/i.test(this.stderr);
  }
}

/**
 * Runs git without a shell in `cwd` (as `git -C`, so a missing directory is git's own permanent
 * error rather than a spawn failure); resolves with its output or rejects with a GitError.
 */
const gitEnv = (extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({ ...process.env, ...extra, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' });

export function git(cwd: string, args: readonly string[], opts: GitOptions & { encoding: 'buffer' }): Promise<GitResult<Buffer>>;
export function git(cwd: string, args: readonly string[], opts?: GitOptions & { encoding?: 'utf8' }): Promise<GitResult>;
export function git(cwd: string, args: readonly string[], opts: GitOptions = {}): Promise<GitResult<string | Buffer>> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      ['-C', cwd, ...args],
      {
        env: gitEnv(opts.env),
        timeout: opts.timeoutMs ?? 60_000,
        maxBuffer: 1024 * 1024 * 1024,
        encoding: 'buffer',
      },
      (error, stdoutBytes, stderrBytes) => {
        const exitCode = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        const stderr = stderrBytes.toString('utf8');
        const stdout = opts.encoding === 'buffer' ? stdoutBytes : stdoutBytes.toString('utf8');
        if (exitCode === 0 || (exitCode !== null && opts.allowExitCodes?.includes(exitCode))) {
          resolve({ stdout, stderr, exitCode });
        } else {
          reject(new GitError(args, cwd, exitCode, stderr || (error?.message ?? ''), stdoutBytes.toString('utf8')));
        }
      },
    );
    child.stdin?.on('error', () => undefined); // git may exit before reading its input: the exit code reports why
    child.stdin?.end(opts.input);
  });
}

/**
 * Starts git as `git()` does but hands back the process, for long-lived conversations
 * (`cat-file --batch`) and output streamed elsewhere (`archive` into tar); the caller owns its
 * lifetime and reports failures as GitError.
 */
export function spawnGit(cwd: string, args: readonly string[]): ChildProcessWithoutNullStreams {
  return spawn('git', ['-C', cwd, ...args], { env: gitEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
}

/** `git rev-parse --verify` of a ref or commit; undefined when it does not exist. */
export async function resolveCommit(cwd: string, ref: string): Promise<string | undefined> {
  const result = await git(cwd, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { allowExitCodes: [1, 128] });
  return result.exitCode === 0 ? result.stdout.trim() : undefined;
}

/** The tree id of a commit: two commits with the same tree hold the same files. Throws when the commit does not exist. */
export async function treeOf(cwd: string, commit: string): Promise<string> {
  return (await git(cwd, ['rev-parse', '--verify', '--quiet', `${commit}^{tree}`])).stdout.trim();
}

/** Whether `ancestor` is reachable from `descendant` (a commit is its own ancestor). */
export async function isAncestor(cwd: string, ancestor: string, descendant: string): Promise<boolean> {
  const result = await git(cwd, ['merge-base', '--is-ancestor', ancestor, descendant], { allowExitCodes: [1] });
  return result.exitCode === 0;
}
