import fc from 'fast-check';
import { applyGateChange, changedGateFields, gateChangeSchema, gateConfigHash, gateDecisionLog } from '../../../core/gate-config';
import { parseRolloutPlan } from '../../../core/rollout-plan';
import { ValidationError } from '../../../core/validation';

const base = parseRolloutPlan({ steps: [{ setWeight: 10 }, { setWeight: 100 }], gate: { probeInterval: 1000, consecutiveGreen: 3, timeout: 60_000 } });
const change = (gates: unknown) => gateChangeSchema.parse({ by: 'dana@sre', gates });

describe('gate configuration hash', () => {
  test('is the sha256 of the gates alone: steps and risk bands do not move it, a threshold does', () => {
    const hash = gateConfigHash(base);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(gateConfigHash(parseRolloutPlan({ ...base, steps: [{ setWeight: 50 }, { setWeight: 100 }] }))).toBe(hash);
    expect(gateConfigHash(parseRolloutPlan({ ...base, thresholds: { ...base.thresholds, maxErrorRate: 0.02 } }))).not.toBe(hash);
    // A step's own gate is gate configuration too.
    expect(gateConfigHash(parseRolloutPlan({ ...base, steps: [{ setWeight: 10, gate: { consecutiveGreen: 5 } }, { setWeight: 100 }] }))).not.toBe(hash);
  });

  test('property: the same gates written with their keys in any order hash the same', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.boolean(), (green, errorRate, reversed) => {
        const thresholds = { maxErrorRate: errorRate, maxP95LatencyMs: 250 };
        const a = parseRolloutPlan({ gate: { consecutiveGreen: green, timeout: 1_000_000 }, thresholds });
        const shuffled = reversed ? Object.fromEntries(Object.entries(thresholds).reverse()) : thresholds;
        const b = parseRolloutPlan({ thresholds: shuffled, gate: { timeout: 1_000_000, consecutiveGreen: green } });
        expect(gateConfigHash(a)).toBe(gateConfigHash(b));
      }),
    );
  });

  test('property: a change to any one threshold changes the hash and names only that field', () => {
    fc.assert(
      fc.property(fc.constantFrom('maxP95LatencyMs', 'maxErrorRate', 'minRequests'), fc.integer({ min: 2, max: 100 }), (key, factor) => {
        const value = key === 'maxErrorRate' ? base.thresholds.maxErrorRate / factor : base.thresholds[key] * factor;
        const next = applyGateChange(base, change({ thresholds: { [key]: value } }));
        expect(gateConfigHash(next)).not.toBe(gateConfigHash(base));
        expect(changedGateFields(base, next)).toEqual(['thresholds']);
        expect(next.steps).toEqual(base.steps);
      }),
    );
  });
});

describe('applyGateChange', () => {
  test('merges gate and thresholds, replaces the judge, and null switches the judge off', () => {
    const judged = applyGateChange(base, change({ judge: { maxSoakMs: 30_000 } }));
    expect(judged.judge?.maxSoakMs).toBe(30_000);
    expect(judged.thresholds).toEqual(base.thresholds);
    expect(changedGateFields(base, judged)).toEqual(['judge']);
    const off = applyGateChange(judged, change({ judge: null, gate: { consecutiveGreen: 4 } }));
    expect(off.judge).toBeUndefined();
    expect(off.gate).toEqual({ ...base.gate, consecutiveGreen: 4 });
    expect(changedGateFields(judged, off).sort()).toEqual(['gate', 'judge']);
  });

  test('property: applying a change is idempotent (the second time changes nothing)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 50 }), (green, minRequests) => {
        const c = change({ gate: { consecutiveGreen: green }, thresholds: { minRequests } });
        const once = applyGateChange(base, c);
        expect(gateConfigHash(applyGateChange(once, c))).toBe(gateConfigHash(once));
      }),
    );
  });

  test('a change that would make a gate no probe can pass is refused, naming the field', () => {
    expect(() => applyGateChange(base, change({ gate: { timeout: 500 } }))).toThrow(ValidationError);
    expect(() => applyGateChange(base, change({ gate: { timeout: 500 } }))).toThrow(/steps\.0\.gate\.timeout: gate timeout 500ms is shorter than 3 green probes × 1000ms/);
  });

  test('the signal payload needs an identity and at least one gate field, and knows no other field', () => {
    expect(gateChangeSchema.safeParse({ by: 'dana', gates: {} }).error?.issues[0]?.message).toBe('give at least one of gate, thresholds, judge, metrics');
    expect(gateChangeSchema.safeParse({ by: 'dana', gates: { steps: [] } }).success).toBe(false);
    expect(gateChangeSchema.safeParse({ gates: { thresholds: { minRequests: 3 } } }).success).toBe(false);
  });
});

test('the decision log names the gates in force and keeps every verdict with its commit and configuration', () => {
  const probe = { at: 1, weight: 10, canary: { requests: 9, errors: 0, p50Ms: 1, p95Ms: 2 }, stable: { requests: 90, errors: 0, p50Ms: 1, p95Ms: 2 }, verdict: 'green' as const, reasons: [], commit: 'abc', gateConfig: gateConfigHash(base) };
  const log = gateDecisionLog(base, [probe]);
  expect(log.gateConfig).toBe(gateConfigHash(base));
  expect(log.plan).toMatch(/^1\. setWeight 10% → gate: probe every 1000ms, pass after 3 green/);
  expect(log.decisions).toEqual([probe]);
  expect(log).not.toHaveProperty('judge');
});
