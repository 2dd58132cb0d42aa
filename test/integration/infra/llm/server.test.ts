/** The embedded LLM server (infra/llm, started or reused on MAESTRO_LLM_PORT): its models, a real answer, and bad requests refused plainly. */
import { ensureLlmServer, llmServerOptionsFromEnv, LOCAL_MODELS } from '../../../../infra/llm/server';

let url: string;
beforeAll(async () => {
  url = (await ensureLlmServer(llmServerOptionsFromEnv(), 120_000)).url;
}, 180_000);

const post = async (path: string, body: unknown) => {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
};

test('both GGUF models are served; the large one answers a chat completion with its usage', async () => {
  const models = (await (await fetch(`${url}/models`)).json()) as { data: { id: string }[] };
  expect(models.data.map((m) => m.id)).toEqual(LOCAL_MODELS.map((m) => m.id));
  const r = await post('/chat/completions', { model: LOCAL_MODELS[1]!.id, messages: [{ role: 'user', content: 'The capital of France is' }], max_tokens: 3 });
  expect(r.status).toBe(200);
  expect(r.json.choices[0].message.content.length).toBeGreaterThan(0);
  expect(r.json.usage.completion_tokens).toBeGreaterThan(0);
  expect(r.json.usage.completion_tokens).toBeLessThanOrEqual(3);
  expect(r.json.usage.prompt_tokens).toBeGreaterThan(4);
});

test('bad requests are refused with what is wrong, and the server keeps answering', async () => {
  expect(await post('/chat/completions', 'not json')).toMatchObject({ status: 400, json: { error: { message: 'the request body is not JSON' } } });
  const empty = await post('/chat/completions', { model: LOCAL_MODELS[0]!.id, messages: [] });
  expect(empty).toMatchObject({ status: 400 });
  expect(empty.json.error.message).toMatch(/messages: needs at least one message/);
  const unknown = await post('/embeddings', { model: 'gpt-9', input: 'x' });
  expect(unknown.status).toBe(404);
  expect(unknown.json.error.message).toMatch(/unknown model 'gpt-9': this server has smollm2-135m-instruct-q4_1, gemma3-270m-q4_k_m/);
  const ok = await post('/embeddings', { model: LOCAL_MODELS[0]!.id, input: ['a', 'b'] });
  expect(ok.json.data.map((d: { index: number }) => d.index)).toEqual([0, 1]);
});
