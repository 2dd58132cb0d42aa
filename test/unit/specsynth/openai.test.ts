/**
 * The OpenAI-compatible spec provider against a real HTTP server on 127.0.0.1 speaking the chat/completions
 * shape (no other network): a good spec, junk, a 5xx, a refusal, a hang, a closed port; and the stored artifacts.
 */
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { inspect } from 'node:util';
import { ApplicationFailure } from '@temporalio/common';
import { createSpecActivities as createSpecActivitiesUnwrapped, specProviderFromEnv } from '../../../activities/spec';
import { asWorkerRuns } from '../../helpers/interceptors';
// Called directly, the activities run through the worker's interceptor as they would on a worker.
const createSpecActivities = (...args: Parameters<typeof createSpecActivitiesUnwrapped>) => asWorkerRuns(createSpecActivitiesUnwrapped(...args));
import { llmConfigFromEnv, openAICompatibleSpecProvider } from '../../../specsynth/openai';
import { parseChangeRequest } from '../../../core/change-request';
import { renderSpecMarkdown, synthesizeSpecFromRequest } from '../../../core/spec';
import type { Spec } from '../../../core/stages';

const KEY = 'sk-test-DO-NOT-LEAK-1234567890';

const cr = parseChangeRequest({
  id: 'greet-42',
  title: 'Polite greeting',
  intent: 'Greet people politely.',
  repo: '/tmp/example',
  service: 'hello',
  change: { kind: 'patch', diff: '--- a/src/greet.ts\n+++ b/src/greet.ts\n@@ -1 +1 @@\n-hi\n+Hello\n' },
});
const draft = synthesizeSpecFromRequest(cr);
const refined: Spec = {
  ...draft,
  scenarios: [{ id: 'SPEC-greet-42-1', given: 'a visitor named Ada', when: 'greet("Ada") is called', then: 'it returns "Hello, Ada"' }],
  acceptanceCriteria: [{ id: 'AC-greet-42-1', text: 'greet("Ada") returns "Hello, Ada"' }],
};

type Reply = { status: number; body: string } | 'hang';
const completion = (content: string) => ({ status: 200, body: JSON.stringify({ id: 'c1', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }] }) });

interface Seen {
  method?: string;
  url?: string;
  headers: http.IncomingHttpHeaders;
  body: { model: string; messages: { role: string; content: string }[] };
}

