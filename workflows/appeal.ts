/**
 * Appeal of a policy denial, as a workflow: who appeals (and why), who decides (roles from the policy),
 * and every step in the audit trail (database, through activities) and in this workflow's history.
 *
 * Start it with workflow id = appeal id. It opens the appeal (fails with TrainClosed / NotPermitted /
 * NothingToAppeal right away), waits for `decideAppeal` from a decider (or `withdrawAppeal` from the
 * appellant), records the verdict, and on a grant tells the train with `appealDecided` (carrying the
 * waivers the train passes to decidePolicy). Deterministic: no I/O here, activities do it.
 */
import { ApplicationFailure, ActivityFailure, condition, getExternalWorkflowHandle, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { AppealActivities } from '../activities/appeals';
import {
  appealDecidedSignal,
  appealStatusQuery,
  decideAppealSignal,
  withdrawAppealSignal,
  type AppealInput,
  type AppealResult,
  type AppealStatus,
  type AppealDecisionSignal,
  type WithdrawAppealSignal,
} from './messages';

const { openAppeal, recordAppealStep, closeAppeal } = proxyActivities<AppealActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 5, initialInterval: '1 second' },
});

const isText = (v: unknown, max = 2000): v is string => typeof v === 'string' && v.trim().length > 0 && v.length <= max;

export async function appeal(input: AppealInput): Promise<AppealResult> {
  const appealId = workflowInfo().workflowId;
  const trainId = input.trainWorkflowId;
  const status: AppealStatus = { appealId, status: 'opening', rules: input.rules ?? [], deciders: [], steps: [] };
  let seq = 0;
  let verdict: { status: 'granted' | 'rejected' | 'withdrawn'; by: string; reason: string } | undefined;
  const pendingAudit: Promise<void>[] = [];
  const step = (kind: string, detail: string, by?: string, audit = false) => {
    status.steps.push({ kind, detail, ...(by ? { by } : {}) });
    if (audit) pendingAudit.push(recordAppealStep({ appealId, trainId, seq: ++seq, actor: by ?? 'maestro', action: `appeal.${kind}`, detail: { detail } }));
  };
  let opened: Awaited<ReturnType<AppealActivities['openAppeal']>> | undefined;
  const mayDecide = (by: string) => opened!.deciders.includes(by) || opened!.deciders.includes('*');

  setHandler(appealStatusQuery, () => status);
  setHandler(decideAppealSignal, (raw: AppealDecisionSignal) => {
    const s = (raw ?? {}) as Partial<AppealDecisionSignal>;
    if (!isText(s.by, 200) || (s.decision !== 'grant' && s.decision !== 'reject') || !isText(s.reason)) {
      step('signal-rejected', `decideAppeal needs {by, decision: 'grant'|'reject', reason}; got ${JSON.stringify(raw)?.slice(0, 300)}`, undefined, opened !== undefined);
      return;
    }
    if (verdict) return step('signal-ignored', `already ${verdict.status}`, s.by);
    if (!opened) return step('signal-rejected', 'the appeal is not open yet', s.by);
    if (!mayDecide(s.by)) return step('signal-rejected', `${s.by} may not decide: deciders are ${opened.deciderRoles.join(', ')} (${opened.deciders.join(', ') || 'nobody'})`, s.by, true);
    if (s.by === input.appellant && !opened.allowSelfDecision) return step('signal-rejected', `${s.by} appealed and may not decide their own appeal`, s.by, true);
    verdict = { status: s.decision === 'grant' ? 'granted' : 'rejected', by: s.by, reason: s.reason };
  });
  setHandler(withdrawAppealSignal, (raw: WithdrawAppealSignal) => {
    const s = (raw ?? {}) as Partial<WithdrawAppealSignal>;
    if (!isText(s.by, 200)) return step('signal-rejected', 'withdrawAppeal needs {by}');
    if (verdict) return step('signal-ignored', `already ${verdict.status}`, s.by);
    if (s.by !== input.appellant) return step('signal-rejected', `only ${input.appellant} may withdraw this appeal`, s.by, opened !== undefined);
    verdict = { status: 'withdrawn', by: s.by, reason: isText(s.reason) ? s.reason : 'withdrawn' };
  });

  if (!isText(input.appellant, 200) || !isText(input.reason) || !isText(trainId, 500))
    throw ApplicationFailure.nonRetryable('an appeal needs trainWorkflowId, appellant and reason', 'InvalidInput');
  step('requested', input.reason, input.appellant);
  try {
    opened = await openAppeal({ appealId, trainId, appellant: input.appellant, reason: input.reason, rules: input.rules ?? [] });
  } catch (err) {
    // Surface the activity's own error (TrainClosed, NotPermitted, …) as this workflow's failure.
    if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) throw ApplicationFailure.nonRetryable(err.cause.message, err.cause.type ?? 'AppealRefused');
    throw err;
  }
  status.status = 'open';
  status.rules = opened.rules;
  status.deciders = opened.deciders;
  step('opened', `rules ${opened.rules.join(', ')}; deciders: ${opened.deciderRoles.join(', ')}`, input.appellant);

  const decided = await condition(() => verdict !== undefined, input.decisionTimeoutMs ?? 7 * 24 * 3600 * 1000);
  await Promise.all(pendingAudit);
  const final = decided && verdict ? verdict : { status: 'expired' as const, by: 'maestro', reason: 'no decision before the timeout' };
  await closeAppeal({ appealId, trainId, status: final.status === 'expired' ? 'rejected' : final.status, by: final.by, reason: final.reason });
  status.status = final.status;
  step(final.status, final.reason, final.by);

  const result: AppealResult = {
    appealId,
    trainWorkflowId: trainId,
    status: final.status,
    ...(final.status === 'granted' || final.status === 'rejected' ? { decidedBy: final.by } : {}),
    reason: final.reason,
    rules: opened.rules,
    waivers: final.status === 'granted' ? opened.rules.map((rule) => ({ rule, appealId, decidedBy: final.by, reason: final.reason })) : [],
    trainNotified: false,
  };
  if (final.status === 'granted' || final.status === 'rejected') {
    try {
      await getExternalWorkflowHandle(trainId).signal(appealDecidedSignal, result);
      result.trainNotified = true;
    } catch (err) {
      step('train-not-notified', `the train could not be signalled: ${(err as Error).message}`);
    }
  }
  return result;
}
