import fc from 'fast-check';
import { checkTrip, tripwireSchema, type CanaryOutcome } from '../../../core/tripwire';

const wire = tripwireSchema.parse({});
const ok = (at: number): CanaryOutcome => ({ at, error: false, unreachable: false });
const err = (at: number): CanaryOutcome => ({ at, error: true, unreachable: false });
const down = (at: number): CanaryOutcome => ({ at, error: true, unreachable: true });

describe('tripwireSchema', () => {
  it('defaults to 3 errors within 2 s at ≥ 10% of the canary requests, or 3 unanswered in a row', () => {
    expect(wire).toEqual({ errors: 3, withinMs: 2000, minErrorRatio: 0.1, unreachableAfter: 3 });
  });
  it('refuses a wire one error trips, or a zero ratio, naming the field', () => {
    const bad = tripwireSchema.safeParse({ errors: 1, minErrorRatio: 0, withinMs: 'now' });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => i.path.join('.')).sort()).toEqual(['errors', 'minErrorRatio', 'withinMs']);
  });
});

describe('checkTrip', () => {
  it('trips on the third canary error within the span, saying how many of how many failed', () => {
    const outcomes = [ok(0), err(100), ok(200), err(300), ok(400), err(500)];
    expect(checkTrip(outcomes.slice(0, 5), wire)).toBeNull();
    expect(checkTrip(outcomes, wire)).toEqual({
      at: 500,
      kind: 'error-burst',
      errors: 3,
      requests: 6,
      words: 'canary error burst: 3 of 6 requests failed within 2000 ms (trips at 3 and 10%)',
    });
  });

  it('does not trip on errors spread wider than the span, or too rare among many requests', () => {
    expect(checkTrip([err(0), err(1500), err(3000)], wire)).toBeNull();
    const many = [...Array.from({ length: 40 }, (_, i) => ok(i * 10)), err(400), err(410), err(420)];
    expect(checkTrip(many, wire)).toBeNull(); // 3 of 43 < 10%
  });

  it('trips when the canary does not answer several times in a row, before the error count matters', () => {
    const wide = tripwireSchema.parse({ errors: 100 });
    expect(checkTrip([ok(0), down(10), down(20)], wide)).toBeNull();
    expect(checkTrip([ok(0), down(10), down(20), down(30)], wide)).toMatchObject({ kind: 'unreachable', at: 30, words: 'canary unreachable: 3 requests in a row got no answer' });
  });

  it('counts only outcomes from `since` on', () => {
    const outcomes = [err(100), err(200), err(300)];
    expect(checkTrip(outcomes, wire, 0)).not.toBeNull();
    expect(checkTrip(outcomes, wire, 150)).toBeNull();
    expect(checkTrip([down(1), down(2), down(3)], wire, 2)).toBeNull();
  });

  const outcomeList = fc
    .array(fc.record({ gap: fc.integer({ min: 0, max: 500 }), error: fc.boolean(), unreachable: fc.boolean() }), { maxLength: 80 })
    .map((items) => {
      let at = 0;
      return items.map(({ gap, error, unreachable }) => ({ at: (at += gap), error: error || unreachable, unreachable }));
    });

  it('property: a canary without errors never trips', () => {
    fc.assert(fc.property(outcomeList, (outcomes) => expect(checkTrip(outcomes.map((o) => ({ ...o, error: false, unreachable: false })), wire)).toBeNull()));
  });

  it('property: a trip is backed by the outcomes it reports (enough errors, in the span, at the ratio), at the newest outcome', () => {
    fc.assert(
      fc.property(outcomeList, (outcomes) => {
        const trip = checkTrip(outcomes, wire);
        if (!trip) return;
        const last = outcomes[outcomes.length - 1]!;
        expect(trip.at).toBe(last.at);
        if (trip.kind === 'unreachable') {
          expect(outcomes.slice(-wire.unreachableAfter).every((o) => o.unreachable)).toBe(true);
        } else {
          const inSpan = outcomes.filter((o) => last.at - o.at <= wire.withinMs);
          expect(trip.requests).toBe(inSpan.length);
          expect(trip.errors).toBe(inSpan.filter((o) => o.error).length);
          expect(trip.errors).toBeGreaterThanOrEqual(wire.errors);
          expect(trip.errors / trip.requests).toBeGreaterThanOrEqual(wire.minErrorRatio);
        }
      }),
    );
  });

  it('property: outcomes before `since` never change the verdict on the rest', () => {
    fc.assert(
      fc.property(outcomeList, outcomeList, (before, after) => {
        const offset = (before.at(-1)?.at ?? 0) + wire.withinMs + 1;
        const shifted = after.map((o) => ({ ...o, at: o.at + offset }));
        expect(checkTrip([...before, ...shifted], wire, offset)).toEqual(checkTrip(shifted, wire, offset));
      }),
    );
  });
});
