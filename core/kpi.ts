/**
 * The seed's KPIs, computed from what the record holds about each train. Each KPI carries its
 * definition and target, so what is printed says what it measured; a KPI the record cannot measure
 * yet says so (value null) instead of showing a number that means nothing.
 */
import { median, quantileSorted } from 'simple-statistics';
import { z } from 'zod';
import type { TrainOutcomeName } from './dossier';
import { InvalidInputError } from './errors';
import { parseOrThrow } from './validation';

/** One train, reduced to the facts the KPIs need (record/store.ts trainFacts). Times are epoch ms. */
export interface TrainFacts {
  id: string;
  service: string;
  startedAt: number;
  closedAt: number | null;
  outcome: TrainOutcomeName | null;
  /** Produced by an agent: the change request names the agent prompt. */
  autonomous: boolean;
  /** When the merge stage finished (the merge is on the base branch). */
  mergedAt: number | null;
  evalScore: number | null;
  /** The score of a `mutation_score` eval check, when the gate ran one. */
  mutationScore: number | null;
  mttrMs: number | null;
  /** The policy decisions for the train's candidate, in order. */
  decisions: ('allow' | 'deny')[];
  /** A person lifted a denial: a granted appeal, or an approval that turned a deny into an allow. */
  overridden: boolean;
  costUsd: number;
  /** Calls the LLM gateway answered for the train (from a model or its cache), and how many from the cache. */
  llmCalls: { answered: number; cached: number };
}

export interface KpiValue {
  id: string;
  name: string;
  definition: string;
  target: string;
  /** null: not measurable from this period's record (see note). */
  value: number | null;
  display: string;
  /** How many trains the value is computed over. */
  n: number;
  met: boolean | null;
  note?: string;
}

interface KpiDefinition {
  id: string;
  name: string;
  definition: string;
  target: string;
  compute(facts: TrainFacts[], weeks: number): { value: number | null; n: number; display?: string; met?: boolean; note?: string };
}

