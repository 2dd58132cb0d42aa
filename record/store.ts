/**
 * The record (PostgreSQL through Prisma). Each write is idempotent: rows have a natural unique key
 * (train id, stage name, candidate sha, or an explicit event key), and a write either inserts with
 * ON CONFLICT DO NOTHING and reads back, or upserts, so a repeated write finds the first one.
 */
import { Prisma } from '@prisma/client';
import { promotionPath, type ChangeRequest, type Environment } from '../core/change-request';
import { InvalidInputError, PermanentError } from '../core/errors';
import { digestOf } from '../core/provenance';
import { trainSummarySchema, type TrainDossier, type TrainOutcomeName, type TrainSummary } from '../core/dossier';
import type { RecordedTrain } from '../core/invariant';
import type { EvalPoint } from '../core/anomalies';
import type { TrainFacts } from '../core/kpi';
import { evalOverridden, labelFromEval } from '../core/llm-router';
import { ANSWERED_OUTCOMES } from '../core/llm-cost';
import type { CheckResult, Denial, EvalReport, PolicyDecision, RiskFactor, RiskReport } from '../core/stages';
import { lazyDb, type Db } from './db';

export interface RecordDeps {
  /** A Prisma client; or `url` to create one. */
  prisma?: Db;
  url?: string;
}

export type TrainOutcomeValue = TrainOutcomeName;

export class TrainClosedError extends PermanentError {
  constructor(
    readonly trainId: string,
    readonly outcome: string | null,
  ) {
    super(`train ${trainId} is closed (outcome ${outcome ?? 'unknown'}): it can no longer be appealed or changed`, 'TrainClosed');
  }
}

const json = (v: unknown): Prisma.InputJsonValue => JSON.parse(JSON.stringify(v)) as Prisma.InputJsonValue;

export interface ServiceHistory {
  /** `path`: the environments the latest train rolls out in, in order (its promotion path, or its one environment). */
  latest: { trainId: string; repo: string; environment: string; baseBranch: string; path: string[] } | null;
  lastPromoted: RecordedTrain | null;
  lastMerged: RecordedTrain | null;
  open: RecordedTrain[];
}

export class RecordStore {
  private readonly db: () => Db;

  constructor(deps: RecordDeps = {}) {
    this.db = lazyDb(deps);
  }

  private async openTrain(trainId: string) {
    const train = await this.db().train.findUnique({ where: { id: trainId } });
    if (!train) throw new PermanentError(`no train ${trainId} in the record`, 'UnknownTrain');
    return train;
  }

    /** The train row; a retry (or a second call with the same id) keeps the first one. */
  async recordTrainStarted(input: { trainId: string; changeRequest: ChangeRequest }): Promise<{ created: boolean }> {
      const cr = input.changeRequest;
      const { count } = await this.db().train.createMany({
        data: [
          {
            id: input.trainId,
            changeId: cr.id,
            title: cr.title,
            repo: cr.repo,
            service: cr.service,
            environment: cr.environment,
            author: cr.author,
            changeRequest: json(cr),
            changeRequestDigest: digestOf(cr),
          },
        ],
        skipDuplicates: true,
      });
      return { created: count === 1 };
  }

    /** One row per (train, stage): a stage moves from started to its end status; a retry rewrites the same row. */
  async recordStage(input: { trainId: string; name: string; status: string; detail?: string; startedAt: string; finishedAt?: string }): Promise<void> {
      const data = { status: input.status, detail: input.detail ?? '', finishedAt: input.finishedAt ? new Date(input.finishedAt) : null };
      await this.db().stage.upsert({
        where: { trainId_name: { trainId: input.trainId, name: input.name } },
        create: { trainId: input.trainId, name: input.name, startedAt: new Date(input.startedAt), ...data },
        update: data,
      });
  }

  async recordRiskReport(input: { trainId: string; candidateSha: string; risk: RiskReport }): Promise<void> {
      await this.db().riskReport.createMany({
        data: [{ trainId: input.trainId, candidateSha: input.candidateSha, score: input.risk.score, factors: json(input.risk.factors) }],
        skipDuplicates: true,
      });
  }

  async recordEvalResult(input: { trainId: string; candidateSha: string; evals: EvalReport }): Promise<{ reportDigest: string }> {
      const e = input.evals;
      const reportDigest = digestOf(e);
      await this.db().evalResult.createMany({
        data: [
          {
            trainId: input.trainId,
            candidateSha: input.candidateSha,
            score: e.score,
            threshold: e.threshold,
            passed: e.passed,
            checks: json(e.checks),
            scenarios: json((e.scenarios ?? []).filter((sc) => !sc.skipped).map(({ id, score, passed }) => ({ id, score, passed }))),
            durationMs: Math.round(e.durationMs),
            reportDigest,
          },
        ],
        skipDuplicates: true,
      });
      return { reportDigest };
  }

