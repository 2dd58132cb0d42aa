/**
 * A SpecProvider for any OpenAI-compatible `POST <base URL>/chat/completions` endpoint (OpenAI, Azure
 * OpenAI's compatible route, vLLM, Ollama, LiteLLM, ...). Configured from the environment:
 *
 *   MAESTRO_LLM_BASE_URL    e.g. https://api.openai.com/v1 (selects this provider when set)
 *   MAESTRO_LLM_MODEL       model name, required with a base URL
 *   MAESTRO_LLM_API_KEY     bearer token; optional (local servers often need none)
 *   MAESTRO_LLM_TIMEOUT_MS  per-request timeout, default 60000
 *
 * The API key lives only in this module's closure: it is never a property of the provider, never
 * logged, and redacted from every error message (an upstream body that echoes it included).
 *
 * What the model returns is untrusted text; core/spec's acceptProviderSpec validates it. Failures here:
 * - SpecProviderError (→ non-retryable InvalidProviderOutput): a 2xx whose body is not a chat completion.
 * - SpecProviderUnavailableError (→ retryable SpecProviderUnavailable): network error, timeout, 408, 429, 5xx.
 * - SpecProviderRejectedError (→ non-retryable SpecProviderRejected): any other 4xx (bad key, unknown model).
 */
import { z } from 'zod';
import type { ChangeRequest } from '../../core/change-request';
import { filesTouchedByDiff, SpecProviderError, type SpecProvider } from '../../core/spec';
import type { Spec } from '../../core/stages';

export const llmConfigSchema = z
  .object({
    baseUrl: z
      .string()
      .url('must be an http(s) URL')
      .refine((u) => /^https?:\/\//i.test(u), 'must be an http(s) URL'),
    model: z.string().trim().min(1, 'is required when MAESTRO_LLM_BASE_URL is set'),
    apiKey: z.string().min(1).optional(),
    timeoutMs: z.number().int().min(1).max(600_000).default(60_000),
    /** Longest diff sent to the model, in characters; the offline draft already names every touched file. */
    maxDiffChars: z.number().int().min(0).default(20_000),
  })
  .strict();
export type LlmConfigInput = z.input<typeof llmConfigSchema>;
export type LlmConfig = z.output<typeof llmConfigSchema>;

const ENV_NAMES: Record<string, string> = {
  baseUrl: 'MAESTRO_LLM_BASE_URL',
  model: 'MAESTRO_LLM_MODEL',
  apiKey: 'MAESTRO_LLM_API_KEY',
  timeoutMs: 'MAESTRO_LLM_TIMEOUT_MS',
};

export class LlmConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LlmConfigError';
  }
}

/** Validates a config; the message names the bad fields (by env variable) and never echoes a value. */
export function parseLlmConfig(input: unknown, fieldName: (key: string) => string = (k) => k): LlmConfig {
  const parsed = llmConfigSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw new LlmConfigError(`invalid LLM spec provider config: ${parsed.error.issues.map((i) => `${i.path.length ? fieldName(String(i.path[0])) : '(config)'}: ${i.message}`).join('; ')}`);
}

/** The config from MAESTRO_LLM_*; undefined when MAESTRO_LLM_BASE_URL is unset or empty (offline). */
export function llmConfigFromEnv(env: NodeJS.ProcessEnv = process.env): LlmConfig | undefined {
  const baseUrl = env.MAESTRO_LLM_BASE_URL?.trim();
  if (!baseUrl) return undefined;
  const timeout = env.MAESTRO_LLM_TIMEOUT_MS?.trim();
  return parseLlmConfig(
    {
      baseUrl,
      model: env.MAESTRO_LLM_MODEL ?? '',
      ...(env.MAESTRO_LLM_API_KEY ? { apiKey: env.MAESTRO_LLM_API_KEY } : {}),
      ...(timeout ? { timeoutMs: /^\d+$/.test(timeout) ? Number(timeout) : NaN } : {}),
    },
    (k) => ENV_NAMES[k] ?? k,
  );
}

/** A transient failure (network, timeout, 408/429/5xx): retrying may succeed. */
export class SpecProviderUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SpecProviderUnavailableError';
  }
}

/** The endpoint refused the request (4xx other than 408/429): retrying will not help. */
export class SpecProviderRejectedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SpecProviderRejectedError';
  }
}

