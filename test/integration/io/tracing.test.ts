/**
 * One trace per train, in a real tracing backend: Jaeger (built by scripts/setup-jaeger.sh, started by
 * infra/jaeger on ports of its own), a real train of the greeter on the dev server with a worker traced
 * through Temporal's OpenTelemetry plugin, started by the CLI's startTrain through a traced client. The
 * trace id is read from the train's memo and the trace from Jaeger's HTTP query API: the client's start,
 * the workflow, its activities, the LLM call of the spec stage (with tokens and cost) and the child
 * rollout workflow with its activities are all in it, each span's parent in it too.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { z } from 'zod';
import { createActivities } from '../../../activities';
import { startTrain, trainTrace } from '../../../cli/release';
import { createDashboard, listenDashboard } from '../../../dashboard/server';
import { traceSourceFor } from '../../../io/trace-sources';
import { RecordStore } from '../../../record/store';
import { launchBrowser } from '../../helpers/browser';
import { TrainFixture } from '../../../examples/train-fixture';
import { ensureJaeger, stopJaeger, type JaegerOptions } from '../../../infra/jaeger/server';
import { installQuietRuntime } from '../../../infra/temporal/quiet-runtime';
import { connectTemporalClient, maestroDataConverter } from '../../../io/payload-codec';
import { startTracing, type Tracing } from '../../../io/tracing';
import type { TrainResult } from '../../../workflows/messages';
import { ACTIVITY_WORKER_OPTIONS, tracingWorkerOptions } from '../../../workers/worker';
import { connectTestEnv, tempDir, TEST_DATABASE_URL, testCodec } from '../../helpers/temporal';

const JAEGER: JaegerOptions = {
  otlpPort: Number(process.env.MAESTRO_TEST_JAEGER_OTLP_PORT ?? 7318),
  queryPort: Number(process.env.MAESTRO_TEST_JAEGER_QUERY_PORT ?? 7386),
  runDir: tempDir('jaeger-run'),
  binary: process.env.MAESTRO_JAEGER_BIN ?? path.join(__dirname, '../../../.maestro/jaeger'),
};
const TASK_QUEUE = `test-tracing-${Date.now().toString(36)}`;
const stateDir = tempDir('tracing-state');

const jaegerTraceSchema = z.object({
  data: z.array(
    z.object({
      traceID: z.string(),
      spans: z.array(
        z.object({
          traceID: z.string(),
          spanID: z.string(),
          operationName: z.string(),
          references: z.array(z.object({ refType: z.string(), traceID: z.string(), spanID: z.string() })).default([]),
          tags: z.array(z.object({ key: z.string(), value: z.unknown() })).default([]),
        }),
      ),
    }),
  ),
});
type JaegerSpan = z.infer<typeof jaegerTraceSchema>['data'][number]['spans'][number];

/** A chat/completions server on loopback that answers the spec provider with the draft it was sent, and reports usage. */
function startLlmServer(): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const { messages } = JSON.parse(body) as { messages: { content: string }[] };
      const draft = messages.at(-1)!.content.split('Offline draft spec:\n')[1]!;
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({ id: 'chatcmpl-trace', model: 'spec-model', choices: [{ message: { role: 'assistant', content: draft } }], usage: { prompt_tokens: 1500, completion_tokens: 400 } }),
      );
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

let tracing: Tracing;
let worker: Worker;
let running: Promise<void>;
let client: Client;
let llm: http.Server;
let startedJaeger = false;
const fixture = new TrainFixture(`trace-greeter-${Date.now().toString(36)}`, stateDir);

beforeAll(async () => {
  installQuietRuntime();
  const jaeger = await ensureJaeger(JAEGER);
  startedJaeger = !jaeger.reused;
  tracing = await startTracing({ endpoint: jaeger.otlpEndpoint, serviceName: 'maestro-test', scheduledDelayMillis: 200 });
  llm = await startLlmServer();
  const env = await connectTestEnv();
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: TASK_QUEUE,
    // Bundled here, so the plugin's workflow interceptors are in the bundle.
    workflowsPath: require.resolve('../../../workflows'),
    activities: createActivities({
      stateDir,
      databaseUrl: TEST_DATABASE_URL,
      llmEnv: {
        MAESTRO_LLM_BASE_URL: `http://127.0.0.1:${(llm.address() as AddressInfo).port}/v1`,
        MAESTRO_LLM_MODEL: 'spec-model',
        MAESTRO_LLM_PRICE_INPUT_PER_MTOK: '2',
        MAESTRO_LLM_PRICE_OUTPUT_PER_MTOK: '8',
      },
    }),
    ...ACTIVITY_WORKER_OPTIONS,
    dataConverter: maestroDataConverter(testCodec()),
    ...(await tracingWorkerOptions(tracing)),
  });
  running = worker.run();
  // The CLI's way: a client made while tracing is on traces what it starts.
  client = await connectTemporalClient({ address: process.env.MAESTRO_TEST_TEMPORAL_ADDRESS!, namespace: 'default', codec: testCodec() });
  await fixture.start();
}, 240_000);

afterAll(async () => {
  await fixture.stop();
  worker?.shutdown();
  await running;
  await client?.connection.close();
  await tracing?.shutdown();
  llm?.close();
  if (startedJaeger) await stopJaeger(JAEGER);
  fs.rmSync(JAEGER.runDir, { recursive: true, force: true });
});

