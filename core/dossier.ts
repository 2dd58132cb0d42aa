/**
 * Everything the record holds about one train, in one shape: what `maestro explain`, the KPIs and the
 * dashboard read. The record fills it (record/store.ts trainDossier); nothing here does I/O.
 */
import { z } from 'zod';
import type { CheckResult, Denial, RiskFactor } from './stages';

/** One entry of a train's timeline, as the workflow recorded it (workflow time, epoch ms). */
export const timelineEntrySchema = z.object({
  at: z.number(),
  kind: z.string(),
  detail: z.string(),
  by: z.string().optional(),
  /** The release train itself, or its progressive rollout (child workflow). */
  source: z.enum(['train', 'rollout']),
});
export type TimelineEntry = z.output<typeof timelineEntrySchema>;

/**
 * What the workflow knew when the train closed, written with the close: its timeline and its rollout
 * figures. Parsed when read back (a JSON column is a boundary); a summary that does not parse is left
 * out, not trusted.
 */
export const trainSummarySchema = z.object({
  timeline: z.array(timelineEntrySchema),
  rollout: z
    .object({
      outcome: z.enum(['promoted', 'rolled_back', 'aborted']),
      reason: z.string(),
      finalWeight: z.number(),
      probes: z.number(),
      /** First red probe → 100% of traffic on stable. */
      mttrMs: z.number().optional(),
    })
    .optional(),
});
export type TrainSummary = z.output<typeof trainSummarySchema>;

export type TrainOutcomeName = 'promoted' | 'rolled_back' | 'denied' | 'aborted' | 'failed' | 'shadowed';

export interface TrainDossier {
  train: {
    id: string;
    changeId: string;
    title: string;
    repo: string;
    service: string;
    environment: string;
    author: string;
    /** The agent prompt that produced the change, when an agent did (ChangeRequest.prompt). */
    prompt?: string;
    /** The database migration the change carries (ChangeRequest.migration): where, and its name. */
    migration?: { databaseUrl: string; name: string };
    state: 'running' | 'closed';
    outcome: TrainOutcomeName | null;
    reason: string | null;
    candidateSha: string | null;
    mergeSha: string | null;
    startedAt: string;
    closedAt: string | null;
  };
  stages: { name: string; status: string; detail: string; startedAt: string; finishedAt: string | null }[];
  evals: { candidateSha: string; score: number; threshold: number; passed: boolean; checks: CheckResult[]; durationMs: number; recordedAt: string }[];
  risk: { candidateSha: string; score: number; factors: RiskFactor[] }[];
  decisions: { candidateSha: string; outcome: 'allow' | 'deny'; denials: Denial[]; notes: string[]; decidedAt: string }[];
  appeals: { id: string; rules: string[]; appellant: string; reason: string; status: string; decidedBy: string | null; decisionReason: string | null; openedAt: string; decidedAt: string | null }[];
  provenance: { kind: string; environment: string; statementDigest: string; keyId: string; createdAt: string }[];
  costs: { category: string; provider: string; model: string; tokensIn: number; tokensOut: number; costUsd: number; recordedAt: string }[];
  audit: { at: string; actor: string; action: string; detail: unknown }[];
  summary?: TrainSummary;
}