    /** The decision for a candidate, recorded once; returns the stored row's id and digest (the first write wins). */
  async recordPolicyDecision(input: { trainId: string; candidateSha: string; decision: PolicyDecision; policyDigest: string }): Promise<{ id: string; decisionDigest: string }> {
      const d = input.decision;
      await this.db().policyDecision.createMany({
        data: [
          {
            trainId: input.trainId,
            candidateSha: input.candidateSha,
            outcome: d.outcome,
            denials: json(d.outcome === 'deny' ? d.denials : []),
            notes: json(d.outcome === 'allow' ? d.notes : []),
            policyDigest: input.policyDigest,
            decisionDigest: digestOf(d),
          },
        ],
        skipDuplicates: true,
      });
      const row = await this.db().policyDecision.findUniqueOrThrow({ where: { trainId_candidateSha: { trainId: input.trainId, candidateSha: input.candidateSha } } });
      return { id: row.id.toString(), decisionDigest: row.decisionDigest };
  }

    /** A cost ledger line, written once per `key`. */
  async recordCost(input: { key: string; trainId: string; category: string; provider?: string; model?: string; tokensIn?: number; tokensOut?: number; costUsd: number }): Promise<{ created: boolean }> {
      if (!(input.costUsd >= 0)) throw new InvalidInputError(`costUsd must be a non-negative number, got ${input.costUsd}`);
      const { count } = await this.db().costEntry.createMany({
        data: [
          {
            key: input.key,
            trainId: input.trainId,
            category: input.category,
            provider: input.provider ?? '',
            model: input.model ?? '',
            tokensIn: input.tokensIn ?? 0,
            tokensOut: input.tokensOut ?? 0,
            costUsd: new Prisma.Decimal(input.costUsd.toFixed(6)),
          },
        ],
        skipDuplicates: true,
      });
      return { created: count === 1 };
  }

    /** Total spend recorded for a train, in USD (input to the LLM budget rule). */
  async trainCostUsd(input: { trainId: string; category?: string }): Promise<number> {
      const agg = await this.db().costEntry.aggregate({ _sum: { costUsd: true }, where: { trainId: input.trainId, ...(input.category ? { category: input.category } : {}) } });
      return agg._sum.costUsd ? Number(agg._sum.costUsd.toString()) : 0;
  }

    /** An audit event, written once per `key`. */
  async recordAudit(input: { key: string; trainId?: string; actor: string; action: string; detail?: Record<string, unknown> }): Promise<{ created: boolean }> {
      const { count } = await this.db().auditEvent.createMany({
        data: [{ key: input.key, trainId: input.trainId ?? null, actor: input.actor, action: input.action, detail: json(input.detail ?? {}) }],
        skipDuplicates: true,
      });
      return { created: count === 1 };
  }

    /** Closes the train with its outcome; closing again with the same outcome is a no-op. */
  async closeTrain(input: { trainId: string; outcome: TrainOutcomeValue; reason?: string; candidateSha?: string; mergeSha?: string; summary?: TrainSummary }): Promise<void> {
      const train = await this.openTrain(input.trainId);
      if (train.state === 'closed') {
        // A retried close labels what a failed first attempt may have left unlabelled.
        if (train.outcome === input.outcome) return await this.labelLlmCalls(input.trainId);
        throw new PermanentError(`train ${input.trainId} is already closed as ${train.outcome}, cannot close it as ${input.outcome}`, 'TrainClosed');
      }
      await this.db().train.updateMany({
        where: { id: input.trainId, state: 'running' },
        data: {
          state: 'closed',
          outcome: input.outcome,
          reason: input.reason ?? null,
          candidateSha: input.candidateSha ?? train.candidateSha,
          mergeSha: input.mergeSha ?? train.mergeSha,
          closedAt: new Date(),
          ...(input.summary ? { summary: json(input.summary) } : {}),
        },
      });
      await this.labelLlmCalls(input.trainId);
  }

