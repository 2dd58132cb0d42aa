/**
 * One rollout per service: a train that finds the service held by another waits its turn, visibly,
 * rechecking every few seconds, abortable, and gives up after a long while with a clear reason.
 */
import { ActivityFailure, ApplicationFailure, condition } from '@temporalio/workflow';

const RECHECK = '5s';
const MAX_WAIT_MS = 30 * 60_000;

const isServiceBusy = (err: unknown): err is ActivityFailure =>
  err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === 'ServiceBusy';

export interface ServiceQueueHooks {
  /** Called with the holder's description on every refused attempt (the caller shows it in its status). */
  waiting(holder: string): void;
  aborted(): boolean;
}

/** Runs `attempt` until the service is free; `undefined` when aborted while waiting. */
export async function whenServiceFree<T>(service: string, attempt: () => Promise<T>, hooks: ServiceQueueHooks): Promise<T | undefined> {
  const started = Date.now();
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (!isServiceBusy(err)) throw err;
      const holder = err.cause instanceof ApplicationFailure ? err.cause.message : String(err);
      hooks.waiting(holder);
      if (Date.now() - started > MAX_WAIT_MS)
        throw ApplicationFailure.nonRetryable(`gave up after ${MAX_WAIT_MS / 60_000} min waiting for '${service}': ${holder}`, 'ServiceBusy');
      if (await condition(hooks.aborted, RECHECK)) return undefined;
    }
  }
}
