/**
 * Test-only workflow interceptor: every release train makes one extra activity call (policyDigest) before
 * its first one. That is what shipping a new step without patched() does to running trains; replay.test.ts
 * bundles it with the real workflows to prove the replay test catches it.
 */
import { proxyActivities, type WorkflowInterceptorsFactory } from '@temporalio/workflow';
import type { Activities } from '../../activities';

const { policyDigest } = proxyActivities<Activities>({ startToCloseTimeout: '1 minute' });

export const interceptors: WorkflowInterceptorsFactory = () => ({
  outbound: [
    {
      async scheduleActivity(input, next) {
        if (input.activityType === 'recordTrainStarted') await policyDigest();
        return next(input);
      },
    },
  ],
});
