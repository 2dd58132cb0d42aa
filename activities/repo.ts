/** Repository activities over repo/: a candidate commit for a change request, its merge, and the merge's revert. */
import type { ChangeRequest } from '../core/change-request';
import type { Candidate, MergeRecord } from '../core/stages';
import { prepareChange } from '../repo/candidate';
import { checkMergeIsBaseTip, mergeCandidate, revertMerge, type BaseTipCheck, type MergeInput, type RevertInput, type RevertRecord } from '../repo/merge';
import { withHeartbeats } from './context';

export interface RepoActivityDeps {
  /** Directory for Maestro's own work trees; created on demand. */
  workRoot: string;
}

export function createRepoActivities(deps: RepoActivityDeps) {
  return {
    async prepareChange(cr: ChangeRequest): Promise<Candidate> {
      // Codemods on a large repository take a while: heartbeats let a lost worker be noticed in seconds.
      return withHeartbeats(() => ({ activity: 'prepareChange', change: cr.id }), 1000, () => prepareChange(cr, deps.workRoot));
    },
    async mergeCandidate(input: MergeInput): Promise<MergeRecord> {
      return withHeartbeats(() => ({ activity: 'mergeCandidate', change: input.changeRequest.id }), 1000, () => mergeCandidate(input));
    },
    async revertMerge(input: RevertInput): Promise<RevertRecord> {
      return revertMerge(input);
    },
    async checkMergeIsBaseTip(input: { repo: string; baseBranch: string; mergeSha: string }): Promise<BaseTipCheck> {
      return checkMergeIsBaseTip(input);
    },
  };
}

export type RepoActivities = ReturnType<typeof createRepoActivities>;
