/** Usage and cost of one LLM answer, and its GenAI span attributes. */
import fc from 'fast-check';
import { costUsd, GEN_AI, LLM_COST_USD, llmPricesSchema, usageAttributes, usageOfAnswer } from '../../../core/llm-usage';

const prices = llmPricesSchema.parse({ inputPerMTok: 2.5, outputPerMTok: 10 });

describe('usageOfAnswer', () => {
  test('reads an OpenAI chat completion: tokens, model, id and the cost at the given prices', () => {
    const answer = { id: 'chatcmpl-1', model: 'gpt-4o-2024-08-06', choices: [], usage: { prompt_tokens: 1200, completion_tokens: 300, total_tokens: 1500 } };
    expect(usageOfAnswer(answer, prices)).toEqual({ inputTokens: 1200, outputTokens: 300, costUsd: 0.006, responseModel: 'gpt-4o-2024-08-06', responseId: 'chatcmpl-1' });
  });

  test('an embeddings answer has input tokens only', () => {
    expect(usageOfAnswer({ data: [], usage: { prompt_tokens: 8, total_tokens: 8 } }, prices)).toEqual({ inputTokens: 8, outputTokens: 0, costUsd: 0.00002 });
  });

  test('no usage, or a malformed one, is no usage (the span then carries no token counts)', () => {
    expect(usageOfAnswer({ choices: [] }, prices)).toBeUndefined();
    expect(usageOfAnswer({ usage: { prompt_tokens: -1 } }, prices)).toBeUndefined();
    expect(usageOfAnswer('text', prices)).toBeUndefined();
  });

  test('prices default to 0 (a local model) and refuse negative values', () => {
    expect(usageOfAnswer({ usage: { prompt_tokens: 10, completion_tokens: 5 } }, llmPricesSchema.parse({}))?.costUsd).toBe(0);
    expect(llmPricesSchema.safeParse({ inputPerMTok: -1 }).success).toBe(false);
  });
});

describe('costUsd', () => {
  const tokens = fc.integer({ min: 0, max: 10_000_000 });
  const price = fc.double({ min: 0, max: 100, noNaN: true });

  test('is never negative, and 0 for no tokens', () => {
    fc.assert(fc.property(tokens, tokens, price, price, (i, o, pi, po) => costUsd(i, o, { inputPerMTok: pi, outputPerMTok: po }) >= 0 && costUsd(0, 0, { inputPerMTok: pi, outputPerMTok: po }) === 0));
  });

  test('grows with the tokens used', () => {
    fc.assert(fc.property(tokens, tokens, tokens, price, price, (i, o, more, pi, po) => costUsd(i + more, o + more, { inputPerMTok: pi, outputPerMTok: po }) >= costUsd(i, o, { inputPerMTok: pi, outputPerMTok: po })));
  });

  test('is within half a millionth of a dollar of the exact figure (the ledger stores millionths)', () => {
    fc.assert(fc.property(tokens, tokens, price, price, (i, o, pi, po) => Math.abs(costUsd(i, o, { inputPerMTok: pi, outputPerMTok: po }) - (i * pi + o * po) / 1e6) <= 0.5e-6 + 1e-12));
  });
});

test('usageAttributes names the tokens by the GenAI conventions and adds the cost', () => {
  expect(usageAttributes({ inputTokens: 3, outputTokens: 4, costUsd: 0.1, responseModel: 'm' })).toEqual({
    [GEN_AI.inputTokens]: 3,
    'gen_ai.usage.output_tokens': 4,
    [LLM_COST_USD]: 0.1,
    'gen_ai.response.model': 'm',
  });
});
