/**
 * One train's trace as people read it (issue 16): spans from either source — the OTLP JSON the embedded file
 * exporter writes (io/trace-sources.ts; the OTLP/HTTP JSON encoding, one ExportTraceServiceRequest per line) or
 * Jaeger's query API (`/api/traces/<id>`) — in one shape, laid out as a waterfall with the LLM cost and tokens
 * on the spans that carry them (GenAI semantic conventions, core/llm-usage.ts). Pure.
 */
import { z } from 'zod';
import { GEN_AI, LLM_COST_USD } from './llm-usage';

export type SpanAttribute = string | number | boolean;

export interface TraceSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** The process that made it (its resource's service.name). */
  service: string;
  startMs: number;
  durationMs: number;
  attributes: Record<string, SpanAttribute>;
  error: boolean;
}

const anyValue = z
  .object({
    stringValue: z.string().optional(),
    boolValue: z.boolean().optional(),
    intValue: z.union([z.number(), z.string()]).optional(),
    doubleValue: z.number().optional(),
  })
  .passthrough()
  .transform((v): SpanAttribute | undefined => v.stringValue ?? v.boolValue ?? (v.intValue !== undefined ? Number(v.intValue) : v.doubleValue));
const keyValues = z.array(z.object({ key: z.string(), value: anyValue })).default([]);
const nanos = z.union([z.string(), z.number()]).transform((v) => Number(BigInt(v) / 1000n) / 1000);

/** One line of an OTLP JSON file: an ExportTraceServiceRequest (only what the waterfall reads). */
export const otlpTraceRequestSchema = z.object({
  resourceSpans: z.array(
    z.object({
      resource: z.object({ attributes: keyValues }).default({ attributes: [] }),
      scopeSpans: z.array(
        z.object({
          spans: z
            .array(
              z.object({
                traceId: z.string(),
                spanId: z.string(),
                parentSpanId: z.string().optional(),
                name: z.string(),
                startTimeUnixNano: nanos,
                endTimeUnixNano: nanos,
                attributes: keyValues,
                status: z.object({ code: z.number().optional() }).passthrough().optional(),
              }),
            )
            .default([]),
        }),
      ),
    }),
  ),
});

const attributesOf = (kvs: { key: string; value?: SpanAttribute }[]) =>
  Object.fromEntries(kvs.filter((kv) => kv.value !== undefined).map((kv) => [kv.key, kv.value!])) as Record<string, SpanAttribute>;

/** The spans of one trace in an OTLP JSON request (status code 2 is ERROR). */
export function spansFromOtlpJson(request: unknown, traceId: string): TraceSpan[] {
  const parsed = otlpTraceRequestSchema.parse(request);
  return parsed.resourceSpans.flatMap((rs) => {
    const service = String(attributesOf(rs.resource.attributes)['service.name'] ?? 'unknown');
    return rs.scopeSpans.flatMap((ss) =>
      ss.spans
        .filter((s) => s.traceId === traceId)
        .map((s) => ({
          traceId: s.traceId,
          spanId: s.spanId,
          ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
          name: s.name,
          service,
          startMs: s.startTimeUnixNano,
          durationMs: Math.max(0, s.endTimeUnixNano - s.startTimeUnixNano),
          attributes: attributesOf(s.attributes),
          error: s.status?.code === 2,
        })),
    );
  });
}

/** Jaeger's query API answer for one trace (`GET /api/traces/<id>`), the parts the waterfall reads. */
export const jaegerTraceResponseSchema = z.object({
  data: z.array(
    z.object({
      traceID: z.string(),
      spans: z.array(
        z.object({
          spanID: z.string(),
          operationName: z.string(),
          references: z.array(z.object({ refType: z.string(), spanID: z.string() })).default([]),
          startTime: z.number(),
          duration: z.number(),
          tags: z.array(z.object({ key: z.string(), value: z.union([z.string(), z.number(), z.boolean()]) })).default([]),
          processID: z.string(),
        }),
      ),
      processes: z.record(z.object({ serviceName: z.string() })),
    }),
  ),
});

