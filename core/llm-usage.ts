/**
 * What one LLM call used and cost, and how it is named on its trace span: the OpenTelemetry GenAI
 * semantic conventions (`gen_ai.*`; the names are written out here because the conventions package
 * exports them only from its `incubating` entry, which this project's module resolution cannot load).
 * Cost has no convention yet: `maestro.llm.cost_usd`, from the configured per-million-token prices.
 */
import { z } from 'zod';

export const GEN_AI = {
  operationName: 'gen_ai.operation.name',
  providerName: 'gen_ai.provider.name',
  requestModel: 'gen_ai.request.model',
  requestTemperature: 'gen_ai.request.temperature',
  responseModel: 'gen_ai.response.model',
  responseId: 'gen_ai.response.id',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
} as const;
export const LLM_COST_USD = 'maestro.llm.cost_usd';

/** USD per million tokens, input and output; a local model's are 0. */
export const llmPricesSchema = z.object({
  inputPerMTok: z.number().finite().min(0, 'must be ≥ 0 (USD per million input tokens)').default(0),
  outputPerMTok: z.number().finite().min(0, 'must be ≥ 0 (USD per million output tokens)').default(0),
});
export type LlmPrices = z.output<typeof llmPricesSchema>;

/** The `usage` of an OpenAI-compatible answer (chat completions and embeddings); absent when the server sends none. */
const openAiUsageSchema = z.object({
  usage: z.object({ prompt_tokens: z.number().int().min(0), completion_tokens: z.number().int().min(0).optional() }).passthrough(),
  model: z.string().optional(),
  id: z.string().optional(),
});

export interface LlmUsage {
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  /** The model the server says answered (may differ from the one asked for). */
  responseModel?: string;
  responseId?: string;
}

/** Usage and cost of one answer; undefined when the answer carries no (valid) usage. */
export function usageOfAnswer(answer: unknown, prices: LlmPrices): LlmUsage | undefined {
  const parsed = openAiUsageSchema.safeParse(answer);
  if (!parsed.success) return undefined;
  const inputTokens = parsed.data.usage.prompt_tokens;
  const outputTokens = parsed.data.usage.completion_tokens ?? 0;
  return {
    inputTokens,
    outputTokens,
    costUsd: costUsd(inputTokens, outputTokens, prices),
    ...(parsed.data.model ? { responseModel: parsed.data.model } : {}),
    ...(parsed.data.id ? { responseId: parsed.data.id } : {}),
  };
}

/** Rounded to a millionth of a dollar, as the cost ledger stores it. */
export function costUsd(inputTokens: number, outputTokens: number, prices: LlmPrices): number {
  return Math.round(inputTokens * prices.inputPerMTok + outputTokens * prices.outputPerMTok) / 1e6;
}

/** The span attributes of a usage (GenAI conventions plus the cost). */
export function usageAttributes(usage: LlmUsage): Record<string, string | number> {
  return {
    [GEN_AI.inputTokens]: usage.inputTokens,
    [GEN_AI.outputTokens]: usage.outputTokens,
    [LLM_COST_USD]: usage.costUsd,
    ...(usage.responseModel ? { [GEN_AI.responseModel]: usage.responseModel } : {}),
    ...(usage.responseId ? { [GEN_AI.responseId]: usage.responseId } : {}),
  };
}
