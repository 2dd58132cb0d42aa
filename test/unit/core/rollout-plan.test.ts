import { validationIssues } from '../../helpers/validation';
import { approvalProgress, approvalRequirementSchema, describeApprovals, describePlan, describeRiskBands, gateForStep, judgesStatistically, parseRolloutPlan, shapeByRisk } from '../../../core/rollout-plan';

const issuesOf = (input: unknown) => validationIssues(() => parseRolloutPlan(input));

describe('parseRolloutPlan', () => {
  it('fills in the documented defaults (also for no plan at all)', () => {
    const expected = {
      steps: [{ setWeight: 10 }, { setWeight: 50 }, { setWeight: 100 }],
      gate: { probeInterval: 5000, consecutiveGreen: 3, maxRed: 2, timeout: 120_000 },
      thresholds: { maxP95LatencyMs: 300, maxErrorRate: 0.01, minEvalScore: 0.85, minRequests: 20 },
    };
    expect(parseRolloutPlan({})).toEqual(expected);
    expect(parseRolloutPlan(undefined)).toEqual(expected);
    expect(parseRolloutPlan(null)).toEqual(expected);
  });

  it('reads durations in ms, s and m, and refuses other spellings', () => {
    const interval = (probeInterval: unknown) => parseRolloutPlan({ gate: { probeInterval, timeout: '1000m' } }).gate.probeInterval;
    expect(interval('500ms')).toBe(500);
    expect(interval('2s')).toBe(2000);
    expect(interval('3m')).toBe(180_000);
    expect(interval(750)).toBe(750);
    for (const bad of ['2 s', ' 2s', '2sx', 'x2s', '2h', 's', '1.5s'])
      expect(issuesOf({ gate: { probeInterval: bad } })).toEqual([{ path: 'gate.probeInterval', message: "use a duration like '500ms', '2s' or '1m', or a number of milliseconds" }]);
    for (const bad of [1.5, 0, -1]) expect(issuesOf({ gate: { probeInterval: bad } }).map((i) => i.path)).toEqual(['gate.probeInterval']);
    expect(issuesOf({ gate: { probeInterval: '2h' } })).toContainEqual({ path: 'gate.probeInterval', message: "use a duration like '500ms', '2s' or '1m', or a number of milliseconds" });
    expect(issuesOf({ gate: { probeInterval: '0s' } })).toContainEqual({ path: 'gate.probeInterval', message: 'a duration must be longer than 0' });
    expect(issuesOf({ gate: { timeout: '0ms' } })).toContainEqual({ path: 'gate.timeout', message: 'a duration must be longer than 0' });
  });

  it('holds each setting to its range, inclusive at both ends', () => {
    const ok = (input: unknown) => expect(issuesOf(input)).toEqual([]);
    const bad = (input: unknown, path: string) => expect(issuesOf(input).map((i) => i.path)).toEqual([path]);
    ok({ gate: { consecutiveGreen: 1, maxRed: 1 } });
    ok({ gate: { consecutiveGreen: 100, maxRed: 100, probeInterval: 1, timeout: 100 } });
    bad({ gate: { consecutiveGreen: 0 } }, 'gate.consecutiveGreen');
    bad({ gate: { consecutiveGreen: 101, probeInterval: 1 } }, 'gate.consecutiveGreen');
    bad({ gate: { maxRed: 0 } }, 'gate.maxRed');
    bad({ gate: { maxRed: 101 } }, 'gate.maxRed');
    bad({ gate: { maxRed: 1.5 } }, 'gate.maxRed');
    ok({ thresholds: { maxErrorRate: 0, minEvalScore: 0, minRequests: 1, maxP95LatencyMs: 0.5 } });
    ok({ thresholds: { maxErrorRate: 1, minEvalScore: 1 } });
    bad({ thresholds: { maxErrorRate: 1.01 } }, 'thresholds.maxErrorRate');
    bad({ thresholds: { maxErrorRate: -0.01 } }, 'thresholds.maxErrorRate');
    bad({ thresholds: { minEvalScore: 1.01 } }, 'thresholds.minEvalScore');
    bad({ thresholds: { minEvalScore: -0.01 } }, 'thresholds.minEvalScore');
    bad({ thresholds: { minRequests: 0 } }, 'thresholds.minRequests');
    bad({ thresholds: { minRequests: 2.5 } }, 'thresholds.minRequests');
    bad({ thresholds: { maxP95LatencyMs: 0 } }, 'thresholds.maxP95LatencyMs');
    ok({ steps: [{ setWeight: 1 }, { setWeight: 100 }] });
    bad({ steps: [{ setWeight: 0 }, { setWeight: 100 }] }, 'steps.0.setWeight');
    expect(issuesOf({ steps: [{ setWeight: 101 }] })).toContainEqual({ path: 'steps.0.setWeight', message: 'Number must be less than or equal to 100' });
    bad({ steps: [] }, 'steps');
  });

  it('names the rollout plan and each bad field in its error', () => {
    expect(() => parseRolloutPlan({ steps: [{ setWeight: 10 }, { setWeight: 90 }] })).toThrow('invalid rollout plan:\n  - steps.1.setWeight: the last step must be 100 (full promotion)');
  });

  it('refuses unknown fields at every level', () => {
    expect(issuesOf({ stepz: [] }).map((i) => i.path)).toEqual(['']);
    expect(issuesOf({ gate: { probeIntervall: 1 } }).map((i) => i.path)).toEqual(['gate']);
    expect(issuesOf({ thresholds: { maxLatency: 1 } }).map((i) => i.path)).toEqual(['thresholds']);
    expect(issuesOf({ steps: [{ setWeight: 100, pause: true }] }).map((i) => i.path)).toEqual(['steps.0']);
    expect(issuesOf({ steps: [{ setWeight: 100, gate: { maxRedd: 1 } }] }).map((i) => i.path)).toEqual(['steps.0.gate']);
  });

  it('says what is wrong with the weights and the gate timeout', () => {
    expect(issuesOf({ steps: [{ setWeight: 50 }, { setWeight: 50 }, { setWeight: 100 }] })).toEqual([
      { path: 'steps.1.setWeight', message: "must be greater than the previous step's 50" },
    ]);
    expect(issuesOf({ steps: [{ setWeight: 10 }, { setWeight: 90 }] })).toEqual([{ path: 'steps.1.setWeight', message: 'the last step must be 100 (full promotion)' }]);
    expect(issuesOf({ gate: { probeInterval: '1s', consecutiveGreen: 3, timeout: '2999ms' } })).toEqual(
      [0, 1, 2].map((i) => ({
        path: `steps.${i}.gate.timeout`,
        message: 'gate timeout 2999ms is shorter than 3 green probes × 1000ms: the gate could never pass',
      })),
    );
    // Exactly enough time for the green probes is enough.
    expect(issuesOf({ gate: { probeInterval: '1s', consecutiveGreen: 3, timeout: '3s' } })).toEqual([]);
  });
});

