/**
 * Merging a candidate into its base branch, and reverting that merge, with plumbing only: no work tree
 * is needed, and a checked-out base branch is updated like a fast-forward.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import * as path from 'node:path';
import type { ChangeRequest } from '../core/change-request';
import { PermanentError, TransientError } from '../core/errors';
import type { Candidate, MergeRecord } from '../core/stages';
import { git, isAncestor, MAESTRO_COMMIT_CONFIG, resolveCommit, treeOf } from '../io/git';
import { listWorktrees } from '../io/worktree';
import { changedPaths, CHANGE_TRAILER, openRepo } from './repository';

export interface MergeInput {
  changeRequest: ChangeRequest;
  candidate: Candidate;
}

export interface RevertInput {
  changeRequest: ChangeRequest;
  merge: MergeRecord;
  reason: string;
}

export interface RevertRecord {
  revertSha: string;
  alreadyReverted: boolean;
}

/** Trailer naming the merge a revert undoes; idempotency looks for it. */
export const REVERT_TRAILER = 'Maestro-Revert';

/**
 * `git merge --no-ff` of the candidate into the base branch, done with plumbing (merge-tree, commit-tree,
 * update-ref) so no work tree is needed. If the base branch is checked out somewhere (typically the
 * user's own checkout), that checkout is then moved to the merge like `git merge --ff-only` would:
 * index and files of the merged paths are updated and local edits to other files are kept; if a local
 * edit touches a merged path we refuse (retryable: it succeeds once the user commits or stashes).
 * Idempotent: a candidate that is already in the base branch returns the existing merge.
 */
export async function mergeCandidate({ changeRequest: cr, candidate }: MergeInput): Promise<MergeRecord> {
  const repo = await openRepo(cr.repo);
  const baseRef = `refs/heads/${cr.baseBranch}`;
  if (!(await resolveCommit(repo, candidate.sha)))
    throw new PermanentError(`candidate commit ${candidate.sha} does not exist in ${repo}`, 'CandidateNotFound');
  const baseSha = await resolveCommit(repo, baseRef);
  if (!baseSha) throw new PermanentError(`base branch '${cr.baseBranch}' does not exist in ${repo}`, 'BaseBranchNotFound');

  const record = (mergeSha: string, alreadyMerged: boolean): MergeRecord => ({
    mergeSha,
    candidateSha: candidate.sha,
    baseBranch: cr.baseBranch,
    alreadyMerged,
  });
  if (await isAncestor(repo, candidate.sha, baseSha)) return record(await findMergeOf(repo, candidate.sha, baseSha), true);

  const mergeTree = await git(repo, ['merge-tree', '--write-tree', '--name-only', '--no-messages', baseSha, candidate.sha], {
    allowExitCodes: [1],
  });
  const [treeSha, ...conflicted] = mergeTree.stdout.trim().split('\n');
  if (mergeTree.exitCode === 1)
    throw new PermanentError(
      `candidate ${candidate.branch} conflicts with ${cr.baseBranch} in: ${conflicted.filter(Boolean).join(', ')}`,
      'MergeConflict',
    );

  const message = `Merge ${candidate.branch} into ${cr.baseBranch}: ${cr.title}\n\n${CHANGE_TRAILER}: ${cr.id}\n`;
  const mergeSha = (
    await git(repo, [...MAESTRO_COMMIT_CONFIG, 'commit-tree', treeSha, '-p', baseSha, '-p', candidate.sha, '-F', '-'], { input: message })
  ).stdout.trim();

  await advanceBranch(repo, cr.baseBranch, baseSha, mergeSha, `maestro: merge ${cr.id}`);
  return record(mergeSha, false);
}

export interface BaseTipCheck {
  isTip: boolean;
  tipSha: string;
  reason?: string;
}

/**
 * Whether the base branch still says exactly what the merge says: its tip is the merge, or a later
 * commit with the same tree. Promoting anything else would run code the branch does not describe.
 */
export async function checkMergeIsBaseTip(input: { repo: string; baseBranch: string; mergeSha: string }): Promise<BaseTipCheck> {
  const repo = await openRepo(input.repo);
  const tipSha = await resolveCommit(repo, `refs/heads/${input.baseBranch}`);
  if (!tipSha) throw new PermanentError(`base branch '${input.baseBranch}' does not exist in ${repo}`, 'BaseBranchNotFound');
  if (tipSha === input.mergeSha) return { isTip: true, tipSha };
  const [tipTree, mergeTree] = await Promise.all([treeOf(repo, tipSha), treeOf(repo, input.mergeSha)]);
  if (tipTree === mergeTree) return { isTip: true, tipSha };
  const since = (await git(repo, ['log', '--format=%h %s', '-n', '5', `${input.mergeSha}..${tipSha}`])).stdout.trim().split('\n').filter(Boolean);
  return {
    isTip: false,
    tipSha,
    reason: `${input.baseBranch} moved past merge ${input.mergeSha.slice(0, 12)} to ${tipSha.slice(0, 12)} (${since.length ? since.join('; ') : 'history rewritten'}); promoting it would run code ${input.baseBranch} does not describe`,
  };
}

/**
 * Compensation for a rolled-back release: a commit on the base branch that undoes the merge (the
 * inverse three-way merge of the merge commit onto the current tip), so the branch matches what
 * runs again. Idempotent: a revert already on the branch (found by its trailer) is returned.
 */
