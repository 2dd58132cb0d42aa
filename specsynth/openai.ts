/**
 * A SpecProvider for any OpenAI-compatible `POST <base URL>/chat/completions` endpoint, through the LLM
 * gateway (llm/gateway.ts: ledger, cache, budget caps, routing; call type `spec`, template
 * `spec.synthesize@1`) over the shared client of llm/openai.ts (config from MAESTRO_LLM_BASE_URL /
 * MAESTRO_LLM_MODEL / MAESTRO_LLM_API_KEY / MAESTRO_LLM_TIMEOUT_MS, timeout, key redaction, redirect
 * refusal, error mapping).
 *
 * What the model returns is untrusted text; core/spec's acceptProviderSpec validates it. Failures here:
 * - SpecProviderError (→ non-retryable InvalidProviderOutput): a 2xx whose body is not a chat completion.
 * - SpecProviderUnavailableError (→ retryable SpecProviderUnavailable): network error, timeout, 408, 429, 5xx.
 * - SpecProviderRejectedError (→ non-retryable SpecProviderRejected): any other 4xx (bad key, unknown model).
 */
import { z } from 'zod';
import type { ChangeRequest } from '../core/change-request';
import { acceptProviderSpec, filesTouchedByDiff, SpecProviderError, type SpecProvider } from '../core/spec';
import type { Spec } from '../core/stages';
import { PermanentError, TransientError } from '../core/errors';
import { createGateway, type LlmGateway } from '../llm/gateway';
import { MemoryLlmLedger } from '../llm/memory-ledger';
import { llmClientConfigSchema, llmEnvInput, LlmRejectedError, LlmResponseError, LlmUnavailableError, parseLlmConfigWith } from '../llm/openai';

export { LlmConfigError } from '../llm/openai';

export class SpecProviderRejectedError extends PermanentError {
  constructor(message: string) {
    super(message, 'SpecProviderRejected');
  }
}
export class SpecProviderUnavailableError extends TransientError {
  constructor(message: string) {
    super(message, 'SpecProviderUnavailable');
  }
}

export const llmConfigSchema = llmClientConfigSchema
  .extend({
    /** Longest diff sent to the model, in characters; the offline draft already names every touched file. */
    maxDiffChars: z.number().int().min(0).default(20_000),
  })
  .strict();
export type LlmConfigInput = z.input<typeof llmConfigSchema>;
export type LlmConfig = z.output<typeof llmConfigSchema>;

const WHAT = 'LLM spec provider';

/** Validates a config; the message names the bad fields (by env variable) and never echoes a value. */
export function parseLlmConfig(input: unknown, fieldName: (key: string) => string = (k) => k): LlmConfig {
  return parseLlmConfigWith(llmConfigSchema, input, WHAT, fieldName);
}

/** The config from MAESTRO_LLM_*; undefined when MAESTRO_LLM_BASE_URL is unset or empty (offline). */
export function llmConfigFromEnv(env: NodeJS.ProcessEnv): LlmConfig | undefined {
  const read = llmEnvInput(env);
  return read ? parseLlmConfig(read.input, read.fieldName) : undefined;
}

const SYSTEM_PROMPT = `You write minimal, verifiable specs for code changes.
Reply with one JSON object and nothing else, of this exact shape:
{"changeId": string, "title": string,
 "scenarios": [{"id": "SPEC-<changeId>-<n>", "given": string, "when": string, "then": string}, ...],
 "acceptanceCriteria": [{"id": "AC-<changeId>-<n>", "text": string}, ...]}
Rules: changeId is exactly the change request's id; ids are numbered from 1 without gaps or duplicates;
at least one scenario and one acceptance criterion; no other keys. Every criterion must be checkable by a
test. You get an offline draft: keep what is right in it, sharpen vague statements, add what it misses.`;

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

/** The prompt template the ledger and the cache know this provider's calls by. */
export const SPEC_TEMPLATE = { id: 'spec.synthesize', version: '1' } as const;

/**
 * An OpenAI-compatible chat/completions SpecProvider through `gateway` (default: one over an in-memory
 * ledger, for a bare config); its output is validated by the caller (acceptProviderSpec).
 */
export function openAICompatibleSpecProvider(configInput: LlmConfigInput, opts: { gateway?: LlmGateway; env?: NodeJS.ProcessEnv } = {}): SpecProvider {
  const { maxDiffChars, ...clientConfig } = parseLlmConfig(configInput);
  const name = `openai-compatible:${clientConfig.model}`;
  const gateway = opts.gateway ?? createGateway(clientConfig, opts.env ?? {}, new MemoryLlmLedger());

  return {
    name,
    async synthesize(cr, draft, context = {}) {
      try {
        // The model's text; acceptProviderSpec parses (fenced) JSON and validates it against the spec schema.
        const answer = await gateway.chat({
          callType: 'spec',
          template: SPEC_TEMPLATE,
          stage: 'synthesizeSpec',
          ...(context.trainId ? { trainId: context.trainId } : {}),
          maxTokens: 2048,
          // Only a spec that passes validation is served again.
          cacheable: (text) => {
            try {
              acceptProviderSpec(name, cr.id, text);
              return true;
            } catch {
              return false;
            }
          },
          messages: [
            { role: 'system', content: SYSTEM_PROMPT },
            { role: 'user', content: userMessage(cr, draft, maxDiffChars) },
          ],
        });
        return answer.text;
      } catch (error) {
        if (error instanceof LlmResponseError) throw new SpecProviderError(`spec provider '${name}': ${error.message}`);
        if (error instanceof LlmRejectedError) throw new SpecProviderRejectedError(error.message);
        if (error instanceof LlmUnavailableError) throw new SpecProviderUnavailableError(error.message);
        throw error;
      }
    },
  };
}
