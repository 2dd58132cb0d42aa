import { validationIssues } from '../../helpers/validation';
import fc from 'fast-check';
import { describePlan, gateForStep, parseRolloutPlan, shapeByRisk, type RolloutPlanInput } from '../../../core/rollout-plan';

/** Strictly increasing weights in 1..100 that end at 100. */
const validWeights = fc.uniqueArray(fc.integer({ min: 1, max: 99 }), { maxLength: 8 }).map((ws) => [...ws.sort((a, b) => a - b), 100]);

/** A duration in one of the accepted spellings, with the milliseconds it stands for. */
const duration = (maxMs: number) =>
  fc.oneof(
    fc.integer({ min: 1, max: maxMs }).map((ms) => ({ input: ms as number | string, ms })),
    fc.integer({ min: 1, max: maxMs }).map((ms) => ({ input: `${ms}ms`, ms })),
    fc.integer({ min: 1, max: Math.max(1, Math.floor(maxMs / 1000)) }).map((s) => ({ input: `${s}s`, ms: s * 1000 })),
  );

/** A gate whose timeout leaves room for its green probes, so the plan is valid. */
const feasibleGate = fc
  .record({ interval: duration(10_000), consecutiveGreen: fc.integer({ min: 1, max: 10 }), maxRed: fc.integer({ min: 1, max: 10 }), slackMs: fc.nat(60_000) })
  .map(({ interval, consecutiveGreen, maxRed, slackMs }) => ({
    input: { probeInterval: interval.input, consecutiveGreen, maxRed, timeout: interval.ms * consecutiveGreen + slackMs },
    ms: { probeInterval: interval.ms, consecutiveGreen, maxRed, timeout: interval.ms * consecutiveGreen + slackMs },
  }));

const validPlan = fc.record({ weights: validWeights, gate: feasibleGate }).map(({ weights, gate }) => ({
  input: { steps: weights.map((setWeight) => ({ setWeight })), gate: gate.input } satisfies RolloutPlanInput,
  weights,
  gateMs: gate.ms,
}));

const issuesOf = (input: unknown) => validationIssues(() => parseRolloutPlan(input));

describe('rollout plan properties', () => {
  it('any valid plan parses to strictly increasing weights ending at 100 and round-trips', () => {
    fc.assert(
      fc.property(validPlan, ({ input, weights, gateMs }) => {
        const plan = parseRolloutPlan(input);
        const parsedWeights = plan.steps.map((s) => s.setWeight);
        expect(parsedWeights).toEqual(weights);
        parsedWeights.forEach((w, i) => i > 0 && expect(w).toBeGreaterThan(parsedWeights[i - 1]!));
        expect(parsedWeights[parsedWeights.length - 1]).toBe(100);
        expect(plan.gate).toEqual(gateMs);
        // The parsed plan is itself valid input and parses to itself, also through JSON (workflow history).
        expect(parseRolloutPlan(plan)).toEqual(plan);
        expect(parseRolloutPlan(JSON.parse(JSON.stringify(plan)))).toEqual(plan);
        expect(describePlan(plan).split('\n')).toHaveLength(plan.steps.length);
      }),
    );
  });

  it('any weight list that is not strictly increasing up to 100 is rejected with a steps field path', () => {
    const isValid = (ws: number[]) => ws.length > 0 && ws.every((w, i) => Number.isInteger(w) && w >= 1 && w <= 100 && (i === 0 || w > ws[i - 1]!)) && ws[ws.length - 1] === 100;
    const anyWeights = fc.array(fc.oneof(fc.integer({ min: -5, max: 110 }), fc.constantFrom(0, 10, 50, 100, 2.5)), { maxLength: 6 });
    fc.assert(
      fc.property(
        anyWeights.filter((ws) => !isValid(ws)),
        (weights) => {
          const issues = issuesOf({ steps: weights.map((setWeight) => ({ setWeight })) });
          expect(issues.length).toBeGreaterThan(0);
          for (const issue of issues) expect(issue.path).toMatch(/^steps(\.\d+\.setWeight)?$/);
          // The first offending step is named (an empty list is named as 'steps').
          const firstBad = weights.findIndex((w, i) => !Number.isInteger(w) || w < 1 || w > 100 || (i > 0 && w <= weights[i - 1]!));
          const expectedPath = weights.length === 0 ? 'steps' : `steps.${firstBad === -1 ? weights.length - 1 : firstBad}.setWeight`;
          expect(issues.map((i) => i.path)).toContain(expectedPath);
        },
      ),
    );
  });

  it('a step gate whose timeout cannot fit its green probes is rejected at that step', () => {
    fc.assert(
      fc.property(validWeights, fc.integer({ min: 2, max: 5_000 }), fc.integer({ min: 1, max: 10 }), fc.nat(), (weights, intervalMs, greens, pick) => {
        const bad = pick % weights.length;
        const tooShort = Math.max(1, intervalMs * greens - 1 - (pick % 100));
        const steps = weights.map((setWeight, i) => (i === bad ? { setWeight, gate: { probeInterval: intervalMs, consecutiveGreen: greens, timeout: tooShort } } : { setWeight }));
        expect(issuesOf({ steps }).map((i) => i.path)).toEqual([`steps.${bad}.gate.timeout`]);
      }),
    );
  });

  it('every accepted duration is a positive whole number of milliseconds, whatever its spelling', () => {
    const spelled = fc.oneof(
      fc.integer({ min: -10, max: 10_000 }),
      fc.tuple(fc.nat(10_000), fc.constantFrom('ms', 's', 'm')).map(([n, unit]) => `${n}${unit}`),
    );
    fc.assert(
      fc.property(spelled, (probeInterval) => {
        const input = { gate: { probeInterval, timeout: '100000m', consecutiveGreen: 1 } }; // room for any interval
        const issues = issuesOf(input);
        if (issues.length === 0) {
          const gate = gateForStep(parseRolloutPlan(input), 0);
          expect(Number.isInteger(gate.probeInterval)).toBe(true);
          expect(gate.probeInterval).toBeGreaterThan(0);
        } else {
          expect(issues.map((i) => i.path)).toContain('gate.probeInterval');
        }
      }),
    );
  });

  it('a step gate overrides only the settings it gives (undefined overrides nothing)', () => {
    fc.assert(
      fc.property(validPlan, fc.option(fc.integer({ min: 1, max: 10 }), { nil: undefined }), ({ input }, maxRed) => {
        const plan = parseRolloutPlan({ ...input, steps: [{ setWeight: 100, gate: { maxRed, timeout: undefined } }] });
        const gate = gateForStep(plan, 0);
        expect(gate).toEqual({ ...plan.gate, maxRed: maxRed ?? plan.gate.maxRed });
      }),
    );
  });
});

