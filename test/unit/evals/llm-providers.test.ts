/**
 * The eval harness's OpenAI-compatible LLM judge and embedding provider against a real HTTP server on
 * 127.0.0.1 (no other network): good answers, junk, 5xx; selection from MAESTRO_LLM_*; and both wired
 * through runScenarios (structured_requirements with verify: llm_judge, semantic with provider: embedding).
 */
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { inspect } from 'node:util';
import { LlmResponseError, LlmUnavailableError } from '../../../llm/openai';
import { createGreeterCorpus, type GreeterCorpus } from '../../../examples/corpus/greeter';
import { defineScenario } from '../../../evals/dsl';
import { runScenarios } from '../../../evals/runner';
import { embeddingProviderFromEnv, judgeProviderFromEnv, openAICompatibleEmbeddingProvider, openAICompatibleJudge } from '../../../evals/semantic';
import { createGateway } from '../../../llm/gateway';
import { MemoryLlmLedger } from '../../../llm/memory-ledger';

const KEY = 'sk-evals-DO-NOT-LEAK-0987654321';

type Reply = { status: number; body: string };
interface Seen {
  url?: string;
  headers: http.IncomingHttpHeaders;
  body: { model: string; input?: string[]; messages?: { role: string; content: string }[] };
}
const completion = (content: string): Reply => ({ status: 200, body: JSON.stringify({ id: 'c1', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }] }) });
const verdict = (v: unknown): Reply => completion(JSON.stringify(v));
const embeddings = (vectors: number[][]): Reply => ({ status: 200, body: JSON.stringify({ object: 'list', data: vectors.map((embedding, index) => ({ object: 'embedding', index, embedding })) }) });

