import { defineQuery, defineSignal } from '@temporalio/workflow';
import { defineSearchAttributeKey } from '@temporalio/common';
import { z } from 'zod';
import { ENVIRONMENTS, type Environment } from '../core/change-request';
import type { TrainOutcomeName } from '../core/dossier';
import type { JudgedProbe } from '../core/health';
import type { ShadowReport } from '../core/shadow';
import type { BackfillThrottle, MigrationInput, MigrationProgress } from '../core/migration';
import { rolloutPlanSchema, type RolloutPlan } from '../core/rollout-plan';
import { describeIssues } from '../core/validation';

export const TASK_QUEUE = 'maestro-release';

/** Every operator signal says who sent it; the identity lands in the status history. */
export const operatorSignalSchema = z
  .object({
    by: z.string().min(1, 'the operator identity is required').max(200),
    reason: z.string().max(2000).optional(),
  })
  .strict();
export type OperatorSignal = z.infer<typeof operatorSignalSchema>;
/**
 * An approval may name the environment of a promotion path it is for: at a later environment's guard only
 * approvals for it, or given while the train waits there, count.
 */
export const approvalSignalSchema = operatorSignalSchema.extend({ environment: z.enum(ENVIRONMENTS).optional() }).strict();
export type ApprovalSignal = z.infer<typeof approvalSignalSchema>;

/** An operator's rollout plan for a train, replacing the change request's (or the risk band's) before the rollout starts. */
export const planOverrideSchema = operatorSignalSchema.extend({ plan: rolloutPlanSchema }).strict();
export const overridePlanSignal = defineSignal<[unknown]>('overridePlan');

/** An operator's new gates for a running rollout (core/gate-config.ts gateChangeSchema): the current step's analysis starts again. */
export const changeGatesSignal = defineSignal<[unknown]>('changeGates');

/** The dual-write guard's flag: which shape the new version reads, with who switched it and why. */
export const migrationReadsSchema = operatorSignalSchema.extend({ from: z.enum(['old', 'new']) }).strict();
export type MigrationReadsSignal = z.infer<typeof migrationReadsSchema>;

/**
 * Signals cannot answer their sender, so a bad payload is recorded in the status history (field path and
 * what is allowed) and otherwise ignored; a valid one is recorded with its identity and returned.
 */
/** A signal payload the schema refused, as its history entry words it: the signal, then each field and what is allowed. */
export function rejectedPayload(name: string, error: z.ZodError): string {
  return `${name}: ${describeIssues(error).map((i) => `${i.path || '(payload)'}: ${i.message}`).join('; ')}`;
}

export function acceptOperatorSignal(
  name: OperatorSignalName,
  raw: unknown,
  record: (kind: string, detail: string, by?: string) => void,
): ApprovalSignal | undefined {
  const parsed = (name === 'approve' ? approvalSignalSchema : operatorSignalSchema).safeParse(raw);
  if (!parsed.success) {
    record('signal-rejected', rejectedPayload(name, parsed.error));
    return undefined;
  }
  const data: ApprovalSignal = parsed.data;
  record(name, `${data.environment ? `for ${data.environment}` : ''}${data.environment && data.reason ? ': ' : ''}${data.reason ?? ''}`, data.by);
  return data;
}

/**
 * A workflow registers its handler of unknown signals after every known one: registered first, it took a signal
 * sent right after the start (buffered until a handler exists) and rejected it as unknown (docs/workflow-changes.md).
 */
export const SIGNAL_HANDLERS_FIRST_PATCH = 'known-signal-handlers-first';

export const OPERATOR_SIGNALS = ['approve', 'abort', 'pause', 'resume', 'promote'] as const;
export type OperatorSignalName = (typeof OPERATOR_SIGNALS)[number];

export const approveSignal = defineSignal<[ApprovalSignal]>('approve');
export const abortSignal = defineSignal<[OperatorSignal]>('abort');
export const pauseSignal = defineSignal<[OperatorSignal]>('pause');
export const resumeSignal = defineSignal<[OperatorSignal]>('resume');
export const promoteSignal = defineSignal<[OperatorSignal]>('promote');
export const signalsByName = {
  approve: approveSignal,
  abort: abortSignal,
  pause: pauseSignal,
  resume: resumeSignal,
  promote: promoteSignal,
} as const;

