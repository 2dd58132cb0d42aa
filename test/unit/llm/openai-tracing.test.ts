/**
 * Each LLM request is a GenAI client span: operation and model in the name, the server, the tokens the
 * answer reports and their cost; a failure is the span's error. Against a real chat/completions server on
 * 127.0.0.1, with a real tracer provider exporting to memory.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { createLlmClient, llmClientConfigFromEnv, LlmRejectedError } from '../../../llm/openai';

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
let server: http.Server;
let baseUrl: string;
const replies: { status: number; body: unknown }[] = [];

beforeAll(async () => {
  provider.register();
  server = http.createServer((req, res) => {
    req.resume().on('end', () => {
      const reply = replies.shift() ?? { status: 500, body: { error: 'no reply queued' } };
      res.writeHead(reply.status, { 'content-type': 'application/json' }).end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => exporter.reset());

test('a chat completion is a span with the GenAI attributes, token counts and cost', async () => {
  const config = llmClientConfigFromEnv({ MAESTRO_LLM_BASE_URL: baseUrl, MAESTRO_LLM_MODEL: 'spec-model', MAESTRO_LLM_PRICE_INPUT_PER_MTOK: '3', MAESTRO_LLM_PRICE_OUTPUT_PER_MTOK: '15' })!;
  const client = createLlmClient(config, 'test client');
  replies.push({ status: 200, body: { id: 'c-1', model: 'spec-model-0612', choices: [{ message: { role: 'assistant', content: 'ok' } }], usage: { prompt_tokens: 2000, completion_tokens: 100 } } });
  expect(await client.chat([{ role: 'user', content: 'hi' }])).toBe('ok');
  const [span] = exporter.getFinishedSpans();
  expect(span?.name).toBe('chat spec-model');
  expect(span?.kind).toBe(SpanKind.CLIENT);
  expect(span?.attributes).toMatchObject({
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.model': 'spec-model',
    'gen_ai.request.temperature': 0,
    'gen_ai.response.model': 'spec-model-0612',
    'gen_ai.response.id': 'c-1',
    'gen_ai.usage.input_tokens': 2000,
    'gen_ai.usage.output_tokens': 100,
    'maestro.llm.cost_usd': 0.0075,
    'server.address': '127.0.0.1',
  });
});

test('embeddings are spans too; a refused request is the span error', async () => {
  const client = createLlmClient({ baseUrl, model: 'embed-model' }, 'test client');
  replies.push({ status: 200, body: { data: [{ embedding: [1, 0] }], usage: { prompt_tokens: 7, total_tokens: 7 } } });
  await client.postJson('embeddings', { model: 'embed-model', input: ['a'] });
  replies.push({ status: 401, body: { error: 'bad key' } });
  await expect(client.chat([{ role: 'user', content: 'hi' }])).rejects.toBeInstanceOf(LlmRejectedError);
  const [embeddings, refused] = exporter.getFinishedSpans();
  expect(embeddings?.name).toBe('embeddings embed-model');
  expect(embeddings?.attributes).toMatchObject({ 'gen_ai.usage.input_tokens': 7, 'gen_ai.usage.output_tokens': 0, 'maestro.llm.cost_usd': 0 });
  expect(refused?.status.code).toBe(SpanStatusCode.ERROR);
  expect(refused?.attributes['error.type']).toBe('LlmRejectedError');
  expect(refused?.attributes['gen_ai.usage.input_tokens']).toBeUndefined();
});

test('a bad price is refused naming the variables', () => {
  expect(() => llmClientConfigFromEnv({ MAESTRO_LLM_BASE_URL: baseUrl, MAESTRO_LLM_MODEL: 'm', MAESTRO_LLM_PRICE_INPUT_PER_MTOK: 'cheap' })).toThrow(/MAESTRO_LLM_PRICE_INPUT_PER_MTOK/);
});
