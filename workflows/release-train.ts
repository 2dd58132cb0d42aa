import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowHandle,
  isCancellation,
  condition,
  ParentClosePolicy,
  patched,
  proxyActivities,
  type RetryPolicy,
  setDefaultSignalHandler,
  setHandler,
  startChild,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { inlineSecretsRefusal, parseChangeRequest, promotionPath, type ChangeRequest, type ChangeRequestInput, type Environment } from '../core/change-request';
import type { TrainSummary } from '../core/dossier';
import type { MergeRecord, PolicyDecision } from '../core/stages';
import {
  abortSignal,
  acceptOperatorSignal,
  OPERATOR_SIGNALS,
  approveSignal,
  pauseSignal,
  promoteSignal,
  resumeSignal,
  rolloutWorkflowId,
  searchAttributes,
  SIGNAL_HANDLERS_FIRST_PATCH,
  trainStatusQuery,
  appealDecidedSignal,
  finishMigrationSignal,
  migrationReadySignal,
  migrationWorkflowId,
  overridePlanSignal,
  changeGatesSignal,
  planOverrideSchema,
  rejectedPayload,
  type AppealResult,
  type DatabaseMigrationResult,
  type ProgressiveRolloutResult,
  type ApprovalSignal,
  type OperatorSignal,
  type OperatorSignalName,
  type TrainOutcome,
  type TrainStage,
  type TrainResult,
  type TrainStatus,
} from './messages';
import type { MigrationProgress } from '../core/migration';
import { approvalProgress, describeApprovals, describePlan, shapeByRisk, type ApprovalRequirement, type RolloutPlan, type RolloutPlanInput } from '../core/rollout-plan';
import { shadowReport } from '../core/shadow';
import { gateDecisionLog } from '../core/gate-config';
import { ValidationError } from '../core/validation';
import { databaseMigration } from './database-migration';
import { progressiveRollout, type ProgressiveRolloutInput } from './progressive-rollout';
import { whenServiceFree } from './service-queue';

/**
 * Train outcomes go to the audit trail too. Added while trains were running: patched() keeps histories
 * recorded before it replaying (docs/workflow-changes.md); deprecatePatch() once none of those trains is open.
 */
export const AUDIT_OUTCOME_PATCH = 'audit-train-outcome';
/**
 * One rollout per service, from before the merge: the train takes the service's lease before merging and
 * gives it back once it has promoted or reverted, after checking the invariant (docs/workflow-changes.md).
 */
export const SERVICE_LEASE_PATCH = 'service-lease-before-merge';

/**
 * A change request may carry a database migration: expanded and backfilled (child workflow) before the merge
 * and the canary, contracted after promotion, rolled back on any other end (docs/workflow-changes.md).
 */
export const DATABASE_MIGRATION_PATCH = 'database-migration-around-rollout';

/**
 * A change request with a promotion path rolls out environment by environment (dev → staging → prod), each
 * behind its own policy guards, and compensates the earlier ones when a later one fails (docs/workflow-changes.md).
 */
export const PROMOTION_PATH_PATCH = 'promotion-path-saga';

const nonRetryableErrorTypes = ['InvalidInput', 'InvalidChangeRequest'];
const retry: RetryPolicy = { initialInterval: '1s', backoffCoefficient: 2, nonRetryableErrorTypes };
/** Pure decisions and the spec: quick, few retries. */
const decisions = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', retry: { ...retry, maximumAttempts: 3 } });
/** Candidate branch and merge in the target repository; both heartbeat every second, so a lost worker is noticed in seconds. */
const repository = proxyActivities<Activities>({ startToCloseTimeout: '3 minutes', heartbeatTimeout: '15s', retry: { ...retry, maximumAttempts: 3 } });
/** The code graph behind the risk score (it heartbeats every second and per ingest step). */
const codeGraph = proxyActivities<Activities>({ startToCloseTimeout: '3 minutes', heartbeatTimeout: '15s', retry: { ...retry, maximumAttempts: 3 } });
/** The eval gate: long, heartbeats every few seconds, so a lost worker is noticed in seconds, not at the timeout. */
const evalGate = proxyActivities<Activities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '30s',
  // An abort waits until the harness has really stopped (its test process groups killed), not just asked to.
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { ...retry, initialInterval: '2s', maximumAttempts: 2 },
});
/** The service's lease: a refusal (ServiceBusy) is the answer, not a failure to retry; the train waits its turn. */
const serviceLease = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: '15s',
  retry: { ...retry, maximumAttempts: 5, nonRetryableErrorTypes: [...nonRetryableErrorTypes, 'ServiceBusy'] },
});
/** The invariant check reads the four truths; it informs, so it never fails the train. */
const invariantCheck = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', heartbeatTimeout: '15s', retry: { ...retry, maximumAttempts: 3 } });
/**
 * Writes that must land for the four truths to agree (the record, GitOps, the revert of a merge): they
 * retry for long enough to outlast an outage of minutes, instead of failing the train with them half done.
 */