  /**
   * Labels the train's fresh LLM answers by what became of its eval (core/llm-router.ts labelFromEval): the
   * router's calibration data. Answers labelled before (by a reviewer or a bench) keep their label.
   */
  private async labelLlmCalls(trainId: string): Promise<void> {
    const [lastEval, decisions, appeals, callTypes] = await Promise.all([
      this.db().evalResult.findFirst({ where: { trainId }, orderBy: { recordedAt: 'desc' }, select: { passed: true } }),
      this.db().policyDecision.findMany({ where: { trainId }, orderBy: { decidedAt: 'asc' }, select: { outcome: true, denials: true } }),
      this.db().appeal.findMany({ where: { trainId, status: 'granted' }, select: { rules: true } }),
      this.db().llmCall.groupBy({ by: ['callType'], where: { trainId, cache: 'miss', passed: null } }),
    ]);
    const ruleIds = (denials: unknown) => (Array.isArray(denials) ? denials.map((d) => String((d as { rule?: unknown }).rule)) : []);
    const verdict = {
      passed: lastEval?.passed ?? null,
      overridden: evalOverridden(decisions.map((d) => ({ outcome: d.outcome, rules: ruleIds(d.denials) })), appeals.map((a) => a.rules)),
    };
    for (const { callType } of callTypes) {
      const passed = labelFromEval(callType, verdict);
      if (passed !== null) await this.db().llmCall.updateMany({ where: { trainId, callType, cache: 'miss', passed: null }, data: { passed } });
    }
  }

    /** Throws TrainClosed (non-retryable) unless the train exists and is still running. */
  async assertTrainOpen(input: { trainId: string }): Promise<void> {
      const train = await this.openTrain(input.trainId);
      if (train.state === 'closed') throw new TrainClosedError(train.id, train.outcome);
  }

