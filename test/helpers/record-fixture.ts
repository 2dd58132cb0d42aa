/** Trains written to a real record through RecordStore, as the workflow writes them, for the readers' tests. */
import { parseChangeRequest } from '../../core/change-request';
import type { TrainSummary } from '../../core/dossier';
import type { Denial } from '../../core/stages';
import type { RecordStore, TrainOutcomeValue } from '../../record/store';

export interface SeededTrain {
  id: string;
  title?: string;
  service?: string;
  author?: string;
  prompt?: string;
  outcome?: TrainOutcomeValue;
  reason?: string;
  evalScore?: number;
  denials?: Denial[];
  /** Whether it reached the merge stage (it then has a merge sha). */
  merged?: boolean;
  costUsd?: number;
  summary?: TrainSummary;
  /** ChangeRequest.migration: the service database and the migration as data. */
  migration?: { databaseUrl: string; definition: unknown };
}

export async function seedTrain(store: RecordStore, t: SeededTrain): Promise<void> {
  const sha = 'c'.repeat(40);
  const changeRequest = parseChangeRequest({
    id: t.id.slice(0, 60),
    title: t.title ?? `Change ${t.id}`,
    intent: 'seeded by a test',
    repo: '/tmp/seeded-repo',
    service: t.service ?? 'greeter',
    author: t.author ?? 'ada',
    ...(t.prompt ? { prompt: t.prompt } : {}),
    ...(t.migration ? { migration: t.migration } : {}),
    change: { kind: 'patch', diff: 'diff --git a/x b/x' },
  });
  await store.recordTrainStarted({ trainId: t.id, changeRequest });
  const at = (s: number) => new Date(Date.now() - 60_000 + s * 1000).toISOString();
  await store.recordStage({ trainId: t.id, name: 'runEvals', status: 'completed', startedAt: at(0), finishedAt: at(3) });
  if (t.evalScore !== undefined)
    await store.recordEvalResult({
      trainId: t.id,
      candidateSha: sha,
      evals: { score: t.evalScore, threshold: 0.85, passed: t.evalScore >= 0.85, durationMs: 3000, checks: [{ check: 'tests_pass', score: t.evalScore, passed: t.evalScore >= 0.85, explanation: `${Math.round(t.evalScore * 10)}/10 tests pass` }] },
    });
  const decision = t.denials?.length ? { outcome: 'deny' as const, denials: t.denials as [Denial, ...Denial[]] } : { outcome: 'allow' as const, notes: [] };
  await store.recordPolicyDecision({ trainId: t.id, candidateSha: sha, decision, policyDigest: 'p' });
  if (t.merged) await store.recordStage({ trainId: t.id, name: 'merge', status: 'completed', startedAt: at(4), finishedAt: at(5) });
  if (t.costUsd) await store.recordCost({ key: `${t.id}/llm`, trainId: t.id, category: 'llm', provider: 'local', model: 'smollm2', tokensIn: 100, tokensOut: 20, costUsd: t.costUsd });
  if (t.outcome)
    await store.closeTrain({ trainId: t.id, outcome: t.outcome, reason: t.reason, candidateSha: sha, ...(t.merged ? { mergeSha: 'm'.repeat(40) } : {}), ...(t.summary ? { summary: t.summary } : {}) });
}
