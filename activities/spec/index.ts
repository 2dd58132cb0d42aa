import { ApplicationFailure } from '@temporalio/common';
import { parseChangeRequest, type ChangeRequest } from '../../core/change-request';
import { specSchema, synthesizeSpecFromRequest } from '../../core/spec';
import type { Spec } from '../../core/stages';
import { ValidationError } from '../../core/validation';

/** Bad input never becomes good by retrying: fail the activity for good, naming the bad fields. */
function rejectInvalidInput<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof ValidationError) throw ApplicationFailure.nonRetryable(err.message, 'InvalidInput');
    throw err;
  }
}

/** Spec synthesis activities. The offline synthesizer needs no dependencies; an LLM-backed one will. */
export function createSpecActivities() {
  return {
    /** Given/When/Then scenarios and acceptance criteria for a change request, deterministic and offline. */
    async synthesizeSpec(changeRequest: ChangeRequest): Promise<Spec> {
      const cr = rejectInvalidInput(() => parseChangeRequest(changeRequest));
      // Parse the result too: a spec that breaks its own schema is a bug here, not bad input.
      return specSchema.parse(synthesizeSpecFromRequest(cr));
    },
  };
}
