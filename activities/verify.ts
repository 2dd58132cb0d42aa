/** The invariant check as an activity: the four truths about a service, compared (verify/service-truths.ts). */
import type { DeployerFor } from '../core/delivery';
import type { InvariantReport } from '../core/invariant';
import type { RecordStore } from '../record/store';
import { loadOrCreateSigningKey } from '../provenance/signing';
import { verifyService, type VerifyInput } from '../verify/service-truths';
import { isWorkflowRunningViaWorker, withHeartbeats } from './context';

export interface VerifyActivityDeps {
  deployerFor: DeployerFor;
  record: RecordStore;
  gitopsRepo: string;
  keyDir: string;
}

export function createVerifyActivities(deps: VerifyActivityDeps) {
  return {
    async checkInvariant(input: VerifyInput): Promise<InvariantReport> {
      const isTrainRunning = async (id: string) => (await isWorkflowRunningViaWorker(id)) ?? true;
      return withHeartbeats(() => ({ activity: 'checkInvariant' }), 1000, () =>
        verifyService({ deployerFor: deps.deployerFor, record: deps.record, gitopsRepo: deps.gitopsRepo, publicKey: () => loadOrCreateSigningKey(deps.keyDir).publicKey, isTrainRunning }, input),
      );
    },
  };
}
