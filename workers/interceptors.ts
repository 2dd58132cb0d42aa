/**
 * The one place where library failures become Temporal failures: errors the capability libraries
 * classify (PermanentError, TransientError, a permanent git error, …) get a stable ApplicationFailure
 * type that workflows' retry policies match, so activity code never translates errors by hand.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, ActivityInterceptorsFactory, Next } from '@temporalio/worker';
import { PermanentError, TransientError } from '../core/errors';
import { GitError } from '../io/git';

/** The Temporal failure for a library error; anything unclassified passes through (and is retried). */
export function toActivityFailure(err: unknown): unknown {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof PermanentError) {
    return ApplicationFailure.create({ message: err.message, type: err.type, nonRetryable: true, details: err.details ? [err.details] : undefined });
  }
  if (err instanceof TransientError) return ApplicationFailure.create({ message: err.message, type: err.type, nonRetryable: false });
  // A missing commit or repository does not appear on retry.
  if (err instanceof GitError && err.isPermanent) return ApplicationFailure.create({ message: err.message, type: 'InvalidInput', nonRetryable: true });
  return err;
}

export class FailureTypeInterceptor implements ActivityInboundCallsInterceptor {
  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    try {
      return await next(input);
    } catch (err) {
      throw toActivityFailure(err);
    }
  }
}

/** Every activity interceptor the worker registers. */
export const activityInterceptors: ActivityInterceptorsFactory[] = [() => ({ inbound: new FailureTypeInterceptor() })];