const mustLand = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '30 minutes',
  retry: { ...retry, maximumInterval: '15s' },
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
  // A client that bypasses the CLI: refused before any activity, so the secret reaches no branch, record or log.
  const secretsRefusal = inlineSecretsRefusal(cr);
  if (secretsRefusal) throw ApplicationFailure.nonRetryable(secretsRefusal, 'SecretInChange');

  const status: TrainStatus = { changeId: cr.id, stage: 'validating', weight: 0, history: [] };
  const record = (kind: string, detail: string, by?: string) => status.history.push({ at: Date.now(), kind, detail, by });
  // The environments it rolls out in; more than one only for a promotion path (trains recorded before it have none).
  const path = promotionPath(cr);
  const onPath = cr.promotion !== undefined && patched(PROMOTION_PATH_PATCH);
  if (onPath) status.environments = path.map((environment) => ({ environment, state: 'pending' }));
  const progressIn = (environment: Environment) => status.environments!.find((e) => e.environment === environment)!;
  /** The environments of the path that run the change so far, in order, with what each ran before it. */
  const promotedAlongPath: { environment: Environment; previousStableSha?: string | null; descriptor: ProgressiveRolloutInput['descriptor'] }[] = [];
  const trainId = workflowInfo().workflowId;
  let approvedBy: OperatorSignal | undefined;
  /** Every approval, one per person (the policy's role checks and the plan's N-of-M count them). */
  const approvals: OperatorSignal[] = [];
  /** Every approval as it came, with when and for which environment: a later environment's guard counts its own (approvalsFor). */
  const approvalsGiven: (ApprovalSignal & { at: number })[] = [];
  let appealed: AppealResult | undefined;
  let abortBy: OperatorSignal | undefined;
  let paused = false;
  let rollout: ChildWorkflowHandle<typeof progressiveRollout> | undefined;
  let migration: ChildWorkflowHandle<typeof databaseMigration> | undefined;
  let migrationReady: MigrationProgress | undefined;
  let migrationEnd: { result?: DatabaseMigrationResult; error?: Error } | undefined;

  setHandler(trainStatusQuery, () => status);
  // A signal no handler knows is recorded and rejected, not silently buffered.
  const rejectUnknownSignals = () =>
    setDefaultSignalHandler((name) => {
      record('signal-rejected', `unknown signal '${name}'; allowed: ${[...OPERATOR_SIGNALS, 'overridePlan', 'changeGates', 'appealDecided'].join(', ')}`);
    });
  // Registered last, or a signal sent right after the start (in the first activation, before the handlers exist) goes to it.
  const knownSignalsFirst = patched(SIGNAL_HANDLERS_FIRST_PATCH);
  if (!knownSignalsFirst) rejectUnknownSignals();
  const forward = async (name: OperatorSignalName, payload: OperatorSignal) => {
    // A rollout that has ended (between the environments of a path, or before the release is written) has nothing left to steer.
    if (rollout) await rollout.signal(name, payload).catch((err: Error) => record('signal-not-forwarded', `${name}: the rollout has ended (${rootMessage(err)})`));
    // Pause and resume also hold and release a running backfill.
    if (migration && !migrationEnd && (name === 'pause' || name === 'resume')) await migration.signal(name, payload);
  };
  const operator = (name: OperatorSignalName, apply: (s: OperatorSignal) => void) => async (raw: unknown) => {
    const accepted = acceptOperatorSignal(name, raw, record);
    if (!accepted) return;
    apply(accepted);
    await forward(name, accepted);
  };
  setHandler(
    approveSignal,
    operator('approve', (s) => {
      approvedBy = s;
      approvalsGiven.push({ ...s, at: Date.now() });
      if (!approvals.some((a) => a.by === s.by)) approvals.push({ by: s.by, ...(s.reason !== undefined ? { reason: s.reason } : {}) });
    }),
  );
  setHandler(abortSignal, operator('abort', (s) => (abortBy = s)));
  setHandler(pauseSignal, operator('pause', () => (paused = true)));
  setHandler(resumeSignal, operator('resume', () => (paused = false)));
  setHandler(promoteSignal, operator('promote', () => undefined));
  let planOverride: { plan: RolloutPlan; by: string } | undefined;
  setHandler(overridePlanSignal, (raw) => {
    const parsed = planOverrideSchema.safeParse(raw);
    if (!parsed.success) {
      record('signal-rejected', rejectedPayload('overridePlan', parsed.error));
      return;
    }
    if (rollout) {
      record('signal-rejected', `overridePlan from ${parsed.data.by}: the rollout has started; pause, promote or abort it instead`);
      return;
    }
    planOverride = { plan: parsed.data.plan, by: parsed.data.by };
    status.plannedRollout = { source: `overridden by ${parsed.data.by}${parsed.data.reason ? `: ${parsed.data.reason}` : ''}`, description: describePlan(parsed.data.plan) };
    record('plan', `${status.plannedRollout.source}\n${status.plannedRollout.description}`, parsed.data.by);
  });
  // New gates for the running rollout: the rollout validates them, applies them and records who changed what.
  setHandler(changeGatesSignal, async (raw) => {
    if (!rollout) {
      record('signal-rejected', 'changeGates: the rollout has not started; replace the plan with overridePlan (maestro plan --set) instead');
      return;
    }
    await rollout.signal(changeGatesSignal, raw).catch((err: unknown) => record('signal-rejected', `changeGates: the rollout has ended (${rootMessage(err as Error)})`));
  });
  setHandler(migrationReadySignal, (progress: MigrationProgress) => {
    migrationReady = progress;
  });
  setHandler(appealDecidedSignal, (result: AppealResult) => {
    if (result?.trainWorkflowId !== trainId) {
      record('signal-rejected', `appealDecided for another train: ${String(result?.trainWorkflowId)}`);
      return;
    }
    record('appeal', `${result.appealId} ${result.status}${result.decidedBy ? ` by ${result.decidedBy}` : ''}: ${result.reason}`, result.decidedBy);
    appealed = result;
  });
  if (knownSignalsFirst) rejectUnknownSignals();

  // Each stage lands in the record with its times when the next one starts (or the train ends).
  let openStage: { name: TrainStage; startedAt: string } | undefined;
  const closeStage = async () => {
    if (openStage) await mustLand.recordStage({ trainId, name: openStage.name, status: 'completed', startedAt: openStage.startedAt, finishedAt: new Date().toISOString() });
    openStage = undefined;
  };
  const enter = async (stage: TrainStage) => {
    await closeStage();
    // Pause holds the train between stages; abort ends it before the next one starts.
    await condition(() => !paused || abortBy !== undefined);
    if (abortBy) throw new TrainStop('aborted', `aborted by ${abortBy.by} before ${stage}${abortBy.reason ? `: ${abortBy.reason}` : ''}`);
    status.stage = stage;
    openStage = { name: stage, startedAt: new Date().toISOString() };
    record('stage', stage);
    upsertSearchAttributes([{ key: searchAttributes.stage, value: stage }]);
  };
  // The audit trail is where people look for who did what to a train; it now also says how the train ended.
  const auditOutcome = async (outcome: TrainOutcome, reason: string) => {
    if (patched(AUDIT_OUTCOME_PATCH))
      await mustLand.recordAudit({ trainId, actor: 'maestro', action: `train.${outcome}`, detail: { reason, candidateSha: facts.candidateSha, mergeSha: facts.mergeSha, revertSha: facts.revertSha } });
  };
  // An abort during a long stage cancels its activity (the eval harness then kills its test processes)
  // instead of waiting for it to finish.
  const untilAborted = async <T>(stage: TrainStage, work: () => Promise<T>): Promise<T> => {
    const scope = new CancellationScope();
    // The watcher itself is cancelled with the workflow; that is not an error.
    condition(() => abortBy !== undefined).then(() => scope.cancel(), () => undefined);
    try {
      return await scope.run(work);
    } catch (err) {
      // Aborted is the outcome whatever the stage then reported: cancelled, or timed out on a lost worker.
      if (abortBy) throw new TrainStop('aborted', `aborted by ${abortBy.by} during ${stage}${abortBy.reason ? `: ${abortBy.reason}` : ''}`);
      throw err;
    }
  };
  let leased = false;
  /** The environments whose lease it holds: undefined stands for the one deployer of a train without a path. */
  const leasedIn: (Environment | undefined)[] = [];
  // With its work done (promoted or reverted, and recorded), the train checks that the four truths agree,
  // then lets the next train for the service go.
  const checkAndRelease = async (): Promise<TrainResult['invariant']> => {
    if (!leased) return undefined;
    let invariant: TrainResult['invariant'];
    for (const environment of onPath ? path : [cr.environment]) {
      const where = onPath ? `${environment}: ` : '';
      try {
        const report = await invariantCheck.checkInvariant({ service: cr.service, environment, repo: cr.repo, baseBranch: cr.baseBranch, self: trainId });
        const disagreements = report.disagreements.map((d) => ({ ...d, what: `${where}${d.what}` }));
        invariant = { held: (invariant?.held ?? true) && report.held, disagreements: [...(invariant?.disagreements ?? []), ...disagreements] };
        record('invariant', `${where}${report.held ? 'runs, base branch, GitOps and record agree' : `VIOLATED: ${report.disagreements.map((d) => `[${d.between.join('/')}] ${d.what}`).join('; ')}`}`);
        if (!report.held) await mustLand.recordAudit({ trainId, actor: 'maestro', action: 'train.invariant-violated', detail: { disagreements } });
      } catch (err) {
        record('invariant', `${where}not checked: ${String((err as Error).message)}`);
      }
    }
    for (const environment of leasedIn) {
      await mustLand.releaseServiceLease({ service: cr.service, owner: trainId, ...(environment ? { environment } : {}) });
      record('lease', `'${cr.service}' released${environment ? ` in ${environment}` : ''}`);
    }
    leased = false;
    leasedIn.length = 0;
    return invariant;
  };
  /**
   * A train that ended without giving the service back (terminated, or its worker lost for good) may have
   * left its merge on the base branch: merging on top would ship it ungated. The record is closed for it,
   * and this train stops unless the base branch still describes what runs.
   */
  const takeOverFrom = async (ended: string) => {
    await mustLand.closeTrain({ trainId: ended, outcome: 'failed', reason: `ended without closing; its service lease was taken over by ${trainId}` }).catch(() => undefined);
    const report = await invariantCheck.checkInvariant({ service: cr.service, environment: cr.environment, repo: cr.repo, baseBranch: cr.baseBranch, self: trainId });
    const off = report.disagreements.filter((d) => d.between.includes('base'));
    if (off.length > 0)
      throw new TrainStop(
        'failed',
        `not merged: train ${ended} ended without reverting, and ${cr.baseBranch} no longer describes what runs (${off.map((d) => d.what).join('; ')}); revert its merge on ${cr.baseBranch} (or re-run it), check with 'maestro verify ${cr.service}', then start this train again`,
      );
  };
  // The record keeps what the workflow knew, for `maestro explain` and the KPIs once the history is gone.
  const summary = (rollout?: TrainResult['rollout']): TrainSummary => ({
    timeline: [...status.history.map((e) => ({ ...e, source: 'train' as const })), ...(rollout?.history ?? []).map((e) => ({ ...e, source: 'rollout' as const }))].sort((a, b) => a.at - b.at),
    ...(rollout
      ? { rollout: { outcome: rollout.outcome, reason: rollout.reason, finalWeight: rollout.finalWeight, probes: rollout.probes, ...(rollout.mttrMs !== undefined ? { mttrMs: rollout.mttrMs } : {}) } }
      : {}),
  });
  /** Ends the migration child: contract after a promotion, rollback otherwise (a no-op when there is none or it ended). */
  const endMigration = async (promote: boolean, reason: string) => {
    if (!migration || migrationEnd) return;
    await migration.signal(finishMigrationSignal, { promote, reason });
    await condition(() => migrationEnd !== undefined);
    const end = migrationEnd!;
    if (end.result) record('migration', `${end.result.name} ${end.result.outcome}: ${end.result.reason}`);
    else record('migration-failed', rootMessage(end.error));
  };
  const finish = async (result: Omit<TrainResult, 'changeId'>): Promise<TrainResult> => {
    await endMigration(result.outcome === 'promoted', result.reason);
    await closeStage();
    await mustLand.closeTrain({ trainId, outcome: result.outcome, reason: result.reason, candidateSha: facts.candidateSha, mergeSha: facts.mergeSha, summary: summary(result.rollout) });
    await auditOutcome(result.outcome, result.reason);
    const invariant = await checkAndRelease();
    status.stage = 'done';
    status.outcome = result.outcome;
    record('outcome', `${result.outcome}: ${result.reason}`);
    upsertSearchAttributes([
      { key: searchAttributes.stage, value: 'done' },
      { key: searchAttributes.outcome, value: result.outcome },
    ]);
    upsertMemo({ outcome: result.outcome, reason: result.reason });
    return { changeId: cr.id, ...result, ...(invariant ? { invariant } : {}) };
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
    const reverted = await mustLand.revertMerge({ changeRequest: cr, merge: merged!, reason });
    status.revertSha = facts.revertSha = reverted.revertSha;
    record('revert', `${cr.baseBranch} reverted as ${reverted.revertSha.slice(0, 12)}${reverted.alreadyReverted ? ' (already reverted)' : ''}`);
  };
  /**
   * The approvals that count at a later environment's guard: those given for it, and those for no environment given
   * since the train reached the guard (an approval from before, say for the merge, does not carry over to prod).
   */
  const approvalsFor = (environment: Environment, since: number) => {
    const counted = approvalsGiven.filter((a) => a.environment === environment || (a.environment === undefined && a.at >= since));
    return counted.filter((a, i) => counted.findIndex((b) => b.by === a.by) === i).map(({ by, reason }) => ({ by, reason }));
  };
  /**
   * A later environment of the path ended without the change (`failed` says where and why): with 'rollback-all'
   * every environment that runs it goes back to what it ran before (newest first; GitOps and the record follow)
   * and the merge is reverted; with 'hold' they keep it. Returns the words for the train's reason.
   */
  const compensatePath = async (failed: Environment, why: string, how: 'hold' | 'rollback-all'): Promise<string> => {
    // No environment runs the change: there is nothing to hold it for, so the base branch goes back either way.
    if (promotedAlongPath.length === 0) {
      if (merged && !facts.revertSha) await revert(`${failed}: ${why}`);
      return 'no other environment ran it';
    }
    if (how === 'hold') {
      for (const { environment } of promotedAlongPath) progressIn(environment).state = 'held';
      const held = `${promotedAlongPath.map((p) => p.environment).join(', ')} keep ${merged!.mergeSha.slice(0, 12)} (onFailure: hold)`;
      record('hold', held);
      return held;
    }
    const words: string[] = [];
    for (const done of [...promotedAlongPath].reverse()) {
      const { environment, previousStableSha } = done;
      if (previousStableSha) await mustLand.restoreStable({ environment, service: cr.service, repo: cr.repo, sha: previousStableSha, descriptor: done.descriptor });
      const withdrawn = await mustLand.withdrawRelease({ environment, service: cr.service, trainId, by: 'maestro', reason: `${failed} failed: ${why}` });
      Object.assign(progressIn(environment), { state: 'withdrawn', runs: previousStableSha ?? null });
      const back = `${environment} back on ${previousStableSha?.slice(0, 12) ?? 'its previous version'}`;
      record('withdraw', `${back}; GitOps ${withdrawn.gitopsCommit ? `${withdrawn.gitopsCommit.slice(0, 12)} restores ${withdrawn.restoredCommit?.slice(0, 12) ?? 'no release'}` : 'had already withdrawn it'}`);
      words.push(back);
      promotedAlongPath.pop();
    }
    if (merged && !facts.revertSha) await revert(`${failed}: ${why}`);
    return `${words.join(', ')} (onFailure: rollback-all)`;
  };
  try {
    await mustLand.recordTrainStarted({ trainId, changeRequest: cr });
    await enter('synthesizeSpec');
    const spec = await decisions.synthesizeSpec(cr);
    record('spec', `${spec.scenarios.length} scenarios, ${spec.acceptanceCriteria.length} acceptance criteria`);

    await enter('prepareChange');
    const candidate = await untilAborted('prepareChange', () => repository.prepareChange(cr));
    status.candidateSha = facts.candidateSha = candidate.sha;
    record('candidate', `${candidate.branch} @ ${candidate.sha.slice(0, 12)}: ${candidate.diffStat.files} files, +${candidate.diffStat.insertions} −${candidate.diffStat.deletions}`);

    await enter('assessRisk');
    const risk = await untilAborted('assessRisk', () => codeGraph.assessRisk({ changeRequest: cr, candidate }));
    status.risk = facts.risk = risk.score;
    upsertSearchAttributes([{ key: searchAttributes.risk, value: risk.score }]);
    await mustLand.recordRiskReport({ trainId, candidateSha: candidate.sha, risk });
    // The plan is shown from here on, before anything merges; an operator's override (any time before the rollout) wins.
    const shaped = shapeByRisk(cr.rollout, risk.score);
    if (cr.rollout.byRisk && !planOverride) {
      status.plannedRollout = { source: shaped.why, description: describePlan(shaped.plan) };
      record('plan', `${shaped.why}\n${status.plannedRollout.description}`);
    }

    await enter('runEvals');
    const evals = await untilAborted('runEvals', () => evalGate.runEvals({ changeRequest: cr, candidate }));
    status.evalScore = facts.evalScore = evals.score;
    upsertSearchAttributes([{ key: searchAttributes.evalScore, value: evals.score }]);
    record('evals', `score ${evals.score.toFixed(3)} (threshold ${evals.threshold}): ${evals.checks.map((c) => `${c.check} ${c.passed ? 'pass' : 'FAIL'}`).join(', ')}`);
    await mustLand.recordEvalResult({ trainId, candidateSha: candidate.sha, evals });

    await enter('decidePolicy');
    const policyDigest = await decisions.policyDigest();
    // On a promotion path each environment is decided when the train reaches it (its freeze windows, its approvers): first the first.
    const decide = async (environment: Environment = path[0]!, guardSince?: number): Promise<PolicyDecision> => {
      const decision = await decisions.decidePolicy({
        changeRequest: onPath ? { ...cr, environment } : cr,
        candidate,
        risk,
        evals,
        approvals: guardSince === undefined ? approvals.map(({ by, reason }) => ({ by, reason })) : approvalsFor(environment, guardSince),
        waivers: appealed?.status === 'granted' ? appealed.waivers : [],
      });
      await mustLand.recordPolicyDecision({ trainId, candidateSha: candidate.sha, decision, policyDigest });
      status.denials = decision.outcome === 'deny' ? decision.denials.map(({ rule, reason, fix }) => ({ rule, reason, fix })) : undefined;
      return decision;
    };
    let decision = await decide();
    if (cr.shadow) {
      // A shadow change stops here, decided but never merged or deployed: no appeal, no approval, no lease.
      const plan = planOverride?.plan ?? shaped.plan;
      const shadow = shadowReport({ branch: candidate.branch, candidateSha: candidate.sha, evals, decision, risk, plannedRollout: `${plan.steps.map((s) => `${s.setWeight}%`).join(' → ')} (${planOverride ? `overridden by ${planOverride.by}` : shaped.why})` });
      return await finish({ ...facts, outcome: 'shadowed', reason: shadow.words, shadow });
    }
    if (decision.outcome === 'deny' && cr.appealWindow !== undefined) {
      // A denial can be appealed (workflows/appeal.ts) or approved by someone whose role may lift it.
      await enter('awaitingAppeal');
      const seen = { appealed, approvedBy };
      while (decision.outcome === 'deny') {
        const decided = await condition(() => appealed !== seen.appealed || approvedBy !== seen.approvedBy || abortBy !== undefined, cr.appealWindow);
        if (abortBy) throw new TrainStop('aborted', `aborted by ${abortBy.by} while the denial was open to appeal`);
        if (!decided) break;
        seen.appealed = appealed;
        seen.approvedBy = approvedBy;
        decision = await decide();
      }
    }
    if (decision.outcome === 'deny') {
      return await finish({ ...facts, outcome: 'denied', reason: decision.denials.map((d) => `[${d.rule}] ${d.reason} — fix: ${d.fix}`).join('; ') });
    }
    record('policy', `allowed${decision.notes.length ? `: ${decision.notes.join('; ')}` : ''}`);

    // The plan's approvals (its risk band's, or an operator's override, which may come while the train waits here) or the change request's one.
    const approvalsNeeded = (): ApprovalRequirement | undefined => (planOverride?.plan ?? shaped.plan).approvals ?? (cr.approval === 'required' ? { required: 1 } : undefined);
    const approvalsMissing = () => {
      const needed = approvalsNeeded();
      return needed ? approvalProgress(needed, approvals.map((a) => a.by)).missing : 0;
    };
    if (approvalsMissing() > 0) {
      await enter('awaitingApproval');
      const timeoutMs = cr.approvalTimeout;
      record('approvals', `needs ${describeApprovals(approvalsNeeded()!)} within ${timeoutMs} ms; ${approvals.length ? `approved so far by ${approvals.map((a) => a.by).join(', ')}` : 'none yet'}`);
      const decided = await condition(() => approvalsMissing() === 0 || abortBy !== undefined, timeoutMs);
      if (abortBy) throw new TrainStop('aborted', `aborted by ${abortBy.by} while awaiting approval`);
      const needed = approvalsNeeded();
      // An operator's plan override (recorded with identity) may have lifted the requirement meanwhile.
      if (!needed) record('approvals', `no longer needed: ${status.plannedRollout?.source ?? 'the plan changed'}`);
      else {
        const { counted, missing } = approvalProgress(needed, approvals.map((a) => a.by));
        // N of M says who counted; a single approval of anyone keeps its one-line wording.
        const nOfM = needed.required > 1 || needed.of !== undefined;
        if (!decided)
          return await finish({ ...facts, outcome: 'denied', reason: nOfM ? `${describeApprovals(needed)} needed within ${timeoutMs} ms; ${missing} missing (counted: ${counted.join(', ') || 'none'})` : `no approval within ${timeoutMs} ms` });
        if (nOfM) record('approvals', `${describeApprovals(needed)} given: ${counted.join(', ')}`);
      }
    }

    if (patched(SERVICE_LEASE_PATCH)) {
      // Before the merge: no other train's merge or canary for this service may land between ours and its promotion.
      await enter('awaitingService');
      // On a promotion path, the service in every environment of it, always in path order (so two trains never wait on each other).
      for (const environment of onPath ? path : [undefined]) {
        const lease = await whenServiceFree(cr.service, () => serviceLease.acquireServiceLease({ service: cr.service, owner: trainId, ...(environment ? { environment } : {}) }), {
          waiting: (holder) => {
            if (cr.whenServiceBusy === 'refuse') throw new TrainStop('aborted', `refused: ${holder} (this change request says whenServiceBusy: refuse; start it again later, or with 'wait' to queue)`);
            if (status.waitingFor === undefined) record('waiting', holder);
            status.waitingFor = holder;
          },
          aborted: () => abortBy !== undefined,
        });
        if (!lease) throw new TrainStop('aborted', `aborted by ${abortBy?.by} while waiting for '${cr.service}'${abortBy?.reason ? `: ${abortBy.reason}` : ''}`);
        leased = true;
        leasedIn.push(environment);
        status.waitingFor = undefined;
        record('lease', `'${cr.service}' held by this train${environment ? ` in ${environment}` : ''}${lease.tookOverFrom ? ` (taken over from ended train ${lease.tookOverFrom})` : ''}`);
        if (lease.tookOverFrom) await takeOverFrom(lease.tookOverFrom);
      }
    }

    // The migration written by hand, or the one prepareChange derived from the change's schema.prisma (none when it touches no table).
    const migrationDefinition = cr.migration?.definition ?? candidate.derivedMigration?.definition;
    if (cr.migration && migrationDefinition && patched(DATABASE_MIGRATION_PATCH)) {
      // The new shape is expanded and backfilled before anything merges: a refused or failed migration stops the train with nothing to revert.
      await enter('migrate');
      if (candidate.derivedMigration) record('migration', `${migrationDefinition.name} derived from ${candidate.derivedMigration.file}: ${migrationDefinition.operations.map((o) => o.op).join(', ')}${candidate.derivedMigration.notes.length ? ` (${candidate.derivedMigration.notes.join('; ')})` : ''}`);
      migration = await startChild(databaseMigration, {
        workflowId: migrationWorkflowId(trainId),
        args: [{ databaseUrl: cr.migration.databaseUrl, migration: migrationDefinition, parentWorkflowId: trainId }],
        // A train that ends without ending its migration asks it to cancel, which rolls it back.
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      });
      status.migrationWorkflowId = migration.workflowId;
      migration.result().then(
        (result) => (migrationEnd = { result }),
        (error: Error) => (migrationEnd = { error }),
      );
      if (paused) await migration.signal('pause', { by: 'release-train', reason: 'train was paused before the migration started' });
      await condition(() => migrationReady !== undefined || migrationEnd !== undefined || abortBy !== undefined);
      if (abortBy) throw new TrainStop('aborted', `aborted by ${abortBy.by} during the migration${abortBy.reason ? `: ${abortBy.reason}` : ''}`);
      if (!migrationReady) {
        const end = migrationEnd!;
        const why = end.result ? `${end.result.outcome}: ${end.result.reason}` : rootMessage(end.error);
        throw new TrainStop('failed', `migration ${migrationDefinition.name} did not get ready (${why}); nothing was merged`);
      }
      record('migration', `${migrationDefinition.name} ready: ${migrationReady.rowsDone} rows backfilled, ${migrationReady.lockWaits} lock waits`);
    }

    await enter('merge');
    merged = await repository.mergeCandidate({ changeRequest: cr, candidate });
    status.mergeSha = facts.mergeSha = merged.mergeSha;
    record('merge', `${candidate.branch} merged into ${cr.baseBranch} as ${merged.mergeSha.slice(0, 12)}${merged.alreadyMerged ? ' (already merged)' : ''}`);
    // Appeal decisions travel into the signed provenance with the rest of the evidence.
    const appeals = appealed ? [{ id: appealed.appealId, status: appealed.status, decidedBy: appealed.decidedBy, rules: appealed.rules }] : [];
    const evidence = { trainId, changeId: cr.id, repo: cr.repo, commit: merged.mergeSha, appeals };
    const provenance = await mustLand.recordMergeProvenance({
      changeRequest: cr,
      evalReport: evals,
      policyDecision: decision,
      evidence,
      merge: { repo: cr.repo, baseBranch: cr.baseBranch, mergeSha: merged.mergeSha, candidateSha: candidate.sha },
    });
    record('provenance', `merge statement sha256:${provenance.statementDigest.slice(0, 16)}… signed by ${provenance.keyId}`);

    await enter('rollout');
    // A granted appeal that waived the eval rule also lifts the gates' eval-score floor: otherwise every
    // probe would be red for the same accepted reason and the appeal could never take effect.
    const evalWaiver = appealed?.status === 'granted' ? appealed.waivers.find((w) => w.rule === 'eval-score-below-threshold') : undefined;
    const chosen = planOverride?.plan ?? shaped.plan;
    const plan = evalWaiver ? { ...chosen, thresholds: { ...chosen.thresholds, minEvalScore: 0 } } : chosen;
    if (evalWaiver) record('gate', `eval-score floor lifted for the health gates by ${evalWaiver.appealId}`, evalWaiver.decidedBy);
    /** The rollout child in one environment (on a promotion path) or the train's only one, to its end. */
    const rollOut = async (rolloutPlan: RolloutPlanInput, environment?: Environment): Promise<ProgressiveRolloutResult> => {
      rollout = await startChild(progressiveRollout, {
        workflowId: rolloutWorkflowId(trainId, environment),
        args: [
          {
            changeId: cr.id,
            service: cr.service,
            repo: cr.repo,
            baseSha: candidate.baseSha,
            sha: merged!.mergeSha,
            ...(leased ? { baseBranch: cr.baseBranch } : {}),
            descriptor: candidate.service,
            plan: rolloutPlan,
            evalScore: evals.score,
            ...(environment ? { environment } : {}),
          },
        ],
        typedSearchAttributes: [
          { key: searchAttributes.changeId, value: cr.id },
          { key: searchAttributes.repo, value: cr.repo },
          { key: searchAttributes.stage, value: 'rollout' },
        ],
      });
      status.rolloutWorkflowId = rollout.workflowId;
      // A pause that arrived before the child existed still applies to it.
      if (paused) await rollout.signal('pause', { by: 'release-train', reason: 'train was paused before the rollout started' });
      const result = await rollout.result();
      // Between the environments of a path, signals are the train's own (an approval for the next guard), not a finished rollout's.
      if (environment) rollout = undefined;
      status.weight = result.finalWeight;
      upsertSearchAttributes([{ key: searchAttributes.canaryWeight, value: result.finalWeight }]);
      return result;
    };
    /** Writes the promoted release into the environment's GitOps directory; a refusal puts the previous version back first. */
    const promoteIn = async (environment: Environment, result: ProgressiveRolloutResult, policyDecision: PolicyDecision) => {
      await enter('promoteRelease');
      let promoted;
      try {
        promoted = await mustLand.promoteRelease({
          environment,
          service: cr.service,
          by: approvedBy?.by ?? cr.author,
          release: {
            changeRequest: cr,
            evalReport: evals,
            policyDecision,
            // The gates' decision log: the gates in force at the end (an operator may have changed them), their hash, and every
            // probe's figures and verdict, each with the commit and gate configuration it belongs to.
            healthGates: gateDecisionLog(result.plan ?? plan, result.decisions ?? []),
            evidence: { ...evidence, environment },
          },
        });
      } catch (err) {
        // GitOps refused the release (a guard) or stayed unreachable: what runs goes back to the previous
        // version, so that runs, GitOps and (after the revert below) the base branch agree again.
        if (leased && result.previousStableSha && !isCancellation(err)) {
          await mustLand.restoreStable({ service: cr.service, repo: cr.repo, sha: result.previousStableSha, descriptor: candidate.service, ...(cr.promotion ? { environment } : {}) });
          record('restore', `GitOps promotion failed; ${result.previousStableSha.slice(0, 12)} is stable again${cr.promotion ? ` in ${environment}` : ''}`);
        }
        throw err;
      }
      record('gitops', `${environment} runs ${merged!.mergeSha.slice(0, 12)} (statement sha256:${promoted.statementDigest.slice(0, 16)}…)`);
    };

    if (onPath) {
      let last: ProgressiveRolloutResult | undefined;
      for (const [index, environment] of path.entries()) {
        const here = progressIn(environment);
        let decisionHere: PolicyDecision = decision;
        if (index > 0) {
          // Each later environment is guarded when reached: its policy (freeze windows, approvers by role), approvals awaited within approvalTimeout.
          await enter('environmentGuard');
          const since = Date.now();
          decisionHere = await decide(environment, since);
          while (decisionHere.outcome === 'deny' && !abortBy) {
            const left = cr.approvalTimeout - (Date.now() - since);
            const seen = approvalsGiven.length;
            record('guard', `${environment}: ${decisionHere.denials.map((d) => `[${d.rule}] ${d.reason}`).join('; ')}; waiting ${Math.max(0, left)} ms for an approval`);
            if (left <= 0 || !(await condition(() => approvalsGiven.length > seen || abortBy !== undefined, left)) || abortBy) break;
            decisionHere = await decide(environment, since);
          }
          if (abortBy || decisionHere.outcome === 'deny') {
            const outcome = abortBy ? 'aborted' : 'denied';
            const why = abortBy ? `aborted by ${abortBy.by} before ${environment}` : `${environment} refused: ${decisionHere.outcome === 'deny' ? decisionHere.denials.map((d) => `[${d.rule}] ${d.reason} — fix: ${d.fix}`).join('; ') : ''}`;
            here.state = outcome;
            const compensated = await compensatePath(environment, why, cr.promotion!.onFailure);
            return await finish({ ...facts, outcome, reason: `${why}; ${compensated}`, ...(last ? { rollout: last } : {}), environments: status.environments });
          }
          record('guard', `${environment}: allowed${decisionHere.outcome === 'allow' && decisionHere.notes.length ? `: ${decisionHere.notes.join('; ')}` : ''}`);
        }
        await enter('rollout');
        here.state = 'rolling-out';
        record('environment', `${environment} (${index + 1} of ${path.length}): rolling out`);
        const result = await rollOut(cr.promotion!.rollouts?.[environment] ?? plan, environment);
        last = result;
        if (result.outcome !== 'promoted') {
          here.state = result.outcome;
          const compensated = await compensatePath(environment, result.reason, cr.promotion!.onFailure);
          return await finish({ ...facts, outcome: result.outcome, reason: `${environment}: ${result.reason}; ${compensated}`, rollout: result, environments: status.environments });
        }
        await promoteIn(environment, result, decisionHere);
        Object.assign(here, { state: 'promoted', runs: merged.mergeSha });
        promotedAlongPath.push({ environment, previousStableSha: result.previousStableSha, descriptor: candidate.service });
      }
      return await finish({ ...facts, outcome: 'promoted', reason: `promoted through ${path.join(' → ')}`, rollout: last!, environments: status.environments });
    }
    const result = await rollOut(plan);
    // Production went back to stable; the base branch follows, so it says what runs.
    if (result.outcome !== 'promoted') {
      await endMigration(false, result.reason);
      await revert(result.reason);
    } else {
      await promoteIn(cr.environment, result, decision);
      // Only the promoted version uses the new shape now: the old one is dropped.
      await endMigration(true, `promoted in ${cr.environment}`);
    }
    return await finish({ ...facts, outcome: result.outcome, reason: result.reason, rollout: result });
  } catch (err) {
    // Stopped between the environments of a path: the ones that run the change are compensated as the change request says.
    if (err instanceof TrainStop && promotedAlongPath.length > 0) {
      const compensated = await compensatePath(status.environments!.find((e) => e.state === 'pending')?.environment ?? cr.environment, err.message, cr.promotion!.onFailure);
      return await finish({ ...facts, outcome: err.outcome, reason: `${err.message}; ${compensated}`, environments: status.environments });
    }
    if (err instanceof TrainStop) return await finish({ ...facts, outcome: err.outcome, reason: err.message });
    // Failed or cancelled after the merge: the rollout child has rolled traffic back (its own compensation);
    // the branch must follow, so that it says what runs.
    const failedWhy = isCancellation(err) ? 'release train cancelled' : `release train failed: ${String((err as Error).message)}`;
    await CancellationScope.nonCancellable(() => endMigration(false, failedWhy)).catch((migrationErr) => record('migration-failed', String(migrationErr)));
    // A failure: every environment of the path that runs the change goes back, whatever onFailure says, since the merge is reverted below.
    if (promotedAlongPath.length > 0)
      await CancellationScope.nonCancellable(() => compensatePath(cr.environment, failedWhy, 'rollback-all')).catch((compensationErr) => record('compensation-failed', String(compensationErr)));
    if (merged && !facts.revertSha) {
      await CancellationScope.nonCancellable(() => revert(failedWhy)).catch((revertErr) => record('revert-failed', String(revertErr)));
    }
    upsertSearchAttributes([{ key: searchAttributes.outcome, value: 'failed' }]);
    // The record says how it ended even when the train fails or is cancelled.
    const reason = String((err as Error).message);
    await CancellationScope.nonCancellable(async () => {
      await mustLand.closeTrain({ trainId, outcome: 'failed', reason, candidateSha: facts.candidateSha, mergeSha: facts.mergeSha, summary: summary() });
      await auditOutcome('failed', reason);
    }).catch(() => undefined);
    // The lease goes back even when the record could not be closed: a stuck lease would stop every later train.
    await CancellationScope.nonCancellable(checkAndRelease).catch((releaseErr) => record('lease-release-failed', String(releaseErr)));
    throw err;
  }
}

/** A child's failure says only that it failed; the reason is at the end of its cause chain. */
function rootMessage(err: Error | undefined): string {
  let e: Error | undefined = err;
  while (e && e.cause instanceof Error) e = e.cause;
  return String(e?.message);
}

class TrainStop extends Error {
  constructor(
    readonly outcome: TrainOutcome,
    message: string,
  ) {
    super(message);
  }
}