describe('OpenAI-compatible spec provider (local chat/completions server)', () => {
  let server: http.Server;
  let baseUrl: string;
  let artifactsDir: string;
  const replies: Reply[] = [];
  const seen: Seen[] = [];

  beforeAll(async () => {
    artifactsDir = await fs.mkdtemp(path.join(os.tmpdir(), 'maestro-spec-llm-'));
    server = http.createServer((req, res) => {
      let data = '';
      req.on('data', (chunk: Buffer) => (data += chunk.toString('utf8')));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body: JSON.parse(data) as Seen['body'] });
        const reply = replies.shift() ?? { status: 500, body: 'no reply queued' };
        if (reply === 'hang') return; // never answers
        res.writeHead(reply.status, { 'content-type': 'application/json' }).end(reply.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await fs.rm(artifactsDir, { recursive: true, force: true });
  });
  beforeEach(() => {
    replies.length = 0;
    seen.length = 0;
  });

  const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ MAESTRO_LLM_BASE_URL: baseUrl, MAESTRO_LLM_API_KEY: KEY, MAESTRO_LLM_MODEL: 'spec-model', ...extra });
  const failureOf = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as ApplicationFailure);

  it('is selected by MAESTRO_LLM_BASE_URL, sends the request and draft, and returns the validated spec', async () => {
    replies.push(completion('Here you go:\n```json\n' + JSON.stringify(refined) + '\n```'));
    const { synthesizeSpec } = createSpecActivities({ env: env(), artifactsDir });
    await expect(synthesizeSpec(cr)).resolves.toEqual(refined);

    expect(seen).toHaveLength(1);
    const [request] = seen;
    expect(request).toMatchObject({ method: 'POST', url: '/v1/chat/completions', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' } });
    expect(request!.body.model).toBe('spec-model');
    expect(request!.body.messages.map((m) => m.role)).toEqual(['system', 'user']);
    const user = request!.body.messages[1]!.content;
    expect(user).toContain('"id": "greet-42"');
    expect(user).toContain('"files": [\n      "src/greet.ts"');
    expect(user).toContain(draft.scenarios[0]!.id);
    expect(user).not.toContain('/tmp/example'); // the local repo path is none of the model's business
  });

  it('fails without retry (InvalidProviderOutput) naming the bad fields when the model returns junk', async () => {
    const junk = { changeId: 'greet-42', title: 'x', scenarios: [{ id: 'S1', given: 'g', when: 'w', then: 't', extra: 1 }], acceptanceCriteria: [] };
    replies.push(completion(JSON.stringify(junk)), completion('I cannot help with that.'), { status: 200, body: '{"error":"odd"}' });
    const { synthesizeSpec } = createSpecActivities({ env: env() });

    const invalid = await failureOf(synthesizeSpec(cr));
    expect(invalid).toBeInstanceOf(ApplicationFailure);
    expect(invalid).toMatchObject({ type: 'InvalidProviderOutput', nonRetryable: true });
    expect(invalid!.message).toContain("spec provider 'openai-compatible:spec-model' returned an invalid spec:");
    expect(invalid!.message).toMatch(/scenarios\.0\.id: must look like SPEC-<change id>-<n>/);
    expect(invalid!.message).toMatch(/scenarios\.0: Unrecognized key\(s\) in object: 'extra'/);
    expect(invalid!.message).toMatch(/acceptanceCriteria: Array must contain at least 1/);

    const prose = await failureOf(synthesizeSpec(cr));
    expect(prose).toMatchObject({ type: 'InvalidProviderOutput', nonRetryable: true, message: expect.stringContaining('returned text that is not JSON') });

    const notACompletion = await failureOf(synthesizeSpec(cr));
    expect(notACompletion).toMatchObject({ type: 'InvalidProviderOutput', nonRetryable: true, message: expect.stringContaining('returned no chat completion: choices: Required') });
    for (const f of [invalid, prose, notACompletion]) expect(f!.message).not.toContain(KEY);
  });

  it('fails retryably on 5xx (and 429), with the status and without the key even when the body echoes it', async () => {
    replies.push({ status: 500, body: JSON.stringify({ error: `upstream exploded; key was ${KEY}` }) }, { status: 429, body: 'slow down' });
    const { synthesizeSpec } = createSpecActivities({ env: env() });

    const serverError = await failureOf(synthesizeSpec(cr));
    expect(serverError).toBeInstanceOf(ApplicationFailure);
    expect(serverError).toMatchObject({ type: 'SpecProviderUnavailable', nonRetryable: false });
    expect(serverError!.message).toMatch(new RegExp(`at http://127\\.0\\.0\\.1:\\d+/v1/chat/completions answered HTTP 500: .*upstream exploded; key was \\[redacted\\]`));
    expect(serverError!.message).not.toContain(KEY);

    expect(await failureOf(synthesizeSpec(cr))).toMatchObject({ type: 'SpecProviderUnavailable', nonRetryable: false, message: expect.stringContaining('HTTP 429: slow down') });
  });

  it('fails for good on a refusal (401), retryably on a timeout or a closed port', async () => {
    replies.push({ status: 401, body: '{"error":"invalid api key"}' });
    expect(await failureOf(createSpecActivities({ env: env() }).synthesizeSpec(cr))).toMatchObject({
      type: 'SpecProviderRejected',
      nonRetryable: true,
      message: expect.stringContaining('answered HTTP 401: {"error":"invalid api key"}'),
    });

    replies.push('hang');
    const timeout = await failureOf(createSpecActivities({ env: env({ MAESTRO_LLM_TIMEOUT_MS: '200' }) }).synthesizeSpec(cr));
    expect(timeout).toMatchObject({ type: 'SpecProviderUnavailable', nonRetryable: false, message: expect.stringContaining('no answer within 200 ms') });

    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const refused = await failureOf(createSpecActivities({ env: env({ MAESTRO_LLM_BASE_URL: `http://127.0.0.1:${port}/v1` }) }).synthesizeSpec(cr));
    expect(refused).toMatchObject({ type: 'SpecProviderUnavailable', nonRetryable: false, message: expect.stringContaining('is unavailable') });
    expect(refused!.message).not.toContain(KEY);
  });

  it('validates its config by variable name, never echoing a value; the key is not a property of the provider', () => {
    expect(llmConfigFromEnv({})).toBeUndefined();
    expect(specProviderFromEnv({ MAESTRO_LLM_BASE_URL: '  ' })).toBeUndefined();
    expect(llmConfigFromEnv(env())).toMatchObject({ baseUrl, model: 'spec-model', timeoutMs: 60_000 });
    expect(() => createSpecActivities({ env: { MAESTRO_LLM_BASE_URL: 'ftp://x', MAESTRO_LLM_API_KEY: KEY } })).toThrow(
      /invalid LLM spec provider config: MAESTRO_LLM_BASE_URL: must be an http\(s\) URL; MAESTRO_LLM_MODEL: is required when MAESTRO_LLM_BASE_URL is set/,
    );
    expect(() => llmConfigFromEnv(env({ MAESTRO_LLM_TIMEOUT_MS: 'soon' }))).toThrow(/MAESTRO_LLM_TIMEOUT_MS: Expected number/);
    try {
      llmConfigFromEnv({ MAESTRO_LLM_BASE_URL: KEY, MAESTRO_LLM_API_KEY: KEY });
      throw new Error('expected a config error');
    } catch (error) {
      expect((error as Error).message).toContain('MAESTRO_LLM_BASE_URL');
      expect((error as Error).message).not.toContain(KEY);
    }
    const provider = openAICompatibleSpecProvider({ baseUrl, model: 'm', apiKey: KEY });
    expect(JSON.stringify(provider) + inspect(provider, { depth: 5, showHidden: true })).not.toContain(KEY);
  });

  it('stores the spec with the run as spec.json and spec.md, idempotently', async () => {
    replies.push(completion(JSON.stringify(refined)));
    const dir = path.join(artifactsDir, 'offline');
    const offline = createSpecActivities({ env: {}, artifactsDir: dir });
    const spec = await offline.synthesizeSpec(cr);
    expect(seen).toHaveLength(0); // no base URL: offline, no request
    const json = path.join(dir, 'greet-42', 'spec.json');
    const md = path.join(dir, 'greet-42', 'spec.md');
    expect(JSON.parse(await fs.readFile(json, 'utf8'))).toEqual(spec);
    expect(await fs.readFile(md, 'utf8')).toBe(renderSpecMarkdown(spec));
    const before = await Promise.all([fs.stat(json), fs.stat(md)]);
    await new Promise((r) => setTimeout(r, 20));
    await expect(offline.synthesizeSpec(cr)).resolves.toEqual(spec);
    const after = await Promise.all([fs.stat(json), fs.stat(md)]);
    expect(after.map((s) => s.mtimeMs)).toEqual(before.map((s) => s.mtimeMs)); // same spec: not rewritten
    expect((await fs.readdir(path.dirname(json))).sort()).toEqual(['spec.json', 'spec.md']); // no temp files left

    // A provider's (different) spec replaces it.
    await createSpecActivities({ env: env(), artifactsDir: dir }).synthesizeSpec(cr);
    expect(JSON.parse(await fs.readFile(json, 'utf8'))).toEqual(refined);
    expect(await fs.readFile(md, 'utf8')).toContain('- **Then** it returns "Hello, Ada"');
  });
});
