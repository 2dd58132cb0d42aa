import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { git } from './git';

/**
 * Checks `commit` out, detached, into `dir` as a linked work tree of `repo`. Detached so that no branch is
 * ever held by a Maestro work tree (a branch checked out in two work trees is an error in git).
 */
export async function addDetachedWorktree(repo: string, dir: string, commit: string): Promise<void> {
  await removeWorktree(repo, dir); // a leftover from a crashed attempt
  await git(repo, ['worktree', 'add', '--quiet', '--detach', dir, commit]);
}

/**
 * Code run from `dir` (a work tree or an extracted version of `repo`) resolves its packages as it would in
 * the checkout: the checkout's node_modules, which is never committed, is linked in when there is one.
 */
export async function linkNodeModules(repo: string, dir: string): Promise<void> {
  const modules = path.join(repo, 'node_modules');
  const linked = path.join(dir, 'node_modules');
  if (existsSync(modules) && !existsSync(linked)) await fs.symlink(modules, linked, 'dir').catch(() => undefined);
}

/** Removes a linked work tree and its metadata; never fails (cleanup must not hide the real error). */
export async function removeWorktree(repo: string, dir: string): Promise<void> {
  await git(repo, ['worktree', 'remove', '--force', '--force', dir]).catch(() => undefined);
  await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
  await git(repo, ['worktree', 'prune']).catch(() => undefined);
}

export interface WorktreeEntry {
  path: string;
  head?: string;
  /** Full ref name, e.g. refs/heads/main; absent when detached or bare. */
  branch?: string;
  bare: boolean;
}

/** Parses `git worktree list --porcelain`: the main checkout and every linked one. */
export async function listWorktrees(repo: string): Promise<WorktreeEntry[]> {
  const { stdout } = await git(repo, ['worktree', 'list', '--porcelain']);
  const entries: WorktreeEntry[] = [];
  let current: WorktreeEntry | undefined;
  for (const line of stdout.split('\n')) {
    if (line.startsWith('worktree ')) {
      current = { path: line.slice('worktree '.length), bare: false };
      entries.push(current);
    } else if (current && line.startsWith('HEAD ')) current.head = line.slice(5);
    else if (current && line.startsWith('branch ')) current.branch = line.slice(7);
    else if (current && line === 'bare') current.bare = true;
  }
  return entries;
}
