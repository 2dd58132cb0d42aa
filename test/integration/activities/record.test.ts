import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createRecordActivities } from '../../../activities/record';
import { asWorkerRuns } from '../../helpers/interceptors';
import { parseChangeRequest } from '../../../core/change-request';
import { freshDatabase, type FreshDb } from '../../helpers/fresh-db';
import { LlmLedgerStore } from '../../../record/llm-ledger';
import type { Denial } from '../../../core/stages';

const cr = parseChangeRequest({ id: 'c-1', title: 'Greet politely', intent: 'x', repo: '/tmp/repo', service: 'greeter', change: { kind: 'patch', diff: 'diff --git a/x b/x' } });
const evals = { score: 0.9, passed: true, threshold: 0.85, durationMs: 12.4, checks: [{ check: 'greets', score: 1, passed: true, explanation: 'ok' }] };
const sha = 'a'.repeat(40);

describe('record activities write idempotently', () => {
  let db: FreshDb;
  let rec: ReturnType<typeof createRecordActivities>;
  beforeAll(async () => {
    db = await freshDatabase('record');
    rec = asWorkerRuns(createRecordActivities({ prisma: db.prisma }));
  });
  afterAll(() => db.drop());

  it('a retried write of every kind leaves one row, also when the retries race', async () => {
    const trainId = 'train-retry';
    const writes = () => [
      rec.recordTrainStarted({ trainId, changeRequest: cr }),
    ];
    await Promise.all([...writes(), ...writes()]);
    const again = async () => {
      await rec.recordStage({ trainId, name: 'runEvals', status: 'started', startedAt: '2026-01-01T00:00:00Z' });
      await rec.recordRiskReport({ trainId, candidateSha: sha, risk: { score: 0.3, factors: [] } });
      await rec.recordEvalResult({ trainId, candidateSha: sha, evals });
      await rec.recordPolicyDecision({ trainId, candidateSha: sha, decision: { outcome: 'allow', notes: ['ok'] }, policyDigest: 'p' });
      await rec.recordCost({ key: 'k-cost', trainId, category: 'llm', costUsd: 0.25 });
      await rec.recordAudit({ key: 'k-audit', trainId, actor: 'alice', action: 'approve' });
    };
    await Promise.all([again(), again(), again()]);
    await again();
    const p = db.prisma;
    expect(await p.train.count()).toBe(1);
    expect(await p.stage.count()).toBe(1);
    expect(await p.riskReport.count()).toBe(1);
    expect(await p.evalResult.count()).toBe(1);
    expect(await p.policyDecision.count()).toBe(1);
    expect(await p.costEntry.count()).toBe(1);
    expect(await p.auditEvent.count()).toBe(1);
    expect(await rec.trainCostUsd({ trainId })).toBe(0.25);
  });

  it('a stage row moves forward instead of multiplying', async () => {
    const trainId = 'train-stage';
    await rec.recordTrainStarted({ trainId, changeRequest: cr });
    await rec.recordStage({ trainId, name: 'merge', status: 'started', startedAt: '2026-01-01T00:00:00Z' });
    await rec.recordStage({ trainId, name: 'merge', status: 'done', startedAt: '2026-01-01T00:00:00Z', finishedAt: '2026-01-01T00:00:05Z', detail: 'abc' });
    const rows = await db.prisma.stage.findMany({ where: { trainId } });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'done', detail: 'abc' });
  });

  it('the first decision for a candidate wins and its digest comes back on retry', async () => {
    const trainId = 'train-decision';
    await rec.recordTrainStarted({ trainId, changeRequest: cr });
    const first = await rec.recordPolicyDecision({ trainId, candidateSha: sha, decision: { outcome: 'deny', denials: [{ rule: 'r', reason: 'why', evidence: 'e', fix: 'f' }] }, policyDigest: 'p' });
    const retry = await rec.recordPolicyDecision({ trainId, candidateSha: sha, decision: { outcome: 'deny', denials: [{ rule: 'r', reason: 'why', evidence: 'e', fix: 'f' }] }, policyDigest: 'p' });
    expect(retry).toEqual(first);
  });

  it('inside an activity the key defaults to the activity identity, which a retry keeps', async () => {
    const trainId = 'train-activity';
    await rec.recordTrainStarted({ trainId, changeRequest: cr });
    const env = new MockActivityEnvironment({ activityId: '7', workflowExecution: { workflowId: 'wf-1', runId: 'run-1' } } as never);
    const attempt = () => env.run(rec.recordAudit, { trainId, actor: 'maestro', action: 'merge' });
    expect(await attempt()).toEqual({ created: true });
    expect(await attempt()).toEqual({ created: false });
    const other = new MockActivityEnvironment({ activityId: '8', workflowExecution: { workflowId: 'wf-1', runId: 'run-1' } } as never);
    expect(await other.run(rec.recordAudit, { trainId, actor: 'maestro', action: 'merge' })).toEqual({ created: true });
    expect(await db.prisma.auditEvent.count({ where: { trainId } })).toBe(2);
  });

  it('closing is idempotent; a closed train refuses a different close and reports TrainClosed', async () => {
    const trainId = 'train-close';
    await rec.recordTrainStarted({ trainId, changeRequest: cr });
    await rec.assertTrainOpen({ trainId });
    await rec.closeTrain({ trainId, outcome: 'denied', reason: 'eval' });
    await rec.closeTrain({ trainId, outcome: 'denied', reason: 'eval' });
    const err = await rec.closeTrain({ trainId, outcome: 'promoted' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'TrainClosed', nonRetryable: true });
    await expect(rec.assertTrainOpen({ trainId })).rejects.toMatchObject({ type: 'TrainClosed', message: expect.stringContaining('train-close is closed (outcome denied)') });
    await expect(rec.assertTrainOpen({ trainId: 'nope' })).rejects.toMatchObject({ type: 'UnknownTrain' });
  });

  it("closing a train labels its fresh LLM answers by what became of its eval, the router's calibration data", async () => {
    const ledger = new LlmLedgerStore({ prisma: db.prisma });
    const call = { stage: 'synthesizeSpec', templateId: 't', templateVersion: '1', provider: 'local', model: 'm', tier: 'small' as const, promptKey: 'k', promptChars: 10, tokensIn: 1, tokensOut: 1, latencyMs: 1, costUsd: 0.001 };
    const calls = async (trainId: string) => ({
      spec: await ledger.recordCall({ ...call, trainId, callType: 'spec', cache: 'miss' }),
      cached: await ledger.recordCall({ ...call, trainId, callType: 'spec', cache: 'exact' }),
      judge: await ledger.recordCall({ ...call, trainId, stage: 'runEvals', callType: 'judge', cache: 'miss' }),
      reviewed: await ledger.recordCall({ ...call, trainId, stage: 'runEvals', callType: 'judge', cache: 'miss', passed: false }),
    });
    const labels = async (ids: Record<string, string>) =>
      Object.fromEntries(await Promise.all(Object.entries(ids).map(async ([name, id]) => [name, (await db.prisma.llmCall.findUnique({ where: { id: BigInt(id) } }))!.passed])));
    const evalDenial = { outcome: 'deny' as const, denials: [{ rule: 'eval-score-below-threshold', reason: 'score 0.6 < 0.85', evidence: 'e', fix: 'f' }] as [Denial] };

    // The eval passed: the spec was good, so was the judge; a cached answer and a reviewer's label are left alone.
    await rec.recordTrainStarted({ trainId: 'train-llm-pass', changeRequest: cr });
    const passing = await calls('train-llm-pass');
    await rec.recordEvalResult({ trainId: 'train-llm-pass', candidateSha: sha, evals });
    await rec.closeTrain({ trainId: 'train-llm-pass', outcome: 'promoted' });
    expect(await labels(passing)).toEqual({ spec: true, cached: null, judge: true, reviewed: false });

    // The eval failed and nobody overrode it: the spec was not good enough, the judge was right.
    await rec.recordTrainStarted({ trainId: 'train-llm-fail', changeRequest: cr });
    const failing = await calls('train-llm-fail');
    await rec.recordEvalResult({ trainId: 'train-llm-fail', candidateSha: sha, evals: { ...evals, score: 0.6, passed: false } });
    await rec.recordPolicyDecision({ trainId: 'train-llm-fail', candidateSha: sha, decision: evalDenial, policyDigest: 'p' });
    await rec.closeTrain({ trainId: 'train-llm-fail', outcome: 'denied' });
    expect(await labels(failing)).toEqual({ spec: false, cached: null, judge: true, reviewed: false });

    // The eval failed and a reviewer's granted appeal lifted it: the spec was good, the judge was wrong.
    await rec.recordTrainStarted({ trainId: 'train-llm-appeal', changeRequest: cr });
    const appealed = await calls('train-llm-appeal');
    await rec.recordEvalResult({ trainId: 'train-llm-appeal', candidateSha: sha, evals: { ...evals, score: 0.6, passed: false } });
    await rec.recordPolicyDecision({ trainId: 'train-llm-appeal', candidateSha: sha, decision: evalDenial, policyDigest: 'p' });
    await db.prisma.appeal.create({ data: { id: 'appeal-llm', trainId: 'train-llm-appeal', rules: ['eval-score-below-threshold'], appellant: 'alice', reason: 'flaky judge', status: 'granted', decidedBy: 'bob' } });
    await rec.closeTrain({ trainId: 'train-llm-appeal', outcome: 'promoted' });
    expect(await labels(appealed)).toEqual({ spec: true, cached: null, judge: false, reviewed: false });

    // No eval ran: nothing is known, nothing is labelled; a retried close labels nothing twice.
    await rec.recordTrainStarted({ trainId: 'train-llm-none', changeRequest: cr });
    const none = await calls('train-llm-none');
    await rec.closeTrain({ trainId: 'train-llm-none', outcome: 'failed' });
    await rec.closeTrain({ trainId: 'train-llm-none', outcome: 'failed' });
    expect(await labels(none)).toEqual({ spec: null, cached: null, judge: null, reviewed: false });
  });

  it('rejects bad input without retry and without writing', async () => {
    await expect(rec.recordCost({ key: 'neg', trainId: 'train-retry', category: 'llm', costUsd: -1 })).rejects.toMatchObject({ nonRetryable: true });
    await expect(rec.recordAudit({ trainId: 'train-retry', actor: 'a', action: 'b' })).rejects.toMatchObject({ type: 'InvalidInput' });
    expect(await db.prisma.costEntry.count({ where: { key: 'neg' } })).toBe(0);
  });
});
