import fc from 'fast-check';
import { spansFromJaeger, waterfall, type TraceSpan } from '../../../core/trace-view';

/** A random tree of spans: each span's parent is an earlier span (or none), some parents missing from the trace. */
const spanTree = fc.array(fc.record({ parent: fc.nat(), orphan: fc.boolean(), start: fc.nat({ max: 10_000 }), duration: fc.nat({ max: 5_000 }), cost: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }) }), { minLength: 1, maxLength: 40 }).map((specs) =>
  specs.map((spec, i): TraceSpan => ({
    traceId: 't',
    spanId: `s${i}`,
    ...(i > 0 ? { parentSpanId: spec.orphan ? `gone${i}` : `s${spec.parent % i}` } : {}),
    name: `span ${i}`,
    service: 'svc',
    startMs: spec.start,
    durationMs: spec.duration,
    attributes: spec.cost !== undefined ? { 'maestro.llm.cost_usd': spec.cost, 'gen_ai.request.model': 'm', 'gen_ai.usage.input_tokens': 10 } : {},
    error: false,
  })),
);

describe('waterfall', () => {
  test('property: every span appears exactly once, after its parent, one level deeper', () => {
    fc.assert(
      fc.property(spanTree, (spans) => {
        const rows = waterfall('t', spans).rows;
        expect(rows.map((r) => r.span.spanId).sort()).toEqual(spans.map((s) => s.spanId).sort());
        const index = new Map(rows.map((r, i) => [r.span.spanId, i]));
        for (const [i, r] of rows.entries()) {
          const parent = r.span.parentSpanId !== undefined ? index.get(r.span.parentSpanId) : undefined;
          if (parent === undefined) expect(r.depth).toBe(0);
          else {
            expect(parent).toBeLessThan(i);
            expect(r.depth).toBe(rows[parent]!.depth + 1);
          }
        }
      }),
    );
  });

  test('property: offsets start at 0 and every bar ends within the total', () => {
    fc.assert(
      fc.property(spanTree, (spans) => {
        const w = waterfall('t', spans);
        expect(Math.min(...w.rows.map((r) => r.offsetMs))).toBe(0);
        for (const r of w.rows) expect(r.offsetMs + r.span.durationMs).toBeLessThanOrEqual(w.totalMs);
      }),
    );
  });

  test('property: calls, cost and tokens are the sums over the outermost LLM spans (a call inside another is the same call)', () => {
    fc.assert(
      fc.property(spanTree, (spans) => {
        const w = waterfall('t', spans);
        const byId = new Map(spans.map((s) => [s.spanId, s]));
        const isLlm = (s: TraceSpan) => s.attributes['maestro.llm.cost_usd'] !== undefined;
        const hasLlmAncestor = (s: TraceSpan): boolean => {
          for (let p = s.parentSpanId ? byId.get(s.parentSpanId) : undefined; p; p = p.parentSpanId ? byId.get(p.parentSpanId) : undefined) if (isLlm(p)) return true;
          return false;
        };
        const priced = spans.filter((s) => isLlm(s) && !hasLlmAncestor(s));
        expect(w.llmCalls).toBe(priced.length);
        expect(w.tokens).toBe(priced.length * 10);
        expect(w.costUsd).toBeCloseTo(priced.reduce((sum, s) => sum + (s.attributes['maestro.llm.cost_usd'] as number), 0), 9);
      }),
    );
  });
});

test("Jaeger's trace JSON becomes the same spans: µs to ms, CHILD_OF as the parent, the process's service, error tags", () => {
  const spans = spansFromJaeger({
    data: [
      {
        traceID: 'abc',
        spans: [
          { traceID: 'abc', spanID: 'a', operationName: 'release train', references: [], startTime: 1_000_000, duration: 2_500_000, tags: [], processID: 'p1' },
          { traceID: 'abc', spanID: 'b', operationName: 'chat m', references: [{ refType: 'CHILD_OF', traceID: 'abc', spanID: 'a' }], startTime: 1_500_000, duration: 1_000, tags: [{ key: 'maestro.llm.cost_usd', type: 'float64', value: 0.5 }, { key: 'error', type: 'bool', value: true }], processID: 'p2' },
        ],
        processes: { p1: { serviceName: 'maestro-cli' }, p2: { serviceName: 'maestro-worker' } },
      },
    ],
  });
  expect(spans).toEqual([
    { traceId: 'abc', spanId: 'a', name: 'release train', service: 'maestro-cli', startMs: 1000, durationMs: 2500, attributes: {}, error: false },
    { traceId: 'abc', spanId: 'b', parentSpanId: 'a', name: 'chat m', service: 'maestro-worker', startMs: 1500, durationMs: 1, attributes: { 'maestro.llm.cost_usd': 0.5, error: true }, error: true },
  ]);
  expect(waterfall('abc', spans).costUsd).toBe(0.5);
});
