import { execFile } from 'node:child_process';

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
  /** Text written to git's stdin (e.g. a patch). */
  input?: string;
  /** Extra environment on top of the inherited one. */
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Exit codes that are answers, not failures (e.g. 1 for `merge-base --is-ancestor`). */
  allowExitCodes?: number[];
}

export interface GitResult {
  stdout: string;
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
}

/** Runs git without a shell; resolves with its output or rejects with a GitError naming stderr. */
export function git(cwd: string, args: readonly string[], opts: GitOptions = {}): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      [...args],
      {
        cwd,
        env: { ...process.env, ...opts.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' },
        timeout: opts.timeoutMs ?? 60_000,
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        const exitCode = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        if (exitCode === 0 || (exitCode !== null && opts.allowExitCodes?.includes(exitCode))) {
          resolve({ stdout, stderr, exitCode });
        } else {
          reject(new GitError(args, cwd, exitCode, stderr || (error?.message ?? ''), stdout));
        }
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** `git rev-parse --verify` of a ref or commit; undefined when it does not exist. */
export async function resolveCommit(cwd: string, ref: string): Promise<string | undefined> {
  const result = await git(cwd, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { allowExitCodes: [1, 128] });
  return result.exitCode === 0 ? result.stdout.trim() : undefined;
}

/** Whether `ancestor` is reachable from `descendant` (a commit is its own ancestor). */
export async function isAncestor(cwd: string, ancestor: string, descendant: string): Promise<boolean> {
  const result = await git(cwd, ['merge-base', '--is-ancestor', ancestor, descendant], { allowExitCodes: [1] });
  return result.exitCode === 0;
}
