import fc from 'fast-check';
import { advanceMetricChecks, emptyMetricGate, checkReading, DEFAULT_METRIC_TEMPLATES, describeReading, metricTemplateSchema, metricTemplatesSchema, renderQuery, type MetricReading } from '../../../core/metric-gates';
import { describeHealthChecks, parseRolloutPlan } from '../../../core/rollout-plan';
import { ValidationError } from '../../../core/validation';

const successRate = DEFAULT_METRIC_TEMPLATES[0]!;
const duration = DEFAULT_METRIC_TEMPLATES[1]!;

describe('metric templates', () => {
  it("default to Flagger's request-success-rate (≥ 99%) and request-duration (p99 ≤ 500 ms) over 30 s, one failed check tolerated", () => {
    expect(DEFAULT_METRIC_TEMPLATES.map((t) => [t.name, t.thresholdRange, t.interval, t.failureLimit])).toEqual([
      ['request-success-rate', { min: 99 }, 30_000, 1],
      ['request-duration', { max: 500 }, 30_000, 1],
    ]);
  });

  it('render the version into the query, escaping label values, and the interval as a PromQL duration', () => {
    const query = renderQuery(successRate, { service: 'greet"er', role: 'canary', upstream: '127.0.0.1:4000' });
    expect(query).toBe(
      '(sum(rate(maestro_proxy_requests_total{service="greet\\"er",upstream="127.0.0.1:4000",code!~"5.."}[30s])) or vector(0)) / sum(rate(maestro_proxy_requests_total{service="greet\\"er",upstream="127.0.0.1:4000"}[30s])) * 100',
    );
    expect(renderQuery({ query: 'x[{{ interval }}]', interval: 1500 }, { service: 's', role: 'canary', upstream: 'u' })).toBe('x[1500ms]');
  });

  it('refuse an unknown placeholder, a range without bounds or upside down, and a name given twice, saying where', () => {
    const bad = metricTemplatesSchema.safeParse([
      { name: 'a', query: 'up{job="{{job}}"}', thresholdRange: { min: 1 } },
      { name: 'b', query: 'up', thresholdRange: {} },
      { name: 'c', query: 'up', thresholdRange: { min: 2, max: 1 } },
      { name: 'c', query: 'up', thresholdRange: { max: 1 }, interval: 'soon' },
    ]);
    expect(bad.success).toBe(false);
    const issues = bad.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^0\.query: unknown placeholder \{\{job\}\}; allowed: \{\{service\}\}, \{\{role\}\}, \{\{upstream\}\}, \{\{interval\}\}$/),
        '1.thresholdRange: give min, max or both',
        '2.thresholdRange: min must not be above max',
        "3.interval: use a duration like '500ms', '2s' or '1m', or a number of milliseconds",
      ]),
    );
    const twice = metricTemplatesSchema.safeParse([successRate, { ...duration, name: successRate.name }]);
    expect(twice.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual(["1.name: 'request-success-rate' is given twice"]);
  });

  it('are part of the rollout plan, validated with it, and printable', () => {
    expect(() => parseRolloutPlan({ metrics: [{ name: 'Bad Name', query: 'up', thresholdRange: { min: 1 } }] })).toThrow(ValidationError);
    const plan = parseRolloutPlan({ metrics: [{ name: 'errors', query: 'sum(x{upstream="{{upstream}}"})', thresholdRange: { max: 0 }, interval: '1m', failureLimit: 0 }], tripwire: { errors: 5 } });
    expect(describeHealthChecks(plan).split('\n')).toEqual([
      'metric checks where the health source runs PromQL:',
      '  - errors ≤ 0 over 60s, at most 0 failed checks: sum(x{upstream="{{upstream}}"})',
      'tripwire: roll back at once on 5 canary errors within 2000ms (≥ 10% of its requests) or 3 unanswered requests in a row',
    ]);
    expect(describeHealthChecks(parseRolloutPlan({})).split('\n')).toEqual([
      'metric checks where the health source runs PromQL (the defaults):',
      `  - request-success-rate ≥ 99 over 30s, at most 1 failed check: ${successRate.query}`,
      `  - request-duration ≤ 500 over 30s, at most 1 failed check: ${duration.query}`,
      'tripwire: off',
    ]);
  });
});

