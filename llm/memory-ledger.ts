/**
 * The gateway's ledger and cache in memory, for a process without a record (the CLI offline, a
 * provider built from a bare config): the same port as record/llm-ledger.ts, lost when the process ends.
 */
import type { CachedAnswer, LlmCallRow, LlmLedger } from './gateway';

export class MemoryLlmLedger implements LlmLedger {
  readonly calls: (LlmCallRow & { id: string; at: Date })[] = [];
  private readonly cache = new Map<string, CachedAnswer & { callType: string; model: string; template: string; shape?: string; hits: number }>();

  constructor(private readonly clock: () => Date = () => new Date()) {}

  async recordCall(row: LlmCallRow): Promise<string> {
    const id = String(this.calls.length + 1);
    this.calls.push({ ...row, id, at: this.clock() });
    return id;
  }

  async spent(q: { trainId?: string; since: Date }): Promise<{ trainUsd: number; dayUsd: number }> {
    const sum = (rows: LlmCallRow[]) => rows.reduce((n, r) => n + r.costUsd, 0);
    return { dayUsd: sum(this.calls.filter((c) => c.at >= q.since)), trainUsd: q.trainId ? sum(this.calls.filter((c) => c.trainId === q.trainId)) : 0 };
  }

  async cacheGet(key: string): Promise<CachedAnswer | undefined> {
    return this.cache.get(key);
  }

  async cacheCandidates(q: { callType: string; model: string; template: string }): Promise<CachedAnswer[]> {
    return [...this.cache.values()].filter((e) => e.callType === q.callType && e.model === q.model && e.template === q.template && e.embedding);
  }

  async cacheAnswersOfShape(q: { callType: string; model: string; template: string; shape: string }): Promise<string[]> {
    return [...this.cache.values()].filter((e) => e.callType === q.callType && e.model === q.model && e.template === q.template && e.shape === q.shape).map((e) => e.answer);
  }

  async cachePut(entry: CachedAnswer & { callType: string; model: string; template: string; shape?: string }): Promise<void> {
    if (!this.cache.has(entry.key)) this.cache.set(entry.key, { ...entry, hits: 0 });
  }

  async cacheHit(key: string): Promise<void> {
    const e = this.cache.get(key);
    if (e) e.hits += 1;
  }
}
