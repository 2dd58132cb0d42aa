import fc from 'fast-check';
import { judgeSeries, seriesJudgeSchema, topAllCanary, type SeriesJudgeInput } from '../../../core/judge';
import { advanceMetricChecks, describeReading, describeTemplates, emptyMetricGate, metricTemplateSchema, sampleReading, type MetricTemplate } from '../../../core/metric-gates';
import { readings } from '../../helpers/series-readings';

const judgeOf = (input: SeriesJudgeInput) => seriesJudgeSchema.parse(input);
const LOOKS = 20;

describe('seriesJudgeSchema and judged templates', () => {
  it('has defaults a person can read, and refuses a tolerance at or above the margin', () => {
    expect(judgeOf({ worseWhen: 'higher' })).toEqual({ worseWhen: 'higher', shift: 'relative', tolerance: 0.1, margin: 0.2, minSamples: 20, errorBudget: 0.01, power: 0.8 });
    expect(() => judgeOf({ worseWhen: 'higher', tolerance: 0.3, margin: 0.2 })).toThrow(/must be smaller than the margin 0.2/);
    expect(() => judgeOf({ worseWhen: 'lower', margin: 1 })).toThrow(/a relative drop must be below 1/);
  });

  it('takes either a threshold range or a judge, and a judged query must tell the versions apart', () => {
    const issues = (input: unknown) => {
      const parsed = metricTemplateSchema.safeParse(input);
      return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(issues({ name: 'cpu', query: 'q{role="{{role}}"}' })).toEqual(["thresholdRange: give either 'thresholdRange' (a fixed range) or 'judge' (canary against stable), not both or neither"]);
    expect(issues({ name: 'cpu', query: 'q{role="{{role}}"}', thresholdRange: { max: 1 }, judge: { worseWhen: 'higher' } })).toHaveLength(1);
    expect(issues({ name: 'cpu', query: 'sum(rate(cpu_seconds_total[1m]))', judge: { worseWhen: 'higher' } })).toEqual([
      'query: a judged query must tell the versions apart: use {{role}} or {{upstream}} in its selector',
    ]);
    expect(issues({ name: 'cpu', query: 'sum(rate(cpu_seconds_total{role="{{role}}"}[{{interval}}]))', judge: { worseWhen: 'higher' } })).toEqual([]);
  });

  it('prints a judged template so a person sees what passes and what fails', () => {
    const template = metricTemplateSchema.parse({ name: 'orders', query: 'sum(rate(orders_total{role="{{role}}"}[{{interval}}]))', judge: { worseWhen: 'lower', tolerance: 0.05, margin: 0.15 } });
    expect(describeTemplates([template])).toBe(
      '  - orders canary against stable (worse when lower): fails beyond 5%, passes within 15%, from 20 readings a side, error budget 0.01: sum(rate(orders_total{role="{{role}}"}[{{interval}}]))',
    );
  });
});

describe('judgeSeries', () => {
  it('is inconclusive below the minimum readings, whatever they say', () => {
    const verdict = judgeSeries('cpu', { canary: readings(19, 100, 1), stable: readings(19, 10, 2) }, judgeOf({ worseWhen: 'higher' }), LOOKS);
    expect(verdict.outcome).toBe('inconclusive');
    expect(verdict.words).toMatch(/^cpu: canary median \d+(\.\d+)? \(19 readings\) vs stable \d+(\.\d+)? \(19\): fewer than 20 readings a side, no test yet → inconclusive$/);
  });

  it('passes a canary like stable once it has the readings the power asks for, and fails one 50% higher', () => {
    const judge = judgeOf({ worseWhen: 'higher' });
    const good = judgeSeries('cpu', { canary: readings(60, 100, 3), stable: readings(60, 100, 4) }, judge, LOOKS);
    expect(good.outcome).toBe('pass');
    expect(good.canary.samples).toBeGreaterThanOrEqual(good.requiredSamples);
    expect(good.words).toMatch(/^cpu: canary median .*: within 20\.00% of stable \(U = .*readings needed; \d+ canary readings? higher than all of stable's .*\) → pass$/);
    const bad = judgeSeries('cpu', { canary: readings(40, 150, 5), stable: readings(40, 100, 6) }, judge, LOOKS);
    expect(bad.outcome).toBe('fail');
    expect(bad.words).toMatch(/higher than stable by more than 10\.00% \(U = \d+(\.\d+)?, z = [\d.]+, p = .* < α\/2 = 2\.5e-4\) → fail$/);
  });

  it("never passes a canary whose readings are 30% at 100× stable's (Kayenta's Mann–Whitney passes it), and fails it once there are enough", () => {
    const judge = judgeOf({ worseWhen: 'higher' });
    const outcomes = [10, 20, 40, 80, 160].map((n) => {
      const stable = readings(n, 100, 7 + n);
      const canary = readings(n, 98, 8 + n).map((v, i) => (i % 10 < 3 ? v * 100 : v));
      return judgeSeries('latency', { canary, stable }, judge, LOOKS);
    });
    expect(outcomes.map((o) => o.outcome)).not.toContain('pass');
    expect(outcomes.at(-1)!.outcome).toBe('fail');
    expect(outcomes.at(-1)!.words).toMatch(/48 canary readings higher than all of stable's \(p = .*\) < α\/2 = .*: a tail stable never shows → fail$/);
  });

  it('judges a drop where lower is worse, and an absolute shift on a ratio that is zero on both sides', () => {
    const throughput = judgeOf({ worseWhen: 'lower' });
    expect(judgeSeries('orders', { canary: readings(40, 70, 9), stable: readings(40, 100, 10) }, throughput, LOOKS).outcome).toBe('fail');
    expect(judgeSeries('orders', { canary: readings(60, 130, 11), stable: readings(60, 100, 12) }, throughput, LOOKS).outcome).toBe('pass');
    const zeros = { canary: Array<number>(20).fill(0), stable: Array<number>(20).fill(0) };
    expect(judgeSeries('errors', zeros, judgeOf({ worseWhen: 'higher', shift: 'absolute', tolerance: 0.01, margin: 0.05 }), LOOKS).outcome).toBe('pass');
    // A share of zero is zero: a relative margin on it rules nothing out.
    expect(judgeSeries('errors', zeros, judgeOf({ worseWhen: 'higher' }), LOOKS).outcome).toBe('inconclusive');
    const failing = { canary: Array<number>(20).fill(0.2), stable: zeros.stable };
    expect(judgeSeries('errors', failing, judgeOf({ worseWhen: 'higher', shift: 'absolute', tolerance: 0.01, margin: 0.05 }), LOOKS).outcome).toBe('fail');
  });

  it('fails at most about its error budget of canaries as good as stable (400 simulated gates)', () => {
    const judge = judgeOf({ worseWhen: 'higher' });
    let failed = 0;
    let passed = 0;
    for (let run = 0; run < 400; run++) {
      const verdict = judgeSeries('cpu', { canary: readings(60, 100, 1000 + run, 0.2), stable: readings(60, 100, 5000 + run, 0.2) }, judge, LOOKS);
      if (verdict.outcome === 'fail') failed++;
      if (verdict.outcome === 'pass') passed++;
    }
    // Budget 1% over 20 looks: one look may fail ≤ 0.05% of good canaries; 400 gates should see none or one.
    expect(failed).toBeLessThanOrEqual(1);
    expect(passed).toBeGreaterThan(200);
  });

  it('property: mirrored readings judged the other way round give the same verdict (absolute shift)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 20, maxLength: 60 }), fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 20, maxLength: 60 }), (canary, stable) => {
        const higher = judgeSeries('m', { canary, stable }, judgeOf({ worseWhen: 'higher', shift: 'absolute', tolerance: 5, margin: 20 }), LOOKS);
        const lower = judgeSeries('m', { canary: canary.map((v) => -v), stable: stable.map((v) => -v) }, judgeOf({ worseWhen: 'lower', shift: 'absolute', tolerance: 5, margin: 20 }), LOOKS);
        expect(lower.outcome).toBe(higher.outcome);
        expect(lower.tail).toEqual(higher.tail);
      }),
    );
  });

  it('property: a canary made worse reading by reading never gets a better verdict', () => {
    const rank = { pass: 0, inconclusive: 1, fail: 2 } as const;
    fc.assert(
      fc.property(fc.array(fc.double({ min: 1, max: 100, noNaN: true }), { minLength: 20, maxLength: 50 }), fc.array(fc.double({ min: 1, max: 100, noNaN: true }), { minLength: 20, maxLength: 50 }), fc.double({ min: 1, max: 5, noNaN: true }), (canary, stable, factor) => {
        const judge = judgeOf({ worseWhen: 'higher' });
        const before = judgeSeries('m', { canary, stable }, judge, LOOKS);
        const after = judgeSeries('m', { canary: canary.map((v) => v * factor), stable }, judge, LOOKS);
        // Every test moves one way as the canary worsens: pass → inconclusive → fail, never back.
        expect(rank[after.outcome]).toBeGreaterThanOrEqual(rank[before.outcome]);
        expect(after.regression.pValue).toBeLessThanOrEqual(before.regression.pValue + 1e-12);
      }),
    );
  });
});

