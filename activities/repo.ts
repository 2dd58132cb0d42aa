/** Repository activities over repo/: a candidate commit for a change request, its merge, and the merge's revert. */
import type { ChangeRequest } from '../core/change-request';
import type { Candidate, MergeRecord } from '../core/stages';
import { prepareChange } from '../repo/candidate';
import { mergeCandidate, revertMerge, type MergeInput, type RevertInput, type RevertRecord } from '../repo/merge';

export interface RepoActivityDeps {
  /** Directory for Maestro's own work trees; created on demand. */
  workRoot: string;
}

export function createRepoActivities(deps: RepoActivityDeps) {
  return {
    async prepareChange(cr: ChangeRequest): Promise<Candidate> {
      return prepareChange(cr, deps.workRoot);
    },
    async mergeCandidate(input: MergeInput): Promise<MergeRecord> {
      return mergeCandidate(input);
    },
    async revertMerge(input: RevertInput): Promise<RevertRecord> {
      return revertMerge(input);
    },
  };
}

export type RepoActivities = ReturnType<typeof createRepoActivities>;
