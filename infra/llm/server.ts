/**
 * The embedded LLM: GGUF models from PyPI wheels (scripts/setup-llm.sh) run by node-llama-cpp on the CPU,
 * served OpenAI-compatibly on loopback — what tests, the demo and the bench talk to through the gateway
 * (llm/gateway.ts); production points MAESTRO_LLM_BASE_URL at any OpenAI-compatible endpoint instead.
 *
 *   GET  /v1/models             the loaded models
 *   POST /v1/chat/completions   {model, messages, temperature?, max_tokens?}  → a chat completion with `usage`
 *   POST /v1/embeddings         {model, input: string | string[]}              → the model's own embeddings
 *                               (llama.cpp pools the decoder's hidden states: both models embed; a decoder's
 *                               embedding is weaker than a trained embedder's — the semantic cache calibrates
 *                               its threshold on labelled pairs for exactly that reason)
 *
 * Threads are set explicitly (MAESTRO_LLM_THREADS, default 1): node-llama-cpp's default is ~40× slower
 * on these 2-core machines, and on a shared, loaded machine (load average 15–20 on 2 cores) 2 threads
 * took 8–14 s a call against 0.2 s with 1 (llama.cpp's threads spin at each barrier, so an
 * oversubscribed CPU stalls them all); raise it on a machine of your own. One request per model at a time (a queue): a context has one sequence.
 * `ensureLlmServer()` reuses a server of this project answering on the port, else starts one detached.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { z } from 'zod';
import { PROJECT_ROOT, STATE, TSX_CLI } from '../../io/paths';
import { isPortOpen, stopByPidFile } from '../../io/process';
import { startDetachedServer } from '../detached-server';

export interface LlmModelFile {
  /** The id clients ask for (`model`). */
  id: string;
  file: string;
}

export interface LlmServerOptions {
  port: number;
  threads: number;
  contextSize: number;
  models: LlmModelFile[];
  /** Where the pid and log files go. */
  runDir: string;
}

/** The model ids the project serves (llm/models.json names them as tiers). */
export const LOCAL_MODELS: LlmModelFile[] = [
  { id: 'smollm2-135m-instruct-q4_1', file: path.join(PROJECT_ROOT, '.maestro', 'llm', 'small.gguf') },
  { id: 'gemma3-270m-q4_k_m', file: path.join(PROJECT_ROOT, '.maestro', 'llm', 'large.gguf') },
];

const envSchema = z.object({
  MAESTRO_LLM_PORT: z.coerce.number().int().min(1).max(65535).default(8411),
  MAESTRO_LLM_THREADS: z.coerce.number().int().min(1).max(64).default(1),
  MAESTRO_LLM_CONTEXT: z.coerce.number().int().min(256).max(32768).default(2048),
});

