/**
 * Repository activities: turn a change request into a candidate commit on `maestro/<id>`, and merge it.
 * They never touch the user's checkout while preparing (work trees of their own under workRoot), and the
 * merge moves the base branch with plumbing so that a checked-out base branch is updated like a fast-forward.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import * as path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { ChangeRequest } from '../core/change-request';
import { serviceDescriptorSchema, type Candidate, type MergeRecord, type ServiceDescriptor } from '../core/stages';
import { parseOrThrow, ValidationError } from '../core/validation';
import { applyCodemod, CodemodError } from '../refactor';
import { git, GitError, isAncestor, MAESTRO_COMMIT_CONFIG, resolveCommit } from '../io/git';
import { addDetachedWorktree, listWorktrees, removeWorktree } from '../io/worktree';

export { git, GitError } from '../io/git';
export { applyCodemod, CodemodError } from '../refactor';
export { addDetachedWorktree, removeWorktree } from '../io/worktree';

export interface RepoActivityDeps {
  /** Directory for Maestro's own work trees; created on demand. */
  workRoot: string;
}

export interface MergeInput {
  changeRequest: ChangeRequest;
  candidate: Candidate;
}

export const SERVICE_DESCRIPTOR_FILE = 'maestro.service.json';
/** Commit-message trailer that ties a commit to its change request; idempotency looks for it. */
export const CHANGE_TRAILER = 'Maestro-Change';
/** Diffs above this size are cut in the Candidate (it travels through workflow history, which caps payloads). */
export const MAX_CANDIDATE_DIFF_CHARS = 256 * 1024;

export const candidateBranchName = (changeId: string): string => `maestro/${changeId}`;