describe('topAllCanary', () => {
  const choose = (n: number, k: number): number => (k === 0 ? 1 : (choose(n - 1, k - 1) * n) / k);
  it('property: equals C(n_c, k) / C(n_c + n_s, k), the chance the k highest of all readings are all the canary’s', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 30 }), fc.nat(30), (nc, ns, k0) => {
        const k = Math.min(k0, nc);
        expect(topAllCanary(k, nc, ns)).toBeCloseTo(choose(nc, k) / choose(nc + ns, k), 12);
      }),
    );
  });
});

describe('advanceMetricChecks with a judged template', () => {
  const template = metricTemplateSchema.parse({
    name: 'cpu',
    query: 'sum(rate(process_cpu_seconds_total{role="{{role}}"}[{{interval}}]))',
    interval: '2s',
    judge: { worseWhen: 'higher', minSamples: 5, tolerance: 0.1, margin: 0.5 },
  }) as MetricTemplate & { judge: NonNullable<MetricTemplate['judge']> };
  const reading = (canary: number | null, stable: number | null) => sampleReading(template, { query: 'qc', value: canary }, { query: 'qs', value: stable });

  it('adds a pair per probe, skips pairs whose ranges overlap the last one counted and pairs with no data, then judges', () => {
    let gate = emptyMetricGate();
    const seen: number[] = [];
    for (const [at, canary, stable] of [
      [0, 1, 1],
      [1_000, 9, 9], // its 2 s range reaches back into the one counted at 0
      [2_000, 1.01, 1],
      [4_000, null, 1], // no data on the canary
      [4_500, 1, 1.02],
      [6_500, 0.99, 1],
      [8_500, 1, 0.98],
    ] as const) {
      const step = advanceMetricChecks(gate, [reading(canary, stable)], { at, looks: 10, weight: 50 });
      gate = step.state;
      seen.push(gate.series.cpu!.canary.length);
    }
    expect(seen).toEqual([1, 1, 2, 2, 3, 4, 5]);
    expect(gate.series.cpu!.canary).toEqual([1, 1.01, 1, 0.99, 1]);
    expect(gate.series.cpu!.stable).toEqual([1, 1, 1.02, 1, 0.98]);
  });

  it('is red when the judge fails, with its words as the reason, and green only when every judged template passes', () => {
    let gate = emptyMetricGate();
    let last;
    for (let i = 0; i < 12; i++) {
      last = advanceMetricChecks(gate, [reading(3 + i * 0.01, 1 + i * 0.01)], { at: i * 2_000, looks: 10, weight: 50 });
      gate = last.state;
    }
    expect(last!.verdict).toBe('red');
    expect(last!.failedSeries.map((e) => e.name)).toEqual(['cpu']);
    expect(last!.reasons[0]).toMatch(/^cpu: canary median .* higher than stable by more than 10\.00% .*→ fail$/);
    // At 100% stable serves nothing: a judged template sits the step out.
    const full = advanceMetricChecks(gate, [reading(3, null)], { at: 100_000, looks: 10, weight: 100 });
    expect(full).toMatchObject({ verdict: 'green', evidence: [], reasons: [] });
    expect(describeReading(reading(3, 1))).toBe('cpu = 3 on the canary, 1 on stable (judged over the window) from qc');
  });
});