const MINUTE = 60_000;
const closedAs = (f: TrainFacts, ...outcomes: TrainOutcomeName[]) => f.outcome !== null && outcomes.includes(f.outcome);
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export const KPI_DEFINITIONS: KpiDefinition[] = [
  {
    id: 'merge_to_prod_median_min',
    name: 'merge → production, median',
    definition: 'promoted trains: from the end of the merge stage to the train closing as promoted (canary at 100% and GitOps updated), median in minutes',
    target: '≤ 30 min',
    compute(facts) {
      const d = facts.filter((f) => closedAs(f, 'promoted') && f.mergedAt !== null && f.closedAt !== null).map((f) => (f.closedAt! - f.mergedAt!) / MINUTE);
      if (d.length === 0) return { value: null, n: 0, note: 'no promoted train in the period' };
      const m = median(d);
      return { value: m, n: d.length, display: `${m.toFixed(1)} min`, met: m <= 30 };
    },
  },
  {
    id: 'rollback_mttr_median_s',
    name: 'rollback MTTR, median',
    definition: 'rolled-back trains: from the first red health probe to 100% of traffic on stable, median in seconds',
    target: '≤ 300 s',
    compute(facts) {
      const d = facts.filter((f) => closedAs(f, 'rolled_back') && f.mttrMs !== null).map((f) => f.mttrMs! / 1_000);
      if (d.length === 0) return { value: null, n: 0, note: 'no rollback after a red probe in the period' };
      const m = median(d);
      return { value: m, n: d.length, display: `${m.toFixed(2)} s (max ${Math.max(...d).toFixed(2)} s)`, met: m <= 300 };
    },
  },
  {
    id: 'eval_score_p95',
    name: 'Eval Score reached by 95% of trains',
    definition: 'trains with an eval result: the 5th percentile of their Eval Scores, i.e. the score that 95% of them reach or exceed',
    target: '≥ 0.85',
    compute(facts) {
      const s = facts.filter((f) => f.evalScore !== null).map((f) => f.evalScore!).sort((a, b) => a - b);
      if (s.length === 0) return { value: null, n: 0, note: 'no eval result in the period' };
      const p = quantileSorted(s, 0.05);
      return { value: p, n: s.length, display: p.toFixed(3), met: p >= 0.85 };
    },
  },
  {
    id: 'change_failure_rate',
    name: 'change failure rate',
    definition: 'trains that merged: the share that did not end promoted (rolled back, aborted or failed after the merge)',
    target: '< 15%',
    compute(facts) {
      const merged = facts.filter((f) => f.mergedAt !== null && f.outcome !== null);
      if (merged.length === 0) return { value: null, n: 0, note: 'no merged train closed in the period' };
      const rate = merged.filter((f) => f.outcome !== 'promoted').length / merged.length;
      return { value: rate, n: merged.length, display: pct(rate), met: rate < 0.15 };
    },
  },
  {
    id: 'autonomous_promoted_per_week',
    name: 'autonomous changes promoted per week',
    definition: 'trains whose change request names an agent prompt and that ended promoted, divided by the weeks in the period',
    target: 'rising',
    compute(facts, weeks) {
      const n = facts.filter((f) => f.autonomous && closedAs(f, 'promoted')).length;
      const perWeek = n / weeks;
      return { value: perWeek, n, display: `${perWeek.toFixed(1)} (${n} in ${weeks.toFixed(1)} weeks)` };
    },
  },
  {
    id: 'reviewer_override_rate',
    name: 'reviewer overrides',
    definition: 'trains with a policy decision: the share where a person lifted a denial (granted appeal, or approval turning a deny into an allow)',
    target: '< 8%',
    compute(facts) {
      const decided = facts.filter((f) => f.decisions.length > 0);
      if (decided.length === 0) return { value: null, n: 0, note: 'no policy decision in the period' };
      const rate = decided.filter((f) => f.overridden).length / decided.length;
      return { value: rate, n: decided.length, display: pct(rate), met: rate < 0.08 };
    },
  },
  {
    id: 'policy_violations',
    name: 'policy violations',
    definition: 'trains that merged although their last policy decision was a deny, or without any decision',
    target: '0',
    compute(facts) {
      const merged = facts.filter((f) => f.mergedAt !== null);
      const n = merged.filter((f) => f.decisions.at(-1) !== 'allow' && !f.overridden).length;
      return { value: n, n: merged.length, display: String(n), met: n === 0 };
    },
  },
  {
    id: 'cost_per_pr_usd',
    name: '$ per PR',
    definition: 'the cost ledger (LLM tokens, compute) of every train in the period divided by the trains that merged',
    target: '≤ $1.79',
    compute(facts) {
      const merged = facts.filter((f) => f.mergedAt !== null).length;
      if (merged === 0) return { value: null, n: 0, note: 'no merged train in the period' };
      const v = facts.reduce((s, f) => s + f.costUsd, 0) / merged;
      return { value: v, n: merged, display: `$${v.toFixed(4)}`, met: v <= 1.79 };
    },
  },
  {
    id: 'llm_cache_hit_rate',
    name: 'LLM cache hits',
    definition: "the LLM gateway's calls for the period's trains answered from its cache (exact or semantic), of all it answered (budget refusals and errors left out)",
    target: '≥ 70%',
    compute(facts) {
      const answered = facts.reduce((s, f) => s + f.llmCalls.answered, 0);
      if (answered === 0) return { value: null, n: 0, note: 'no LLM call recorded for the period\'s trains' };
      const v = facts.reduce((s, f) => s + f.llmCalls.cached, 0) / answered;
      return { value: v, n: facts.filter((f) => f.llmCalls.answered > 0).length, display: `${pct(v)} of ${answered} calls`, met: v >= 0.7 };
    },
  },
  {
    id: 'mutation_score_median',
    name: 'mutation score of changed code, median',
    definition: 'trains whose eval gate ran a mutation_score check: the median of its scores',
    target: '≥ 0.70',
    compute(facts) {
      const s = facts.filter((f) => f.mutationScore !== null).map((f) => f.mutationScore!);
      if (s.length === 0) return { value: null, n: 0, note: 'no train ran a mutation_score check in the period' };
      const m = median(s);
      return { value: m, n: s.length, display: m.toFixed(3), met: m >= 0.7 };
    },
  },
];