/** The options from MAESTRO_LLM_PORT / _THREADS / _CONTEXT; a bad value names the variable. */
export function llmServerOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): LlmServerOptions {
  const parsed = envSchema.safeParse({
    MAESTRO_LLM_PORT: env.MAESTRO_LLM_PORT || undefined,
    MAESTRO_LLM_THREADS: env.MAESTRO_LLM_THREADS || undefined,
    MAESTRO_LLM_CONTEXT: env.MAESTRO_LLM_CONTEXT || undefined,
  });
  if (!parsed.success) throw new Error(`invalid LLM server configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const e = parsed.data;
  return { port: e.MAESTRO_LLM_PORT, threads: e.MAESTRO_LLM_THREADS, contextSize: e.MAESTRO_LLM_CONTEXT, models: LOCAL_MODELS, runDir: path.join(STATE.run, 'llm') };
}

export const llmServerUrl = (opts: Pick<LlmServerOptions, 'port'>) => `http://127.0.0.1:${opts.port}/v1`;

const messageSchema = z.object({ role: z.enum(['system', 'user', 'assistant']), content: z.string() });
const chatRequestSchema = z.object({
  model: z.string().min(1),
  messages: z.array(messageSchema).min(1, 'needs at least one message').refine((m) => m.length === 0 || m[m.length - 1]!.role === 'user', 'the last message must be the user\'s'),
  temperature: z.number().min(0).max(2).default(0),
  max_tokens: z.number().int().min(1).max(4096).default(256),
  seed: z.number().int().optional(),
});
const embeddingRequestSchema = z.object({ model: z.string().min(1), input: z.union([z.string(), z.array(z.string()).min(1)]) });

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The loaded models behind the HTTP routes; each model answers one request at a time. */
async function loadModels(opts: LlmServerOptions) {
  // Loaded lazily: only the server process pays for the native module.
  const { getLlama, LlamaChatSession } = await import('node-llama-cpp');
  type ChatHistoryItem = import('node-llama-cpp').ChatHistoryItem;
  const llama = await getLlama({ gpu: false, build: 'never', skipDownload: true });
  const loaded = new Map<string, { chat: (req: z.output<typeof chatRequestSchema>) => Promise<{ text: string; input: number; output: number }>; embed: (texts: string[]) => Promise<{ vectors: number[][]; tokens: number }> }>();
  for (const m of opts.models) {
    if (!fs.existsSync(m.file)) throw new Error(`model file ${m.file} (${m.id}) is missing: run 'bash scripts/setup-llm.sh'`);
    const model = await llama.loadModel({ modelPath: m.file });
    const context = await model.createContext({ threads: opts.threads, contextSize: opts.contextSize, sequences: 1 });
    // One session per model, its history replaced per request: building a session resolves the chat
    // template (≈1.5 s here), and a kept session reuses the evaluated prefix of a repeated system prompt.
    const session = new LlamaChatSession({ contextSequence: context.getSequence() });
    let embedding: Awaited<ReturnType<typeof model.createEmbeddingContext>> | undefined;
    let queue: Promise<unknown> = Promise.resolve();
    const serial = <T>(work: () => Promise<T>): Promise<T> => {
      const run = queue.then(work, work);
      queue = run.catch(() => undefined);
      return run;
    };
    loaded.set(m.id, {
      chat: (req) =>
        serial(async () => {
          const system = req.messages.filter((x) => x.role === 'system').map((x) => x.content).join('\n');
          const turns = req.messages.filter((x) => x.role !== 'system');
          const history: ChatHistoryItem[] = [
            ...(system ? [{ type: 'system' as const, text: system }] : []),
            ...turns.slice(0, -1).map((t): ChatHistoryItem => (t.role === 'user' ? { type: 'user', text: t.content } : { type: 'model', response: [t.content] })),
          ];
          const last = turns[turns.length - 1]!.content;
          // Billed like a hosted API: the whole templated prompt, not only the part the KV cache missed.
          const input = session.chatWrapper
            .generateContextState({ chatHistory: [...history, { type: 'user', text: last }, { type: 'model', response: [] }] })
            .contextText.tokenize(model.tokenizer).length;
          const before = session.sequence.tokenMeter.getState().usedOutputTokens;
          session.setChatHistory(history);
          const text = await session.prompt(last, {
            maxTokens: req.max_tokens,
            temperature: req.temperature,
            ...(req.seed !== undefined ? { seed: req.seed } : {}),
          });
          return { text, input, output: session.sequence.tokenMeter.getState().usedOutputTokens - before };
        }),
      embed: (texts) =>
        serial(async () => {
          embedding ??= await model.createEmbeddingContext({ threads: opts.threads, contextSize: Math.min(opts.contextSize, 1024) });
          const vectors: number[][] = [];
          let tokens = 0;
          for (const text of texts) {
            tokens += model.tokenize(text).length;
            vectors.push([...(await embedding.getEmbeddingFor(text)).vector]);
          }
          return { vectors, tokens };
        }),
    });
  }
  return loaded;
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 2_000_000) throw new HttpError(413, 'request body over 2 MB');
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'the request body is not JSON');
  }
}

function parseBody<S extends z.ZodTypeAny>(schema: S, body: unknown): z.output<S> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new HttpError(400, `invalid request: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ')}`);
  return parsed.data as z.output<S>;
}

export interface RunningLlmHttpServer {
  url: string;
  close(): Promise<void>;
}

