import fc from 'fast-check';
import { computeKpis, formatKpis, kpiTrend, parsePeriod, type KpiValue, type TrainFacts } from '../../../core/kpi';

const H = 3_600_000;
const T0 = Date.parse('2026-11-02T00:00:00Z');
const WEEK = { since: T0, until: T0 + 7 * 24 * H };

function train(id: string, over: Partial<TrainFacts> = {}): TrainFacts {
  return {
    id,
    service: 'greeter',
    startedAt: T0 + H,
    closedAt: T0 + 2 * H,
    outcome: 'promoted',
    autonomous: false,
    mergedAt: T0 + H + 10 * 60_000,
    evalScore: 0.95,
    mutationScore: null,
    mttrMs: null,
    decisions: ['allow'],
    overridden: false,
    costUsd: 0,
    llmCalls: { answered: 0, cached: 0 },
    ...over,
  };
}
const byId = (kpis: KpiValue[], id: string) => kpis.find((k) => k.id === id)!;

describe('the KPIs on fixed data', () => {
  const facts = [
    // merged at +10 min, promoted at +60 min: 50 min from merge to production
    train('a', { autonomous: true, costUsd: 1.2 }),
    // 20 min
    train('b', { mergedAt: T0 + H, closedAt: T0 + H + 20 * 60_000, costUsd: 0.3 }),
    // rolled back 1.5 s after its first red probe
    train('c', { outcome: 'rolled_back', mttrMs: 1_500, evalScore: 0.9, costUsd: 0.5 }),
    // rolled back after 4 s
    train('d', { outcome: 'rolled_back', mttrMs: 4_000, evalScore: 0.88 }),
    // denied, then appealed and granted: an override; never merged
    train('e', { outcome: 'denied', mergedAt: null, decisions: ['deny', 'allow'], overridden: true, evalScore: 0.5 }),
    // merged although its last decision was a deny: a policy violation
    train('f', { outcome: 'failed', decisions: ['deny'], evalScore: 0.86 }),
    // outside the period
    train('old', { startedAt: T0 - H, outcome: 'rolled_back', mttrMs: 900_000 }),
  ];
  const kpis = computeKpis(facts, WEEK);

  test('merge → production is the median over promoted trains, in minutes', () => {
    expect(byId(kpis, 'merge_to_prod_median_min')).toMatchObject({ value: 35, n: 2, met: false, display: '35.0 min' });
  });
  test('rollback MTTR is the median over rolled-back trains of the period only', () => {
    expect(byId(kpis, 'rollback_mttr_median_s')).toMatchObject({ value: 2.75, n: 2, met: true });
  });
  test('the Eval Score KPI is the 5th percentile: one low score among six is what 95% reach', () => {
    expect(byId(kpis, 'eval_score_p95')).toMatchObject({ value: 0.5, n: 6, met: false });
  });
  test('change failure rate counts merged trains that did not end promoted', () => {
    // merged: a b c d f (e never merged); not promoted: c d f
    expect(byId(kpis, 'change_failure_rate')).toMatchObject({ value: 3 / 5, n: 5, met: false });
  });
  test('LLM cache hits: calls answered from the cache of all answered, over the trains that made any', () => {
    const withCalls = computeKpis([train('a', { llmCalls: { answered: 10, cached: 8 } }), train('b', { llmCalls: { answered: 30, cached: 12 } }), train('c')], WEEK);
    expect(byId(withCalls, 'llm_cache_hit_rate')).toMatchObject({ value: 0.5, n: 2, met: false, display: '50.0% of 40 calls' });
    expect(byId(kpis, 'llm_cache_hit_rate')).toMatchObject({ value: null, n: 0 });
  });
  test('overrides, violations, autonomous changes and $ per PR', () => {
    expect(byId(kpis, 'reviewer_override_rate')).toMatchObject({ value: 1 / 6, n: 6, met: false });
    expect(byId(kpis, 'policy_violations')).toMatchObject({ value: 1, met: false });
    expect(byId(kpis, 'autonomous_promoted_per_week')).toMatchObject({ value: 1, n: 1 });
    expect(byId(kpis, 'cost_per_pr_usd').value).toBeCloseTo(2.0 / 5, 10);
  });
  test('a KPI the record cannot measure says so instead of showing a number', () => {
    expect(byId(kpis, 'mutation_score_median')).toMatchObject({ value: null, display: 'n/a', met: null, note: 'no train ran a mutation_score check in the period' });
    expect(formatKpis(kpis)).toContain('mutation score of changed code, median');
  });
});

