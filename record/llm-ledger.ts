/**
 * The LLM gateway's ledger and cache in the record (tables llm_calls and llm_cache): the gateway's
 * LlmLedger port (llm/gateway.ts), plus the reads of `maestro cost` and `maestro router calibrate`.
 */
import type { CachedAnswer, LlmCallRow, LlmLedger } from '../llm/gateway';
import { MemoryLlmLedger } from '../llm/memory-ledger';
import { lazyDb, type Db } from './db';
import type { RecordDeps } from './store';

/** One ledger row as the cost report and the router calibration read it: a call as written, with its id and time. */
export interface LedgerRow extends Omit<LlmCallRow, 'trainId' | 'templateVersion' | 'tier' | 'cache' | 'policyReason' | 'error' | 'passed'> {
  id: string;
  at: Date;
  trainId: string | null;
  tier: string;
  cache: string;
  passed: boolean | null;
}

export class LlmLedgerStore implements LlmLedger {
  private readonly db: () => Db;

  constructor(deps: RecordDeps = {}) {
    this.db = lazyDb(deps);
  }

  async recordCall(row: LlmCallRow): Promise<string> {
    const created = await this.db().llmCall.create({
      data: {
        trainId: row.trainId ?? null,
        stage: row.stage,
        callType: row.callType,
        templateId: row.templateId,
        templateVersion: row.templateVersion,
        provider: row.provider,
        model: row.model,
        tier: row.tier,
        promptKey: row.promptKey,
        promptChars: row.promptChars,
        tokensIn: row.tokensIn,
        tokensOut: row.tokensOut,
        latencyMs: row.latencyMs,
        // A decimal string: Prisma takes it as is, and this module stays loadable without the Prisma client (the CLI's --help).
        costUsd: row.costUsd.toFixed(6),
        cache: row.cache,
        policyReason: row.policyReason ?? null,
        error: row.error ?? null,
        passed: row.passed ?? null,
      },
      select: { id: true },
    });
    return created.id.toString();
  }

  async spent(q: { trainId?: string; since: Date }): Promise<{ trainUsd: number; dayUsd: number }> {
    const [day, train] = await Promise.all([
      this.db().llmCall.aggregate({ _sum: { costUsd: true }, where: { at: { gte: q.since } } }),
      q.trainId ? this.db().llmCall.aggregate({ _sum: { costUsd: true }, where: { trainId: q.trainId } }) : Promise.resolve(undefined),
    ]);
    return { dayUsd: Number(day._sum.costUsd ?? 0), trainUsd: Number(train?._sum.costUsd ?? 0) };
  }

  async cacheGet(key: string): Promise<CachedAnswer | undefined> {
    const row = await this.db().llmCacheEntry.findUnique({ where: { key } });
    return row ? { key: row.key, prompt: row.prompt, embedding: row.embedding.length ? row.embedding : null, answer: row.answer } : undefined;
  }

  async cacheCandidates(q: { callType: string; model: string; template: string }): Promise<CachedAnswer[]> {
    const rows = await this.db().llmCacheEntry.findMany({ where: { callType: q.callType, model: q.model, template: q.template, NOT: { embedding: { isEmpty: true } } } });
    return rows.map((r) => ({ key: r.key, prompt: r.prompt, embedding: r.embedding, answer: r.answer }));
  }

  async cacheAnswersOfShape(q: { callType: string; model: string; template: string; shape: string }): Promise<string[]> {
    const rows = await this.db().llmCacheEntry.findMany({ where: q, orderBy: { createdAt: 'asc' }, select: { answer: true } });
    return rows.map((r) => r.answer);
  }

  async cachePut(entry: CachedAnswer & { callType: string; model: string; template: string; shape?: string }): Promise<void> {
    await this.db().llmCacheEntry.createMany({
      data: [{ key: entry.key, callType: entry.callType, model: entry.model, template: entry.template, prompt: entry.prompt, embedding: entry.embedding ?? [], answer: entry.answer, ...(entry.shape ? { shape: entry.shape } : {}) }],
      skipDuplicates: true,
    });
  }

  async cacheHit(key: string): Promise<void> {
    await this.db().llmCacheEntry.update({ where: { key }, data: { hits: { increment: 1 } } });
  }

  /** Labels a call's answer (its eval passed or not; a reviewer's override). */
  async label(callId: string, passed: boolean): Promise<void> {
    await this.db().llmCall.update({ where: { id: BigInt(callId) }, data: { passed } });
  }

  /** Ledger rows in a period (optionally of one call type), oldest first. */
  async rows(q: { since?: Date; until?: Date; callType?: string } = {}): Promise<LedgerRow[]> {
    const rows = await this.db().llmCall.findMany({
      where: { ...(q.since || q.until ? { at: { ...(q.since ? { gte: q.since } : {}), ...(q.until ? { lt: q.until } : {}) } } : {}), ...(q.callType ? { callType: q.callType } : {}) },
      orderBy: { id: 'asc' },
    });
    return rows.map((r) => ({
      id: r.id.toString(),
      at: r.at,
      trainId: r.trainId,
      stage: r.stage,
      callType: r.callType,
      templateId: r.templateId,
      provider: r.provider,
      model: r.model,
      tier: r.tier,
      promptKey: r.promptKey,
      promptChars: r.promptChars,
      tokensIn: r.tokensIn,
      tokensOut: r.tokensOut,
      latencyMs: r.latencyMs,
      costUsd: Number(r.costUsd),
      cache: r.cache,
      passed: r.passed,
    }));
  }

  /** The trains that merged (a PR each) among `trainIds`. */
  async mergedTrains(trainIds: string[]): Promise<Set<string>> {
    const rows = await this.db().train.findMany({ where: { id: { in: trainIds }, mergeSha: { not: null } }, select: { id: true } });
    return new Set(rows.map((r) => r.id));
  }
}

/** The ledger in the record when MAESTRO_DATABASE_URL is set, else in memory (a process without a record). */
export function llmLedgerFromEnv(env: NodeJS.ProcessEnv): LlmLedger {
  const url = env.MAESTRO_DATABASE_URL?.trim();
  return url ? new LlmLedgerStore({ url }) : new MemoryLlmLedger();
}