/** Loads the models and serves them on 127.0.0.1:`port` in this process (the detached server's body). */
export async function serveLlm(opts: LlmServerOptions): Promise<RunningLlmHttpServer> {
  const models = await loadModels(opts);
  let counter = 0;
  const modelOf = (id: string) => {
    const m = models.get(id);
    if (!m) throw new HttpError(404, `unknown model '${id}': this server has ${[...models.keys()].join(', ')}`);
    return m;
  };
  const server = http.createServer((req, res) => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    void (async () => {
      if (req.method === 'GET' && req.url === '/v1/models') return reply(200, { object: 'list', data: [...models.keys()].map((id) => ({ id, object: 'model', owned_by: 'maestro-local' })) });
      if (req.method === 'POST' && req.url === '/v1/chat/completions') {
        const body = parseBody(chatRequestSchema, await readJson(req));
        const answer = await modelOf(body.model).chat(body);
        return reply(200, {
          id: `chatcmpl-local-${++counter}`,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model: body.model,
          choices: [{ index: 0, message: { role: 'assistant', content: answer.text }, finish_reason: 'stop' }],
          usage: { prompt_tokens: answer.input, completion_tokens: answer.output, total_tokens: answer.input + answer.output },
        });
      }
      if (req.method === 'POST' && req.url === '/v1/embeddings') {
        const body = parseBody(embeddingRequestSchema, await readJson(req));
        const texts = typeof body.input === 'string' ? [body.input] : body.input;
        const { vectors, tokens } = await modelOf(body.model).embed(texts);
        return reply(200, { object: 'list', model: body.model, data: vectors.map((embedding, index) => ({ object: 'embedding', index, embedding })), usage: { prompt_tokens: tokens, total_tokens: tokens } });
      }
      throw new HttpError(404, `no route ${req.method} ${req.url}: this server answers GET /v1/models, POST /v1/chat/completions, POST /v1/embeddings`);
    })().catch((err: Error) => reply(err instanceof HttpError ? err.status : 500, { error: { message: err.message, type: err instanceof HttpError ? 'invalid_request_error' : 'server_error' } }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', resolve);
  });
  return { url: llmServerUrl(opts), close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** The model ids a server on the port serves; undefined when none answers. */
async function servedModels(opts: LlmServerOptions): Promise<string[] | undefined> {
  try {
    const res = await fetch(`${llmServerUrl(opts)}/models`, { signal: AbortSignal.timeout(2_000) });
    if (!res.ok) return undefined;
    return ((await res.json()) as { data: { id: string }[] }).data.map((d) => d.id);
  } catch {
    return undefined;
  }
}

const pidFile = (opts: LlmServerOptions) => path.join(opts.runDir, `llm-${opts.port}.pid`);
const logFile = (opts: LlmServerOptions) => path.join(opts.runDir, `llm-${opts.port}.log`);

/** Reuses this project's LLM server on the port, or starts one detached (it outlives this process). */
export async function ensureLlmServer(opts: LlmServerOptions = llmServerOptionsFromEnv(), timeoutMs = 60_000): Promise<{ url: string; reused: boolean; pid?: number }> {
  const url = llmServerUrl(opts);
  const served = await servedModels(opts);
  if (served) {
    const missing = opts.models.filter((m) => !served.includes(m.id)).map((m) => m.id);
    if (missing.length) throw new Error(`a server on port ${opts.port} does not serve ${missing.join(', ')}: stop it, or set MAESTRO_LLM_PORT to a free port`);
    return { url, reused: true };
  }
  if (await isPortOpen(opts.port)) throw new Error(`port ${opts.port} is taken by another process: set MAESTRO_LLM_PORT to a free port`);
  for (const m of opts.models) if (!fs.existsSync(m.file)) throw new Error(`model file ${m.file} (${m.id}) is missing: run 'bash scripts/setup-llm.sh'`);
  const pid = await startDetachedServer({
    name: 'the LLM server',
    command: process.execPath,
    args: [TSX_CLI, path.join(__dirname, 'cli.ts'), 'serve'],
    env: { ...process.env, MAESTRO_LLM_PORT: String(opts.port), MAESTRO_LLM_THREADS: String(opts.threads), MAESTRO_LLM_CONTEXT: String(opts.contextSize) },
    logFile: logFile(opts),
    pidFile: pidFile(opts),
    address: `127.0.0.1:${opts.port}`,
    isReady: async () => (await servedModels(opts)) !== undefined,
    timeoutMs,
  });
  return { url, reused: false, pid };
}

/** Stops the LLM server this project started on the port (by pid file). */
export async function stopLlmServer(opts: LlmServerOptions = llmServerOptionsFromEnv(), timeoutMs = 10_000): Promise<boolean> {
  return stopByPidFile(pidFile(opts), opts.port, timeoutMs);
}