  /**
   * What the record says about a service in an environment: its latest promoted train, its latest closed
   * train that merged, its trains still open, and the repository and base branch of its latest train.
   */
  async serviceHistory(input: { service: string; environment?: string }): Promise<ServiceHistory> {
    const db = this.db();
    const where = { service: input.service, ...(input.environment ? { environment: input.environment } : {}) };
    const pick = (t: { id: string; outcome: string | null; mergeSha: string | null; closedAt: Date | null } | null): RecordedTrain | null =>
      t ? { trainId: t.id, outcome: t.outcome, mergeSha: t.mergeSha, closedAt: t.closedAt?.toISOString() ?? null } : null;
    const newestClosed = [{ closedAt: 'desc' as const }, { id: 'desc' as const }];
    const [latest, lastPromotedTrain, lastRelease, lastMerged, open] = await Promise.all([
      db.train.findFirst({ where, orderBy: [{ startedAt: 'desc' }, { id: 'desc' }] }),
      db.train.findFirst({ where: { ...where, state: 'closed', outcome: 'promoted' }, orderBy: newestClosed }),
      // A promotion that went on to later environments: its train ends elsewhere (and maybe not promoted), its release here stands unless withdrawn.
      input.environment
        ? db.provenance.findFirst({ where: { kind: 'release', environment: input.environment, withdrawnAt: null, train: { service: input.service } }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], include: { train: true } })
        : null,
      db.train.findFirst({ where: { ...where, state: 'closed', mergeSha: { not: null } }, orderBy: newestClosed }),
      db.train.findMany({ where: { ...where, state: 'running' }, orderBy: { startedAt: 'asc' } }),
    ]);
    const promotedAt = (t: { closedAt: Date | null }) => t.closedAt?.getTime() ?? 0;
    const lastPromoted = lastRelease && (!lastPromotedTrain || lastRelease.createdAt.getTime() > promotedAt(lastPromotedTrain)) ? lastRelease.train : lastPromotedTrain;
    const cr = latest?.changeRequest as Partial<Pick<ChangeRequest, 'baseBranch' | 'promotion'>> | undefined;
    return {
      latest: latest
        ? { trainId: latest.id, repo: latest.repo, environment: latest.environment, baseBranch: cr?.baseBranch ?? 'main', path: promotionPath({ environment: latest.environment as Environment, promotion: cr?.promotion }) }
        : null,
      lastPromoted: pick(lastPromoted),
      lastMerged: pick(lastMerged),
      open: open.map(pick).filter((t): t is RecordedTrain => t !== null),
    };
  }

  /** The audit trail of a train, oldest first. */
  async auditTrail(input: { trainId: string }): Promise<{ at: string; actor: string; action: string; detail: unknown }[]> {
      const rows = await this.db().auditEvent.findMany({ where: { trainId: input.trainId }, orderBy: [{ at: 'asc' }, { id: 'asc' }] });
      return rows.map((r) => ({ at: r.at.toISOString(), actor: r.actor, action: r.action, detail: r.detail }));
  }

  /** Everything the record holds about a train (core/dossier.ts); UnknownTrain when there is none. */
  async trainDossier(input: { trainId: string }): Promise<TrainDossier> {
    const t = await this.db().train.findUnique({
      where: { id: input.trainId },
      include: {
        stages: { orderBy: [{ startedAt: 'asc' }, { id: 'asc' }] },
        evalResults: { orderBy: { recordedAt: 'asc' } },
        riskReports: { orderBy: { recordedAt: 'asc' } },
        decisions: { orderBy: { decidedAt: 'asc' } },
        appeals: { orderBy: { openedAt: 'asc' } },
        provenance: { orderBy: { createdAt: 'asc' } },
        costs: { orderBy: { recordedAt: 'asc' } },
        audit: { orderBy: [{ at: 'asc' }, { id: 'asc' }] },
      },
    });
    if (!t) throw new PermanentError(`no train ${input.trainId} in the record (list them with 'maestro serve' or query the trains table)`, 'UnknownTrain');
    const iso = (d: Date | null) => d?.toISOString() ?? null;
    const summary = trainSummarySchema.safeParse(t.summary);
    return {
      train: trainRow(t),
      stages: t.stages.map((s) => ({ name: s.name, status: s.status, detail: s.detail, startedAt: s.startedAt.toISOString(), finishedAt: iso(s.finishedAt) })),
      evals: t.evalResults.map((e) => ({
        candidateSha: e.candidateSha,
        score: e.score,
        threshold: e.threshold,
        passed: e.passed,
        checks: e.checks as unknown as CheckResult[],
        durationMs: e.durationMs,
        recordedAt: e.recordedAt.toISOString(),
      })),
      risk: t.riskReports.map((r) => ({ candidateSha: r.candidateSha, score: r.score, factors: r.factors as unknown as RiskFactor[] })),
      decisions: t.decisions.map((d) => ({
        candidateSha: d.candidateSha,
        outcome: d.outcome,
        denials: d.denials as unknown as Denial[],
        notes: d.notes as unknown as string[],
        decidedAt: d.decidedAt.toISOString(),
      })),
      appeals: t.appeals.map((a) => ({
        id: a.id,
        rules: a.rules,
        appellant: a.appellant,
        reason: a.reason,
        status: a.status,
        decidedBy: a.decidedBy,
        decisionReason: a.decisionReason,
        openedAt: a.openedAt.toISOString(),
        decidedAt: iso(a.decidedAt),
      })),
      provenance: t.provenance.map((p) => ({ kind: p.kind, environment: p.environment, statementDigest: p.statementDigest, keyId: p.keyId, createdAt: p.createdAt.toISOString() })),
      costs: t.costs.map((c) => ({
        category: c.category,
        provider: c.provider,
        model: c.model,
        tokensIn: c.tokensIn,
        tokensOut: c.tokensOut,
        costUsd: Number(c.costUsd.toString()),
        recordedAt: c.recordedAt.toISOString(),
      })),
      audit: t.audit.map((a) => ({ at: a.at.toISOString(), actor: a.actor, action: a.action, detail: a.detail })),
      ...(summary.success && t.summary !== null ? { summary: summary.data } : {}),
    };
  }

  /** The trains that started in [since, until), newest first, at most `limit`. */
  async listTrains(input: { since?: Date; until?: Date; service?: string; limit?: number }): Promise<TrainDossier['train'][]> {
    const rows = await this.db().train.findMany({
      where: { startedAt: { gte: input.since, lt: input.until }, ...(input.service ? { service: input.service } : {}) },
      orderBy: [{ startedAt: 'desc' }, { id: 'desc' }],
      take: input.limit ?? 100,
    });
    return rows.map(trainRow);
  }

  /** The change request a train was started with, as recorded. */
  async changeRequestOf(input: { trainId: string }): Promise<unknown> {
    return (await this.openTrain(input.trainId)).changeRequest;
  }

  /** Every eval figure (the Eval Score and each check's score) recorded in [since, until): the analyzer's series. */
  async evalPoints(input: { since: Date; until: Date }): Promise<EvalPoint[]> {
    const rows = await this.db().evalResult.findMany({
      where: { recordedAt: { gte: input.since, lt: input.until } },
      include: { train: { select: { service: true } } },
      orderBy: { recordedAt: 'asc' },
    });
    return pointsOf(rows);
  }

  /** What the KPIs need (core/kpi.ts) of every train that started in [since, until). */
  async trainFacts(input: { since: Date; until: Date }): Promise<TrainFacts[]> {
    const rows = await this.db().train.findMany({
      where: { startedAt: { gte: input.since, lt: input.until } },
      include: {
        stages: { where: { name: 'merge' } },
        evalResults: { orderBy: { recordedAt: 'asc' } },
        decisions: { orderBy: { decidedAt: 'asc' } },
        appeals: { where: { status: 'granted' } },
        costs: true,
      },
      orderBy: { startedAt: 'asc' },
    });
    // The LLM gateway's spend (llm_calls, no foreign key to trains) counts beside the cost ledger's.
    const llm = await this.db().llmCall.groupBy({ by: ['trainId'], _sum: { costUsd: true }, where: { trainId: { in: rows.map((t) => t.id) } } });
    const llmSpend = new Map(llm.map((g) => [g.trainId, Number(g._sum.costUsd ?? 0)]));
    const outcomes = await this.db().llmCall.groupBy({ by: ['trainId', 'cache'], _count: { _all: true }, where: { trainId: { in: rows.map((t) => t.id) }, cache: { in: [...ANSWERED_OUTCOMES] } } });
    const llmCalls = (trainId: string) => {
      const of = outcomes.filter((o) => o.trainId === trainId);
      return { answered: of.reduce((s, o) => s + o._count._all, 0), cached: of.filter((o) => o.cache !== 'miss').reduce((s, o) => s + o._count._all, 0) };
    };
    return rows.map((t) => {
      const summary = trainSummarySchema.safeParse(t.summary);
      const lastEval = t.evalResults.at(-1);
      const mutation = (lastEval?.checks as unknown as CheckResult[] | undefined)?.find((c) => c.check === 'mutation_score');
      const decisions = t.decisions.map((d) => d.outcome);
      const merged = t.stages.find((s) => s.status === 'completed' && s.finishedAt);
      return {
        id: t.id,
        service: t.service,
        startedAt: t.startedAt.getTime(),
        closedAt: t.closedAt?.getTime() ?? null,
        outcome: t.outcome as TrainOutcomeName | null,
        autonomous: promptOf(t.changeRequest).prompt !== undefined,
        mergedAt: t.mergeSha && merged?.finishedAt ? merged.finishedAt.getTime() : null,
        evalScore: lastEval?.score ?? null,
        mutationScore: mutation?.score ?? null,
        mttrMs: summary.success ? (summary.data.rollout?.mttrMs ?? null) : null,
        decisions,
        overridden: t.appeals.length > 0 || decisions.some((d, i) => d === 'deny' && decisions.slice(i + 1).includes('allow')),
        costUsd: t.costs.reduce((s, c) => s + Number(c.costUsd.toString()), 0) + (llmSpend.get(t.id) ?? 0),
        llmCalls: llmCalls(t.id),
      };
    });
  }
}