async function jaegerTrace(traceId: string, until: (spans: JaegerSpan[]) => boolean): Promise<JaegerSpan[]> {
  const deadline = Date.now() + 60_000;
  let spans: JaegerSpan[] = [];
  while (Date.now() < deadline) {
    const res = await fetch(`http://127.0.0.1:${JAEGER.queryPort}/api/traces/${traceId}`);
    if (res.ok) {
      const parsed = jaegerTraceSchema.parse(await res.json());
      spans = parsed.data.flatMap((t) => t.spans);
      if (until(spans)) return spans;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return spans;
}

test('a train is one trace in Jaeger: client, workflow, activities, the LLM call with its cost, the child rollout', async () => {
  const handle = await startTrain(client, fixture.change('good-change', `traced-${Date.now().toString(36)}`), TASK_QUEUE);
  const result: TrainResult = await handle.result();
  expect(result.outcome).toBe('promoted');

  const trace = await trainTrace(client, handle.workflowId);
  expect(trace?.traceId).toMatch(/^[0-9a-f]{32}$/);

  const wanted = ['release train', 'StartWorkflow:releaseTrain', 'RunWorkflow:releaseTrain', 'RunActivity:synthesizeSpec', 'chat spec-model', 'RunActivity:runEvals', 'StartChildWorkflow:progressiveRollout', 'RunWorkflow:progressiveRollout', 'RunActivity:deployCanary', 'RunActivity:promoteCanary', 'RunActivity:mergeCandidate'];
  const has = (spans: JaegerSpan[], name: string) => spans.some((s) => s.operationName.startsWith(name));
  const spans = await jaegerTrace(trace!.traceId, (s) => wanted.every((name) => has(s, name)));
  expect(wanted.filter((name) => !has(spans, name))).toEqual([]);
  expect(new Set(spans.map((s) => s.traceID))).toEqual(new Set([trace!.traceId]));

  // One tree: every span but the root has its parent in this trace, and the rollout hangs under the train.
  const byId = new Map(spans.map((s) => [s.spanID, s]));
  const parentOf = (s: JaegerSpan) => byId.get(s.references.find((r) => r.refType === 'CHILD_OF')?.spanID ?? '');
  const roots = spans.filter((s) => !parentOf(s));
  expect(roots.map((s) => s.operationName)).toEqual([`release train ${handle.workflowId}`]);
  const ancestors = (s: JaegerSpan): string[] => {
    const names: string[] = [];
    for (let p = parentOf(s); p; p = parentOf(p)) names.push(p.operationName);
    return names;
  };
  const deploy = spans.find((s) => s.operationName === 'RunActivity:deployCanary')!;
  expect(ancestors(deploy)).toEqual(expect.arrayContaining(['RunWorkflow:progressiveRollout', 'RunWorkflow:releaseTrain', 'StartWorkflow:releaseTrain']));

  const chat = spans.find((s) => s.operationName === 'chat spec-model')!;
  // The gateway's span (cache, ledger) sits between the activity and the provider's HTTP call.
  expect(ancestors(chat).slice(0, 2)).toEqual(['llm spec', 'RunActivity:synthesizeSpec']);
  const tag = (s: JaegerSpan, key: string) => s.tags.find((t) => t.key === key)?.value;
  expect(tag(chat, 'gen_ai.usage.input_tokens')).toBe(1500);
  expect(tag(chat, 'gen_ai.usage.output_tokens')).toBe(400);
  expect(tag(chat, 'maestro.llm.cost_usd')).toBeCloseTo(0.0062, 9);

  // The dashboard's trace page, read from Jaeger's query API, in a real browser: the tree and the cost on the LLM span.
  const traces = traceSourceFor(`http://127.0.0.1:${JAEGER.otlpPort}`, `http://127.0.0.1:${JAEGER.queryPort}`)!;
  const app = createDashboard({ record: new RecordStore({ url: TEST_DATABASE_URL }), trace: async (id) => (id === handle.workflowId ? { traceId: trace!.traceId, source: traces.name, spans: await traces.read(trace!.traceId) } : undefined) });
  const base = await listenDashboard(app, 0);
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    const res = await page.goto(`${base}/trains/${handle.workflowId}/trace`);
    expect(res?.status()).toBe(200);
    expect(await page.$eval('#trace-id', (e) => e.textContent)).toBe(trace!.traceId);
    const rows = await page.$$eval('#waterfall tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => (td as { innerText: string }).innerText.trim())));
    expect(rows[0]![0]).toBe(`release train ${handle.workflowId}`);
    const chatRow = rows.find((r) => r[0] === 'chat spec-model')!;
    expect(chatRow[4]).toBe('spec-model · 1500 in / 400 out tokens · $0.006200');
    expect(rows.length).toBe(spans.length);
    expect(await page.$eval('#trace-tiles', (e) => (e as unknown as { innerText: string }).innerText)).toMatch(/1\s+LLM calls\s+1900\s+tokens\s+\$0\.006200\s+LLM cost/);
    if (process.env.MAESTRO_SCREENSHOTS) await page.screenshot({ path: `${process.env.MAESTRO_SCREENSHOTS}/dashboard-trace.png`, fullPage: true });
    // A train without a trace says why, not an empty page.
    const none = await page.goto(`${base}/trains/no-such-train/trace`);
    expect(none?.status()).toBe(404);
    expect(await page.$eval('#error', (e) => e.textContent)).toMatch(/has no trace: it was started without tracing, or is unknown to Temporal/);
  } finally {
    await browser.close();
    await app.close();
  }
}, 300_000);
