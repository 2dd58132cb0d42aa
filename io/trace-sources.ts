/**
 * The embedded tracing backend (issue 16): spans written as OTLP JSON files, the OTLP/HTTP JSON encoding of an
 * ExportTraceServiceRequest, one per line (the shape the OpenTelemetry Collector's file exporter writes and its
 * otlpjsonfile receiver reads), one file per process so concurrent writers never interleave. On with
 * `MAESTRO_OTLP_ENDPOINT=file:///abs/dir` (io/tracing.ts). The dashboard's trace page reads a trace back from
 * these files or from Jaeger's query API.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { TransientError } from '../core/errors';
import { spansFromJaeger, spansFromOtlpJson, type TraceSpan } from '../core/trace-view';

export class OtlpJsonFileExporter implements SpanExporter {
  readonly file: string;

  constructor(dir: string, serviceName: string) {
    fs.mkdirSync(dir, { recursive: true });
    this.file = path.join(dir, `${serviceName}-${process.pid}.jsonl`);
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    const body = JsonTraceSerializer.serializeRequest(spans);
    if (!body) return done({ code: ExportResultCode.FAILED, error: new Error('the OTLP JSON serializer returned nothing') });
    // Written before export() returns: a flush or shutdown right after finds every span on disk (a batch is a few kB).
    try {
      fs.appendFileSync(this.file, `${Buffer.from(body).toString('utf8')}\n`);
      done({ code: ExportResultCode.SUCCESS });
    } catch (error) {
      done({ code: ExportResultCode.FAILED, error: error as Error });
    }
  }

  async shutdown(): Promise<void> {}
}

/**
 * Every span of one trace found in the directory's OTLP JSON files. A line that is not OTLP JSON (a file cut by a
 * crash mid-write) is skipped and counted, so one bad line does not hide the rest of the trace.
 */
export async function readTraceFiles(dir: string, traceId: string): Promise<{ spans: TraceSpan[]; files: number; skippedLines: number }> {
  const names = (await fs.promises.readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.jsonl'));
  const spans: TraceSpan[] = [];
  let skippedLines = 0;
  for (const name of names) {
    const text = await fs.promises.readFile(path.join(dir, name), 'utf8');
    for (const line of text.split('\n')) {
      if (!line.trim() || !line.includes(traceId)) continue;
      try {
        spans.push(...spansFromOtlpJson(JSON.parse(line), traceId));
      } catch {
        skippedLines++;
      }
    }
  }
  return { spans, files: names.length, skippedLines };
}

/** One trace from Jaeger's HTTP query API (the production backend); undefined when Jaeger does not know it (yet). */
export async function readJaegerTrace(queryUrl: string, traceId: string, timeoutMs = 5_000): Promise<TraceSpan[] | undefined> {
  const url = `${queryUrl.replace(/\/+$/, '')}/api/traces/${traceId}`;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new TransientError(`Jaeger's query API at ${url} did not answer (${(err as Error).message}); is it running? (npm run jaeger -- start)`, 'TraceBackendUnavailable');
  }
  if (res.status === 404) return undefined;
  if (!res.ok) throw new TransientError(`Jaeger's query API answered ${res.status} for ${url}`, 'TraceBackendUnavailable');
  return spansFromJaeger(await res.json());
}

export interface TraceSource {
  /** Where spans are read from, in words (a directory, a URL). */
  name: string;
  read(traceId: string): Promise<TraceSpan[]>;
}

/**
 * Where this installation's traces can be read back: the OTLP JSON files of a `file://` endpoint, else Jaeger's
 * query API at `traceUi` (MAESTRO_TRACE_UI: its UI and API share the port); undefined when tracing is off.
 */
export function traceSourceFor(endpoint: string | undefined, traceUi: string | undefined): TraceSource | undefined {
  if (endpoint?.startsWith('file:')) {
    const dir = fileURLToPath(endpoint);
    return { name: `OTLP JSON files in ${dir}`, read: async (traceId) => (await readTraceFiles(dir, traceId)).spans };
  }
  const ui = traceUi?.replace(/\/+$/, '');
  if (endpoint && ui) return { name: `Jaeger at ${ui}`, read: async (traceId) => (await readJaegerTrace(ui, traceId)) ?? [] };
  return undefined;
}
