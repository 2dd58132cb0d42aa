import fc from 'fast-check';
import { findEvalDegradations, findFailedRollouts, type EvalPoint } from '../../../core/anomalies';

const series = (scores: number[], metric = 'eval_score', service = 'greeter'): EvalPoint[] =>
  scores.map((score, i) => ({ trainId: `t${i}`, service, at: 1_000 + i, metric, score }));

test('three scores below a steady baseline are a degradation, with the test and figures as evidence', () => {
  const [a, ...rest] = findEvalDegradations(series([0.97, 0.96, 0.98, 0.97, 0.95, 0.99, 0.96, 0.97, 0.98, 0.97, 0.71, 0.74, 0.7]));
  expect(rest).toEqual([]);
  expect(a).toMatchObject({ key: 'eval-degradation/greeter/eval_score', kind: 'eval-degradation', service: 'greeter', trainIds: ['t10', 't11', 't12'] });
  expect(a!.title).toBe('eval_score of greeter degraded: 0.717 over the last 3 trains against 0.970 before');
  expect(a!.evidence[2]).toMatch(/^eval_score, Mann–Whitney z = 2\.\d\d, one-sided p = \d\.\d\de-3 < α = 0\.01$/);
});

test('no degradation: one bad result among good ones, noise, a better window, or too short a baseline', () => {
  expect(findEvalDegradations(series([0.97, 0.96, 0.98, 0.97, 0.95, 0.99, 0.96, 0.97, 0.98, 0.97, 0.7, 0.97, 0.98]))).toEqual([]);
  expect(findEvalDegradations(series([0.9, 0.95, 0.88, 0.93, 0.91, 0.96, 0.89, 0.94, 0.9, 0.92, 0.91, 0.93, 0.9]))).toEqual([]);
  expect(findEvalDegradations(series([0.7, 0.72, 0.71, 0.7, 0.73, 0.7, 0.71, 0.72, 0.7, 0.71, 0.97, 0.98, 0.99]))).toEqual([]);
  expect(findEvalDegradations(series([0.97, 0.96, 0.98, 0.97, 0.7, 0.7, 0.7]))).toEqual([]);
});

test('each service and metric is its own series', () => {
  const good = [0.97, 0.96, 0.98, 0.97, 0.95, 0.99, 0.96, 0.97, 0.98, 0.97];
  const found = findEvalDegradations([
    ...series([...good, 0.97, 0.98, 0.96], 'eval_score', 'a'),
    ...series([...good, 0.5, 0.5, 0.5], 'tests_pass', 'a'),
    ...series([...good, 0.5, 0.5, 0.5], 'eval_score', 'b'),
  ]);
  expect(found.map((f) => f.key)).toEqual(['eval-degradation/a/tests_pass', 'eval-degradation/b/eval_score']);
});

test('one regression moving several series over the same trains is one anomaly, keyed by the most general; a scenario alone is its own', () => {
  const good = [0.97, 0.96, 0.98, 0.97, 0.95, 0.99, 0.96, 0.97, 0.98, 0.97];
  const ones = Array<number>(10).fill(1);
  const found = findEvalDegradations([
    ...series([...good, 0.5, 0.5, 0.5], 'eval_score'),
    ...series([...ones, 0, 0, 0], 'scenario:greeter.validation@v1'),
    ...series([...ones, 1, 1, 1], 'scenario:greeter.basics@v1'),
    ...series([...ones, 1, 1, 1], 'eval_score', 'other'),
    ...series([...ones, 0.2, 0.1, 0.3], 'scenario:other.io@v2', 'other'),
  ]);
  expect(found.map((f) => f.key)).toEqual(['eval-degradation/greeter/eval_score', 'eval-degradation/other/scenario:other.io@v2']);
  expect(found[0]!.title).toBe('eval_score of greeter degraded: 0.500 over the last 3 trains against 0.970 before; with it scenario:greeter.validation@v1 0.000 against 1.000');
  expect(found[0]!.evidence.filter((e) => e.includes('Mann–Whitney')).map((e) => e.split(',')[0])).toEqual(['eval_score', 'scenario:greeter.validation@v1']);
});

test('property: every degraded series appears in exactly one anomaly', () => {
  fc.assert(
    fc.property(fc.array(fc.constantFrom('eval_score', 'tests_pass', 'scenario:a', 'scenario:b'), { minLength: 1, maxLength: 4 }), fc.boolean(), (metrics, sameTrains) => {
      const unique = [...new Set(metrics)];
      const points = unique.flatMap((m, i) => series([...Array<number>(10).fill(1), 0, 0, 0], m).map((p, j) => ({ ...p, trainId: sameTrains || j < 10 ? p.trainId : `${m}-${j}`, at: p.at + (sameTrains ? 0 : i) })));
      const found = findEvalDegradations(points);
      const mentioned = found.flatMap((f) => f.evidence.filter((e) => e.includes('Mann–Whitney')).map((e) => e.split(',')[0]));
      expect(mentioned.sort()).toEqual([...unique].sort());
      if (sameTrains) expect(found).toHaveLength(1);
      else expect(found).toHaveLength(unique.length);
    }),
  );
});

test('a failed rollout is a merged train that rolled back or failed after its merge; a denial is not', () => {
  const found = findFailedRollouts([
    { id: 'r', service: 's', outcome: 'rolled_back', mergeSha: 'm', reason: 'health gate at 10% failed: error rate 30% > 1%' },
    { id: 'f', service: 's', outcome: 'failed', mergeSha: 'm', reason: null },
    { id: 'd', service: 's', outcome: 'denied', mergeSha: null, reason: 'denied' },
    { id: 'x', service: 's', outcome: 'failed', mergeSha: null, reason: 'patch did not apply' },
  ]);
  expect(found.map((f) => [f.key, f.title])).toEqual([
    ['rollout-failed/s/r', 's: train r rolled back: health gate at 10% failed: error rate 30% > 1%'],
    ['rollout-failed/s/f', 's: train f failed after its merge: no reason recorded'],
  ]);
});

test('property: a window that scores at least as well as every baseline value is never a degradation', () => {
  fc.assert(
    fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 8, maxLength: 20 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 3, maxLength: 3 }), (baseline, window) => {
      const top = Math.max(...baseline);
      const lifted = window.map((w) => Math.max(w, top));
      expect(findEvalDegradations(series([...baseline, ...lifted]))).toEqual([]);
    }),
  );
});
