/** What every repository operation shares: opening a repository, the change trailer, changed paths, refs. */
import { promises as fs } from 'node:fs';
import { PermanentError } from '../core/errors';
import { git, resolveCommit } from '../io/git';

/** Commit-message trailer that ties a commit to its change request; idempotency looks for it. */
export const CHANGE_TRAILER = 'Maestro-Change';

export async function openRepo(repo: string): Promise<string> {
  try {
    const { stdout } = await git(repo, ['rev-parse', '--git-dir']);
    if (!stdout.trim()) throw new Error('not a git repository');
    return await fs.realpath(repo);
  } catch (error) {
    throw new PermanentError(`${repo} is not a git repository: ${(error as Error).message}`, 'NotAGitRepository');
  }
}

/** A change's ref: a branch (`refs/heads/<ref>`) or a commit id; undefined when the repository has neither. */
export async function resolveChangeRef(repo: string, ref: string): Promise<string | undefined> {
  return (await resolveCommit(repo, `refs/heads/${ref}`)) ?? (/^[0-9a-f]{4,40}$/i.test(ref) ? resolveCommit(repo, ref) : undefined);
}

export async function branchNames(repo: string): Promise<string[]> {
  const { stdout } = await git(repo, ['for-each-ref', '--format=%(refname:short)', 'refs/heads']);
  return stdout.trim().split('\n').filter(Boolean);
}

export async function changedPaths(repo: string, from: string, to: string): Promise<string[]> {
  const { stdout } = await git(repo, ['diff', '--name-only', '--no-renames', '-z', from, to]);
  return stdout.split('\0').filter(Boolean);
}
