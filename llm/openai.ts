/**
 * The shared HTTP client for OpenAI-compatible endpoints (OpenAI, Azure OpenAI's compatible route, vLLM,
 * Ollama, LiteLLM, ...), used by the spec provider (specsynth/openai.ts) and by the eval harness's
 * LLM judge and embedding provider (evals/semantic.ts). Configured from the environment:
 *
 *   MAESTRO_LLM_BASE_URL         e.g. https://api.openai.com/v1 (selects the HTTP providers when set)
 *   MAESTRO_LLM_MODEL            chat model (spec provider, eval judge)
 *   MAESTRO_LLM_EMBEDDING_MODEL  embedding model (eval `semantic` provider `embedding`)
 *   MAESTRO_LLM_API_KEY          bearer token; optional (local servers often need none)
 *   MAESTRO_LLM_TIMEOUT_MS       per-request timeout, default 60000
 *   MAESTRO_LLM_PRICE_INPUT_PER_MTOK, MAESTRO_LLM_PRICE_OUTPUT_PER_MTOK   USD per million tokens, default 0
 *
 * Every request is a client span (`chat <model>`, `embeddings <model>`) with the GenAI semantic
 * conventions' attributes, the token counts the server reports and their cost (core/llm-usage.ts); with
 * tracing off (io/tracing.ts) the span is the API's no-op.
 *
 * The API key lives only in the client's closure: it is never a property of a client or provider, never
 * logged, and redacted from every error message (an upstream body that echoes it included). Redirects
 * are refused (the key must not follow them). Failures:
 * - LlmUnavailableError (retryable): network error, timeout, 408, 429, 5xx.
 * - LlmRejectedError (non-retryable): any other 4xx (bad key, unknown model).
 * - LlmResponseError (non-retryable): a 2xx whose body is not JSON or not of the expected shape.
 */
import { SpanKind } from '@opentelemetry/api';
import { z } from 'zod';
import { GEN_AI, llmPricesSchema, usageAttributes, usageOfAnswer, type LlmUsage } from '../core/llm-usage';
import { inSpan } from '../io/tracing';

export const llmClientConfigSchema = z
  .object({
    baseUrl: z
      .string()
      .url('must be an http(s) URL')
      .refine((u) => /^https?:\/\//i.test(u), 'must be an http(s) URL'),
    model: z.string().trim().min(1, 'is required when MAESTRO_LLM_BASE_URL is set'),
    apiKey: z.string().min(1).optional(),
    timeoutMs: z.number().int().min(1).max(600_000).default(60_000),
    prices: llmPricesSchema.default({}),
  })
  .strict();
export type LlmClientConfigInput = z.input<typeof llmClientConfigSchema>;
export type LlmClientConfig = z.output<typeof llmClientConfigSchema>;

export class LlmConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LlmConfigError';
  }
}

/** A transient failure (network, timeout, 408/429/5xx): retrying may succeed. */
export class LlmUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LlmUnavailableError';
  }
}

/** The endpoint refused the request (4xx other than 408/429): retrying will not help. */
export class LlmRejectedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LlmRejectedError';
  }
}

/** A 2xx whose body is not JSON or not of the expected shape. */
export class LlmResponseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LlmResponseError';
  }
}

/**
 * Validates a config against `schema` (the client's, or an extension of it); the message starts with
 * `invalid <what> config:`, names the bad fields (by env variable via `fieldName`) and never echoes a value.
 */
export function parseLlmConfigWith<S extends z.ZodTypeAny>(schema: S, input: unknown, what: string, fieldName: (key: string) => string = (k) => k): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data as z.output<S>;
  throw new LlmConfigError(
    `invalid ${what} config: ${parsed.error.issues.map((i) => `${i.path.length ? fieldName(String(i.path[0])) : '(config)'}: ${i.message}`).join('; ')}`,
  );
}

/**
 * The raw config input from MAESTRO_LLM_* (model from `modelVar`) and a field → variable namer;
 * undefined when MAESTRO_LLM_BASE_URL is unset or empty (offline).
 */
export function llmEnvInput(
  env: NodeJS.ProcessEnv,
  modelVar = 'MAESTRO_LLM_MODEL',
): { input: Record<string, unknown>; fieldName: (key: string) => string } | undefined {
  const baseUrl = env.MAESTRO_LLM_BASE_URL?.trim();
  if (!baseUrl) return undefined;
  const timeout = env.MAESTRO_LLM_TIMEOUT_MS?.trim();
  const price = (name: string) => {
    const text = env[name]?.trim();
    return text ? Number(text) : undefined;
  };
  const prices = { inputPerMTok: price('MAESTRO_LLM_PRICE_INPUT_PER_MTOK'), outputPerMTok: price('MAESTRO_LLM_PRICE_OUTPUT_PER_MTOK') };
  const names: Record<string, string> = {
    baseUrl: 'MAESTRO_LLM_BASE_URL',
    model: modelVar,
    apiKey: 'MAESTRO_LLM_API_KEY',
    timeoutMs: 'MAESTRO_LLM_TIMEOUT_MS',
    prices: 'MAESTRO_LLM_PRICE_INPUT_PER_MTOK / MAESTRO_LLM_PRICE_OUTPUT_PER_MTOK',
  };
  return {
    input: {
      baseUrl,
      model: env[modelVar] ?? '',
      ...(env.MAESTRO_LLM_API_KEY ? { apiKey: env.MAESTRO_LLM_API_KEY } : {}),
      ...(timeout ? { timeoutMs: /^\d+$/.test(timeout) ? Number(timeout) : NaN } : {}),
      prices: Object.fromEntries(Object.entries(prices).filter(([, v]) => v !== undefined)),
    },
    fieldName: (k) => names[k] ?? k,
  };
}

