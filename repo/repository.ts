/** What every repository operation shares: opening a repository, the change trailer, changed paths. */
import { promises as fs } from 'node:fs';
import { PermanentError } from '../core/errors';
import { git } from '../io/git';

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

export async function changedPaths(repo: string, from: string, to: string): Promise<string[]> {
  const { stdout } = await git(repo, ['diff', '--name-only', '--no-renames', '-z', from, to]);
  return stdout.split('\0').filter(Boolean);
}