describe('readings', () => {
  it('pass inside the range (bounds included), fail outside it, and say "no data" for no value', () => {
    expect(checkReading(successRate, 'q', 99).outcome).toBe('pass');
    expect(checkReading(successRate, 'q', 98.9).outcome).toBe('fail');
    expect(checkReading(duration, 'q', 500).outcome).toBe('pass');
    expect(checkReading(duration, 'q', 500.1).outcome).toBe('fail');
    expect(checkReading(duration, 'q', null).outcome).toBe('no-data');
    const both = metricTemplateSchema.parse({ name: 'ratio', query: 'q', thresholdRange: { min: 0.5, max: 2 } });
    expect([0.4, 0.5, 2, 2.1].map((v) => checkReading(both, 'q', v).outcome)).toEqual(['fail', 'pass', 'pass', 'fail']);
  });

  it('in words name the value, the range and the query that produced it', () => {
    expect(describeReading(checkReading(successRate, 'sum(rate(x[30s]))', 80.123456789))).toBe('request-success-rate = 80.1235 (should be ≥ 99; failed) from sum(rate(x[30s]))');
    expect(describeReading(checkReading(duration, 'q', null))).toBe('request-duration = no data (should be ≤ 500; no data) from q');
  });
});

const reading = (name: string, outcome: MetricReading['outcome'], failureLimit: number): MetricReading => ({
  name,
  role: 'canary',
  query: `q-${name}`,
  value: outcome === 'no-data' ? null : outcome === 'pass' ? 1 : 0,
  thresholdRange: { min: 1 },
  failureLimit,
  outcome,
});

const PROBE = { at: 0, looks: 10, weight: 50 };

describe('advanceMetricChecks', () => {
  it('is red on any failed check, inconclusive on missing data, green when every check passes', () => {
    expect(advanceMetricChecks(emptyMetricGate(), [reading('a', 'pass', 1), reading('b', 'pass', 1)], PROBE).verdict).toBe('green');
    expect(advanceMetricChecks(emptyMetricGate(), [reading('a', 'pass', 1), reading('b', 'no-data', 1)], PROBE).verdict).toBe('inconclusive');
    expect(advanceMetricChecks(emptyMetricGate(), [reading('a', 'fail', 1), reading('b', 'no-data', 1)], PROBE).verdict).toBe('red');
  });

  it('fails the gate once a template has failed more often than its failureLimit, naming the query', () => {
    const first = advanceMetricChecks(emptyMetricGate(), [reading('a', 'fail', 1)], PROBE);
    expect(first.failed).toEqual([]);
    const second = advanceMetricChecks(first.state, [reading('a', 'fail', 1)], PROBE);
    expect(second.failed.map((r) => r.name)).toEqual(['a']);
    expect(second.reasons).toEqual(['a = 0 (should be ≥ 1; failed) from q-a']);
    expect(advanceMetricChecks(emptyMetricGate(), [reading('a', 'fail', 0)], PROBE).failed.map((r) => r.name)).toEqual(['a']);
  });

  it('property: a template fails the gate exactly at its (failureLimit + 1)-th failure, whatever the other readings', () => {
    const outcome = fc.constantFrom<MetricReading['outcome']>('pass', 'fail', 'no-data');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5 }), fc.array(fc.tuple(outcome, outcome), { maxLength: 20 }), (limit, probes) => {
        let gate = emptyMetricGate();
        let failedA = 0;
        for (const [a, b] of probes) {
          const step = advanceMetricChecks(gate, [reading('a', a, limit), reading('b', b, 100)], PROBE);
          gate = step.state;
          if (a === 'fail') failedA++;
          expect(step.failed.some((r) => r.name === 'a')).toBe(a === 'fail' && failedA > limit);
          expect(step.failed.some((r) => r.name === 'b')).toBe(false);
          expect(step.verdict === 'red').toBe(a === 'fail' || b === 'fail');
        }
      }),
    );
  });

  it('property: "no data" never counts as a failure', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), (probes) => {
        let gate = emptyMetricGate();
        for (let i = 0; i < probes; i++) {
          const step = advanceMetricChecks(gate, [reading('a', 'no-data', 0)], PROBE);
          gate = step.state;
          expect(step.failed).toEqual([]);
          expect(step.verdict).toBe('inconclusive');
        }
        expect(gate.failures.a ?? 0).toBe(0);
      }),
    );
  });
});