export function createRepoActivities(deps: RepoActivityDeps) {
  return {
    /** Commits the change on `maestro/<id>` (from the base branch) and describes the result. Idempotent. */
    async prepareChange(cr: ChangeRequest): Promise<Candidate> {
      const repo = await openRepo(cr.repo);
      const branch = candidateBranchName(cr.id);
      const branchRef = `refs/heads/${branch}`;

      const existingTip = await resolveCommit(repo, branchRef);
      if (existingTip && (await commitBelongsToChange(repo, existingTip, cr.id))) {
        const parent = await resolveCommit(repo, `${existingTip}^1`);
        if (parent) return describeCandidate(repo, branch, parent, existingTip);
      }

      const baseSha = await resolveCommit(repo, `refs/heads/${cr.baseBranch}`);
      if (!baseSha)
        throw ApplicationFailure.nonRetryable(`base branch '${cr.baseBranch}' does not exist in ${repo}`, 'BaseBranchNotFound');

      const worktreeDir = path.join(deps.workRoot, 'prepare', `${repoKey(repo)}-${cr.id}`);
      await fs.mkdir(path.dirname(worktreeDir), { recursive: true });
      await addDetachedWorktree(repo, worktreeDir, baseSha);
      try {
        if (cr.change.kind === 'patch') await applyPatch(worktreeDir, cr.change.diff, cr.baseBranch, baseSha);
        else {
          try {
            await applyCodemod(worktreeDir, cr.change.codemod);
          } catch (error) {
            if (error instanceof CodemodError) throw ApplicationFailure.nonRetryable(error.message, 'CodemodFailed');
            throw error;
          }
          await git(worktreeDir, ['add', '--all']);
        }
        const staged = await git(worktreeDir, ['diff', '--cached', '--quiet'], { allowExitCodes: [1] });
        if (staged.exitCode === 0)
          throw ApplicationFailure.nonRetryable(`change '${cr.id}' makes no difference to ${cr.baseBranch}`, 'EmptyChange');

        await git(worktreeDir, [...MAESTRO_COMMIT_CONFIG, 'commit', '--quiet', '--no-verify', '-m', commitMessage(cr)]);
        const sha = (await git(worktreeDir, ['rev-parse', 'HEAD'])).stdout.trim();
        const candidate = await describeCandidate(repo, branch, baseSha, sha); // validates maestro.service.json first
        // Compare-and-swap: only create the branch, or replace a stale tip from an interrupted attempt.
        await git(repo, ['update-ref', '-m', `maestro: prepare ${cr.id}`, branchRef, sha, existingTip ?? ''.padEnd(40, '0')]);
        return candidate;
      } finally {
        await removeWorktree(repo, worktreeDir);
      }
    },

    /**
     * `git merge --no-ff` of the candidate into the base branch, done with plumbing (merge-tree, commit-tree,
     * update-ref) so no work tree is needed. If the base branch is checked out somewhere (typically the
     * user's own checkout), that checkout is then moved to the merge like `git merge --ff-only` would:
     * index and files of the merged paths are updated and local edits to other files are kept; if a local
     * edit touches a merged path we refuse (retryable: it succeeds once the user commits or stashes).
     * Idempotent: a candidate that is already in the base branch returns the existing merge.
     */
    async mergeCandidate({ changeRequest: cr, candidate }: MergeInput): Promise<MergeRecord> {
      const repo = await openRepo(cr.repo);
      const baseRef = `refs/heads/${cr.baseBranch}`;
      if (!(await resolveCommit(repo, candidate.sha)))
        throw ApplicationFailure.nonRetryable(`candidate commit ${candidate.sha} does not exist in ${repo}`, 'CandidateNotFound');
      const baseSha = await resolveCommit(repo, baseRef);
      if (!baseSha) throw ApplicationFailure.nonRetryable(`base branch '${cr.baseBranch}' does not exist in ${repo}`, 'BaseBranchNotFound');

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
        throw ApplicationFailure.nonRetryable(
          `candidate ${candidate.branch} conflicts with ${cr.baseBranch} in: ${conflicted.filter(Boolean).join(', ')}`,
          'MergeConflict',
        );

      const message = `Merge ${candidate.branch} into ${cr.baseBranch}: ${cr.title}\n\n${CHANGE_TRAILER}: ${cr.id}\n`;
      const mergeSha = (
        await git(repo, [...MAESTRO_COMMIT_CONFIG, 'commit-tree', treeSha, '-p', baseSha, '-p', candidate.sha, '-F', '-'], { input: message })
      ).stdout.trim();

      await advanceBranch(repo, cr.baseBranch, baseSha, mergeSha, `maestro: merge ${cr.id}`);
      return record(mergeSha, false);
    },

    /**
     * Compensation for a rolled-back release: a commit on the base branch that undoes the merge (the
     * inverse three-way merge of the merge commit onto the current tip), so the branch matches what
     * runs again. Idempotent: a revert already on the branch (found by its trailer) is returned.
     */
    async revertMerge({ changeRequest: cr, merge, reason }: RevertInput): Promise<RevertRecord> {
      const repo = await openRepo(cr.repo);
      const tip = await resolveCommit(repo, `refs/heads/${cr.baseBranch}`);
      if (!tip) throw ApplicationFailure.nonRetryable(`base branch '${cr.baseBranch}' does not exist in ${repo}`, 'BaseBranchNotFound');
      if (!(await isAncestor(repo, merge.mergeSha, tip)))
        throw ApplicationFailure.nonRetryable(`merge ${merge.mergeSha} is not on ${cr.baseBranch}: nothing to revert`, 'MergeNotOnBranch');
      const existing = (await git(repo, ['log', '--format=%H', '-F', `--grep=${REVERT_TRAILER}: ${merge.mergeSha}`, `${merge.mergeSha}..${tip}`])).stdout.trim();
      if (existing) return { revertSha: existing.split('\n')[0]!, alreadyReverted: true };

      const treeSha = await treeWithInversePatch(repo, tip, merge.mergeSha, cr.baseBranch);
      const message = `Revert "${cr.title}"\n\nRolled back: ${reason}\n\n${CHANGE_TRAILER}: ${cr.id}\n${REVERT_TRAILER}: ${merge.mergeSha}\n`;
      const revertSha = (await git(repo, [...MAESTRO_COMMIT_CONFIG, 'commit-tree', treeSha, '-p', tip, '-F', '-'], { input: message })).stdout.trim();
      await advanceBranch(repo, cr.baseBranch, tip, revertSha, `maestro: revert ${cr.id}`);
      return { revertSha, alreadyReverted: false };
    },
  };
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
        throw ApplicationFailure.nonRetryable(`reverting ${mergeSha} conflicts with later commits on ${branch}: ${applied.stderr.trim()}`, 'RevertConflict');
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
    throw ApplicationFailure.retryable(`${branch} moved meanwhile: ${(error as Error).message}`, 'BaseBranchMoved');
  }
  for (const checkout of checkouts) {
    try {
      await git(checkout.path, ['update-index', '-q', '--refresh'], { allowExitCodes: [1] });
      await git(checkout.path, ['read-tree', '-m', '-u', from, to]);
    } catch (error) {
      // Put the branch back so the checkout stays consistent, then let the retry try again.
      await git(repo, ['update-ref', ref, from, to]).catch(() => undefined);
      throw ApplicationFailure.retryable(`could not update the checkout of ${branch} at ${checkout.path}: ${(error as Error).message}`, 'BaseCheckoutBusy');
    }
  }
}

export type RepoActivities = ReturnType<typeof createRepoActivities>;

async function openRepo(repo: string): Promise<string> {
  try {
    const { stdout } = await git(repo, ['rev-parse', '--git-dir']);
    if (!stdout.trim()) throw new Error('not a git repository');
    return await fs.realpath(repo);
  } catch (error) {
    throw ApplicationFailure.nonRetryable(`${repo} is not a git repository: ${(error as Error).message}`, 'NotAGitRepository');
  }
}

