import {
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowHandle,
  isCancellation,
  condition,
  proxyActivities,
  setHandler,
  startChild,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { parseChangeRequest, type ChangeRequest, type ChangeRequestInput } from '../core/change-request';
import type { MergeRecord, PolicyDecision } from '../core/stages';
import { ValidationError } from '../core/validation';
import {
  abortSignal,
  acceptOperatorSignal,
  approveSignal,
  pauseSignal,
  promoteSignal,
  resumeSignal,
  rolloutWorkflowId,
  searchAttributes,
  trainStatusQuery,
  type OperatorSignal,
  type OperatorSignalName,
  type TrainOutcome,
  type TrainStage,
  type TrainStatus,
} from './messages';
import { progressiveRollout, type ProgressiveRolloutResult } from './progressive-rollout';

export interface TrainResult {
  changeId: string;
  outcome: TrainOutcome;
  reason: string;
  candidateSha?: string;
  mergeSha?: string;
  /** The commit that undid the merge after a rollback or abort. */
  revertSha?: string;
  evalScore?: number;
  risk?: number;
  rollout?: ProgressiveRolloutResult;
}

const nonRetryableErrorTypes = ['InvalidInput', 'InvalidChangeRequest'];
const quick = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumAttempts: 3, nonRetryableErrorTypes },
});
const gitWork = proxyActivities<Activities>({
  startToCloseTimeout: '3 minutes',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumAttempts: 3, nonRetryableErrorTypes },
});
const evalWork = proxyActivities<Activities>({
  startToCloseTimeout: '15 minutes',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumAttempts: 2, nonRetryableErrorTypes },
});

