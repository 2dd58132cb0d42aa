/**
 * LLM cost per train and per PR from the gateway's ledger, broken down by stage, model, cache outcome
 * and call type (`maestro cost`). A PR is a train that merged; calls outside a train (bench, CLI) count
 * in the total and the breakdowns but in no train.
 */
/** The ledger's cache outcomes of a call that was answered: fresh (`miss`) or from the cache. */
export const ANSWERED_OUTCOMES = ['miss', 'exact', 'template', 'semantic'] as const;

export interface CostedCall {
  trainId: string | null;
  stage: string;
  model: string;
  cache: string;
  callType: string;
  costUsd: number;
  tokensIn: number;
  tokensOut: number;
}

export interface CostLine {
  key: string;
  calls: number;
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
}

export interface CostReport {
  calls: number;
  totalUsd: number;
  trains: number;
  perTrainUsd: number | null;
  prs: number;
  /** Spend of the trains that merged, over their number. */
  perPrUsd: number | null;
  byStage: CostLine[];
  byModel: CostLine[];
  byCache: CostLine[];
  byCallType: CostLine[];
  /** Calls served from the cache over calls answered (cache hits + fresh answers). */
  cacheHitRate: number | null;
}

function group(calls: CostedCall[], keyOf: (c: CostedCall) => string): CostLine[] {
  const lines = new Map<string, CostLine>();
  for (const c of calls) {
    const key = keyOf(c);
    const line = lines.get(key) ?? { key, calls: 0, tokensIn: 0, tokensOut: 0, costUsd: 0 };
    line.calls++;
    line.tokensIn += c.tokensIn;
    line.tokensOut += c.tokensOut;
    line.costUsd += c.costUsd;
    lines.set(key, line);
  }
  return [...lines.values()].sort((a, b) => b.costUsd - a.costUsd || a.key.localeCompare(b.key));
}

export function costReport(calls: CostedCall[], merged: ReadonlySet<string>): CostReport {
  const total = calls.reduce((n, c) => n + c.costUsd, 0);
  const trains = new Set(calls.map((c) => c.trainId).filter((t): t is string => t !== null));
  const prs = [...trains].filter((t) => merged.has(t));
  const prSpend = calls.filter((c) => c.trainId !== null && merged.has(c.trainId)).reduce((n, c) => n + c.costUsd, 0);
  const trainSpend = calls.filter((c) => c.trainId !== null).reduce((n, c) => n + c.costUsd, 0);
  const answered = calls.filter((c) => (ANSWERED_OUTCOMES as readonly string[]).includes(c.cache) && !c.callType.endsWith('.cache-key') && c.callType !== 'embedding');
  const hits = answered.filter((c) => c.cache !== 'miss').length;
  return {
    calls: calls.length,
    totalUsd: total,
    trains: trains.size,
    perTrainUsd: trains.size ? trainSpend / trains.size : null,
    prs: prs.length,
    perPrUsd: prs.length ? prSpend / prs.length : null,
    byStage: group(calls, (c) => c.stage || '(none)'),
    byModel: group(calls, (c) => c.model),
    byCache: group(calls, (c) => c.cache),
    byCallType: group(calls, (c) => c.callType),
    cacheHitRate: answered.length ? hits / answered.length : null,
  };
}

export function formatCostReport(r: CostReport): string {
  const usd = (n: number | null) => (n === null ? '—' : `$${n.toFixed(6)}`);
  const table = (title: string, lines: CostLine[]) =>
    [`${title}:`, ...lines.map((l) => `  ${l.key.padEnd(34)} ${String(l.calls).padStart(6)} calls  ${String(l.tokensIn).padStart(9)} in  ${String(l.tokensOut).padStart(8)} out  ${usd(l.costUsd)}`)].join('\n');
  return [
    `LLM spend ${usd(r.totalUsd)} over ${r.calls} calls; ${r.trains} trains (${usd(r.perTrainUsd)}/train), ${r.prs} PRs (${usd(r.perPrUsd)}/PR); cache hit rate ${r.cacheHitRate === null ? '—' : `${(100 * r.cacheHitRate).toFixed(1)}%`}`,
    table('by stage', r.byStage),
    table('by model', r.byModel),
    table('by cache outcome', r.byCache),
    table('by call type', r.byCallType),
  ].join('\n');
}
