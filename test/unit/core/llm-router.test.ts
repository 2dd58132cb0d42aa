/** The router's calibration: the cheapest threshold that keeps always-large's pass rate, with Wilson intervals. */
import fc from 'fast-check';
import { calibrateRouter, evalOverridden, formatCalibration, labelFromEval, wilson, type LabelledCall } from '../../../core/llm-router';

const call = (key: string, chars: number, tier: 'small' | 'large', passed: boolean, costUsd: number): LabelledCall => ({ callType: 'spec', promptKey: key, promptChars: chars, tier, passed, costUsd });

test('Wilson interval: 8/10 at 95% is about [49%, 94%]; 0/n keeps a lower bound of 0 and an upper bound above 0', () => {
  const r = wilson(8, 10);
  expect(r.rate).toBe(0.8);
  expect(r.low).toBeCloseTo(0.4902, 3);
  expect(r.high).toBeCloseTo(0.9433, 3);
  expect(wilson(0, 20)).toMatchObject({ low: 0 });
  expect(wilson(0, 20).high).toBeGreaterThan(0.1);
});

test('short prompts go to the small tier where it passes as often as the large one; long ones stay large', () => {
  const calls = [
    ...[10, 20, 30].flatMap((chars, i) => [call(`s${i}`, chars, 'small', true, 1), call(`s${i}`, chars, 'large', true, 10)]),
    ...[200, 300].flatMap((chars, i) => [call(`l${i}`, chars, 'small', false, 1), call(`l${i}`, chars, 'large', true, 10)]),
    call('only-small', 5, 'small', true, 1),
  ];
  const [c] = calibrateRouter(calls);
  expect(c).toMatchObject({ callType: 'spec', tasks: 5, smallUpToChars: 30, picks: { small: 3, large: 2 }, costUsd: { alwaysLarge: 50, routed: 23, alwaysSmall: 5 }, samePassRateWithinCi: true });
  expect(c!.savings).toBeCloseTo(0.54, 9);
  expect(c!.passRate.routed.rate).toBe(1);
  expect(formatCalibration([c!])).toMatch(/prompts ≤ 30 characters → small \(3 picked\)[\s\S]*savings 54\.0%/);
  expect(formatCalibration([])).toMatch(/nothing to calibrate/);
});

test('property: the routed pass rate never falls more than the tolerance below always-large, and it never costs more', () => {
  const task = fc.record({ chars: fc.integer({ min: 1, max: 500 }), small: fc.boolean(), large: fc.boolean(), smallCost: fc.double({ min: 0, max: 1, noNaN: true }), largeCost: fc.double({ min: 0, max: 5, noNaN: true }) });
  fc.assert(
    fc.property(fc.array(task, { minLength: 1, maxLength: 40 }), fc.constantFrom(0, 0.01, 0.05), (tasks, tolerance) => {
      const calls = tasks.flatMap((t, i) => [call(`k${i}`, t.chars, 'small', t.small, t.smallCost), call(`k${i}`, t.chars, 'large', t.large, t.largeCost)]);
      const [c] = calibrateRouter(calls, { tolerance });
      expect(c!.passRate.routed.rate).toBeGreaterThanOrEqual(c!.passRate.large.rate - tolerance - 1e-12);
      expect(c!.costUsd.routed).toBeLessThanOrEqual(c!.costUsd.alwaysLarge);
      expect(c!.picks.small + c!.picks.large).toBe(tasks.length);
    }),
  );
});

describe('labels from what became of a train', () => {
  const deny = (...rules: string[]) => ({ outcome: 'deny', rules });
  const allow = { outcome: 'allow', rules: [] };

  it('labels a spec by the eval (or a person overriding it) and the eval’s own answers by whether a person overrode them', () => {
    expect(labelFromEval('spec', { passed: true, overridden: false })).toBe(true);
    expect(labelFromEval('spec', { passed: false, overridden: false })).toBe(false);
    expect(labelFromEval('spec', { passed: false, overridden: true })).toBe(true);
    expect(labelFromEval('judge', { passed: false, overridden: false })).toBe(true);
    expect(labelFromEval('judge', { passed: false, overridden: true })).toBe(false);
    expect(labelFromEval('embedding', { passed: false, overridden: true })).toBe(false);
    expect(labelFromEval('spec', { passed: null, overridden: true })).toBeNull();
  });

  it('counts as an override only a lifted eval-score denial: a granted appeal of it, or an allow after a deny naming it', () => {
    expect(evalOverridden([deny('eval-score-below-threshold'), allow], [])).toBe(true);
    expect(evalOverridden([deny('eval-score-below-threshold')], [['eval-score-below-threshold']])).toBe(true);
    expect(evalOverridden([deny('codeowners-approval'), allow], [['codeowners-approval']])).toBe(false);
    expect(evalOverridden([allow, deny('eval-score-below-threshold')], [])).toBe(false);
    expect(evalOverridden([], [])).toBe(false);
  });

  it('property: an override never makes a spec worse nor the eval’s answers better', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.constantFrom('spec', 'judge', 'embedding', 'classify'), (passed, callType) => {
        const before = labelFromEval(callType, { passed, overridden: false })!;
        const after = labelFromEval(callType, { passed, overridden: true })!;
        if (['judge', 'embedding'].includes(callType)) expect(after <= before).toBe(true);
        else expect(after >= before).toBe(true);
      }),
    );
  });
});