describe('gateForStep and describePlan', () => {
  const plan = parseRolloutPlan({
    steps: [{ setWeight: 10, gate: { consecutiveGreen: 5, timeout: '1m' } }, { setWeight: 100 }],
    gate: { probeInterval: '2s', consecutiveGreen: 2, maxRed: 3, timeout: '30s' },
  });

  it('a step gate overrides the plan gate for that step only', () => {
    expect(gateForStep(plan, 0)).toEqual({ probeInterval: 2000, consecutiveGreen: 5, maxRed: 3, timeout: 60_000 });
    expect(gateForStep(plan, 1)).toEqual({ probeInterval: 2000, consecutiveGreen: 2, maxRed: 3, timeout: 30_000 });
  });

  it('prints one numbered line per step with its gate', () => {
    expect(describePlan(plan)).toBe(
      '1. setWeight 10% → gate: probe every 2000ms, pass after 5 green, fail on 3 red, timeout 60000ms\n' +
        '2. setWeight 100% → gate: probe every 2000ms, pass after 2 green, fail on 3 red, timeout 30000ms',
    );
  });
});

describe('approvals (N of M)', () => {
  const owners = ['carol', 'dave', 'erin'];
  test('count distinct named approvers only', () => {
    const need = approvalRequirementSchema.parse({ required: 2, of: owners });
    expect(approvalProgress(need, [])).toEqual({ counted: [], missing: 2 });
    expect(approvalProgress(need, ['mallory', 'carol', 'carol'])).toEqual({ counted: ['carol'], missing: 1 });
    expect(approvalProgress(need, ['carol', 'erin', 'dave'])).toEqual({ counted: ['carol', 'erin', 'dave'], missing: 0 });
    expect(approvalProgress({ required: 1 }, ['anyone'])).toEqual({ counted: ['anyone'], missing: 0 });
    expect(describeApprovals(need)).toBe('2 approvals of carol, dave, erin');
    expect(describeApprovals({ required: 1 })).toBe('1 approval of anyone');
  });

  test('a requirement no one can meet is refused, naming the field', () => {
    expect(() => parseRolloutPlan({ approvals: { required: 3, of: ['carol', 'dave'] } })).toThrow(/approvals\.required: 3 approvals cannot come from the 2 named in 'of'/);
    expect(() => parseRolloutPlan({ approvals: { required: 1, of: ['carol', 'carol'] } })).toThrow(/approvals\.of: names an approver twice/);
  });

  test("a risk band's approvals replace the plan's, and the plan says so before it runs", () => {
    const plan = parseRolloutPlan({ approvals: { required: 1 }, byRisk: { bands: [{ upTo: 0.5, steps: [50, 100] }, { upTo: 1, steps: [10, 100], approvals: { required: 2, of: owners } }] } });
    const low = shapeByRisk(plan, 0.2);
    expect(low.plan.approvals).toEqual({ required: 1 });
    const high = shapeByRisk(plan, 0.9);
    expect(high.plan.approvals).toEqual({ required: 2, of: owners });
    expect(high.why).toMatch(/, 2 approvals of carol, dave, erin before the merge$/);
    expect(describePlan(high.plan)).toMatch(/\nbefore the merge: 2 approvals of carol, dave, erin$/);
    expect(describeRiskBands(plan)).toMatch(/up to 0\.5: steps 50 → 100%, 3 green probes per step, 1 approval of anyone\n.*up to 1: steps 10 → 100%, 3 green probes per step, 2 approvals of carol, dave, erin$/);
  });
});

