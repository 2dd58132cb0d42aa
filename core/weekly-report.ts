/**
 * The weekly savers/spenders report (pure): over the trains that started in a week, who and which service
 * spent most, and who got merged changes for least per PR, each against the week before; then the KPIs of
 * the week beside the previous week's, with the direction each moved and whether that is better. Markdown.
 */
import { computeKpis, type KpiValue, type TrainFacts } from './kpi';

export const WEEK_MS = 7 * 24 * 3_600_000;

export interface ReportTrain {
  id: string;
  author: string;
  service: string;
}

export interface SpendRow {
  who: string;
  spendUsd: number;
  trains: number;
  merged: number;
  /** Spend divided by merged trains; null when none merged. */
  perMergedUsd: number | null;
  /** The same figure the week before; null when there was none. */
  previousPerMergedUsd: number | null;
  previousSpendUsd: number;
}

export interface KpiTrend {
  kpi: KpiValue;
  previous: KpiValue;
  /** up/down/flat: how the value moved; n/a when either week has none. */
  moved: 'up' | 'down' | 'flat' | 'n/a';
  /** Whether the move is towards the target (null: no direction to judge, or no move). */
  better: boolean | null;
}

export interface WeeklyReport {
  since: number;
  until: number;
  trains: number;
  spendUsd: number;
  spenders: { byAuthor: SpendRow[]; byService: SpendRow[] };
  /** Authors with a merged train, cheapest per merged PR first. */
  savers: SpendRow[];
  kpis: KpiTrend[];
}

/** The report for the week ending `until` (exclusive), compared with the week before it; `top` rows per table. */
export function weeklyReport(trains: readonly ReportTrain[], facts: readonly TrainFacts[], until: number, top = 5): WeeklyReport {
  const week = { since: until - WEEK_MS, until };
  const previousWeek = { since: until - 2 * WEEK_MS, until: until - WEEK_MS };
  const info = new Map(trains.map((t) => [t.id, t]));
  const inWeek = (f: TrainFacts, p: { since: number; until: number }) => f.startedAt >= p.since && f.startedAt < p.until;
  const thisWeek = facts.filter((f) => inWeek(f, week));
  const lastWeek = facts.filter((f) => inWeek(f, previousWeek));
  const spend = (key: (t: ReportTrain) => string) => spendRows(thisWeek, lastWeek, (f) => key(info.get(f.id) ?? { id: f.id, author: 'unknown', service: f.service }));
  const byAuthor = spend((t) => t.author);
  const previous = computeKpis([...facts], previousWeek);
  return {
    ...week,
    trains: thisWeek.length,
    spendUsd: round6(thisWeek.reduce((s, f) => s + f.costUsd, 0)),
    spenders: { byAuthor: byAuthor.slice(0, top), byService: spend((t) => t.service).slice(0, top) },
    savers: byAuthor
      .filter((r) => r.perMergedUsd !== null)
      .sort((a, b) => a.perMergedUsd! - b.perMergedUsd! || b.merged - a.merged || a.who.localeCompare(b.who))
      .slice(0, top),
    kpis: computeKpis([...facts], week).map((kpi, i) => trendOf(kpi, previous[i]!)),
  };
}

function spendRows(week: TrainFacts[], previousWeek: TrainFacts[], key: (f: TrainFacts) => string): SpendRow[] {
  const sum = (facts: TrainFacts[]) => {
    const sums = new Map<string, { spendUsd: number; trains: number; merged: number }>();
    for (const f of facts) {
      const s = sums.get(key(f)) ?? { spendUsd: 0, trains: 0, merged: 0 };
      s.spendUsd += f.costUsd;
      s.trains += 1;
      s.merged += f.mergedAt !== null ? 1 : 0;
      sums.set(key(f), s);
    }
    return sums;
  };
  const now = sum(week);
  const before = sum(previousWeek);
  const perMerged = (s: { spendUsd: number; merged: number } | undefined) => (s && s.merged > 0 ? round6(s.spendUsd / s.merged) : null);
  return [...now.entries()]
    .map(([who, s]) => ({
      who,
      spendUsd: round6(s.spendUsd),
      trains: s.trains,
      merged: s.merged,
      perMergedUsd: perMerged(s),
      previousPerMergedUsd: perMerged(before.get(who)),
      previousSpendUsd: round6(before.get(who)?.spendUsd ?? 0),
    }))
    .sort((a, b) => b.spendUsd - a.spendUsd || a.who.localeCompare(b.who));
}