export type TrainStage =
  | 'validating'
  | 'synthesizeSpec'
  | 'prepareChange'
  | 'assessRisk'
  | 'runEvals'
  | 'decidePolicy'
  | 'awaitingAppeal'
  | 'awaitingApproval'
  | 'awaitingService'
  | 'environmentGuard'
  | 'migrate'
  | 'merge'
  | 'rollout'
  | 'revert'
  | 'promoteRelease'
  | 'done';

export type TrainOutcome = TrainOutcomeName;

export interface HistoryEntry {
  /** Workflow time (epoch ms). */
  at: number;
  kind: string;
  by?: string;
  detail: string;
}

export interface RolloutStatus {
  weight: number;
  stepIndex: number;
  paused: boolean;
  gate?: { consecutiveGreen: number; red: number; probes: number };
  lastProbes: JudgedProbe[];
  /** The gate configuration judging now (sha256, core/gate-config.ts); verdicts carry it too. */
  gateConfig?: string;
  history: HistoryEntry[];
  outcome?: 'promoted' | 'rolled_back' | 'aborted';
  mttrMs?: number;
  /** Set while another train's canary holds the service (one rollout per service): who, since when. */
  waitingFor?: string;
}

export interface ProgressiveRolloutResult {
  outcome: 'promoted' | 'rolled_back' | 'aborted';
  reason: string;
  finalWeight: number;
  /** First red probe → traffic 100% on stable, measured by the activities' clocks. */
  mttrMs?: number;
  probes: number;
  /** The version the promotion replaced: what to put back if the release cannot be completed. */
  previousStableSha?: string | null;
  /** The plan in force when it ended: the input's, or with the gates an operator changed while it ran (absent before gate changes existed). */
  plan?: RolloutPlan;
  /** The rollout's timeline (weights, gates, rollback), for the train's record; absent in results recorded before it. */
  history?: HistoryEntry[];
  /**
   * The decision log: every probe in order, with its figures, the metric queries and values or the judge's
   * statistics, and its verdict and reasons (the release's signed provenance carries it); absent in results recorded before it.
   */
  decisions?: JudgedProbe[];
}

export interface TrainStatus {
  changeId: string;
  stage: TrainStage;
  /** The migration child (query it with `migrationStatus`), when the change carries one. */
  migrationWorkflowId?: string;
  outcome?: TrainOutcome;
  weight: number;
  evalScore?: number;
  risk?: number;
  candidateSha?: string;
  mergeSha?: string;
  revertSha?: string;
  denials?: { rule: string; reason: string; fix: string }[];
  /** While the train waits for another train to release its service: who holds it. */
  waitingFor?: string;
  /** The rollout it will run (or runs), once known: where it comes from and its steps in words. */
  plannedRollout?: { source: string; description: string };
  history: HistoryEntry[];
  rollout?: RolloutStatus;
  /** The rollout child running now (one per environment on a promotion path). */
  rolloutWorkflowId?: string;
  /** A promotion path's environments, in order, each as far as it has got. */
  environments?: EnvironmentProgress[];
}

/** One environment of a promotion path (ChangeRequest.promotion). */
export interface EnvironmentProgress {
  environment: Environment;
  /**
   * pending (not reached), rolling-out, promoted (runs the change), held (runs it after a later environment
   * failed, as onFailure 'hold' says), withdrawn (back on its previous version), and the failed one's own end.
   */
  state: 'pending' | 'rolling-out' | 'promoted' | 'held' | 'withdrawn' | 'rolled_back' | 'aborted' | 'denied';
  /** What it runs once the train ended there. */
  runs?: string | null;
}

/** What a train returns (its workflow result), for whoever waits on it. */
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
  /** A shadow change's report: what would have happened (core/shadow.ts). */
  shadow?: ShadowReport;
  /** A promotion path's environments and where each ended. */
  environments?: EnvironmentProgress[];
  /** The four truths compared at the train's end (trains that merged): whether they agree, and where not; on a promotion path, in every environment. */
  invariant?: { held: boolean; disagreements: { between: string[]; what: string }[] };
}

export const trainStatusQuery = defineQuery<TrainStatus>('status');
export const rolloutStatusQuery = defineQuery<RolloutStatus>('rolloutStatus');

/** Typed search attributes so a person can find any train in the Web UI (registered by infra/temporal). */
export const searchAttributes = {
  stage: defineSearchAttributeKey('MaestroStage', 'KEYWORD'),
  outcome: defineSearchAttributeKey('MaestroOutcome', 'KEYWORD'),
  changeId: defineSearchAttributeKey('MaestroChangeId', 'KEYWORD'),
  repo: defineSearchAttributeKey('MaestroRepo', 'KEYWORD'),
  canaryWeight: defineSearchAttributeKey('MaestroCanaryWeight', 'INT'),
  evalScore: defineSearchAttributeKey('MaestroEvalScore', 'DOUBLE'),
  risk: defineSearchAttributeKey('MaestroRisk', 'DOUBLE'),
} as const;