describe('risk bands in words, to the letter', () => {
  const banded = parseRolloutPlan({ byRisk: { bands: [{ upTo: 0.5, steps: [50, 100], approvals: { required: 2, of: ['ann', 'bo'] } }, { upTo: 1, steps: [10, 100] }] } });

  it('says which band a score falls in, a score on a bound belonging to the band below it, and a score past 1 to the last', () => {
    const byDefault = parseRolloutPlan({ byRisk: {} });
    expect(shapeByRisk(byDefault, 0.3).why).toBe('risk 0.30 is in band 1 of 3 (up to 0.3): steps 25 → 100%, 3 green probes per step');
    expect(shapeByRisk(byDefault, 0.6).why).toBe('risk 0.60 is in band 2 of 3 (above 0.3, up to 0.6): steps 10 → 50 → 100%, 3 green probes per step');
    expect(shapeByRisk(byDefault, 1.2)).toMatchObject({ plan: { steps: [{ setWeight: 5 }, { setWeight: 25 }, { setWeight: 50 }, { setWeight: 100 }] }, why: 'risk 1.20 is in band 3 of 3 (above 0.6, up to 1): steps 5 → 25 → 50 → 100%, 6 green probes per step' });
    expect(shapeByRisk(banded, 0.2).why).toBe('risk 0.20 is in band 1 of 2 (up to 0.5): steps 50 → 100%, 3 green probes per step, 2 approvals of ann, bo before the merge');
    expect(shapeByRisk(banded, 0.7).why).toBe('risk 0.70 is in band 2 of 2 (above 0.5, up to 1): steps 10 → 100%, 3 green probes per step');
    expect(shapeByRisk(parseRolloutPlan({}), 0.5).why).toBe("the change request's own steps");
  });

  it('lists every band with its steps, soak and approvals, or says they are off', () => {
    expect(describeRiskBands(banded)).toBe(
      "risk bands (the code graph's risk score picks the steps, replacing the ones above):\n  up to 0.5: steps 50 → 100%, 3 green probes per step, 2 approvals of ann, bo\n  above 0.5 up to 1: steps 10 → 100%, 3 green probes per step",
    );
    expect(describeRiskBands(parseRolloutPlan({}))).toBe('risk bands: off (the steps above run whatever the risk)');
  });
});

describe('plan boundaries, exactly at the limit', () => {
  it('accepts as many approvals as the people named, and refuses one more, saying so', () => {
    expect(approvalRequirementSchema.parse({ required: 2, of: ['ann', 'bo'] })).toEqual({ required: 2, of: ['ann', 'bo'] });
    expect(() => approvalRequirementSchema.parse({ required: 3, of: ['ann', 'bo'] })).toThrow("3 approvals cannot come from the 2 named in 'of'");
  });

  it("refuses a band whose bound does not grow, naming the previous band's bound", () => {
    expect(issuesOf({ byRisk: { bands: [{ upTo: 0.3, steps: [100] }, { upTo: 0.3, steps: [100] }, { upTo: 1, steps: [100] }] } })).toEqual([{ path: 'byRisk.bands.1.upTo', message: "must be greater than the previous band's 0.3" }]);
  });

  it("accepts a band's soak that exactly fills the gate timeout", () => {
    expect(() => parseRolloutPlan({ gate: { probeInterval: 1000, timeout: 6000 }, byRisk: { bands: [{ upTo: 1, steps: [100], consecutiveGreen: 6 }] } })).not.toThrow();
    expect(issuesOf({ gate: { probeInterval: 1000, timeout: 6000 }, byRisk: { bands: [{ upTo: 1, steps: [100], consecutiveGreen: 7 }] } })[0]?.path).toBe('byRisk.bands.0.consecutiveGreen');
  });

  it('judges statistically only a plan with a judge, and never at 100%', () => {
    expect(judgesStatistically(parseRolloutPlan({}), 0)).toBe(false);
    const judged = parseRolloutPlan({ judge: {} });
    expect(judgesStatistically(judged, 0)).toBe(true);
    expect(judgesStatistically(judged, judged.steps.length - 1)).toBe(false);
  });
});
