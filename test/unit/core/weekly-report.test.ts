/** The weekly savers/spenders report on fixed data: who spent, who saved, KPIs against last week. */
import fc from 'fast-check';
import type { TrainFacts } from '../../../core/kpi';
import { betterDirection, formatWeeklyReport, WEEK_MS, weeklyReport, type ReportTrain } from '../../../core/weekly-report';

const H = 3_600_000;
const UNTIL = Date.parse('2026-11-30T00:00:00Z');
const THIS = UNTIL - WEEK_MS + H;
const LAST = UNTIL - 2 * WEEK_MS + H;

function facts(id: string, service: string, over: Partial<TrainFacts> = {}): TrainFacts {
  return { id, service, startedAt: THIS, closedAt: THIS + H, outcome: 'promoted', autonomous: false, mergedAt: THIS + 10 * 60_000, evalScore: 0.95, mutationScore: null, mttrMs: null, decisions: ['allow'], overridden: false, costUsd: 0, llmCalls: { answered: 0, cached: 0 }, ...over };
}

const trains: ReportTrain[] = [
  { id: 'a1', author: 'alice', service: 'greeter' },
  { id: 'a2', author: 'alice', service: 'greeter' },
  { id: 'b1', author: 'bob', service: 'billing' },
  { id: 'b2', author: 'bob', service: 'billing' },
  { id: 'c1', author: 'carol', service: 'greeter' },
  { id: 'old-a', author: 'alice', service: 'greeter' },
  { id: 'old-b', author: 'bob', service: 'billing' },
];
const all: TrainFacts[] = [
  facts('a1', 'greeter', { costUsd: 0.6 }),
  facts('a2', 'greeter', { costUsd: 0.4, outcome: 'rolled_back', mttrMs: 2_000, evalScore: 0.9 }),
  facts('b1', 'billing', { costUsd: 2.5 }),
  facts('b2', 'billing', { costUsd: 0.5, outcome: 'denied', mergedAt: null, decisions: ['deny'], evalScore: 0.6 }),
  facts('c1', 'greeter', { costUsd: 0.1 }),
  // last week: alice paid $2 for one merged PR, bob $1
  facts('old-a', 'greeter', { startedAt: LAST, closedAt: LAST + H, mergedAt: LAST + 10 * 60_000, costUsd: 2 }),
  facts('old-b', 'billing', { startedAt: LAST, closedAt: LAST + H, mergedAt: LAST + 10 * 60_000, costUsd: 1 }),
  // before both weeks: not in the report
  facts('ancient', 'greeter', { startedAt: LAST - WEEK_MS, costUsd: 100 }),
];

describe('weeklyReport on fixed data', () => {
  const r = weeklyReport(trains, all, UNTIL);

  test('spend by author, biggest first, with $ per merged PR against last week', () => {
    expect(r.trains).toBe(5);
    expect(r.spendUsd).toBe(4.1);
    expect(r.spenders.byAuthor).toEqual([
      { who: 'bob', spendUsd: 3, trains: 2, merged: 1, perMergedUsd: 3, previousPerMergedUsd: 1, previousSpendUsd: 1 },
      { who: 'alice', spendUsd: 1, trains: 2, merged: 2, perMergedUsd: 0.5, previousPerMergedUsd: 2, previousSpendUsd: 2 },
      { who: 'carol', spendUsd: 0.1, trains: 1, merged: 1, perMergedUsd: 0.1, previousPerMergedUsd: null, previousSpendUsd: 0 },
    ]);
    expect(r.spenders.byService.map((s) => [s.who, s.spendUsd, s.perMergedUsd])).toEqual([
      ['billing', 3, 3],
      ['greeter', 1.1, 0.366667],
    ]);
  });

  test('savers: the cheapest per merged PR first', () => {
    expect(r.savers.map((s) => s.who)).toEqual(['carol', 'alice', 'bob']);
  });

  test('KPIs beside last week, with the direction and whether it is better', () => {
    const cfr = r.kpis.find((k) => k.kpi.id === 'change_failure_rate')!;
    // this week: 4 merged, 1 not promoted (a2) = 25%; last week 0%
    expect([cfr.kpi.value, cfr.previous.value, cfr.moved, cfr.better]).toEqual([0.25, 0, 'up', false]);
    const cost = r.kpis.find((k) => k.kpi.id === 'cost_per_pr_usd')!;
    expect([cost.kpi.value, cost.previous.value, cost.moved, cost.better]).toEqual([4.1 / 4, 1.5, 'down', true]);
    const mttr = r.kpis.find((k) => k.kpi.id === 'rollback_mttr_median_s')!;
    expect([mttr.moved, mttr.better]).toEqual(['n/a', null]);
  });

  test('markdown: the tables and the trend words', () => {
    const md = formatWeeklyReport(r);
    expect(md).toContain('# Weekly report: 2026-11-23 … 2026-11-29');
    expect(md).toContain('| bob | $3.0000 | 2 | 1 | $3.0000 | +200% |');
    expect(md).toContain('| alice | $1.0000 | 2 | 2 | $0.5000 | -75% |');
    expect(md).toContain('| carol | $0.1000 | 1 | 1 | $0.1000 | new |');
    expect(md).toMatch(/\| change failure rate \| 25\.0% \| 0\.0% \| ↑ worse \| < 15% \| missed \| 4 \|/);
    expect(md).toMatch(/\| \$ per PR \| \$1\.0250 \| \$1\.5000 \| ↓ better \|/);
  });

  test('a week without trains says so', () => {
    const empty = formatWeeklyReport(weeklyReport([], [], UNTIL));
    expect(empty).toContain('0 trains started this week');
    expect(empty).toContain('_no trains this week_');
  });
});

test('betterDirection reads every KPI target', () => {
  expect(['≤ 30 min', '≤ 300 s', '< 15%', '< 8%', '0', '≤ $1.79'].map(betterDirection)).toEqual(Array(6).fill('lower'));
  expect(['≥ 0.85', 'rising', '≥ 0.70'].map(betterDirection)).toEqual(Array(3).fill('higher'));
});

test('spend is conserved: the authors’ rows add up to the week’s spend, whatever the trains', () => {
  const arbTrain = fc.record({ author: fc.constantFrom('a', 'b', 'c'), service: fc.constantFrom('s', 't'), cost: fc.integer({ min: 0, max: 10_000 }), merged: fc.boolean(), offsetH: fc.integer({ min: 0, max: 2 * 7 * 24 - 1 }) });
  fc.assert(
    fc.property(fc.array(arbTrain, { maxLength: 30 }), (specs) => {
      const ts = specs.map((s, i) => ({ id: `t${i}`, author: s.author, service: s.service }));
      const fs = specs.map((s, i) => facts(`t${i}`, s.service, { startedAt: UNTIL - 2 * WEEK_MS + s.offsetH * H, costUsd: s.cost / 100, mergedAt: s.merged ? 0 : null }));
      const r = weeklyReport(ts, fs, UNTIL, 10);
      const sum = r.spenders.byAuthor.reduce((x, row) => x + row.spendUsd, 0);
      return Math.abs(sum - r.spendUsd) < 1e-6 && r.spenders.byAuthor.reduce((x, row) => x + row.trains, 0) === r.trains && r.savers.every((s) => s.merged > 0);
    }),
  );
});