/** The train's rollout child; on a promotion path, one per environment. */
export function rolloutWorkflowId(trainWorkflowId: string, environment?: Environment): string {
  return `${trainWorkflowId}--rollout${environment ? `-${environment}` : ''}`;
}

// The appeal workflow (workflows/appeal.ts): its input, result, signals and query.

export interface AppealInput {
  /** The train's workflow id (= its id in the record). */
  trainWorkflowId: string;
  appellant: string;
  reason: string;
  /** Rules to overrule; empty = everything the train's latest decision denied. */
  rules?: string[];
  /** How long to wait for a decision (ms); default 7 days. */
  decisionTimeoutMs?: number;
}

export interface AppealDecisionSignal {
  by: string;
  decision: 'grant' | 'reject';
  reason: string;
}
export interface WithdrawAppealSignal {
  by: string;
  reason?: string;
}

export interface AppealWaiver {
  rule: string;
  appealId: string;
  decidedBy: string;
  reason: string;
}

export interface AppealResult {
  appealId: string;
  trainWorkflowId: string;
  status: 'granted' | 'rejected' | 'withdrawn' | 'expired';
  decidedBy?: string;
  reason: string;
  rules: string[];
  waivers: AppealWaiver[];
  /** Whether the train got the `appealDecided` signal (false when it had already finished). */
  trainNotified: boolean;
}

export interface AppealStep {
  kind: string;
  by?: string;
  detail: string;
}
export interface AppealStatus {
  appealId: string;
  status: 'opening' | 'open' | AppealResult['status'];
  rules: string[];
  deciders: string[];
  steps: AppealStep[];
}

export const decideAppealSignal = defineSignal<[AppealDecisionSignal]>('decideAppeal');
export const withdrawAppealSignal = defineSignal<[WithdrawAppealSignal]>('withdrawAppeal');
export const appealStatusQuery = defineQuery<AppealStatus>('appealStatus');
/** Sent to the train when an appeal is decided; the train re-decides with the waivers. */
export const appealDecidedSignal = defineSignal<[AppealResult]>('appealDecided');

/** The database migration a train runs around its rollout (workflows/database-migration.ts). */
export interface DatabaseMigrationInput {
  databaseUrl: string;
  migration: MigrationInput;
  /** The train to tell when the new shape is ready for the canary (absent when run on its own). */
  parentWorkflowId?: string;
  throttle?: BackfillThrottle;
  /** How long one backfill activity runs before the workflow looks at its signals again. */
  sliceMs?: number;
}

export type MigrationWorkflowPhase = 'registering' | MigrationProgress['phase'];

/** What the `migrationStatus` query answers: enough for a page to show phase, lag, rate, ETA, lock waits and errors. */
export interface MigrationStatus {
  name: string;
  phase: MigrationWorkflowPhase;
  paused: boolean;
  throttle: BackfillThrottle;
  progress?: MigrationProgress;
  /** The train it belongs to. */
  trainWorkflowId?: string;
  history: HistoryEntry[];
}

export interface DatabaseMigrationResult {
  name: string;
  outcome: 'completed' | 'rolled_back';
  reason: string;
  progress?: MigrationProgress;
}

/** pause/resume/throttle steer the backfill between slices; finish ends a ready migration: contract (promote) or rollback. */
export const migrationPauseSignal = defineSignal<[OperatorSignal]>('pause');
export const migrationResumeSignal = defineSignal<[OperatorSignal]>('resume');
export const migrationThrottleSignal = defineSignal<[unknown]>('throttle');
/** Switches the new version's reads to the old shape (or back) at once; see MigrationEngine.setReads. */
export const migrationReadsSignal = defineSignal<[unknown]>('reads');
export const finishMigrationSignal = defineSignal<[{ promote: boolean; reason: string }]>('finishMigration');
export const migrationStatusQuery = defineQuery<MigrationStatus>('migrationStatus');
/** Child → train: the new shape is backfilled and validated; the canary may use it. */
export const migrationReadySignal = defineSignal<[MigrationProgress]>('migrationReady');

export function migrationWorkflowId(trainWorkflowId: string): string {
  return `${trainWorkflowId}--migration`;
}
