/**
 * The LLM gateway against the real embedded model (SmolLM2-135M-Instruct through infra/llm's
 * OpenAI-compatible server, started or reused on MAESTRO_LLM_PORT) and a real ledger in the record.
 * Answers are kept a few tokens long: the model runs on 2 shared cores.
 */
import { ensureLlmServer, llmServerOptionsFromEnv, LOCAL_MODELS } from '../../../infra/llm/server';
import { DEFAULT_SEMANTIC_CACHE, LlmBudgetExceededError, LlmGateway, loadPriceTable, type GatewayOptions } from '../../../llm/gateway';
import { LlmLedgerStore } from '../../../record/llm-ledger';
import { freshDatabase, type FreshDb } from '../../helpers/fresh-db';

const [SMALL, LARGE] = LOCAL_MODELS.map((m) => m.id) as [string, string];
let db: FreshDb;
let ledger: LlmLedgerStore;
let baseUrl: string;

beforeAll(async () => {
  db = await freshDatabase('llm_gateway');
  ledger = new LlmLedgerStore({ prisma: db.prisma });
  baseUrl = (await ensureLlmServer(llmServerOptionsFromEnv(), 120_000)).url;
}, 180_000);
afterAll(() => db.drop());

const gateway = (over: Partial<GatewayOptions> = {}) =>
  new LlmGateway({ provider: 'local', baseUrl, tiers: { small: SMALL, large: LARGE }, embeddingModel: SMALL, prices: loadPriceTable(), caps: {}, ledger, cache: { exact: true }, ...over });

const ask = (text: string, trainId: string) => ({
  callType: 'classify',
  template: { id: 'test.classify', version: '1' },
  messages: [{ role: 'user' as const, content: text }],
  maxTokens: 4,
  tier: 'small' as const,
  trainId,
  stage: 'test',
});

test('a call is answered by the model and written to the ledger, priced by the dated table; the same prompt again is an exact hit at $0', async () => {
  const g = gateway();
  const fresh = await g.chat(ask('The capital of France is', 'train-exact'));
  expect(fresh).toMatchObject({ cache: 'miss', model: SMALL, tier: 'small' });
  expect(fresh.text.length).toBeGreaterThan(0);
  expect(fresh.tokensIn).toBeGreaterThan(5);
  expect(fresh.tokensOut).toBeGreaterThan(0);
  // The small tier's shadow price: $0.15 / $0.60 per million tokens.
  expect(fresh.costUsd).toBeCloseTo(Math.round(fresh.tokensIn * 0.15 + fresh.tokensOut * 0.6) / 1e6, 9);

  const again = await g.chat(ask('  The capital  of France is ', 'train-exact'));
  expect(again).toMatchObject({ cache: 'exact', text: fresh.text, costUsd: 0, tokensIn: 0 });

  const rows = await ledger.rows({ callType: 'classify' });
  expect(rows.filter((r) => r.trainId === 'train-exact').map((r) => [r.cache, r.provider, r.model, r.stage, r.templateId])).toEqual([
    ['miss', 'local', SMALL, 'test', 'test.classify'],
    ['exact', 'local', SMALL, 'test', 'test.classify'],
  ]);
  expect(rows.find((r) => r.id === fresh.callId)!.costUsd).toBeCloseTo(fresh.costUsd, 6);
  expect((await ledger.spent({ trainId: 'train-exact', since: new Date(0) })).trainUsd).toBeCloseTo(fresh.costUsd, 6);
});

test('a budget cap stops a call before it is made, with its policy reason in the ledger', async () => {
  const g = gateway({ caps: { perTrainUsd: 0.000001 } });
  const error = await g.chat(ask('Name a colour.', 'train-capped')).then(() => undefined, (e: Error) => e);
  expect(error).toBeInstanceOf(LlmBudgetExceededError);
  expect(error!.message).toMatch(/refused by policy llm-budget-train: train train-capped has spent \$0\.000000 .* cap of \$0\.000001/);
  const rows = (await ledger.rows()).filter((r) => r.trainId === 'train-capped');
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({ cache: 'blocked', costUsd: 0, tokensIn: 0 });
  const raw = await db.prisma.llmCall.findFirst({ where: { trainId: 'train-capped' } });
  expect(raw!.policyReason).toMatch(/^llm-budget-train: /);

  // The daily cap counts every train's spend today.
  const daily = gateway({ caps: { perDayUsd: 0.0000001 } });
  await expect(daily.chat(ask('Name a fruit.', 'train-other'))).rejects.toMatchObject({ rule: 'llm-budget-day' });
});

test('the semantic cache serves a near-duplicate prompt, audits a hit by asking again, and raises its threshold when audits disagree', async () => {
  const g = gateway({ cache: { exact: true, semantic: { ...DEFAULT_SEMANTIC_CACHE, threshold: 0.5, auditRate: 1, window: 2, maxFalseHitRate: 0 } }, agree: () => false });
  const first = await g.chat(ask('Classify the commit: update dependency vitest to v1.2.0', 'train-sem'));
  expect(first.cache).toBe('miss');
  const near = await g.chat(ask('Classify the commit: update dependency vitest to v1.2.1', 'train-sem'));
  expect(near).toMatchObject({ cache: 'semantic', text: first.text, costUsd: 0 });
  const rows = (await ledger.rows()).filter((r) => r.trainId === 'train-sem');
  // the prompt's key embedded, the answer; the near prompt's key embedded, the hit; the audit (the hit asked again).
  expect(rows.map((r) => r.cache)).toEqual(['miss', 'miss', 'miss', 'semantic', 'audit']);
  expect(rows.filter((r) => r.tier === 'embedding')).toHaveLength(2);
  expect(rows.at(-1)!.passed).toBe(false);
  expect(g.semanticThreshold).toBe(0.5);
  await g.chat(ask('Classify the commit: update dependency vitest to v1.2.2', 'train-sem'));
  // Two audits, both false hits: over the 0% limit, so the threshold moved up.
  expect(g.semanticThreshold).toBeCloseTo(0.51, 9);
});

