/** Activities that write the record (record/store.ts); retries reuse the keys derived from the activity's identity. */
import { Context } from '@temporalio/activity';
import { InvalidInputError } from '../core/errors';
import { RecordStore, type RecordDeps } from '../record/store';

/**
 * The idempotency key of a write made by an activity: the activity's workflow id and activity id stay
 * the same across retries, so a retry reuses the key. Outside an activity the caller must pass a key.
 */
export function activityKey(suffix: string): string {
  let info: { workflowExecution?: { workflowId: string; runId: string }; activityId: string } | undefined;
  try {
    info = Context.current().info;
  } catch {
    info = undefined;
  }
  if (!info?.workflowExecution) throw new InvalidInputError(`no idempotency key for '${suffix}': pass 'key' when calling outside a workflow activity`);
  return `${info.workflowExecution.workflowId}/${info.workflowExecution.runId}/${info.activityId}/${suffix}`;
}

type Input<M extends keyof RecordStore> = Parameters<RecordStore[M]>[0];
type WithOptionalKey<T> = Omit<T, 'key'> & { key?: string };

export function createRecordActivities(deps: RecordDeps & { store?: RecordStore } = {}) {
  const store = deps.store ?? new RecordStore(deps);
  return {
    recordTrainStarted: (input: Input<'recordTrainStarted'>) => store.recordTrainStarted(input),
    recordStage: (input: Input<'recordStage'>) => store.recordStage(input),
    recordRiskReport: (input: Input<'recordRiskReport'>) => store.recordRiskReport(input),
    recordEvalResult: (input: Input<'recordEvalResult'>) => store.recordEvalResult(input),
    recordPolicyDecision: (input: Input<'recordPolicyDecision'>) => store.recordPolicyDecision(input),
    recordCost: async (input: WithOptionalKey<Input<'recordCost'>>) => store.recordCost({ ...input, key: input.key ?? activityKey(`cost/${input.category}`) }),
    trainCostUsd: (input: Input<'trainCostUsd'>) => store.trainCostUsd(input),
    recordAudit: async (input: WithOptionalKey<Input<'recordAudit'>>) => store.recordAudit({ ...input, key: input.key ?? activityKey(`audit/${input.action}`) }),
    closeTrain: (input: Input<'closeTrain'>) => store.closeTrain(input),
    assertTrainOpen: (input: Input<'assertTrainOpen'>) => store.assertTrainOpen(input),
    auditTrail: (input: Input<'auditTrail'>) => store.auditTrail(input),
  };
}

export type RecordActivities = ReturnType<typeof createRecordActivities>;
