/** The gateway's pure decisions: prices by date, budget caps, cache keys, cosine. */
import fc from 'fast-check';
import { budgetVerdict, cacheKey, normalizePrompt, parsePriceTable, priceAt, vectorCosine } from '../../../core/llm-gateway';
import { InvalidInputError } from '../../../core/errors';
import { loadPriceTable } from '../../../llm/gateway';

const table = parsePriceTable(
  {
    currency: 'USD',
    entries: [
      { provider: 'openai', model: 'm', effectiveFrom: '2025-01-01', inputPerMTok: 1, outputPerMTok: 2, source: 'old' },
      { provider: 'openai', model: 'm', effectiveFrom: '2026-06-01', inputPerMTok: 0.5, outputPerMTok: 1, source: 'new' },
    ],
  },
  'test',
);

test('the price in force is the newest entry not after the call; an unpriced model or a call before any entry is refused', () => {
  expect(priceAt(table, 'openai', 'm', new Date('2026-05-31T23:59:00Z'))).toEqual({ inputPerMTok: 1, outputPerMTok: 2 });
  expect(priceAt(table, 'openai', 'm', new Date('2026-06-01T00:00:00Z'))).toEqual({ inputPerMTok: 0.5, outputPerMTok: 1 });
  expect(() => priceAt(table, 'openai', 'm', new Date('2024-12-31'))).toThrow(/no price for openai\/m on 2024-12-31/);
  expect(() => priceAt(table, 'openai', 'other', new Date())).toThrow(InvalidInputError);
});

test('the shipped price table parses and prices both local tiers; a bad table names the entry and field', () => {
  const shipped = loadPriceTable();
  expect(priceAt(shipped, 'local', 'smollm2-135m-instruct-q4_1', new Date('2026-12-02'))).toEqual({ inputPerMTok: 0.15, outputPerMTok: 0.6 });
  expect(priceAt(shipped, 'local', 'gemma3-270m-q4_k_m', new Date('2026-12-02'))).toEqual({ inputPerMTok: 2.5, outputPerMTok: 10 });
  expect(() => parsePriceTable({ currency: 'USD', entries: [{ provider: 'p', model: 'm', effectiveFrom: '1/2/2026', inputPerMTok: -1, outputPerMTok: 0, source: 's' }] }, 'x.json')).toThrow(
    /invalid LLM price table x\.json: entries\.0\.effectiveFrom: a date as YYYY-MM-DD; entries\.0\.inputPerMTok/,
  );
});

test('property: a budget cap is never crossed — an allowed call keeps spend within every cap', () => {
  const money = fc.double({ min: 0, max: 10, noNaN: true });
  fc.assert(
    fc.property(money, money, money, fc.option(money, { nil: undefined }), fc.option(money, { nil: undefined }), (spentTrain, spentDay, estimate, perTrain, perDay) => {
      const caps = { ...(perTrain ? { perTrainUsd: perTrain } : {}), ...(perDay ? { perDayUsd: perDay } : {}) };
      const v = budgetVerdict({ caps, trainId: 't', spentTrainUsd: spentTrain, spentDayUsd: spentDay, estimateUsd: estimate });
      if (v.allowed) {
        if (caps.perTrainUsd !== undefined) expect(spentTrain + estimate).toBeLessThanOrEqual(caps.perTrainUsd);
        if (caps.perDayUsd !== undefined) expect(spentDay + estimate).toBeLessThanOrEqual(caps.perDayUsd);
      } else expect(v.reason).toMatch(/would pass (its|the daily) cap/);
    }),
  );
});

test('property: the cache key ignores whitespace layout and parameter order, and separates model, template, parameters and call type', () => {
  fc.assert(
    fc.property(fc.array(fc.stringMatching(/^[a-zA-Z0-9(){}.,]{1,8}$/), { minLength: 1, maxLength: 8 }), fc.constantFrom(' ', '  ', '\n', '\t '), (words, gap) => {
      const prompt = words.join(' ');
      const spaced = `${gap}${words.join(gap)}${gap}`;
      const k = (over: Partial<Parameters<typeof cacheKey>[0]> = {}) => cacheKey({ callType: 'spec', model: 'm', template: 't@1', params: { a: 1, b: 2 }, prompt, ...over });
      expect(k({ prompt: spaced, params: { b: 2, a: 1 } })).toBe(k());
      expect(normalizePrompt(spaced)).toBe(prompt);
      expect(k({ model: 'n' })).not.toBe(k());
      expect(k({ template: 't@2' })).not.toBe(k());
      expect(k({ params: { a: 1, b: 3 } })).not.toBe(k());
      expect(k({ callType: 'judge' })).not.toBe(k());
      expect(k({ prompt: prompt.toUpperCase() === prompt ? `${prompt}x` : prompt.toUpperCase() })).not.toBe(k());
    }),
  );
});

test('cosine: 1 for parallel vectors, 0 for orthogonal, zero or mismatched ones', () => {
  expect(vectorCosine([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 12);
  expect(vectorCosine([1, 0], [0, 1])).toBe(0);
  expect(vectorCosine([0, 0], [1, 1])).toBe(0);
  expect(vectorCosine([1, 2], [1, 2, 3])).toBe(0);
});
