import { ApplicationFailure } from '@temporalio/common';
import { decide, policyInputSchema, type PolicyInput } from '../../core/policy';
import type { PolicyDecision } from '../../core/stages';
import { parseOrThrow, ValidationError } from '../../core/validation';

/** Bad input never becomes good by retrying: fail the activity for good, naming the bad fields. */
function rejectInvalidInput<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof ValidationError) throw ApplicationFailure.nonRetryable(err.message, 'InvalidInput');
    throw err;
  }
}

/** Merge-policy activities: pure rule evaluation behind the activity boundary, so decisions are recorded in history. */
export function createPolicyActivities() {
  return {
    /** Allow, or deny with every failing rule's reason, evidence and fix. */
    async decidePolicy(input: PolicyInput): Promise<PolicyDecision> {
      rejectInvalidInput(() => parseOrThrow(policyInputSchema, input, 'policy input'));
      return decide(input);
    },
  };
}