/** One change from intent to 100% of traffic, or back out (DESIGN.md §1). */
export async function releaseTrain(input: ChangeRequestInput): Promise<TrainResult> {
  let cr: ChangeRequest;
  try {
    cr = parseChangeRequest(input);
  } catch (err) {
    if (err instanceof ValidationError) throw ApplicationFailure.nonRetryable(err.message, 'InvalidChangeRequest');
    throw err;
  }

  const status: TrainStatus = { changeId: cr.id, stage: 'validating', weight: 0, history: [] };
  const record = (kind: string, detail: string, by?: string) => status.history.push({ at: Date.now(), kind, detail, by });
  let approvedBy: OperatorSignal | undefined;
  let abortBy: OperatorSignal | undefined;
  let paused = false;
  let rollout: ChildWorkflowHandle<typeof progressiveRollout> | undefined;

  setHandler(trainStatusQuery, () => status);
  const forward = async (name: OperatorSignalName, payload: OperatorSignal) => {
    if (rollout) await rollout.signal(name, payload);
  };
  const operator = (name: OperatorSignalName, apply: (s: OperatorSignal) => void) => async (raw: unknown) => {
    const accepted = acceptOperatorSignal(name, raw, record);
    if (!accepted) return;
    apply(accepted);
    await forward(name, accepted);
  };
  setHandler(approveSignal, operator('approve', (s) => (approvedBy = s)));
  setHandler(abortSignal, operator('abort', (s) => (abortBy = s)));
  setHandler(pauseSignal, operator('pause', () => (paused = true)));
  setHandler(resumeSignal, operator('resume', () => (paused = false)));
  setHandler(promoteSignal, operator('promote', () => undefined));

  const enter = async (stage: TrainStage) => {
    // Pause holds the train between stages; abort ends it before the next one starts.
    await condition(() => !paused || abortBy !== undefined);
    if (abortBy) throw new TrainStop('aborted', `aborted by ${abortBy.by} before ${stage}${abortBy.reason ? `: ${abortBy.reason}` : ''}`);
    status.stage = stage;
    record('stage', stage);
    upsertSearchAttributes([{ key: searchAttributes.stage, value: stage }]);
  };
  const finish = (result: Omit<TrainResult, 'changeId'>): TrainResult => {
    status.stage = 'done';
    status.outcome = result.outcome;
    record('outcome', `${result.outcome}: ${result.reason}`);
    upsertSearchAttributes([
      { key: searchAttributes.stage, value: 'done' },
      { key: searchAttributes.outcome, value: result.outcome },
    ]);
    upsertMemo({ outcome: result.outcome, reason: result.reason });
    return { changeId: cr.id, ...result };
  };

  upsertSearchAttributes([
    { key: searchAttributes.changeId, value: cr.id },
    { key: searchAttributes.repo, value: cr.repo },
    { key: searchAttributes.canaryWeight, value: 0 },
  ]);
  upsertMemo({ title: cr.title, intent: cr.intent, author: cr.author, service: cr.service, environment: cr.environment });

  const facts: Partial<TrainResult> = {};
  let merged: MergeRecord | undefined;
  const revert = async (reason: string) => {
    status.stage = 'revert';
    record('stage', 'revert');
    const reverted = await gitWork.revertMerge({ changeRequest: cr, merge: merged!, reason });
    status.revertSha = facts.revertSha = reverted.revertSha;
    record('revert', `${cr.baseBranch} reverted as ${reverted.revertSha.slice(0, 12)}${reverted.alreadyReverted ? ' (already reverted)' : ''}`);
  };
  try {
    await enter('synthesizeSpec');
    const spec = await quick.synthesizeSpec(cr);
    record('spec', `${spec.scenarios.length} scenarios, ${spec.acceptanceCriteria.length} acceptance criteria`);

    await enter('prepareChange');
    const candidate = await gitWork.prepareChange(cr);
    status.candidateSha = facts.candidateSha = candidate.sha;
    record('candidate', `${candidate.branch} @ ${candidate.sha.slice(0, 12)}: ${candidate.diffStat.files} files, +${candidate.diffStat.insertions} −${candidate.diffStat.deletions}`);

    await enter('assessRisk');
    const risk = await gitWork.assessRisk({ changeRequest: cr, candidate });
    status.risk = facts.risk = risk.score;
    upsertSearchAttributes([{ key: searchAttributes.risk, value: risk.score }]);

    await enter('runEvals');
    const evals = await evalWork.runEvals({ changeRequest: cr, candidate });
    status.evalScore = facts.evalScore = evals.score;
    upsertSearchAttributes([{ key: searchAttributes.evalScore, value: evals.score }]);
    record('evals', `score ${evals.score.toFixed(3)} (threshold ${evals.threshold}): ${evals.checks.map((c) => `${c.check} ${c.passed ? 'pass' : 'FAIL'}`).join(', ')}`);

    await enter('decidePolicy');
    const decision: PolicyDecision = await quick.decidePolicy({ changeRequest: cr, candidate, risk, evals });
    if (decision.outcome === 'deny') {
      status.denials = decision.denials.map(({ rule, reason, fix }) => ({ rule, reason, fix }));
      return finish({ ...facts, outcome: 'denied', reason: decision.denials.map((d) => `[${d.rule}] ${d.reason} — fix: ${d.fix}`).join('; ') });
    }
    record('policy', `allowed${decision.notes.length ? `: ${decision.notes.join('; ')}` : ''}`);

    if (cr.approval === 'required' && !approvedBy) {
      await enter('awaitingApproval');
      const timeoutMs = cr.approvalTimeout;
      const decided = await condition(() => approvedBy !== undefined || abortBy !== undefined, timeoutMs);
      if (abortBy) throw new TrainStop('aborted', `aborted by ${abortBy.by} while awaiting approval`);
      if (!decided) return finish({ ...facts, outcome: 'denied', reason: `no approval within ${timeoutMs} ms` });
    }

    await enter('merge');
    merged = await gitWork.mergeCandidate({ changeRequest: cr, candidate });
    status.mergeSha = facts.mergeSha = merged.mergeSha;
    record('merge', `${candidate.branch} merged into ${cr.baseBranch} as ${merged.mergeSha.slice(0, 12)}${merged.alreadyMerged ? ' (already merged)' : ''}`);

    await enter('rollout');
    rollout = await startChild(progressiveRollout, {
      workflowId: rolloutWorkflowId(workflowInfo().workflowId),
      args: [{ changeId: cr.id, service: cr.service, repo: cr.repo, baseSha: candidate.baseSha, sha: merged.mergeSha, descriptor: candidate.service, plan: cr.rollout, evalScore: evals.score }],
      typedSearchAttributes: [
        { key: searchAttributes.changeId, value: cr.id },
        { key: searchAttributes.repo, value: cr.repo },
        { key: searchAttributes.stage, value: 'rollout' },
      ],
    });
    // A pause that arrived before the child existed still applies to it.
    if (paused) await rollout.signal('pause', { by: 'release-train', reason: 'train was paused before the rollout started' });
    const result = await rollout.result();
    status.weight = result.finalWeight;
    upsertSearchAttributes([{ key: searchAttributes.canaryWeight, value: result.finalWeight }]);
    // Production went back to stable; the base branch follows, so it says what runs.
    if (result.outcome !== 'promoted') await revert(result.reason);
    return finish({ ...facts, outcome: result.outcome, reason: result.reason, rollout: result });
  } catch (err) {
    if (err instanceof TrainStop) return finish({ ...facts, outcome: err.outcome, reason: err.message });
    // Cancelled after the merge: the rollout child has rolled traffic back; the branch must follow.
    if (isCancellation(err) && merged && !facts.revertSha) await CancellationScope.nonCancellable(() => revert('release train cancelled'));
    upsertSearchAttributes([{ key: searchAttributes.outcome, value: 'failed' }]);
    throw err;
  }
}

class TrainStop extends Error {
  constructor(
    readonly outcome: TrainOutcome,
    message: string,
  ) {
    super(message);
  }
}