/** A short stable name for a repository path, so work trees of different repos never collide. */
const repoKey = (repo: string): string => createHash('sha256').update(repo).digest('hex').slice(0, 12);

function commitMessage(cr: ChangeRequest): string {
  return `${cr.title}\n\n${cr.intent}\n\n${CHANGE_TRAILER}: ${cr.id}\nMaestro-Author: ${cr.author}\n`;
}

async function commitBelongsToChange(repo: string, sha: string, changeId: string): Promise<boolean> {
  const { stdout } = await git(repo, ['log', '-1', '--format=%B', sha]);
  return stdout.split('\n').some((line) => line.trim() === `${CHANGE_TRAILER}: ${changeId}`);
}

/** `git apply --index`; a patch that does not apply is bad input, reported with git's words and the files. */
async function applyPatch(worktreeDir: string, diff: string, baseBranch: string, baseSha: string): Promise<void> {
  const patch = diff.endsWith('\n') ? diff : diff + '\n';
  try {
    await git(worktreeDir, ['apply', '--index', '--whitespace=nowarn', '-'], { input: patch });
  } catch (error) {
    if (!(error instanceof GitError)) throw error;
    const files = filesNamedByApplyErrors(error.stderr);
    const where = files.length ? ` to ${files.join(', ')}` : '';
    throw ApplicationFailure.nonRetryable(
      `diff does not apply${where} on ${baseBranch} (${baseSha.slice(0, 12)}): ${error.stderr.trim()}`,
      'PatchDoesNotApply',
      { files, gitStderr: error.stderr.trim() },
    );
  }
}

/** Pulls file names out of `git apply` errors ("patch failed: f:12", "f: does not exist in index", …). */
export function filesNamedByApplyErrors(stderr: string): string[] {
  const files = new Set<string>();
  for (const line of stderr.split('\n')) {
    const failed = /^error: patch failed: (.+):\d+$/.exec(line);
    const other = /^error: (.+?): (patch does not apply|No such file or directory|does not exist in index|already exists in (?:index|working directory)|does not match index|wrong type)$/.exec(line);
    const file = failed?.[1] ?? other?.[1];
    if (file) files.add(file);
  }
  return [...files];
}

async function changedPaths(repo: string, from: string, to: string): Promise<string[]> {
  const { stdout } = await git(repo, ['diff', '--name-only', '--no-renames', '-z', from, to]);
  return stdout.split('\0').filter(Boolean);
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
    throw ApplicationFailure.retryable(
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

/** Reads and validates the candidate's maestro.service.json from the commit itself (not from any work tree). */
export async function readServiceDescriptor(repo: string, sha: string): Promise<ServiceDescriptor> {
  const shown = await git(repo, ['show', `${sha}:${SERVICE_DESCRIPTOR_FILE}`], { allowExitCodes: [128] });
  if (shown.exitCode !== 0)
    throw ApplicationFailure.nonRetryable(`${SERVICE_DESCRIPTOR_FILE} is missing at the root of ${sha.slice(0, 12)}`, 'InvalidServiceDescriptor');
  let json: unknown;
  try {
    json = JSON.parse(shown.stdout);
  } catch (error) {
    throw ApplicationFailure.nonRetryable(`${SERVICE_DESCRIPTOR_FILE} is not valid JSON: ${(error as Error).message}`, 'InvalidServiceDescriptor');
  }
  try {
    return parseOrThrow(serviceDescriptorSchema, json, SERVICE_DESCRIPTOR_FILE);
  } catch (error) {
    if (error instanceof ValidationError)
      throw ApplicationFailure.nonRetryable(error.message, 'InvalidServiceDescriptor', { issues: error.issues });
    throw error;
  }
}

async function describeCandidate(repo: string, branch: string, baseSha: string, sha: string): Promise<Candidate> {
  const service = await readServiceDescriptor(repo, sha);
  const changedFiles = await changedPaths(repo, baseSha, sha);
  const numstat = (await git(repo, ['diff', '--numstat', '--no-renames', baseSha, sha])).stdout;
  const diffStat = { files: 0, insertions: 0, deletions: 0 };
  for (const line of numstat.split('\n').filter(Boolean)) {
    const [added, deleted] = line.split('\t');
    diffStat.files += 1;
    diffStat.insertions += Number(added) || 0; // '-' for binary files
    diffStat.deletions += Number(deleted) || 0;
  }
  let diff = (await git(repo, ['diff', '--no-renames', baseSha, sha])).stdout;
  if (diff.length > MAX_CANDIDATE_DIFF_CHARS)
    diff = diff.slice(0, MAX_CANDIDATE_DIFF_CHARS) + `\n… diff truncated (${diff.length} characters in all)\n`;
  return { branch, baseSha, sha, changedFiles, diffStat, diff, service };
}