let server: http.Server;
let baseUrl: string;
let respond: (seen: Seen) => Reply;
const seen: Seen[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let data = '';
    req.on('data', (chunk: Buffer) => (data += chunk.toString('utf8')));
    req.on('end', () => {
      const request: Seen = { url: req.url, headers: req.headers, body: JSON.parse(data) as Seen['body'] };
      seen.push(request);
      const reply = respond(request);
      res.writeHead(reply.status, { 'content-type': 'application/json' }).end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  seen.length = 0;
  respond = () => ({ status: 500, body: 'no reply configured' });
});

const queue = (...replies: Reply[]) => {
  respond = () => replies.shift() ?? { status: 500, body: 'no reply queued' };
};
const input = { requirement: 'names are trimmed', diff: '--- a/src/g.ts\n+++ b/src/g.ts\n@@\n-x\n+x.trim()\n', prompt: 'Fix the greeter.' };

describe('OpenAI-compatible LLM judge', () => {
  const judge = () => openAICompatibleJudge({ baseUrl, model: 'judge-model', apiKey: KEY });

  it('asks chat/completions for a JSON verdict and maps pass/fail to met/not_met', async () => {
    queue(verdict({ verdict: 'pass', score: 0.9, reason: 'the diff trims names' }), completion('```json\n{"verdict":"fail","score":0.1,"reason":"no trim"}\n```'));
    await expect(judge().judge(input)).resolves.toEqual({ verdict: 'met', score: 0.9, reason: 'pass (score 0.9): the diff trims names' });
    await expect(judge().judge(input)).resolves.toEqual({ verdict: 'not_met', score: 0.1, reason: 'fail (score 0.1): no trim' });

    const [request] = seen;
    expect(request).toMatchObject({ url: '/v1/chat/completions', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' } });
    expect(request!.body.model).toBe('judge-model');
    expect(request!.body.messages!.map((m) => m.role)).toEqual(['system', 'user']);
    expect(request!.body.messages![0]!.content).toMatch(/"verdict": "pass" \| "fail"/);
    expect(request!.body.messages![1]!.content).toContain('names are trimmed');
    expect(request!.body.messages![1]!.content).toContain('+x.trim()');
  });

  it('answers unsure (never met) with the reason when the model returns junk', async () => {
    queue(
      completion('Looks good to me!'),
      verdict({ verdict: 'maybe', score: 2, reason: 'hmm' }),
      verdict({ verdict: 'pass', reason: 'no score' }),
      verdict({ verdict: 'pass', score: 0.2, reason: 'not sure at all' }),
    );
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await judge().judge(input));
    for (const a of answers) expect(a.verdict).toBe('unsure');
    expect(answers[0]!.reason).toMatch(/not JSON: "Looks good to me!"/);
    expect(answers[1]!.reason).toMatch(/not a verdict: verdict: Invalid enum value.*score: Number must be less than or equal to 1/);
    expect(answers[2]!.reason).toMatch(/not a verdict: score: Required/);
    expect(answers[3]!.reason).toMatch(/said pass with score 0\.2 \(< 0\.5\)/);

    queue({ status: 200, body: '{"error":"odd"}' });
    await expect(judge().judge(input)).rejects.toThrow(LlmResponseError);
  });

  it('throws a retryable error on 5xx, the key redacted even when the body echoes it', async () => {
    queue({ status: 503, body: JSON.stringify({ error: `overloaded; key ${KEY}` }) });
    const error = await judge().judge(input).then(() => undefined, (e: Error) => e);
    expect(error).toBeInstanceOf(LlmUnavailableError);
    expect(error!.message).toMatch(/LLM gateway \(local:judge-model\) at http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions answered HTTP 503: .*key \[redacted\]/);
    expect(error!.message).not.toContain(KEY);
    const provider = judge();
    expect(JSON.stringify(provider) + inspect(provider, { depth: 5, showHidden: true })).not.toContain(KEY);
  });
});

describe('OpenAI-compatible embedding provider', () => {
  const provider = () => openAICompatibleEmbeddingProvider({ baseUrl, model: 'embed-model', apiKey: KEY });

  it('posts both texts to /embeddings and returns the cosine of the vectors (in index order)', async () => {
    respond = () => ({ status: 200, body: JSON.stringify({ data: [{ index: 1, embedding: [1, 1, 0] }, { index: 0, embedding: [1, 0, 0] }] }) });
    await expect(provider().similarity('a', 'b')).resolves.toBeCloseTo(Math.SQRT1_2, 6);
    expect(seen[0]).toMatchObject({ url: '/v1/embeddings', headers: { authorization: `Bearer ${KEY}` }, body: { model: 'embed-model', input: ['a', 'b'] } });
    queue(embeddings([[1, 2], [-1, -2]]));
    await expect(provider().similarity('a', 'b')).resolves.toBe(0); // opposite vectors clamp to 0
  });

  it('rejects junk and 5xx (the check then fails; it never passes)', async () => {
    queue({ status: 200, body: '{"data":[{"embedding":["x"]}]}' }, embeddings([[1, 2]]), embeddings([[1, 2], [1, 2, 3]]), { status: 200, body: 'not json' });
    await expect(provider().similarity('a', 'b')).rejects.toThrow(/returned no embeddings: data\.0\.embedding\.0: Expected number/);
    await expect(provider().similarity('a', 'b')).rejects.toThrow(/returned 1 embedding\(s\) for 2 text\(s\)/);
    await expect(provider().similarity('a', 'b')).rejects.toThrow(/embeddings of different lengths/);
    await expect(provider().similarity('a', 'b')).rejects.toThrow(/returned a body that is not JSON/);
    queue({ status: 500, body: `boom ${KEY}` });
    const error = await provider().similarity('a', 'b').then(() => undefined, (e: Error) => e);
    expect(error).toBeInstanceOf(LlmUnavailableError);
    expect(error!.message).toMatch(/answered HTTP 500: boom \[redacted\]/);
  });
});

describe('selection from MAESTRO_LLM_*', () => {
  it('is offline by default; the embedding provider needs MAESTRO_LLM_EMBEDDING_MODEL; bad config names the variable, never the key', () => {
    expect(judgeProviderFromEnv({})).toBeUndefined();
    expect(embeddingProviderFromEnv({})).toBeUndefined();
    expect(embeddingProviderFromEnv({ MAESTRO_LLM_BASE_URL: baseUrl, MAESTRO_LLM_MODEL: 'm' })).toBeUndefined();
    expect(embeddingProviderFromEnv({ MAESTRO_LLM_BASE_URL: baseUrl, MAESTRO_LLM_EMBEDDING_MODEL: 'e' })!.name).toBe('embedding');
    expect(judgeProviderFromEnv({ MAESTRO_LLM_BASE_URL: baseUrl, MAESTRO_LLM_MODEL: 'm' })!.name).toBe('openai-compatible:m');
    expect(() => judgeProviderFromEnv({ MAESTRO_LLM_BASE_URL: baseUrl, MAESTRO_LLM_API_KEY: KEY })).toThrow(/invalid LLM judge config: MAESTRO_LLM_MODEL: is required/);
    expect(() => embeddingProviderFromEnv({ MAESTRO_LLM_BASE_URL: KEY, MAESTRO_LLM_API_KEY: KEY, MAESTRO_LLM_EMBEDDING_MODEL: 'e' })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining(KEY) }),
    );
    expect(() => embeddingProviderFromEnv({ MAESTRO_LLM_BASE_URL: 'ftp://x', MAESTRO_LLM_EMBEDDING_MODEL: 'e' })).toThrow(/MAESTRO_LLM_BASE_URL: must be an http\(s\) URL/);
  });
});