/** Which way is better, read off the KPI's target: '≤ 30 min', '< 8%', '0' lower; '≥ 0.85', 'rising' higher. */
export function betterDirection(target: string): 'lower' | 'higher' | undefined {
  const t = target.trim();
  if (/^[≤<]/.test(t) || /^0(\D|$)/.test(t)) return 'lower';
  if (/^[≥>]/.test(t) || /^rising/i.test(t)) return 'higher';
  return undefined;
}

function trendOf(kpi: KpiValue, previous: KpiValue): KpiTrend {
  if (kpi.value === null || previous.value === null) return { kpi, previous, moved: 'n/a', better: null };
  const delta = kpi.value - previous.value;
  const moved = Math.abs(delta) <= 1e-9 * Math.max(1, Math.abs(previous.value)) ? 'flat' : delta > 0 ? 'up' : 'down';
  const direction = betterDirection(kpi.target);
  const better = moved === 'flat' || !direction ? null : (moved === 'up') === (direction === 'higher');
  return { kpi, previous, moved, better };
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;
const usd = (x: number | null) => (x === null ? 'n/a' : `$${x.toFixed(4)}`);
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function change(now: number | null, before: number | null): string {
  if (now === null || before === null) return 'new';
  if (before === 0) return now === 0 ? '±0' : 'from $0';
  const pct = ((now - before) / before) * 100;
  return `${pct >= 0 ? '+' : ''}${pct.toFixed(0)}%`;
}

export function formatWeeklyReport(r: WeeklyReport): string {
  const spendTable = (rows: SpendRow[], label: string) =>
    rows.length === 0
      ? '_no trains this week_\n'
      : [`| ${label} | spend | trains | merged | $ per merged PR | vs last week |`, '|---|---:|---:|---:|---:|---:|', ...rows.map((s) => `| ${cell(s.who)} | ${usd(s.spendUsd)} | ${s.trains} | ${s.merged} | ${usd(s.perMergedUsd)} | ${change(s.perMergedUsd, s.previousPerMergedUsd)} |`)].join('\n') + '\n';
  const arrow = { up: '↑', down: '↓', flat: '→', 'n/a': '·' } as const;
  const kpiRows = r.kpis.map(
    ({ kpi, previous, moved, better }) =>
      `| ${cell(kpi.name)} | ${cell(kpi.display)} | ${cell(previous.display)} | ${arrow[moved]}${better === null ? '' : better ? ' better' : ' worse'} | ${cell(kpi.target)} | ${kpi.met === null ? '—' : kpi.met ? 'met' : 'missed'} | ${kpi.n} |`,
  );
  return `# Weekly report: ${day(r.since)} … ${day(r.until - 1)}

${r.trains} train${r.trains === 1 ? '' : 's'} started this week; spend ${usd(r.spendUsd)} (the cost ledger: LLM tokens and compute).

## Top spenders by author
${spendTable(r.spenders.byAuthor, 'author')}
## Top spenders by service
${spendTable(r.spenders.byService, 'service')}
## Savers: least spend per merged PR
${spendTable(r.savers, 'author')}
## KPIs, this week against the week before
| KPI | this week | last week | trend | target | | trains |
|---|---|---|---|---|---|---:|
${kpiRows.join('\n')}
`;
}
