/**
 * Traces: one OpenTelemetry trace per train, across the client that starts it, the workflow, its
 * activities and its child workflows (Temporal's OpenTelemetry interceptors carry the context in
 * headers), with the LLM calls as spans inside the activities that make them (llm/openai.ts).
 *
 * Off unless an OTLP endpoint is configured (`MAESTRO_OTLP_ENDPOINT`): then no provider is registered,
 * no interceptor runs and the OpenTelemetry API's no-op tracer costs a function call per span. On, the
 * process registers one tracer provider (W3C trace context, AsyncLocalStorage context), whose batch
 * processor exports over OTLP/HTTP to `<endpoint>/v1/traces` (Jaeger, an OpenTelemetry Collector, …), or, for a
 * `file:///dir` endpoint, writes OTLP JSON files there (io/trace-sources.ts: the embedded default, no backend to run).
 */
import { context, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { ClientInterceptors } from '@temporalio/client';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { parseOrThrow } from '../core/validation';

/** The instrumentation scope of every span Maestro makes itself (the interceptors use their own). */
export const MAESTRO_TRACER = 'maestro-conductor';

const ENDPOINT_EXAMPLES = 'an http(s) URL of an OTLP/HTTP receiver, e.g. http://127.0.0.1:4318, or file:///abs/dir for OTLP JSON files';
export const otlpEndpointSchema = z
  .string()
  .url(ENDPOINT_EXAMPLES)
  .refine((u) => /^(https?:\/\/|file:\/\/\/)/i.test(u), ENDPOINT_EXAMPLES);

export const tracingEnvSchema = z.object({
  /** OTLP/HTTP base URL of the tracing backend, or file:///dir for OTLP JSON files; unset or empty: tracing off. */
  MAESTRO_OTLP_ENDPOINT: otlpEndpointSchema.optional(),
});

/** The endpoint from the environment, validated; undefined when tracing is off. */
export function otlpEndpointFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return parseOrThrow(tracingEnvSchema, { MAESTRO_OTLP_ENDPOINT: env.MAESTRO_OTLP_ENDPOINT || undefined }, 'tracing configuration (environment variables)').MAESTRO_OTLP_ENDPOINT;
}

export interface Tracing {
  readonly endpoint: string;
  readonly resource: Resource;
  /** Where the worker's workflow spans go too (through the interceptors' sink). */
  readonly spanProcessor: SpanProcessor;
  /** Exports what is buffered, then stops; call before the process exits. */
  shutdown(): Promise<void>;
}

let active: Tracing | undefined;

/**
 * Registers this process's tracer provider exporting to `endpoint` (once per process; a second call
 * for the same endpoint returns the first, another endpoint is refused).
 */
export async function startTracing(opts: { endpoint: string; serviceName: string; scheduledDelayMillis?: number }): Promise<Tracing> {
  const endpoint = parseOrThrow(otlpEndpointSchema, opts.endpoint, 'OTLP endpoint').replace(/\/+$/, '');
  if (active) {
    if (active.endpoint === endpoint) return active;
    throw new Error(`tracing already exports to ${active.endpoint} in this process; cannot switch to ${endpoint}`);
  }
  // The SDK is loaded only when tracing is on: a process without an endpoint never pays for it.
  const [{ OTLPTraceExporter }, { OtlpJsonFileExporter }, { Resource }, { BatchSpanProcessor }, { NodeTracerProvider }, { ATTR_SERVICE_NAME }] = await Promise.all([
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('./trace-sources'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/semantic-conventions'),
  ]);
  if (active) return startTracing(opts);
  const resource = new Resource({ [ATTR_SERVICE_NAME]: opts.serviceName });
  const exporter = endpoint.startsWith('file:')
    ? new OtlpJsonFileExporter(fileURLToPath(endpoint), opts.serviceName)
    : new OTLPTraceExporter({ url: `${endpoint}/v1/traces` });
  const spanProcessor = new BatchSpanProcessor(exporter, {
    scheduledDelayMillis: opts.scheduledDelayMillis ?? 1000,
  });
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register();
  const tracing: Tracing = {
    endpoint,
    resource,
    spanProcessor,
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      context.disable();
      if (active === tracing) active = undefined;
    },
  };
  active = tracing;
  return tracing;
}

/** Client interceptors that start a span per call and carry its context to the workflow; none while tracing is off. */
export async function tracingClientInterceptors(): Promise<ClientInterceptors | undefined> {
  if (!active) return undefined;
  const { OpenTelemetryWorkflowClientInterceptor } = await import('@temporalio/interceptors-opentelemetry');
  return { workflow: [new OpenTelemetryWorkflowClientInterceptor()] };
}

/** The tracing this process started, if any. */
export function activeTracing(): Tracing | undefined {
  return active;
}

export function maestroTracer(): Tracer {
  return trace.getTracer(MAESTRO_TRACER);
}

/** The trace id of a recording span; undefined for the no-op span (tracing off). */
export function traceIdOf(span: Span): string | undefined {
  const ctx = span.spanContext();
  return span.isRecording() && trace.isSpanContextValid(ctx) ? ctx.traceId : undefined;
}

/** Runs `work` in an active span of Maestro's tracer, recording a failure on it (`error.type`, status) and ending it either way. */
export function inSpan<T>(name: string, options: Parameters<Tracer['startActiveSpan']>[1], work: (span: Span) => Promise<T>): Promise<T> {
  return maestroTracer().startActiveSpan(name, options, async (span) => {
    try {
      return await work(span);
    } catch (err) {
      span.setAttribute('error.type', (err as Error).name);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  });
}