const HOUR = 60 * MINUTE;
const UNIT_MS = { h: HOUR, d: 24 * HOUR, w: 7 * 24 * HOUR } as const;
/** A point in time: '7d', '24h' or '2w' ago, or an ISO 8601 date or date-time. */
const instant = z.string().refine((s) => /^\d+[hdw]$/.test(s) || !Number.isNaN(Date.parse(s)), {
  message: "use a span back from now like '24h', '7d' or '4w', or an ISO date like '2026-11-01'",
});
export const kpiPeriodSchema = z.object({ since: instant.default('7d'), until: instant.optional() }).strict();

/** `since`/`until` (kpiPeriodSchema) as epoch ms, relative spans counted back from `now`. */
export function parsePeriod(input: unknown, now: number): { since: number; until: number } {
  const p = parseOrThrow(kpiPeriodSchema, input, 'KPI period');
  const at = (s: string) => {
    const m = /^(\d+)([hdw])$/.exec(s);
    return m ? now - Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : Date.parse(s);
  };
  const period = { since: at(p.since), until: p.until === undefined ? now : at(p.until) };
  checkPeriod(period);
  return period;
}

function checkPeriod(period: { since: number; until: number }): void {
  const iso = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms));
  if (!(period.until > period.since)) throw new InvalidInputError(`the period must end after it starts: since ${iso(period.since)}, until ${iso(period.until)}`);
}

/** The KPIs over the trains that started in [since, until). */
export function computeKpis(all: TrainFacts[], period: { since: number; until: number }): KpiValue[] {
  checkPeriod(period);
  const facts = all.filter((f) => f.startedAt >= period.since && f.startedAt < period.until);
  const weeks = (period.until - period.since) / (7 * 24 * 60 * MINUTE);
  return KPI_DEFINITIONS.map((k) => {
    const r = k.compute(facts, weeks);
    return {
      id: k.id,
      name: k.name,
      definition: k.definition,
      target: k.target,
      value: r.value,
      display: r.display ?? (r.value === null ? 'n/a' : String(r.value)),
      n: r.n,
      met: r.met ?? null,
      ...(r.note ? { note: r.note } : {}),
    };
  });
}

/** The same KPIs per consecutive bucket (e.g. a day or a week) of the period, oldest first: the trend plots. */
export function kpiTrend(all: TrainFacts[], period: { since: number; until: number }, bucketMs: number): { since: number; kpis: KpiValue[] }[] {
  if (!(bucketMs > 0)) throw new InvalidInputError(`a trend bucket must be a positive duration, got ${bucketMs} ms`);
  if ((period.until - period.since) / bucketMs > 1_000) throw new InvalidInputError(`more than 1000 buckets of ${bucketMs} ms in the period: choose a longer bucket or a shorter period`);
  const out: { since: number; kpis: KpiValue[] }[] = [];
  for (let start = period.since; start < period.until; start += bucketMs) out.push({ since: start, kpis: computeKpis(all, { since: start, until: Math.min(start + bucketMs, period.until) }) });
  return out;
}

export function formatKpis(kpis: KpiValue[]): string {
  const width = Math.max(...kpis.map((k) => k.name.length));
  return kpis
    .map((k) => `${k.met === null ? ' ' : k.met ? '✓' : '✗'} ${k.name.padEnd(width)}  ${k.display.padEnd(28)} target ${k.target.padEnd(9)} n=${k.n}${k.note ? `  (${k.note})` : ''}`)
    .join('\n');
}