test('embeddings go through the gateway: one vector per text, one ledger row', async () => {
  const vectors = await gateway().embed({ texts: ['fix the parser', 'docs: typo'], trainId: 'train-embed', stage: 'runEvals' });
  expect(vectors).toHaveLength(2);
  expect(vectors[0]!.length).toBe(576);
  const rows = (await ledger.rows()).filter((r) => r.trainId === 'train-embed');
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({ tier: 'embedding', model: SMALL, cache: 'miss', stage: 'runEvals' });
  expect(rows[0]!.tokensIn).toBeGreaterThan(3);
});

test('templated answers: once three cached answers to one prompt shape agree, the next prompt of that shape is answered from them at $0; an audit that disagrees ends the template', async () => {
  // The answers' agreement is decided by the test (queued verdicts, then "agree"): the model is deterministic at
  // temperature 0, so a disagreement cannot be provoked from it on demand.
  const verdicts: boolean[] = [];
  let draw = 0.99;
  const g = gateway({ cache: { exact: true, templates: { minSupport: 3, auditRate: 0.5 } }, agree: () => verdicts.shift() ?? true, random: () => draw });
  const bump = (version: string, pr: number) => ask(`Classify the commit: update pnpm to ${version} (#${pr})`, 'train-template');
  const fresh = [await g.chat(bump('8.6.0', 101)), await g.chat(bump('8.6.1', 102)), await g.chat(bump('8.7.0', 110))];
  expect(fresh.map((r) => r.cache)).toEqual(['miss', 'miss', 'miss']);
  const templated = await g.chat(bump('9.0.2', 131));
  expect(templated).toMatchObject({ cache: 'template', text: fresh[0]!.text, costUsd: 0, tokensIn: 0 });
  // Another task (another shape) is not served from it.
  expect((await g.chat(ask('Classify the commit: fix crash on empty body', 'train-template'))).cache).toBe('miss');

  // Audited (draw 0 < 0.5): the three cached answers agree, the fresh one does not.
  draw = 0;
  verdicts.push(true, true, true, false);
  const audited = await g.chat(bump('9.1.0', 140));
  expect(audited).toMatchObject({ cache: 'template', text: fresh[0]!.text });
  // The fresh answer joined the shape's answers; they disagree now, so the next prompt of the shape is asked.
  draw = 0.99;
  verdicts.push(true, true, true, false);
  expect((await g.chat(bump('9.2.0', 150))).cache).toBe('miss');

  const rows = (await ledger.rows()).filter((r) => r.trainId === 'train-template');
  expect(rows.map((r) => r.cache)).toEqual(['miss', 'miss', 'miss', 'template', 'miss', 'template', 'audit', 'miss']);
  const audit = await db.prisma.llmCall.findFirst({ where: { trainId: 'train-template', cache: 'audit' } });
  expect(audit!.passed).toBe(false);
  const shapes = await db.prisma.llmCacheEntry.groupBy({ by: ['shape'], _count: { _all: true }, where: { callType: 'classify', shape: { startsWith: 'classify the commit: update pnpm' } } });
  expect(shapes).toEqual([{ shape: 'classify the commit: update pnpm to <ver> (<ref>)', _count: { _all: 5 } }]);
});

test('a shape the semantic cache serves gathers its audited fresh answers, and becomes a template once they agree: its next prompt needs no embedding', async () => {
  const g = gateway({ cache: { exact: true, templates: { minSupport: 2, auditRate: 0 }, semantic: { ...DEFAULT_SEMANTIC_CACHE, threshold: 0.5, auditRate: 1 } }, agree: () => true });
  // A template of its own: the semantic cache's scope, so the earlier tests' entries are not candidates.
  const bump = (version: string) => ({ ...ask(`Classify the commit: update eslint to ${version}`, 'train-gather'), template: { id: 'test.gather', version: '1' } });
  const first = await g.chat(bump('8.1.0'));
  expect(first.cache).toBe('miss');
  // Served by the semantic cache and audited: the audit's fresh answer is the shape's second.
  expect(await g.chat(bump('8.2.0'))).toMatchObject({ cache: 'semantic', text: first.text });
  expect(await g.chat(bump('9.0.0'))).toMatchObject({ cache: 'template', text: first.text, costUsd: 0 });
  const rows = (await ledger.rows()).filter((r) => r.trainId === 'train-gather');
  expect(rows.map((r) => [r.tier === 'embedding' ? 'embedding' : 'chat', r.cache])).toEqual([
    ['embedding', 'miss'],
    ['chat', 'miss'],
    ['embedding', 'miss'],
    ['chat', 'semantic'],
    ['chat', 'audit'],
    ['chat', 'template'],
  ]);
  const kept = await db.prisma.llmCacheEntry.findMany({ where: { shape: 'classify the commit: update eslint to <ver>' }, orderBy: { createdAt: 'asc' } });
  expect(kept.map((e) => e.prompt)).toEqual(['classify the commit: update eslint to 8.1.0', 'classify the commit: update eslint to 8.2.0'].map((p) => expect.stringMatching(new RegExp(p.replace(/\./g, '\\.'), 'i'))));
  expect(kept.every((e) => e.embedding.length === 576)).toBe(true);
});