/** The spans of a Jaeger trace (times in µs there; `error=true` tag or `otel.status_code=ERROR` is an error). */
export function spansFromJaeger(response: unknown): TraceSpan[] {
  return jaegerTraceResponseSchema.parse(response).data.flatMap((t) =>
    t.spans.map((s) => {
      const attributes = Object.fromEntries(s.tags.map((tag) => [tag.key, tag.value]));
      const parent = s.references.find((r) => r.refType === 'CHILD_OF')?.spanID;
      return {
        traceId: t.traceID,
        spanId: s.spanID,
        ...(parent ? { parentSpanId: parent } : {}),
        name: s.operationName,
        service: t.processes[s.processID]?.serviceName ?? s.processID,
        startMs: s.startTime / 1000,
        durationMs: s.duration / 1000,
        attributes,
        error: attributes.error === true || attributes['otel.status_code'] === 'ERROR',
      };
    }),
  );
}

export interface WaterfallRow {
  span: TraceSpan;
  depth: number;
  /** From the trace's first start, ms. */
  offsetMs: number;
  llm?: { model?: string; inputTokens?: number; outputTokens?: number; costUsd?: number };
  /** An LLM span inside another (the provider's HTTP call under the gateway's span): shown, not counted again. */
  nested?: boolean;
}

export interface Waterfall {
  traceId: string;
  totalMs: number;
  rows: WaterfallRow[];
  llmCalls: number;
  costUsd: number;
  tokens: number;
}

const num = (v: SpanAttribute | undefined) => (typeof v === 'number' ? v : undefined);

/**
 * Spans in tree order (children under their parent, siblings by start), each with its depth and offset; a span
 * whose parent is not in the trace (another process's not exported yet) is a root. Calls, cost and tokens are
 * summed over the outermost LLM spans: the gateway's span and the provider's call inside it carry the same call.
 */
export function waterfall(traceId: string, spans: readonly TraceSpan[]): Waterfall {
  const unique = [...new Map(spans.map((s) => [s.spanId, s])).values()];
  const ids = new Set(unique.map((s) => s.spanId));
  const children = new Map<string | undefined, TraceSpan[]>();
  for (const s of unique) {
    const parent = s.parentSpanId && ids.has(s.parentSpanId) ? s.parentSpanId : undefined;
    children.set(parent, [...(children.get(parent) ?? []), s]);
  }
  const start = Math.min(...unique.map((s) => s.startMs));
  const end = Math.max(...unique.map((s) => s.startMs + s.durationMs));
  const rows: WaterfallRow[] = [];
  const visit = (parent: string | undefined, depth: number, insideLlm: boolean) => {
    for (const span of [...(children.get(parent) ?? [])].sort((a, b) => a.startMs - b.startMs)) {
      const a = span.attributes;
      const model = a[GEN_AI.responseModel] ?? a[GEN_AI.requestModel];
      const llm = model !== undefined || a[LLM_COST_USD] !== undefined
        ? { ...(model !== undefined ? { model: String(model) } : {}), inputTokens: num(a[GEN_AI.inputTokens]), outputTokens: num(a[GEN_AI.outputTokens]), costUsd: num(a[LLM_COST_USD]) }
        : undefined;
      rows.push({ span, depth, offsetMs: span.startMs - start, ...(llm ? { llm, ...(insideLlm ? { nested: true } : {}) } : {}) });
      visit(span.spanId, depth + 1, insideLlm || llm !== undefined);
    }
  };
  visit(undefined, 0, false);
  const calls = rows.filter((r) => r.llm && !r.nested);
  return {
    traceId,
    totalMs: unique.length ? end - start : 0,
    rows,
    llmCalls: calls.length,
    costUsd: calls.reduce((sum, r) => sum + (r.llm!.costUsd ?? 0), 0),
    tokens: calls.reduce((sum, r) => sum + (r.llm!.inputTokens ?? 0) + (r.llm!.outputTokens ?? 0), 0),
  };
}
