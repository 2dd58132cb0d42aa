/** The Temporal activity context, when there is one: activities are also called directly (tests, scripts). */
import { Context } from '@temporalio/activity';
import { isWorkflowRunning } from '../io/payload-codec';

export function currentActivityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** Heartbeats when running as an activity; a no-op otherwise. */
export function heartbeat(details?: unknown): void {
  currentActivityContext()?.heartbeat(details);
}

/** Heartbeats every `everyMs` while `work` runs (from the start), so long work is not timed out as stuck. */
export async function withHeartbeats<T>(details: () => unknown, everyMs: number, work: () => Promise<T>): Promise<T> {
  const context = currentActivityContext();
  if (!context) return work();
  context.heartbeat(details());
  const timer = setInterval(() => context.heartbeat(details()), everyMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/** Whether a workflow still runs, asked of Temporal through the worker's client; outside an activity: undefined (unknown). */
export async function isWorkflowRunningViaWorker(workflowId: string): Promise<boolean | undefined> {
  const context = currentActivityContext();
  return context ? isWorkflowRunning(context.client, workflowId) : undefined;
}

/** The train (workflow id) of the running activity; undefined outside one. */
export function currentTrainId(): string | undefined {
  return currentActivityContext()?.info.workflowExecution?.workflowId;
}