const SYSTEM_PROMPT = `You write minimal, verifiable specs for code changes.
Reply with one JSON object and nothing else, of this exact shape:
{"changeId": string, "title": string,
 "scenarios": [{"id": "SPEC-<changeId>-<n>", "given": string, "when": string, "then": string}, ...],
 "acceptanceCriteria": [{"id": "AC-<changeId>-<n>", "text": string}, ...]}
Rules: changeId is exactly the change request's id; ids are numbered from 1 without gaps or duplicates;
at least one scenario and one acceptance criterion; no other keys. Every criterion must be checkable by a
test. You get an offline draft: keep what is right in it, sharpen vague statements, add what it misses.`;

const completionSchema = z.object({
  choices: z
    .array(z.object({ message: z.object({ content: z.string().min(1, 'is empty') }).passthrough() }).passthrough())
    .min(1, 'has no choices'),
});

/** The URL without credentials, query or fragment: safe to put in a message. */
function describeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/** The user message: the request (without its local repo path, the diff capped) and the draft. */
function userMessage(cr: ChangeRequest, draft: Spec, maxDiffChars: number): string {
  const change =
    cr.change.kind === 'patch'
      ? {
          kind: 'patch',
          files: filesTouchedByDiff(cr.change.diff),
          diff: cr.change.diff.length > maxDiffChars ? `${cr.change.diff.slice(0, maxDiffChars)}\n[diff truncated at ${maxDiffChars} characters]` : cr.change.diff,
        }
      : cr.change;
  const request = { id: cr.id, title: cr.title, intent: cr.intent, service: cr.service, baseBranch: cr.baseBranch, protectedPaths: cr.protectedPaths, change };
  return `Change request:\n${JSON.stringify(request, null, 2)}\n\nOffline draft spec:\n${JSON.stringify(draft, null, 2)}`;
}

/** An OpenAI-compatible chat/completions SpecProvider; its output is validated by the caller (acceptProviderSpec). */
export function openAICompatibleSpecProvider(configInput: LlmConfigInput): SpecProvider {
  const config = parseLlmConfig(configInput);
  const apiKey = config.apiKey;
  const endpoint = new URL(`${config.baseUrl.replace(/\/+$/, '')}/chat/completions`);
  const where = describeUrl(endpoint);
  const name = `openai-compatible:${config.model}`;
  const redact = (text: string): string => (apiKey ? text.split(apiKey).join('[redacted]') : text);

  return {
    name,
    async synthesize(cr, draft) {
      const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
      if (apiKey) headers.authorization = `Bearer ${apiKey}`;
      const body = JSON.stringify({
        model: config.model,
        temperature: 0,
        messages: [
          { role: 'system', content: SYSTEM_PROMPT },
          { role: 'user', content: userMessage(cr, draft, config.maxDiffChars) },
        ],
      });
      let response: Response;
      let text: string;
      try {
        response = await fetch(endpoint, { method: 'POST', headers, body, signal: AbortSignal.timeout(config.timeoutMs), redirect: 'error' });
        text = await response.text();
      } catch (error) {
        const err = error as Error & { cause?: { code?: string; message?: string } };
        const reason =
          err.name === 'TimeoutError' || err.name === 'AbortError' ? `no answer within ${config.timeoutMs} ms` : `${err.message}${err.cause?.code ? ` (${err.cause.code})` : err.cause?.message ? ` (${err.cause.message})` : ''}`;
        throw new SpecProviderUnavailableError(redact(`spec provider '${name}' at ${where} is unavailable: ${reason}`));
      }
      if (!response.ok) {
        const detail = redact(text.replace(/\s+/g, ' ').trim().slice(0, 200));
        const message = `spec provider '${name}' at ${where} answered HTTP ${response.status}${detail ? `: ${detail}` : ''}`;
        if (response.status >= 500 || response.status === 408 || response.status === 429) throw new SpecProviderUnavailableError(message);
        throw new SpecProviderRejectedError(message);
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new SpecProviderError(redact(`spec provider '${name}' returned a body that is not JSON: ${JSON.stringify(text.slice(0, 120))}`));
      }
      const completion = completionSchema.safeParse(json);
      if (!completion.success)
        throw new SpecProviderError(
          redact(`spec provider '${name}' returned no chat completion: ${completion.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`),
        );
      // The model's text; acceptProviderSpec parses (fenced) JSON and validates it against the spec schema.
      return completion.data.choices[0]!.message.content;
    },
  };
}
