/**
 * The embedded tracing backend: spans made by the real OpenTelemetry SDK, exported as OTLP JSON lines by
 * OtlpJsonFileExporter into a temp dir, read back by trace id and laid out as the dashboard's waterfall.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { context, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { GEN_AI, LLM_COST_USD } from '../../../core/llm-usage';
import { waterfall } from '../../../core/trace-view';
import { OtlpJsonFileExporter, readTraceFiles, traceSourceFor } from '../../../io/trace-sources';
import { otlpEndpointSchema } from '../../../io/tracing';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otlp-json-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function recordTrain(service: string): Promise<string> {
  const exporter = new OtlpJsonFileExporter(dir, service);
  const provider = new BasicTracerProvider({ resource: new Resource({ 'service.name': service }), spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = provider.getTracer('test');
  // No context manager is registered here: each child names its parent explicitly.
  const under = (parent: Span) => trace.setSpan(context.active(), parent);
  const root = tracer.startSpan('release train t-1');
  const activity = tracer.startSpan('RunActivity:synthesizeSpec', {}, under(root));
  const chat = tracer.startSpan('chat spec-model', {}, under(activity));
  chat.setAttributes({ [GEN_AI.requestModel]: 'spec-model', [GEN_AI.inputTokens]: 1500, [GEN_AI.outputTokens]: 400, [LLM_COST_USD]: 0.0062 });
  chat.end();
  activity.end();
  const failed = tracer.startSpan('RunActivity:deployCanary', {}, under(root));
  failed.setStatus({ code: SpanStatusCode.ERROR, message: 'port in use' });
  failed.end();
  root.end();
  await provider.forceFlush();
  await provider.shutdown();
  return root.spanContext().traceId;
}

test('spans written as OTLP JSON lines come back by trace id as one tree, with the LLM cost and the failed span', async () => {
  const traceId = await recordTrain('maestro-worker');
  const other = await recordTrain('maestro-worker');
  // A line cut by a crash mid-write is skipped and counted, not fatal.
  fs.appendFileSync(path.join(dir, 'maestro-worker-cut.jsonl'), `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"${traceId}"\n`);

  const read = await readTraceFiles(dir, traceId);
  expect(read.skippedLines).toBe(1);
  expect(read.spans.map((s) => s.traceId)).toEqual(Array(4).fill(traceId));
  const w = waterfall(traceId, read.spans);
  expect(w.rows.map((r) => `${'  '.repeat(r.depth)}${r.span.name}`)).toEqual(['release train t-1', '  RunActivity:synthesizeSpec', '    chat spec-model', '  RunActivity:deployCanary']);
  expect(w.rows[0]!.span.service).toBe('maestro-worker');
  expect(w.rows[2]!.llm).toEqual({ model: 'spec-model', inputTokens: 1500, outputTokens: 400, costUsd: 0.0062 });
  expect(w.rows[3]!.span.error).toBe(true);
  expect(w).toMatchObject({ llmCalls: 1, tokens: 1900 });
  expect(w.costUsd).toBeCloseTo(0.0062, 9);
  expect((await readTraceFiles(dir, other)).spans).toHaveLength(4);
});

test('a file:// endpoint is accepted and read back from its directory; other schemes are refused with the forms allowed', () => {
  expect(otlpEndpointSchema.parse(`file://${dir}`)).toBe(`file://${dir}`);
  expect(otlpEndpointSchema.safeParse('ftp://host/traces').error?.issues[0]?.message).toMatch(/an http\(s\) URL of an OTLP\/HTTP receiver.*or file:\/\/\/abs\/dir/);
  expect(traceSourceFor(`file://${dir}`, undefined)?.name).toBe(`OTLP JSON files in ${dir}`);
  expect(traceSourceFor('http://127.0.0.1:4318', 'http://127.0.0.1:16686/')?.name).toBe('Jaeger at http://127.0.0.1:16686');
  expect(traceSourceFor(undefined, 'http://127.0.0.1:16686')).toBeUndefined();
});