describe('risk-shaped plans (shapeByRisk)', () => {
  const risk = fc.double({ min: 0, max: 1, noNaN: true });
  /** Valid bands: increasing upper bounds ending at 1, each with valid weights. */
  const bands = fc
    .uniqueArray(fc.double({ min: 0.01, max: 0.99, noNaN: true }), { maxLength: 4 })
    .chain((bounds) => fc.tuple(...[...bounds.sort((a, b) => a - b), 1].map((upTo) => validWeights.map((steps) => ({ upTo, steps })))));

  it('a risk score gets the steps of the first band that holds it, and the shaped plan is itself a valid plan', () => {
    fc.assert(
      fc.property(bands, risk, (bs, score) => {
        const plan = parseRolloutPlan({ byRisk: { bands: bs } });
        const { plan: shaped, why } = shapeByRisk(plan, score);
        const band = bs.find((b) => score <= b.upTo)!;
        expect(shaped.steps.map((s) => s.setWeight)).toEqual(band.steps);
        expect(why).toContain(`steps ${band.steps.join(' → ')}%`);
        expect(parseRolloutPlan(shaped)).toEqual(shaped);
      }),
    );
  });

  it('with the default bands, a riskier change never gets fewer steps or a shorter soak', () => {
    const defaults = parseRolloutPlan({ byRisk: {} });
    fc.assert(
      fc.property(risk, risk, (a, b) => {
        const [low, high] = [Math.min(a, b), Math.max(a, b)].map((r) => shapeByRisk(defaults, r).plan);
        expect(high!.steps.length).toBeGreaterThanOrEqual(low!.steps.length);
        expect(gateForStep(high!, 0).consecutiveGreen).toBeGreaterThanOrEqual(gateForStep(low!, 0).consecutiveGreen);
        expect(high!.steps[0]!.setWeight).toBeLessThanOrEqual(low!.steps[0]!.setWeight);
      }),
    );
  });

  it('without byRisk the plan is the change request’s own; bad bands are refused with their path', () => {
    const plan = parseRolloutPlan({});
    expect(shapeByRisk(plan, 0.9).plan).toBe(plan);
    expect(issuesOf({ byRisk: { bands: [{ upTo: 0.5, steps: [10, 100] }] } })).toEqual([{ path: 'byRisk.bands.0.upTo', message: 'the last band must reach 1, so that every risk score has a band' }]);
    expect(issuesOf({ byRisk: { bands: [{ upTo: 0.6, steps: [100] }, { upTo: 0.4, steps: [50, 100] }, { upTo: 1, steps: [10, 60] }] } }).map((i) => i.path)).toEqual([
      'byRisk.bands.1.upTo',
      'byRisk.bands.2.steps.1',
    ]);
    expect(issuesOf({ gate: { probeInterval: '5s', timeout: '20s' }, byRisk: { bands: [{ upTo: 1, steps: [100], consecutiveGreen: 6 }] } })).toEqual([
      { path: 'byRisk.bands.0.consecutiveGreen', message: '6 green probes × 5000ms exceed the gate timeout 20000ms: the gate could never pass' },
    ]);
  });
});
