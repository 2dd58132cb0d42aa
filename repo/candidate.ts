/**
 * A change request becomes a candidate commit on `maestro/<id>`. The user's checkout is never touched
 * while preparing (work trees of Maestro's own under `workRoot`).
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { ChangeRequest } from '../core/change-request';
import { PermanentError } from '../core/errors';
import type { Candidate } from '../core/stages';
import { applyCodemod, CodemodError } from '../refactor';
import { git, GitError, MAESTRO_COMMIT_CONFIG, resolveCommit } from '../io/git';
import { addDetachedWorktree, removeWorktree } from '../io/worktree';
import { branchNames, changedPaths, CHANGE_TRAILER, openRepo, resolveChangeRef } from './repository';
import { migrationOfChange } from './prisma-migration';
import { readServiceDescriptor } from './service-descriptor';

/** Diffs above this size are cut in the Candidate (it travels through workflow history, which caps payloads). */
export const MAX_CANDIDATE_DIFF_CHARS = 256 * 1024;

export const candidateBranchName = (changeId: string): string => `maestro/${changeId}`;

/** Commits the change on `maestro/<id>` (from the base branch) and describes the result. Idempotent. */
export async function prepareChange(cr: ChangeRequest, workRoot: string): Promise<Candidate> {
  const repo = await openRepo(cr.repo);
  const branch = candidateBranchName(cr.id);
  const branchRef = `refs/heads/${branch}`;

  const existingTip = await resolveCommit(repo, branchRef);
  if (existingTip && (await commitBelongsToChange(repo, existingTip, cr.id))) {
    const parent = await resolveCommit(repo, `${existingTip}^1`);
    if (parent) return describeCandidate(cr, repo, branch, parent, existingTip);
  }

  const baseSha = await resolveCommit(repo, `refs/heads/${cr.baseBranch}`);
  if (!baseSha)
    throw new PermanentError(`base branch '${cr.baseBranch}' does not exist in ${repo}`, 'BaseBranchNotFound');

  const worktreeDir = path.join(workRoot, 'prepare', `${repoKey(repo)}-${cr.id}`);
  await fs.mkdir(path.dirname(worktreeDir), { recursive: true });
  await addDetachedWorktree(repo, worktreeDir, baseSha);
  try {
    if (cr.change.kind === 'patch') await applyPatch(worktreeDir, cr.change.diff, cr.baseBranch, baseSha);
    else if (cr.change.kind === 'ref') {
      const diff = await changesOfRef(repo, cr.change.ref, cr.baseBranch, baseSha);
      if (diff) await applyPatch(worktreeDir, diff, cr.baseBranch, baseSha);
    } else {
      try {
        await applyCodemod(worktreeDir, cr.change.codemod);
      } catch (error) {
        if (error instanceof CodemodError) throw new PermanentError(error.message, 'CodemodFailed');
        throw error;
      }
      await git(worktreeDir, ['add', '--all']);
    }
    const staged = await git(worktreeDir, ['diff', '--cached', '--quiet'], { allowExitCodes: [1] });
    if (staged.exitCode === 0)
      throw new PermanentError(`change '${cr.id}' makes no difference to ${cr.baseBranch}`, 'EmptyChange');

    await git(worktreeDir, [...MAESTRO_COMMIT_CONFIG, 'commit', '--quiet', '--no-verify', '-m', commitMessage(cr)]);
    const sha = (await git(worktreeDir, ['rev-parse', 'HEAD'])).stdout.trim();
    const candidate = await describeCandidate(cr, repo, branch, baseSha, sha); // validates maestro.service.json and derives a Prisma migration first
    // Compare-and-swap: only create the branch, or replace a stale tip from an interrupted attempt.
    await git(repo, ['update-ref', '-m', `maestro: prepare ${cr.id}`, branchRef, sha, existingTip ?? ''.padEnd(40, '0')]);
    return candidate;
  } finally {
    await removeWorktree(repo, worktreeDir);
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

/**
 * What a branch or commit changes since it left the base branch, read in the repository: the patch
 * text of a change by reference never travels through Temporal.
 */
async function changesOfRef(repo: string, ref: string, baseBranch: string, baseSha: string): Promise<string> {
  const sha = await resolveChangeRef(repo, ref);
  if (!sha) throw new PermanentError(`ref '${ref}' is neither a branch nor a commit of ${repo}; branches: ${(await branchNames(repo)).join(', ') || '(none)'}`, 'RefNotFound');
  const base = await git(repo, ['merge-base', baseSha, sha], { allowExitCodes: [1] });
  if (base.exitCode !== 0) throw new PermanentError(`ref '${ref}' (${sha.slice(0, 12)}) shares no history with ${baseBranch}`, 'RefUnrelated');
  return (await git(repo, ['diff', '--binary', '--no-renames', base.stdout.trim(), sha])).stdout;
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
    throw new PermanentError(
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

async function describeCandidate(cr: ChangeRequest, repo: string, branch: string, baseSha: string, sha: string): Promise<Candidate> {
  const service = await readServiceDescriptor(repo, sha);
  const changedFiles = await changedPaths(repo, baseSha, sha);
  const derivedMigration = await migrationOfChange(cr, repo, baseSha, sha, changedFiles);
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
  return { branch, baseSha, sha, changedFiles, diffStat, diff, service, ...(derivedMigration ? { derivedMigration } : {}) };
}
