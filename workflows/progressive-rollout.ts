import {
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setDefaultSignalHandler,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { Environment } from '../core/change-request';
import { advanceGate, evalScoreReasons, judgeProbe, withoutLatencies, type GateProgress, type JudgedProbe, type ProbeVerdict } from '../core/health';
import { accumulateWindow, emptyWindow, judgeWindow, looksPerGate, looksWithin } from '../core/judge';
import { advanceMetricChecks, emptyMetricGate } from '../core/metric-gates';
import type { Trip } from '../core/tripwire';
import { gateForStep, judgesStatistically, parseRolloutPlan, type RolloutPlan, type RolloutPlanInput } from '../core/rollout-plan';
import { applyGateChange, changedGateFields, gateChangeSchema, gateConfigHash, shortHash } from '../core/gate-config';
import type { ServiceDescriptor } from '../core/stages';
import { ValidationError } from '../core/validation';
import {
  abortSignal,
  acceptOperatorSignal,
  changeGatesSignal,
  OPERATOR_SIGNALS,
  pauseSignal,
  promoteSignal,
  rejectedPayload,
  resumeSignal,
  rolloutStatusQuery,
  searchAttributes,
  SIGNAL_HANDLERS_FIRST_PATCH,
  type OperatorSignal,
  type OperatorSignalName,
  type ProgressiveRolloutResult,
  type RolloutStatus,
} from './messages';
import { whenServiceFree } from './service-queue';

export interface ProgressiveRolloutInput {
  changeId: string;
  service: string;
  repo: string;
  baseSha: string;
  sha: string;
  /** When given, `sha` is promoted only while it is still what this branch says (checked just before). */
  baseBranch?: string;
  descriptor: ServiceDescriptor;
  plan: RolloutPlanInput;
  evalScore: number;
  /** Which environment's deployer it runs on (a promotion path's); absent: dev's. */
  environment?: Environment;
}

const deploy = proxyActivities<Activities>({
  startToCloseTimeout: '3 minutes',
  // Deploy activities heartbeat every second: a lost worker is noticed in seconds, not minutes.
  heartbeatTimeout: '15s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumAttempts: 4, nonRetryableErrorTypes: ['InvalidInput', 'ServiceBusy', 'NotCanaryOwner'] },
});
const traffic = proxyActivities<Activities>({
  startToCloseTimeout: '20s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '2s', maximumAttempts: 5, nonRetryableErrorTypes: ['InvalidInput'] },
});
/** Rollback must land: it retries quickly and for long. */
const compensation = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '10 minutes',
  retry: { initialInterval: '200ms', backoffCoefficient: 1.5, maximumInterval: '5s', nonRetryableErrorTypes: ['InvalidInput'] },
});

/** The tripwire's watcher waits as long as the rollout runs; heartbeats tell a lost worker within seconds. */
const watcher = proxyActivities<Activities>({
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: '10s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '2s', nonRetryableErrorTypes: ['InvalidInput'] },
});

const MAX_PROBES_KEPT = 10;

/**
 * Gates of a plan with a `judge` compare the canary with stable statistically and soak on while the
 * judge is inconclusive (more probes than the threshold gate would take): a new command sequence.
 */
export const STATISTICAL_JUDGE_PATCH = 'statistical-health-judge';

/**
 * A plan with a `tripwire` runs a watcher activity beside the gates, and a trip rolls back between
 * probes: a new command sequence.
 */
export const TRIPWIRE_PATCH = 'health-tripwire';