/** Eval results as series points: the Eval Score, each check and each scenario (`scenario:<id>`), per train (RecordStore.evalPoints). */
function pointsOf(rows: { trainId: string; score: number; checks: Prisma.JsonValue; scenarios: Prisma.JsonValue; recordedAt: Date; train: { service: string } }[]): EvalPoint[] {
  return rows.flatMap((r) => {
    const point = (metric: string, score: number): EvalPoint => ({ trainId: r.trainId, service: r.train.service, at: r.recordedAt.getTime(), metric, score });
    return [
      point('eval_score', r.score),
      ...(r.checks as unknown as CheckResult[]).map((c) => point(c.check, c.score)),
      ...(r.scenarios as unknown as { id: string; score: number }[]).map((sc) => point(`scenario:${sc.id}`, sc.score)),
    ];
  });
}

function trainRow(t: Prisma.TrainGetPayload<object>): TrainDossier['train'] {
  return {
    id: t.id,
    changeId: t.changeId,
    title: t.title,
    repo: t.repo,
    service: t.service,
    environment: t.environment,
    author: t.author,
    ...promptOf(t.changeRequest),
    ...migrationOf(t.changeRequest),
    state: t.state,
    outcome: t.outcome as TrainOutcomeName | null,
    reason: t.reason,
    candidateSha: t.candidateSha,
    mergeSha: t.mergeSha,
    startedAt: t.startedAt.toISOString(),
    closedAt: t.closedAt?.toISOString() ?? null,
  };
}

function migrationOf(changeRequest: Prisma.JsonValue): { migration?: { databaseUrl: string; name: string } } {
  const m = (changeRequest as { migration?: { databaseUrl?: unknown; definition?: { name?: unknown } } } | null)?.migration;
  return typeof m?.databaseUrl === 'string' && typeof m.definition?.name === 'string' ? { migration: { databaseUrl: m.databaseUrl, name: m.definition.name } } : {};
}

function promptOf(changeRequest: Prisma.JsonValue): { prompt?: string } {
  const prompt = (changeRequest as { prompt?: unknown } | null)?.prompt;
  return typeof prompt === 'string' ? { prompt } : {};
}