describe('periods', () => {
  const now = Date.parse('2026-12-02T12:00:00Z');
  test("spans back from now and ISO dates; '7d' by default", () => {
    expect(parsePeriod({}, now)).toEqual({ since: now - 7 * 24 * H, until: now });
    expect(parsePeriod({ since: '24h' }, now)).toEqual({ since: now - 24 * H, until: now });
    expect(parsePeriod({ since: '2026-11-01', until: '2w' }, now)).toEqual({ since: Date.parse('2026-11-01'), until: now - 14 * 24 * H });
  });
  test('bad input names the field and the allowed forms', () => {
    expect(() => parsePeriod({ since: 'last week' }, now)).toThrow(/since: use a span back from now like '24h', '7d' or '4w', or an ISO date/);
    expect(() => parsePeriod({ since: '1d', until: '2d' }, now)).toThrow(/the period must end after it starts/);
    expect(() => parsePeriod({ sinse: '1d' }, now)).toThrow(/unknown field\(s\) 'sinse'/);
  });
  test('a trend has one bucket per step and refuses absurd bucket counts', () => {
    const trend = kpiTrend([train('a')], WEEK, 24 * H);
    expect(trend).toHaveLength(7);
    expect(trend.map((b) => byId(b.kpis, 'merge_to_prod_median_min').n)).toEqual([1, 0, 0, 0, 0, 0, 0]);
    expect(() => kpiTrend([], WEEK, 60_000)).toThrow(/more than 1000 buckets/);
  });
});

const arbitraryTrain = fc.record({
  id: fc.uuid(),
  service: fc.constantFrom('a', 'b'),
  startedAt: fc.integer({ min: WEEK.since, max: WEEK.until - 1 }),
  closedAt: fc.option(fc.integer({ min: WEEK.since, max: WEEK.until + 10 * H })),
  outcome: fc.option(fc.constantFrom('promoted' as const, 'rolled_back' as const, 'denied' as const, 'aborted' as const, 'failed' as const)),
  autonomous: fc.boolean(),
  mergedAt: fc.option(fc.integer({ min: WEEK.since, max: WEEK.until })),
  evalScore: fc.option(fc.double({ min: 0, max: 1, noNaN: true })),
  mutationScore: fc.option(fc.double({ min: 0, max: 1, noNaN: true })),
  mttrMs: fc.option(fc.integer({ min: 0, max: 600_000 })),
  decisions: fc.array(fc.constantFrom('allow' as const, 'deny' as const), { maxLength: 3 }),
  overridden: fc.boolean(),
  costUsd: fc.double({ min: 0, max: 10, noNaN: true }),
  llmCalls: fc.nat(50).chain((answered) => fc.record({ answered: fc.constant(answered), cached: fc.nat(answered) })),
});

describe('properties', () => {
  test('rates stay within [0, 1] and every n counts at most the trains of the period', () => {
    fc.assert(
      fc.property(fc.array(arbitraryTrain, { maxLength: 30 }), (facts) => {
        const kpis = computeKpis(facts, WEEK);
        for (const id of ['change_failure_rate', 'reviewer_override_rate', 'eval_score_p95', 'mutation_score_median', 'llm_cache_hit_rate']) {
          const v = byId(kpis, id).value;
          if (v !== null) expect(v >= 0 && v <= 1).toBe(true);
        }
        for (const k of kpis) expect(k.n).toBeLessThanOrEqual(facts.length);
      }),
    );
  });
  test('the order of the trains does not change any KPI', () => {
    fc.assert(
      fc.property(fc.array(arbitraryTrain, { maxLength: 20 }).chain((facts) => fc.tuple(fc.constant(facts), fc.shuffledSubarray(facts, { minLength: facts.length }))), ([facts, shuffled]) => {
        const a = computeKpis(shuffled, WEEK);
        const b = computeKpis(facts, WEEK);
        // Sums in another order may differ in the last bits: equal up to a relative 1e-9.
        a.forEach((k, i) => (k.value === null ? expect(b[i]!.value).toBeNull() : expect(Math.abs(k.value - b[i]!.value!)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(k.value)))));
      }),
    );
  });
  test('a train outside the period never changes the KPIs', () => {
    fc.assert(
      fc.property(fc.array(arbitraryTrain, { maxLength: 20 }), arbitraryTrain, (facts, outsider) => {
        const before = computeKpis(facts, WEEK);
        const after = computeKpis([...facts, { ...outsider, startedAt: WEEK.until + H }], WEEK);
        expect(after).toEqual(before);
      }),
    );
  });
});