/** Canary rollout of one version: weight steps, each followed by a health gate; rollback is a compensation. */
export async function progressiveRollout(input: ProgressiveRolloutInput): Promise<ProgressiveRolloutResult> {
  let plan: RolloutPlan;
  try {
    plan = parseRolloutPlan(input.plan);
  } catch (err) {
    if (err instanceof ValidationError) throw ApplicationFailure.nonRetryable(err.message, 'InvalidRolloutPlan');
    throw err;
  }
  const status: RolloutStatus = { weight: 0, stepIndex: -1, paused: false, lastProbes: [], history: [], gateConfig: gateConfigHash(plan) };
  /** Every judged probe, for the decision log; the status keeps only the last few. */
  const decisions: JudgedProbe[] = [];
  // Each verdict belongs to the revision it judged and the gate configuration that judged it.
  const judgedProbe = (probe: JudgedProbe) => {
    const judged: JudgedProbe = { ...probe, commit: input.sha, gateConfig: status.gateConfig };
    decisions.push(judged);
    status.lastProbes = [...status.lastProbes, judged].slice(-MAX_PROBES_KEPT);
    return judged;
  };
  let abortBy: OperatorSignal | undefined;
  let promoteBy: OperatorSignal | undefined;
  const record = (kind: string, detail: string, by?: string) => status.history.push({ at: Date.now(), kind, detail, by });

  setHandler(rolloutStatusQuery, () => status);
  const rejectUnknownSignals = () =>
    setDefaultSignalHandler((name) => {
      record('signal-rejected', `unknown signal '${name}'; allowed: ${[...OPERATOR_SIGNALS.filter((n) => n !== 'approve'), 'changeGates'].join(', ')}`);
    });
  // Registered last, or a pause the train forwards right after starting this rollout goes to it.
  const knownSignalsFirst = patched(SIGNAL_HANDLERS_FIRST_PATCH);
  if (!knownSignalsFirst) rejectUnknownSignals();
  const operator = (name: OperatorSignalName, apply: (s: OperatorSignal) => void) => (raw: unknown) => {
    const accepted = acceptOperatorSignal(name, raw, record);
    if (accepted) apply(accepted);
  };
  setHandler(abortSignal, operator('abort', (s) => (abortBy = s)));
  setHandler(pauseSignal, operator('pause', () => (status.paused = true)));
  setHandler(resumeSignal, operator('resume', () => (status.paused = false)));
  setHandler(promoteSignal, operator('promote', (s) => (promoteBy = s)));
  /** New gates an operator sent, validated against the plan; applied at the next probe turn (or step start). */
  let gateChange: { plan: RolloutPlan; by: string; reason?: string } | undefined;
  /** Once every gate has passed (or the rollout ended), there is no analysis left to change. */
  let gatesDone = false;
  setHandler(changeGatesSignal, (raw) => {
    const parsed = gateChangeSchema.safeParse(raw);
    if (!parsed.success) {
      record('signal-rejected', rejectedPayload('changeGates', parsed.error));
      return;
    }
    const { by } = parsed.data;
    if (gatesDone || status.outcome) {
      record('signal-rejected', `changeGates from ${by}: every gate has already been decided`, by);
      return;
    }
    try {
      gateChange = { plan: applyGateChange(gateChange?.plan ?? plan, parsed.data), by, reason: parsed.data.reason };
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      record('signal-rejected', `changeGates from ${by}: ${err.message}`, by);
    }
  });
  if (knownSignalsFirst) rejectUnknownSignals();
  /**
   * Puts the operator's gates in force: earlier verdicts are marked superseded by the new configuration
   * and the caller starts the current step's analysis again.
   */
  const applyPendingGateChange = () => {
    const change = gateChange!;
    gateChange = undefined;
    const before = status.gateConfig!;
    const after = gateConfigHash(change.plan);
    const fields = changedGateFields(plan, change.plan);
    plan = change.plan;
    status.gateConfig = after;
    let superseded = 0;
    for (const d of decisions)
      if (d.supersededBy === undefined) {
        d.supersededBy = after;
        superseded++;
      }
    const restart = status.stepIndex >= 0 ? `; the analysis at ${status.weight}% starts again` : '';
    record('gates-changed', `gates ${shortHash(before)} → ${shortHash(after)} (${fields.join(', ') || 'no field changed'})${change.reason ? `: ${change.reason}` : ''}; ${superseded} earlier verdict${superseded === 1 ? '' : 's'} superseded${restart}`, change.by);
  };

  const abortReason = () => `aborted by ${abortBy?.by}${abortBy?.reason ? `: ${abortBy.reason}` : ''}`;
  // The train owns its canary: the deployer refuses to let any other train weight, promote or roll it back.
  const owner = workflowInfo().parent?.workflowId ?? workflowInfo().workflowId;
  const target = { service: input.service, owner, ...(input.environment ? { environment: input.environment } : {}) };
  let canaryDeployed = false;
  let firstRedAt: number | undefined;
  /** Set by the tripwire's watcher when the canary fails hard; every wait of the rollout ends on it. */
  let trip: Trip | undefined;
  let stopWatching = () => undefined as void;
  // The templates of the gates in force (a gate change may replace them).
  const probeTarget = () => ({ ...target, ...(plan.metrics ? { metrics: plan.metrics } : {}) });

  const setWeight = async (weight: number) => {
    await traffic.setCanaryWeight({ ...target, weight });
    status.weight = weight;
    upsertSearchAttributes([{ key: searchAttributes.canaryWeight, value: weight }]);
    record('weight', `canary weight ${weight}%`);
  };

  const rollBack = async (outcome: 'rolled_back' | 'aborted', reason: string): Promise<ProgressiveRolloutResult> => {
    stopWatching();
    const { at } = await compensation.rollbackCanary(target);
    status.weight = 0;
    status.outcome = outcome;
    const mttrMs = firstRedAt !== undefined ? Math.max(0, at - firstRedAt) : undefined;
    status.mttrMs = mttrMs;
    record('rollback', `${reason}; 100% on stable${mttrMs !== undefined ? ` (MTTR ${mttrMs} ms)` : ''}`);
    upsertSearchAttributes([
      { key: searchAttributes.canaryWeight, value: 0 },
      { key: searchAttributes.outcome, value: outcome },
    ]);
    return { outcome, reason, finalWeight: 0, mttrMs, probes: decisions.length, history: status.history, decisions, plan };
  };

  /** The canary failed hard: back to stable now, the trip as the reason and the first red. */
  const rollBackOnTrip = (tripped: Trip, weight: number) => {
    firstRedAt ??= tripped.at;
    record('tripwire', tripped.words);
    return rollBack('rolled_back', `tripwire at ${weight}%: ${tripped.words}`);
  };

  const skipGate = (weight: number) => {
    record('gate-skipped', `gate at ${weight}% skipped`, promoteBy?.by);
    promoteBy = undefined;
  };
  /**
   * Waits one probe interval (paused time does not count) and says what the operator asked meanwhile;
   * a promote skips the gate at `weight` (recorded here).
   */
  const awaitProbeTurn = async (interval: number, weight: number): Promise<{ turn: 'abort' | 'skip' | 'probe' | 'trip' | 'regate'; waitedMs: number }> => {
    let waitedMs = 0;
    for (;;) {
      const waitStart = Date.now();
      await condition(() => abortBy !== undefined || promoteBy !== undefined || status.paused || trip !== undefined || gateChange !== undefined, interval);
      waitedMs += Date.now() - waitStart;
      if (abortBy) return { turn: 'abort', waitedMs };
      if (trip) return { turn: 'trip', waitedMs };
      if (status.paused) {
        // A paused gate neither probes nor counts towards its timeout; a trip still ends it.
        await condition(() => !status.paused || abortBy !== undefined || trip !== undefined);
        continue;
      }
      if (gateChange) return { turn: 'regate', waitedMs };
      if (!promoteBy) return { turn: 'probe', waitedMs };
      skipGate(weight);
      return { turn: 'skip', waitedMs };
    }
  };

  try {
    // A train holding the service's lease is never refused here; an older train (started before leases) may wait.
    const deployed = await whenServiceFree(
      input.service,
      () => deploy.deployCanary({ ...target, repo: input.repo, baseSha: input.baseSha, sha: input.sha, descriptor: input.descriptor }),
      {
        waiting: (holder) => {
          if (status.waitingFor === undefined) record('waiting', holder);
          status.waitingFor = holder;
        },
        aborted: () => abortBy !== undefined,
      },
    );
    if (!deployed) return { outcome: 'aborted', reason: `${abortReason()} while waiting for '${input.service}'`, finalWeight: 0, probes: 0, history: status.history, decisions };
    if (status.waitingFor !== undefined) record('service-free', `'${input.service}' is free; deploying`);
    status.waitingFor = undefined;
    canaryDeployed = true;
    record('deploy', `canary ${input.sha.slice(0, 12)} deployed at 0%`);
    let totalProbes = 0;
    const tripwire = plan.tripwire;
    if (tripwire && patched(TRIPWIRE_PATCH)) {
      const watching = new CancellationScope();
      stopWatching = () => watching.cancel();
      watching
        .run(() => watcher.watchCanary({ ...target, tripwire }))
        .then(
          (tripped) => void (trip = tripped),
          (err: unknown) => {
            if (!isCancellation(err)) record('tripwire-lost', `the tripwire's watcher failed (${String(err)}); the gates' probes still judge`);
          },
        );
    }

    steps: for (let index = 0; index < plan.steps.length; index++) {
      const step = plan.steps[index]!;
      await condition(() => !status.paused || abortBy !== undefined || trip !== undefined);
      if (abortBy) return await rollBack('aborted', abortReason());
      if (trip) return await rollBackOnTrip(trip, status.weight);
      if (gateChange) applyPendingGateChange();
      status.stepIndex = index;
      // A step started again after a gate change is already at its weight.
      if (status.weight !== step.setWeight) await setWeight(step.setWeight);

      const gate = gateForStep(plan, index);
      const judge = plan.judge;
      if (judge && judgesStatistically(plan, index) && patched(STATISTICAL_JUDGE_PATCH)) {
        // Canary against stable over everything this step has seen; one conclusive verdict decides.
        const looks = looksPerGate(judge, gate.probeInterval);
        let window = emptyWindow();
        let metricGate = emptyMetricGate();
        let passStreak = 0;
        let probes = 0;
        let activeMs = 0;
        status.gate = { consecutiveGreen: 0, red: 0, probes: 0 };
        for (;;) {
          const { turn, waitedMs } = await awaitProbeTurn(gate.probeInterval, step.setWeight);
          activeMs += waitedMs;
          if (turn === 'abort') return await rollBack('aborted', abortReason());
          if (turn === 'trip') return await rollBackOnTrip(trip!, step.setWeight);
          if (turn === 'regate') {
            applyPendingGateChange();
            index--;
            continue steps;
          }
          if (turn === 'skip') break;
          const sample = await traffic.probeHealth(probeTarget());
          totalProbes++;
          probes++;
          window = accumulateWindow(window, sample);
          const verdict = judgeWindow(window, judge, looks);
          // The plan's own metric templates (not the source's defaults) are judged beside error rate and latency.
          const checked = plan.metrics && sample.metrics ? advanceMetricChecks(metricGate, sample.metrics, { at: sample.at, looks, weight: step.setWeight }) : undefined;
          if (checked) metricGate = checked.state;
          const evalReasons = evalScoreReasons(input.evalScore, plan.thresholds);
          const metricsFailed = checked !== undefined && (checked.failed.length > 0 || checked.failedSeries.length > 0);
          const probeVerdict: ProbeVerdict =
            evalReasons.length > 0 || verdict.outcome === 'fail' || metricsFailed
              ? 'red'
              : verdict.outcome === 'pass' && (checked?.verdict ?? 'green') === 'green'
                ? 'green'
                : 'inconclusive';
          const reasons = [...evalReasons, ...(verdict.outcome === 'pass' ? [] : verdict.evidence.filter((e) => e.outcome !== 'pass').map((e) => e.words)), ...(checked?.reasons ?? [])];
          const evidence = [...verdict.evidence, ...(checked?.evidence ?? [])];
          const judged = judgedProbe({ ...withoutLatencies(sample), verdict: probeVerdict, reasons, evidence });
          const evidenceWords = evidence.map((e) => e.words).join('; ');
          passStreak = probeVerdict === 'green' ? passStreak + 1 : 0;
          status.gate = { consecutiveGreen: passStreak, red: probeVerdict === 'red' ? 1 : 0, probes };
          if (probeVerdict === 'red') {
            firstRedAt ??= judged.at;
            return await rollBack('rolled_back', `health gate at ${step.setWeight}% failed: ${reasons.join('; ')}`);
          }
          // A minimum soak of `consecutiveGreen` probes: a canary is not passed on its first seconds.
          if (probeVerdict === 'green' && probes >= gate.consecutiveGreen) {
            record('gate-passed', `gate at ${step.setWeight}% passed after ${probes} probes: ${evidenceWords}`);
            break;
          }
          if (activeMs >= judge.maxSoakMs) {
            const still = `health gate at ${step.setWeight}% still inconclusive after ${activeMs} ms: ${evidenceWords}`;
            // Fail closed: too little evidence is never a pass. An operator may take the decision instead.
            if (judge.onInconclusive === 'rollback') return await rollBack('rolled_back', still);
            record('approval-needed', `${still}; promote to pass the gate, abort to roll back`);
            await condition(() => abortBy !== undefined || promoteBy !== undefined || trip !== undefined || gateChange !== undefined);
            if (abortBy) return await rollBack('aborted', abortReason());
            if (trip) return await rollBackOnTrip(trip, step.setWeight);
            if (gateChange) {
              applyPendingGateChange();
              index--;
              continue steps;
            }
            skipGate(step.setWeight);
            break;
          }
        }
        log.info('rollout step passed', { changeId: input.changeId, weight: step.setWeight, probes: totalProbes });
        continue;
      }
      let progress: GateProgress = { consecutiveGreen: 0, red: 0, probes: 0 };
      status.gate = progress;
      let activeMs = 0;
      let metricGate = emptyMetricGate();
      const looks = looksWithin(gate.timeout, gate.probeInterval);
      for (;;) {
        const { turn, waitedMs } = await awaitProbeTurn(gate.probeInterval, step.setWeight);
        activeMs += waitedMs;
        if (turn === 'abort') return await rollBack('aborted', abortReason());
        if (turn === 'trip') return await rollBackOnTrip(trip!, step.setWeight);
        if (turn === 'regate') {
          applyPendingGateChange();
          index--;
          continue steps;
        }
        if (turn === 'skip') break;
        const sample = await traffic.probeHealth(probeTarget());
        let probe: JudgedProbe;
        let metricCheckFailed = false;
        if (sample.metrics && sample.metrics.length > 0) {
          // A PromQL source: the metric templates judge the canary, each reading with its query and value.
          const checked = advanceMetricChecks(metricGate, sample.metrics, { at: sample.at, looks, weight: step.setWeight });
          metricGate = checked.state;
          metricCheckFailed = checked.failed.length > 0 || checked.failedSeries.length > 0;
          const evalReasons = evalScoreReasons(input.evalScore, plan.thresholds);
          probe = {
            ...withoutLatencies(sample),
            verdict: evalReasons.length > 0 ? 'red' : checked.verdict,
            reasons: [...evalReasons, ...checked.reasons],
            ...(checked.evidence.length > 0 ? { evidence: checked.evidence } : {}),
          };
        } else probe = judgeProbe(withoutLatencies(sample), plan.thresholds, input.evalScore);
        totalProbes++;
        const judged = judgedProbe(probe);
        if (judged.verdict === 'red' && firstRedAt === undefined) firstRedAt = judged.at;
        const next = advanceGate(progress, judged.verdict, gate);
        progress = next.progress;
        status.gate = progress;
        if (next.outcome === 'failed' || metricCheckFailed)
          return await rollBack('rolled_back', `health gate at ${step.setWeight}% failed: ${judged.reasons.join(', ')}`);
        if (next.outcome === 'passed') {
          record('gate-passed', `gate at ${step.setWeight}% passed after ${progress.probes} probes`);
          break;
        }
        if (activeMs >= gate.timeout)
          return await rollBack('rolled_back', `health gate at ${step.setWeight}% timed out after ${activeMs} ms without ${gate.consecutiveGreen} consecutive green probes`);
      }
      log.info('rollout step passed', { changeId: input.changeId, weight: step.setWeight, probes: totalProbes });
    }

    gatesDone = true;
    if (gateChange) record('signal-rejected', `changeGates from ${gateChange.by}: every gate had passed before it could apply`, gateChange.by);
    if (trip) return await rollBackOnTrip(trip, status.weight);
    if (input.baseBranch) {
      const tip = await deploy.checkMergeIsBaseTip({ repo: input.repo, baseBranch: input.baseBranch, mergeSha: input.sha });
      if (!tip.isTip) return await rollBack('rolled_back', `not promoted: ${tip.reason}`);
    }
    stopWatching();
    const promoted = await deploy.promoteCanary(target);
    status.outcome = 'promoted';
    record('promote', `canary ${input.sha.slice(0, 12)} is now stable at 100%`);
    upsertSearchAttributes([{ key: searchAttributes.outcome, value: 'promoted' }]);
    return { outcome: 'promoted', reason: 'all health gates passed', finalWeight: 100, probes: totalProbes, previousStableSha: promoted.previousStableSha, history: status.history, decisions, plan };
  } catch (err) {
    // Compensation: a cancelled or failed rollout must never leave the canary taking traffic.
    if (canaryDeployed && status.outcome === undefined) {
      await CancellationScope.nonCancellable(() => rollBack(isCancellation(err) ? 'aborted' : 'rolled_back', isCancellation(err) ? 'rollout cancelled' : `rollout failed: ${String(err)}`));
    }
    throw err;
  }
}
