/**
 * The pure decisions of the LLM gateway (llm/gateway.ts): what a call costs by the dated price table,
 * whether a budget cap lets it run, the cache key of a prompt, and the cosine of two embeddings.
 */
import crypto from 'node:crypto';
import { z } from 'zod';
import { InvalidInputError } from './errors';
import type { LlmPrices } from './llm-usage';

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD');

/**
 * The price table (llm/prices.json): USD per million tokens per (provider, model), each valid from a
 * date; the newest entry not after the call's date applies. A local model's cash price is 0: the table
 * may give it the `shadowOf` price of the hosted model its tier stands in for, so $/PR stays comparable.
 */
export const priceTableSchema = z
  .object({
    currency: z.literal('USD'),
    entries: z
      .array(
        z
          .object({
            provider: z.string().min(1),
            model: z.string().min(1),
            effectiveFrom: isoDate,
            inputPerMTok: z.number().finite().min(0),
            outputPerMTok: z.number().finite().min(0),
            /** `<provider>/<model>` whose published price this local model is charged at. */
            shadowOf: z.string().min(1).optional(),
            source: z.string().min(1),
          })
          .strict(),
      )
      .min(1, 'lists no prices'),
  })
  .strict();
export type PriceTable = z.output<typeof priceTableSchema>;

/** Parses a price table; a bad one throws InvalidInputError naming the entry and field. */
export function parsePriceTable(input: unknown, where: string): PriceTable {
  const parsed = priceTableSchema.safeParse(input);
  if (!parsed.success)
    throw new InvalidInputError(`invalid LLM price table ${where}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')} — fix the file (USD per million tokens, dated)`);
  return parsed.data;
}

/** The prices in force for (provider, model) at `at`; a model the table does not list throws (an unpriced call would break the caps). */
export function priceAt(table: PriceTable, provider: string, model: string, at: Date): LlmPrices {
  const day = at.toISOString().slice(0, 10);
  const entry = table.entries
    .filter((e) => e.provider === provider && e.model === model && e.effectiveFrom <= day)
    .sort((a, b) => b.effectiveFrom.localeCompare(a.effectiveFrom))[0];
  if (!entry) throw new InvalidInputError(`the LLM price table has no price for ${provider}/${model} on ${day}: add an entry (effectiveFrom ≤ ${day}) to llm/prices.json`);
  return { inputPerMTok: entry.inputPerMTok, outputPerMTok: entry.outputPerMTok };
}

/** Budget caps in USD; absent means no cap. */
export const budgetCapsSchema = z
  .object({
    perTrainUsd: z.number().finite().positive().optional(),
    perDayUsd: z.number().finite().positive().optional(),
  })
  .strict();
export type BudgetCaps = z.output<typeof budgetCapsSchema>;

export type BudgetVerdict = { allowed: true } | { allowed: false; rule: 'llm-budget-train' | 'llm-budget-day'; reason: string };

/**
 * Whether a call estimated at `estimateUsd` may run, given what was spent (this train, this UTC day).
 * A cap is never crossed: a call that would cross it is refused before it is made.
 */
export function budgetVerdict(input: { caps: BudgetCaps; trainId?: string; spentTrainUsd: number; spentDayUsd: number; estimateUsd: number }): BudgetVerdict {
  const { caps, estimateUsd } = input;
  const usd = (n: number) => `$${n.toFixed(6)}`;
  if (caps.perTrainUsd !== undefined && input.trainId !== undefined && input.spentTrainUsd + estimateUsd > caps.perTrainUsd)
    return {
      allowed: false,
      rule: 'llm-budget-train',
      reason: `train ${input.trainId} has spent ${usd(input.spentTrainUsd)} on LLM calls; this call (estimated ${usd(estimateUsd)}) would pass its cap of ${usd(caps.perTrainUsd)} (MAESTRO_LLM_BUDGET_TRAIN_USD)`,
    };
  if (caps.perDayUsd !== undefined && input.spentDayUsd + estimateUsd > caps.perDayUsd)
    return {
      allowed: false,
      rule: 'llm-budget-day',
      reason: `LLM calls have spent ${usd(input.spentDayUsd)} today (UTC); this call (estimated ${usd(estimateUsd)}) would pass the daily cap of ${usd(caps.perDayUsd)} (MAESTRO_LLM_BUDGET_DAY_USD)`,
    };
  return { allowed: true };
}

/** A prompt for the exact cache: Unicode-normalized, whitespace collapsed, trimmed (case kept: code is case-sensitive). */
export function normalizePrompt(text: string): string {
  return text.normalize('NFKC').replace(/\s+/g, ' ').trim();
}

/** The exact-cache key: sha256 over call type, model, template, parameters (sorted) and the normalized prompt. */
export function cacheKey(input: { callType: string; model: string; template: string; params: Record<string, unknown>; prompt: string }): string {
  const params = Object.fromEntries(Object.entries(input.params).filter(([, v]) => v !== undefined).sort(([a], [b]) => a.localeCompare(b)));
  return crypto
    .createHash('sha256')
    .update(JSON.stringify([input.callType, input.model, input.template, params, normalizePrompt(input.prompt)]))
    .digest('hex');
}

/** Cosine of two vectors, clamped to [0, 1]; 0 when either is zero or their lengths differ. */
export function vectorCosine(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) return 0;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : Math.max(0, Math.min(1, dot / Math.sqrt(na * nb)));
}

/** A rough token count before the call (≈ 4 characters a token), for the budget estimate only. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