describe('wired through the runner (greeter corpus, MAESTRO_LLM_* in the environment)', () => {
  let tmp: string;
  let corpus: GreeterCorpus;
  const saved: Record<string, string | undefined> = {};
  const VARS = ['MAESTRO_LLM_BASE_URL', 'MAESTRO_LLM_MODEL', 'MAESTRO_LLM_EMBEDDING_MODEL', 'MAESTRO_LLM_API_KEY', 'MAESTRO_LLM_TIMEOUT_MS'];
  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'maestro-evals-llm-'));
    corpus = await createGreeterCorpus(path.join(tmp, 'repo'), ['good-fix']);
    for (const v of VARS) saved[v] = process.env[v];
  });
  afterEach(() => {
    for (const v of VARS) if (saved[v] === undefined) delete process.env[v];
    else process.env[v] = saved[v];
  });
  afterAll(() => fs.rm(tmp, { recursive: true, force: true }));

  const scenario = defineScenario({
    id: 'misc.llm@v1',
    title: 'llm providers',
    fixtures: { prompt: 'Normalise whitespace in names.' },
    checks: [
      {
        type: 'structured_requirements',
        requirements: [
          { id: 'good', text: 'collapses inner whitespace', verify: 'llm_judge' },
          { id: 'junk', text: 'is elegant', verify: 'llm_judge' },
          { id: 'down', text: 'is fast', verify: 'llm_judge' },
        ],
      },
      { type: 'semantic', source: 'commit_message', expected: 'fix whitespace in names', min_similarity: 0.8, provider: 'embedding' },
    ],
  });
  const run = () => runScenarios({ repo: corpus.repo, candidate: corpus.candidates['good-fix'], base: corpus.baseSha, scenarios: [scenario], cacheDir: null, workRoot: path.join(tmp, 'work') });

  it('a judged pass is met; junk and a 5xx are unverified with the reason, never passed; semantic uses the embeddings', async () => {
    Object.assign(process.env, { MAESTRO_LLM_BASE_URL: baseUrl, MAESTRO_LLM_MODEL: 'judge-model', MAESTRO_LLM_EMBEDDING_MODEL: 'embed-model', MAESTRO_LLM_API_KEY: KEY });
    respond = (request) => {
      if (request.url === '/v1/embeddings') return embeddings([[0.6, 0.8], [0.8, 0.6]]); // cosine 0.96
      const user = request.body.messages![1]!.content;
      if (user.includes('collapses inner whitespace')) return verdict({ verdict: 'pass', score: 0.95, reason: 'replace(/\\s+/g) collapses it' });
      if (user.includes('is elegant')) return completion('Sure! It is elegant.');
      return { status: 502, body: `bad gateway ${KEY}` };
    };
    const [result] = (await run()).scenarios;
    const [reqs, semantic] = result!.checks;
    expect(reqs).toMatchObject({ passed: false, status: 'unverified' }); // met + unverified, nothing not_met
    expect(reqs!.score).toBeCloseTo(1 / 3, 6);
    expect(reqs!.explanation).toMatch(/1\/3 requirements met, 2 unverified/);
    expect(reqs!.explanation).toMatch(/\[met\] collapses inner whitespace: openai-compatible:judge-model: pass \(score 0\.95\)/);
    expect(reqs!.explanation).toMatch(/\[unverified\] is elegant: openai-compatible:judge-model: the judge's answer is not JSON/);
    expect(reqs!.explanation).toMatch(/\[unverified\] is fast: openai-compatible:judge-model: the judge failed: .*answered HTTP 502: bad gateway \[redacted\]/);
    expect(reqs!.explanation).not.toContain(KEY);
    expect(semantic).toMatchObject({ passed: true, score: 1 });
    expect(semantic!.explanation).toMatch(/^embedding similarity 0\.960 ≥ 0\.8/);
  });

  it("the judge's and the embeddings' calls of a train's eval are on that train's account in the ledger", async () => {
    respond = (request) => (request.url === '/v1/embeddings' ? embeddings([[0.6, 0.8], [0.8, 0.6]]) : verdict({ verdict: 'pass', score: 0.9, reason: 'the diff does it' }));
    const ledger = new MemoryLlmLedger();
    const config = { baseUrl, model: 'judge-model', apiKey: KEY };
    const judge = openAICompatibleJudge(config, { gateway: createGateway(config, {}, ledger) });
    const embedder = openAICompatibleEmbeddingProvider({ ...config, model: 'embed-model' }, { gateway: createGateway({ ...config, model: 'embed-model' }, { MAESTRO_LLM_EMBEDDING_MODEL: 'embed-model' }, ledger) });
    const [result] = (await runScenarios({ repo: corpus.repo, candidate: corpus.candidates['good-fix'], base: corpus.baseSha, scenarios: [scenario], cacheDir: null, workRoot: path.join(tmp, 'work-ledger'), judge, similarity: [embedder], trainId: 'train-ledger-1' })).scenarios;
    expect(result!.checks.map((c) => c.passed)).toEqual([true, true]);
    const byType = (type: string) => ledger.calls.filter((c) => c.callType === type);
    expect(byType('judge')).toHaveLength(3);
    expect(byType('embedding').length).toBeGreaterThanOrEqual(1);
    expect(new Set(ledger.calls.map((c) => c.trainId))).toEqual(new Set(['train-ledger-1']));
    expect(new Set(ledger.calls.map((c) => c.stage))).toEqual(new Set(['runEvals']));
  });

  it('offline (no MAESTRO_LLM_BASE_URL): no request; the judge is unconfigured and `embedding` is reported missing', async () => {
    for (const v of VARS) delete process.env[v];
    const [result] = (await run()).scenarios;
    const [reqs, semantic] = result!.checks;
    expect(seen).toHaveLength(0);
    expect(reqs).toMatchObject({ passed: false, status: 'unverified', score: 0 });
    expect(reqs!.explanation).toMatch(/\[unverified\] collapses inner whitespace: no verifier: no LLM judge is configured/);
    expect(semantic).toMatchObject({ passed: false, status: 'error' });
    expect(semantic!.explanation).toMatch(/no similarity provider 'embedding'; have: lexical \(set MAESTRO_LLM_BASE_URL and MAESTRO_LLM_EMBEDDING_MODEL/);
  });
});
