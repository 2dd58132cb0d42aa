import { defineQuery, defineSignal } from '@temporalio/workflow';
import { defineSearchAttributeKey } from '@temporalio/common';
import { z } from 'zod';
import type { JudgedProbe } from '../core/health';
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
 * Signals cannot answer their sender, so a bad payload is recorded in the status history (field path and
 * what is allowed) and otherwise ignored; a valid one is recorded with its identity and returned.
 */
export function acceptOperatorSignal(
  name: OperatorSignalName,
  raw: unknown,
  record: (kind: string, detail: string, by?: string) => void,
): OperatorSignal | undefined {
  const parsed = operatorSignalSchema.safeParse(raw);
  if (!parsed.success) {
    record('signal-rejected', `${name}: ${describeIssues(parsed.error).map((i) => `${i.path || '(payload)'}: ${i.message}`).join('; ')}`);
    return undefined;
  }
  record(name, parsed.data.reason ?? '', parsed.data.by);
  return parsed.data;
}

export const OPERATOR_SIGNALS = ['approve', 'abort', 'pause', 'resume', 'promote'] as const;
export type OperatorSignalName = (typeof OPERATOR_SIGNALS)[number];

export const approveSignal = defineSignal<[OperatorSignal]>('approve');
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
  | 'merge'
  | 'rollout'
  | 'revert'
  | 'promoteRelease'
  | 'done';

export type TrainOutcome = 'promoted' | 'rolled_back' | 'denied' | 'aborted' | 'failed';

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
  history: HistoryEntry[];
  outcome?: 'promoted' | 'rolled_back' | 'aborted';
  mttrMs?: number;
}

export interface TrainStatus {
  changeId: string;
  stage: TrainStage;
  outcome?: TrainOutcome;
  weight: number;
  evalScore?: number;
  risk?: number;
  candidateSha?: string;
  mergeSha?: string;
  revertSha?: string;
  denials?: { rule: string; reason: string; fix: string }[];
  history: HistoryEntry[];
  rollout?: RolloutStatus;
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

export function rolloutWorkflowId(trainWorkflowId: string): string {
  return `${trainWorkflowId}--rollout`;
}