export async function revertMerge({ changeRequest: cr, merge, reason }: RevertInput): Promise<RevertRecord> {
  const repo = await openRepo(cr.repo);
  const tip = await resolveCommit(repo, `refs/heads/${cr.baseBranch}`);
  if (!tip) throw new PermanentError(`base branch '${cr.baseBranch}' does not exist in ${repo}`, 'BaseBranchNotFound');
  if (!(await isAncestor(repo, merge.mergeSha, tip)))
    throw new PermanentError(`merge ${merge.mergeSha} is not on ${cr.baseBranch}: nothing to revert`, 'MergeNotOnBranch');
  const existing = (await git(repo, ['log', '--format=%H', '-F', `--grep=${REVERT_TRAILER}: ${merge.mergeSha}`, `${merge.mergeSha}..${tip}`])).stdout.trim();
  if (existing) return { revertSha: existing.split('\n')[0]!, alreadyReverted: true };

  const treeSha = await treeWithInversePatch(repo, tip, merge.mergeSha, cr.baseBranch);
  const message = `Revert "${cr.title}"\n\nRolled back: ${reason}\n\n${CHANGE_TRAILER}: ${cr.id}\n${REVERT_TRAILER}: ${merge.mergeSha}\n`;
  const revertSha = (await git(repo, [...MAESTRO_COMMIT_CONFIG, 'commit-tree', treeSha, '-p', tip, '-F', '-'], { input: message })).stdout.trim();
  await advanceBranch(repo, cr.baseBranch, tip, revertSha, `maestro: revert ${cr.id}`);
  return { revertSha, alreadyReverted: false };
}

/**
 * The tree of `tip` with the merge's changes undone, computed in a throw-away index (no work tree; git
 * 2.39 has no `merge-tree --merge-base`). Later commits that touch the same lines make it a conflict.
 */
async function treeWithInversePatch(repo: string, tip: string, mergeSha: string, branch: string): Promise<string> {
  const env = { GIT_INDEX_FILE: path.join(os.tmpdir(), `maestro-revert-${process.pid}-${mergeSha.slice(0, 12)}-${Date.now()}.index`) };
  try {
    await git(repo, ['read-tree', tip], { env });
    const inverse = (await git(repo, ['diff', '--binary', '--no-renames', mergeSha, `${mergeSha}^1`])).stdout;
    if (inverse) {
      const applied = await git(repo, ['apply', '--cached', '--binary', '-'], { input: inverse, env, allowExitCodes: [1] });
      if (applied.exitCode === 1)
        throw new PermanentError(`reverting ${mergeSha} conflicts with later commits on ${branch}: ${applied.stderr.trim()}`, 'RevertConflict');
    }
    return (await git(repo, ['write-tree'], { env })).stdout.trim();
  } finally {
    await fs.rm(env.GIT_INDEX_FILE, { force: true });
  }
}

/**
 * Moves `branch` from `from` to `to` (compare-and-swap) and brings every checkout of it along, like
 * `git merge --ff-only` would: refuses (retryably) when local edits overlap the changed paths.
 */
async function advanceBranch(repo: string, branch: string, from: string, to: string, reflogMessage: string): Promise<void> {
  const ref = `refs/heads/${branch}`;
  const checkouts = (await listWorktrees(repo)).filter((entry) => entry.branch === ref && !entry.bare);
  const paths = await changedPaths(repo, from, to);
  for (const checkout of checkouts) await assertCheckoutCanFastForward(checkout.path, branch, paths);
  try {
    await git(repo, ['update-ref', '-m', reflogMessage, ref, to, from]);
  } catch (error) {
    // Someone moved the branch since we read it: a retry recomputes on the new tip.
    throw new TransientError(`${branch} moved meanwhile: ${(error as Error).message}`, 'BaseBranchMoved');
  }
  for (const checkout of checkouts) {
    try {
      await git(checkout.path, ['update-index', '-q', '--refresh'], { allowExitCodes: [1] });
      await git(checkout.path, ['read-tree', '-m', '-u', from, to]);
    } catch (error) {
      // Put the branch back so the checkout stays consistent, then let the retry try again.
      await git(repo, ['update-ref', ref, from, to]).catch(() => undefined);
      throw new TransientError(`could not update the checkout of ${branch} at ${checkout.path}: ${(error as Error).message}`, 'BaseCheckoutBusy');
    }
  }
}

/** Refuses (retryably) when local edits or untracked files in a checkout of the base branch overlap the merge. */
async function assertCheckoutCanFastForward(checkoutPath: string, baseBranch: string, mergedPaths: string[]): Promise<void> {
  const { stdout } = await git(checkoutPath, ['status', '--porcelain=v1', '-z', '--untracked-files=all', '--no-renames']);
  const dirty = new Set(
    stdout
      .split('\0')
      .filter(Boolean)
      .map((entry) => entry.slice(3)),
  );
  const blocked = mergedPaths.filter((file) => dirty.has(file));
  if (blocked.length)
    throw new TransientError(
      `the checkout of ${baseBranch} at ${checkoutPath} has local changes to ${blocked.join(', ')}, which the merge changes; commit or stash them`,
      'BaseCheckoutDirty',
    );
}

/** The merge commit in `baseSha`'s history whose second parent is the candidate, else the candidate itself (fast-forwarded). */
async function findMergeOf(repo: string, candidateSha: string, baseSha: string): Promise<string> {
  const { stdout } = await git(repo, ['rev-list', '--merges', '--parents', '--ancestry-path', `${candidateSha}..${baseSha}`]);
  for (const line of stdout.trim().split('\n').reverse()) {
    const [commit, , secondParent] = line.split(' ');
    if (commit && secondParent === candidateSha) return commit;
  }
  return candidateSha;
}