/** The client config from MAESTRO_LLM_* (model from `modelVar`); undefined when MAESTRO_LLM_BASE_URL is unset. */
export function llmClientConfigFromEnv(env: NodeJS.ProcessEnv = process.env, modelVar = 'MAESTRO_LLM_MODEL', what = 'LLM client'): LlmClientConfig | undefined {
  const read = llmEnvInput(env, modelVar);
  if (!read) return undefined;
  return parseLlmConfigWith(llmClientConfigSchema, read.input, what, read.fieldName);
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface LlmClient {
  /** e.g. `spec provider 'openai-compatible:gpt-4o'`: how errors name the caller. */
  readonly label: string;
  readonly model: string;
  /** POSTs JSON to `<base URL>/<path>` and returns the parsed JSON body of a 2xx answer. */
  postJson(path: string, body: Record<string, unknown>): Promise<unknown>;
  /** One chat/completions round (temperature 0): the first choice's message content. */
  chat(messages: ChatMessage[], extra?: Record<string, unknown>): Promise<string>;
  /** Removes the API key from a text (for callers' own error messages). */
  redact(text: string): string;
}

const completionSchema = z.object({
  choices: z
    .array(z.object({ message: z.object({ content: z.string().min(1, 'is empty') }).passthrough() }).passthrough())
    .min(1, 'has no choices'),
});

/** The URL without credentials, query or fragment: safe to put in a message. */
function describeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/** Zod issues as `path: message` (at most 3), for error messages. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

/** The GenAI `operation.name` of each endpoint path. */
const GEN_AI_OPERATIONS: Record<string, string> = { 'chat/completions': 'chat', embeddings: 'embeddings', completions: 'text_completion' };

/** A client for one OpenAI-compatible endpoint; `label` names the caller in every error message. */
export function createLlmClient(configInput: LlmClientConfigInput, label: string): LlmClient {
  const config = parseLlmConfigWith(llmClientConfigSchema, configInput, 'LLM client');
  const apiKey = config.apiKey;
  const base = config.baseUrl.replace(/\/+$/, '');
  const redact = (text: string): string => (apiKey ? text.split(apiKey).join('[redacted]') : text);

  /** One request as a GenAI client span: model, server, tokens and cost; failures as the span's error. */
  function postJson(path: string, payload: Record<string, unknown>): Promise<unknown> {
    const operation = GEN_AI_OPERATIONS[path.replace(/^\/+|\/+$/g, '')] ?? path;
    const endpoint = new URL(`${base}/${path.replace(/^\/+/, '')}`);
    const attributes = {
      [GEN_AI.operationName]: operation,
      [GEN_AI.providerName]: 'openai',
      [GEN_AI.requestModel]: typeof payload.model === 'string' ? payload.model : config.model,
      ...(typeof payload.temperature === 'number' ? { [GEN_AI.requestTemperature]: payload.temperature } : {}),
      'server.address': endpoint.hostname,
      ...(endpoint.port ? { 'server.port': Number(endpoint.port) } : {}),
    };
    return inSpan(`${operation} ${attributes[GEN_AI.requestModel]}`, { kind: SpanKind.CLIENT, attributes }, async (span) => {
      const answer = await send(endpoint, payload);
      const usage: LlmUsage | undefined = usageOfAnswer(answer, config.prices);
      if (usage) span.setAttributes(usageAttributes(usage));
      return answer;
    });
  }

  async function send(endpoint: URL, payload: Record<string, unknown>): Promise<unknown> {
    const where = describeUrl(endpoint);
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (apiKey) headers.authorization = `Bearer ${apiKey}`;
    let response: Response;
    let text: string;
    try {
      response = await fetch(endpoint, { method: 'POST', headers, body: JSON.stringify(payload), signal: AbortSignal.timeout(config.timeoutMs), redirect: 'error' });
      text = await response.text();
    } catch (error) {
      const err = error as Error & { cause?: { code?: string; message?: string } };
      const reason =
        err.name === 'TimeoutError' || err.name === 'AbortError'
          ? `no answer within ${config.timeoutMs} ms`
          : `${err.message}${err.cause?.code ? ` (${err.cause.code})` : err.cause?.message ? ` (${err.cause.message})` : ''}`;
      throw new LlmUnavailableError(redact(`${label} at ${where} is unavailable: ${reason}`));
    }
    if (!response.ok) {
      const detail = redact(text.replace(/\s+/g, ' ').trim().slice(0, 200));
      const message = `${label} at ${where} answered HTTP ${response.status}${detail ? `: ${detail}` : ''}`;
      if (response.status >= 500 || response.status === 408 || response.status === 429) throw new LlmUnavailableError(message);
      throw new LlmRejectedError(message);
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new LlmResponseError(redact(`${label} returned a body that is not JSON: ${JSON.stringify(text.slice(0, 120))}`));
    }
  }

  return {
    label,
    model: config.model,
    postJson,
    async chat(messages, extra = {}) {
      const json = await postJson('chat/completions', { model: config.model, temperature: 0, ...extra, messages });
      const completion = completionSchema.safeParse(json);
      if (!completion.success) throw new LlmResponseError(redact(`${label} returned no chat completion: ${describeIssues(completion.error)}`));
      return completion.data.choices[0]!.message.content;
    },
    redact,
  };
}
