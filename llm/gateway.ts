/**
 * The one way Maestro calls an LLM (spec synthesis, the eval judge, embeddings, anything later).
 * Each call:
 *   1. picks a tier (the caller's, else the router's calibrated pick for the call type, else `large`);
 *   2. looks in the cache: exact (call type, model, template, parameters, normalized prompt), then
 *      templated (the answer every cached prompt of the same shape got, once `minSupport` of them agree:
 *      core/llm-templates.ts; a sample is asked again, and a disagreement ends the template), then
 *      semantic (the last message's embedding against those cached under the same call type, model,
 *      template and preceding messages; a hit needs cosine ≥ the calibrated threshold). A sample of semantic hits
 *      (`auditRate`) is asked again and compared: a disagreement is a false hit, and when false hits
 *      pass `maxFalseHitRate` over the last audits the threshold moves up. Every audited answer is cached
 *      under its own prompt and shape, so a shape that semantic hits serve can still become a template;
 *   3. checks the budget caps (per train, per UTC day) against the ledger before calling; a call that
 *      would cross a cap is refused with LlmBudgetExceededError and its policy reason;
 *   4. calls the provider (llm/openai.ts: one GenAI client span per request) and writes one ledger row:
 *      provider, model, tier, template id and version, tokens in/out, latency, dollars (dated price
 *      table, llm/prices.json), cache outcome, train and stage.
 * Every call is a span `llm <call type>` with the GenAI attributes, the cost and the cache outcome.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SpanKind } from '@opentelemetry/api';
import { z } from 'zod';
import { PermanentError } from '../core/errors';
import { budgetVerdict, cacheKey, estimateTokens, normalizePrompt, parsePriceTable, priceAt, vectorCosine, type BudgetCaps, type PriceTable } from '../core/llm-gateway';
import { distilTemplate, promptShape } from '../core/llm-templates';
import { costUsd as priceCost, GEN_AI, LLM_COST_USD } from '../core/llm-usage';
import { inSpan } from '../io/tracing';
import { createLlmClient, describeIssues, LlmResponseError, type ChatMessage, type LlmClient } from './openai';

export type Tier = 'small' | 'large';
export type CacheOutcome = 'miss' | 'exact' | 'template' | 'semantic' | 'blocked' | 'error' | 'audit';

/** A prompt template's identity: the ledger groups and the cache separates by it. */
export interface PromptTemplate {
  id: string;
  version: string;
}

export interface LlmCallRow {
  trainId?: string;
  stage: string;
  callType: string;
  templateId: string;
  templateVersion: string;
  provider: string;
  model: string;
  tier: Tier | 'embedding';
  promptKey: string;
  promptChars: number;
  tokensIn: number;
  tokensOut: number;
  latencyMs: number;
  costUsd: number;
  cache: CacheOutcome;
  policyReason?: string;
  error?: string;
  passed?: boolean;
}

export interface CachedAnswer {
  key: string;
  prompt: string;
  embedding: number[] | null;
  answer: string;
}

/** Where the gateway keeps its ledger and cache: the record (record/llm-ledger.ts). */
export interface LlmLedger {
  recordCall(row: LlmCallRow): Promise<string>;
  /** USD spent since `since` in total, and by `trainId` (ever) when given. */
  spent(q: { trainId?: string; since: Date }): Promise<{ trainUsd: number; dayUsd: number }>;
  cacheGet(key: string): Promise<CachedAnswer | undefined>;
  cacheCandidates(q: { callType: string; model: string; template: string }): Promise<CachedAnswer[]>;
  /** The cached answers whose prompts have `shape` (core/llm-templates.ts), oldest first. */
  cacheAnswersOfShape(q: { callType: string; model: string; template: string; shape: string }): Promise<string[]>;
  cachePut(entry: CachedAnswer & { callType: string; model: string; template: string; shape?: string }): Promise<void>;
  cacheHit(key: string): Promise<void>;
}

export class LlmBudgetExceededError extends PermanentError {
  constructor(
    readonly rule: string,
    message: string,
  ) {
    super(message, 'LlmBudgetExceeded');
  }
}

/** The router's calibrated picks (`maestro router calibrate`): per call type, prompts of up to `smallUpToChars` characters go to the small tier. */
export const routingTableSchema = z.record(z.string().min(1), z.object({ smallUpToChars: z.number().int().min(-1) }).passthrough());
export type RoutingTable = z.output<typeof routingTableSchema>;

export interface SemanticCacheOptions {
  /** Cosine at or above which a cached prompt's answer is served. */
  threshold: number;
  /** Fraction of semantic hits asked again to measure false hits (0 … 1). */
  auditRate: number;
  /** Above this false-hit rate over the last `window` audits the threshold moves up by `step`. */
  maxFalseHitRate: number;
  window: number;
  step: number;
}

/** Templated answers (core/llm-templates.ts): a shape's answer is served once `minSupport` cached answers to it agree. */
export interface TemplateCacheOptions {
  minSupport: number;
  /** Fraction of templated answers asked again; a disagreement joins the shape's answers and ends the template. */
  auditRate: number;
}

export interface GatewayOptions {
  /** `local` (infra/llm), `openai`, … : the price table's provider column. */
  provider: string;
  baseUrl: string;
  apiKey?: string;
  timeoutMs?: number;
  tiers: Record<Tier, string>;
  embeddingModel?: string;
  prices: PriceTable;
  caps: BudgetCaps;
  ledger: LlmLedger;
  cache: { exact: boolean; templates?: TemplateCacheOptions; semantic?: SemanticCacheOptions };
  routes?: RoutingTable;
  /** Whether two answers agree (semantic-cache audits); default: equal after normalization. */
  agree?: (cached: string, fresh: string) => boolean;
  clock?: () => Date;
  random?: () => number;
}

export interface ChatCall {
  callType: string;
  template: PromptTemplate;
  messages: ChatMessage[];
  maxTokens?: number;
  temperature?: number;
  trainId?: string;
  stage?: string;
  /** Overrides the router. */
  tier?: Tier;
  /** false: neither read nor write the cache (a fresh answer). */
  useCache?: boolean;
  /** Whether an answer may be cached (e.g. it parses as the caller's schema); default: any. */
  cacheable?: (text: string) => boolean;
}

export interface ChatResult {
  text: string;
  callId: string;
  cache: 'miss' | 'exact' | 'template' | 'semantic';
  model: string;
  tier: Tier;
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
  latencyMs: number;
}

const completionSchema = z.object({
  choices: z.array(z.object({ message: z.object({ content: z.string() }).passthrough() }).passthrough()).min(1, 'has no choices'),
  usage: z.object({ prompt_tokens: z.number().int().min(0), completion_tokens: z.number().int().min(0).optional() }).passthrough().optional(),
});
const embeddingsSchema = z.object({
  data: z.array(z.object({ embedding: z.array(z.number().finite()).min(1, 'is empty'), index: z.number().int().min(0).optional() }).passthrough()).min(1, 'is empty'),
  usage: z.object({ prompt_tokens: z.number().int().min(0) }).passthrough().optional(),
});

/** The price table shipped with the project (llm/prices.json), validated. */
export function loadPriceTable(file = path.join(__dirname, 'prices.json')): PriceTable {
  return parsePriceTable(JSON.parse(fs.readFileSync(file, 'utf8')), file);
}

/** The message the semantic cache compares: the last one (the variable part; what precedes it is the scope). */
const lastMessage = (call: ChatCall): string => call.messages[call.messages.length - 1]?.content ?? '';

/**
 * The semantic cache's scope: the template plus a digest of every message before the last (system prompt,
 * few-shot turns, history), so a near-duplicate is served only under the same instructions and context.
 */
function semanticScope(call: ChatCall, template: string): string {
  const context = call.messages.slice(0, -1).map((m) => `${m.role}: ${m.content}`).join('\n');
  return `${template}#${cacheKey({ callType: call.callType, model: '', template, params: {}, prompt: context }).slice(0, 16)}`;
}

export const DEFAULT_TEMPLATE_CACHE: TemplateCacheOptions = { minSupport: 3, auditRate: 0.1 };
export const DEFAULT_SEMANTIC_CACHE: SemanticCacheOptions = { threshold: 0.95, auditRate: 0.1, maxFalseHitRate: 0.05, window: 20, step: 0.01 };

export class LlmGateway {
  private readonly clients = new Map<string, LlmClient>();
  private readonly audits: boolean[] = [];
  private semantic: SemanticCacheOptions | undefined;
  private readonly clock: () => Date;
  private readonly random: () => number;
  private readonly agree: (a: string, b: string) => boolean;

  private readonly opts: Omit<GatewayOptions, 'apiKey'>;
  /** Holds the API key in its closure only: never a property of the gateway (nor logged). */
  private readonly newClient: (model: string) => LlmClient;
  /** Removes the API key from a text (for callers' own messages that quote a model's answer). */
  readonly redact: (text: string) => string;

  constructor(options: GatewayOptions) {
    const { apiKey, ...opts } = options;
    this.opts = opts;
    this.redact = (text) => (apiKey ? text.split(apiKey).join('[redacted]') : text);
    this.newClient = (model) =>
      createLlmClient(
        { baseUrl: opts.baseUrl, model, ...(apiKey ? { apiKey } : {}), ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}), prices: priceAt(opts.prices, opts.provider, model, this.clock()) },
        `LLM gateway (${opts.provider}:${model})`,
      );
    this.semantic = opts.cache.semantic ? { ...opts.cache.semantic } : undefined;
    this.clock = opts.clock ?? (() => new Date());
    this.random = opts.random ?? Math.random;
    this.agree = opts.agree ?? ((a, b) => normalizePrompt(a).toLowerCase() === normalizePrompt(b).toLowerCase());
  }

  /** The semantic threshold in force (it moves up when audits find false hits). */
  get semanticThreshold(): number | undefined {
    return this.semantic?.threshold;
  }

  /** The tier a call goes to: the caller's, else the calibrated route, else large. */
  tierFor(callType: string, prompt: string): Tier {
    const route = this.opts.routes?.[callType];
    if (!route) return 'large';
    return prompt.length <= route.smallUpToChars ? 'small' : 'large';
  }

  private client(model: string): LlmClient {
    let c = this.clients.get(model);
    if (!c) {
      c = this.newClient(model);
      this.clients.set(model, c);
    }
    return c;
  }

  private async checkBudget(base: Omit<LlmCallRow, 'tokensIn' | 'tokensOut' | 'latencyMs' | 'costUsd' | 'cache'>, estimateUsd: number): Promise<void> {
    const { caps } = this.opts;
    if (caps.perTrainUsd === undefined && caps.perDayUsd === undefined) return;
    const now = this.clock();
    const since = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
    const spent = await this.opts.ledger.spent({ ...(base.trainId ? { trainId: base.trainId } : {}), since });
    const verdict = budgetVerdict({ caps, ...(base.trainId ? { trainId: base.trainId } : {}), spentTrainUsd: spent.trainUsd, spentDayUsd: spent.dayUsd, estimateUsd });
    if (verdict.allowed) return;
    await this.opts.ledger.recordCall({ ...base, tokensIn: 0, tokensOut: 0, latencyMs: 0, costUsd: 0, cache: 'blocked', policyReason: `${verdict.rule}: ${verdict.reason}` });
    throw new LlmBudgetExceededError(verdict.rule, `LLM call refused by policy ${verdict.rule}: ${verdict.reason}`);
  }

  /** One chat completion through tier choice, cache, budget and ledger. */
  async chat(call: ChatCall): Promise<ChatResult> {
    const prompt = call.messages.map((m) => `${m.role}: ${m.content}`).join('\n');
    const tier = call.tier ?? this.tierFor(call.callType, prompt);
    const model = this.opts.tiers[tier];
    const template = `${call.template.id}@${call.template.version}`;
    const params = { maxTokens: call.maxTokens ?? 256, temperature: call.temperature ?? 0 };
    const key = cacheKey({ callType: call.callType, model, template, params, prompt });
    const base = {
      ...(call.trainId ? { trainId: call.trainId } : {}),
      stage: call.stage ?? '',
      callType: call.callType,
      templateId: call.template.id,
      templateVersion: call.template.version,
      provider: this.opts.provider,
      model,
      tier,
      promptKey: cacheKey({ callType: call.callType, model: '', template, params: {}, prompt }),
      promptChars: prompt.length,
    };
    const attributes = { [GEN_AI.operationName]: 'chat', [GEN_AI.providerName]: this.opts.provider, [GEN_AI.requestModel]: model, 'maestro.llm.call_type': call.callType, 'maestro.llm.template': template, 'maestro.llm.tier': tier, ...(call.trainId ? { 'maestro.train_id': call.trainId } : {}), ...(call.stage ? { 'maestro.stage': call.stage } : {}) };
    return inSpan(`llm ${call.callType}`, { kind: SpanKind.INTERNAL, attributes }, async (span) => {
      const result = await this.chatInSpan(call, { tier, model, template, params, key, base, prompt });
      span.setAttributes({ 'maestro.llm.cache': result.cache, [GEN_AI.inputTokens]: result.tokensIn, [GEN_AI.outputTokens]: result.tokensOut, [LLM_COST_USD]: result.costUsd });
      return result;
    });
  }

  private async chatInSpan(
    call: ChatCall,
    c: { tier: Tier; model: string; template: string; params: { maxTokens: number; temperature: number }; key: string; base: Omit<LlmCallRow, 'tokensIn' | 'tokensOut' | 'latencyMs' | 'costUsd' | 'cache'>; prompt: string },
  ): Promise<ChatResult> {
    const useCache = call.useCache !== false;
    const started = performance.now();
    if (useCache && this.opts.cache.exact) {
      const hit = await this.opts.ledger.cacheGet(c.key);
      if (hit) {
        await this.opts.ledger.cacheHit(c.key);
        const latencyMs = performance.now() - started;
        const callId = await this.opts.ledger.recordCall({ ...c.base, tokensIn: 0, tokensOut: 0, latencyMs, costUsd: 0, cache: 'exact' });
        return { text: hit.answer, callId, cache: 'exact', model: c.model, tier: c.tier, tokensIn: 0, tokensOut: 0, costUsd: 0, latencyMs };
      }
    }
    const scope = semanticScope(call, c.template);
    const shape = promptShape(lastMessage(call));
    const templates = this.opts.cache.templates;
    if (useCache && templates) {
      const verdict = distilTemplate(await this.opts.ledger.cacheAnswersOfShape({ callType: call.callType, model: c.model, template: scope, shape }), this.agree, templates.minSupport);
      if (verdict.serve) {
        const latencyMs = performance.now() - started;
        const callId = await this.opts.ledger.recordCall({ ...c.base, tokensIn: 0, tokensOut: 0, latencyMs, costUsd: 0, cache: 'template' });
        if (this.random() < templates.auditRate) {
          const fresh = await this.callProvider(call, c, 'audit', (text) => this.agree(verdict.answer, text));
          // The fresh answer joins the shape's answers: a disagreeing one ends the template.
          await this.keepFresh(call, c, { scope, shape, embedding: null }, fresh.text);
        }
        return { text: verdict.answer, callId, cache: 'template', model: c.model, tier: c.tier, tokensIn: 0, tokensOut: 0, costUsd: 0, latencyMs };
      }
    }
    let embedding: number[] | undefined;
    if (useCache && this.semantic && this.opts.embeddingModel) {
      embedding = (await this.embed({ texts: [normalizePrompt(lastMessage(call))], ...(call.trainId ? { trainId: call.trainId } : {}), ...(call.stage ? { stage: call.stage } : {}), callType: `${call.callType}.cache-key` }))[0]!;
      const candidates = await this.opts.ledger.cacheCandidates({ callType: call.callType, model: c.model, template: scope });
      let best: { entry: CachedAnswer; similarity: number } | undefined;
      for (const entry of candidates) {
        if (!entry.embedding) continue;
        const similarity = vectorCosine(embedding, entry.embedding);
        if (!best || similarity > best.similarity) best = { entry, similarity };
      }
      if (best && best.similarity >= this.semantic.threshold) {
        await this.opts.ledger.cacheHit(best.entry.key);
        const latencyMs = performance.now() - started;
        const callId = await this.opts.ledger.recordCall({ ...c.base, tokensIn: 0, tokensOut: 0, latencyMs, costUsd: 0, cache: 'semantic' });
        if (this.random() < this.semantic.auditRate) await this.audit(call, c, best.entry.answer, { scope, shape, embedding });
        return { text: best.entry.answer, callId, cache: 'semantic', model: c.model, tier: c.tier, tokensIn: 0, tokensOut: 0, costUsd: 0, latencyMs };
      }
    }
    const fresh = await this.callProvider(call, c, 'miss');
    if (useCache) await this.keepFresh(call, c, { scope, shape, embedding: embedding ?? null }, fresh.text);
    return { ...fresh, latencyMs: performance.now() - started };
  }

  /**
   * Caches a fresh answer (a miss's, or an audit's) under its own prompt, its shape and its embedding. An audit's
   * answer counts too: it is how a shape the semantic cache already serves gathers the agreeing answers a
   * template needs, and how a disagreeing one ends a template.
   */
  private async keepFresh(call: ChatCall, c: Parameters<LlmGateway['chatInSpan']>[1], at: { scope: string; shape: string; embedding: number[] | null }, answer: string): Promise<void> {
    if (!(this.opts.cache.exact || this.opts.cache.templates || this.semantic) || !(call.cacheable?.(answer) ?? true)) return;
    await this.opts.ledger.cachePut({ key: c.key, callType: call.callType, model: c.model, template: at.scope, shape: at.shape, prompt: normalizePrompt(c.prompt), embedding: at.embedding, answer });
  }

  /** Asks a semantic hit again (its fresh answer is kept); a disagreement is a false hit, and too many of them raise the threshold. */
  private async audit(call: ChatCall, c: Parameters<LlmGateway['chatInSpan']>[1], cached: string, at: { scope: string; shape: string; embedding: number[] | null }): Promise<void> {
    const fresh = await this.callProvider(call, c, 'audit', (text) => this.agree(cached, text));
    await this.keepFresh(call, c, at, fresh.text);
    const semantic = this.semantic!;
    this.audits.push(this.agree(cached, fresh.text));
    if (this.audits.length > semantic.window) this.audits.shift();
    const falseHits = this.audits.filter((ok) => !ok).length;
    if (this.audits.length >= Math.min(semantic.window, 5) && falseHits / this.audits.length > semantic.maxFalseHitRate) {
      semantic.threshold = Math.min(0.9999, semantic.threshold + semantic.step);
      this.audits.length = 0;
    }
  }

  private async callProvider(call: ChatCall, c: Parameters<LlmGateway['chatInSpan']>[1], cache: 'miss' | 'audit', passed?: (text: string) => boolean): Promise<Omit<ChatResult, 'cache'> & { cache: 'miss' }> {
    const prices = priceAt(this.opts.prices, this.opts.provider, c.model, this.clock());
    await this.checkBudget(c.base, priceCost(estimateTokens(c.prompt), c.params.maxTokens, prices));
    const started = performance.now();
    let json: unknown;
    try {
      json = await this.client(c.model).postJson('chat/completions', { model: c.model, messages: call.messages, temperature: c.params.temperature, max_tokens: c.params.maxTokens });
    } catch (err) {
      await this.opts.ledger.recordCall({ ...c.base, tokensIn: 0, tokensOut: 0, latencyMs: performance.now() - started, costUsd: 0, cache: 'error', error: (err as Error).message.slice(0, 500) });
      throw err;
    }
    const latencyMs = performance.now() - started;
    const parsed = completionSchema.safeParse(json);
    if (!parsed.success) throw new LlmResponseError(`${this.client(c.model).label} returned no chat completion: ${describeIssues(parsed.error)}`);
    const text = parsed.data.choices[0]!.message.content;
    const tokensIn = parsed.data.usage?.prompt_tokens ?? 0;
    const tokensOut = parsed.data.usage?.completion_tokens ?? 0;
    const costUsd = priceCost(tokensIn, tokensOut, prices);
    const callId = await this.opts.ledger.recordCall({ ...c.base, tokensIn, tokensOut, latencyMs, costUsd, cache, ...(passed ? { passed: passed(text) } : {}) });
    return { text, callId, cache: 'miss', model: c.model, tier: c.tier, tokensIn, tokensOut, costUsd, latencyMs };
  }

  /** Embeddings of `texts` with the embedding model, one ledger row. */
  async embed(call: { texts: string[]; callType?: string; trainId?: string; stage?: string }): Promise<number[][]> {
    const model = this.opts.embeddingModel;
    if (!model) throw new PermanentError('no embedding model configured: set MAESTRO_LLM_EMBEDDING_MODEL', 'NoEmbeddingModel');
    const prices = priceAt(this.opts.prices, this.opts.provider, model, this.clock());
    const base = {
      ...(call.trainId ? { trainId: call.trainId } : {}),
      stage: call.stage ?? '',
      callType: call.callType ?? 'embedding',
      templateId: 'embedding',
      templateVersion: '1',
      provider: this.opts.provider,
      model,
      tier: 'embedding' as const,
      promptKey: cacheKey({ callType: 'embedding', model: '', template: 'embedding', params: {}, prompt: call.texts.join('\u0000') }),
      promptChars: call.texts.reduce((n, t) => n + t.length, 0),
    };
    await this.checkBudget(base, priceCost(call.texts.reduce((n, t) => n + estimateTokens(t), 0), 0, prices));
    const started = performance.now();
    const client = this.client(model);
    let json: unknown;
    try {
      json = await client.postJson('embeddings', { model, input: call.texts });
    } catch (err) {
      await this.opts.ledger.recordCall({ ...base, tokensIn: 0, tokensOut: 0, latencyMs: performance.now() - started, costUsd: 0, cache: 'error', error: (err as Error).message.slice(0, 500) });
      throw err;
    }
    const latencyMs = performance.now() - started;
    const parsed = embeddingsSchema.safeParse(json);
    if (!parsed.success) throw new LlmResponseError(client.redact(`${client.label} returned no embeddings: ${describeIssues(parsed.error)}`));
    const vectors = [...parsed.data.data].sort((x, y) => (x.index ?? 0) - (y.index ?? 0)).map((d) => d.embedding);
    if (vectors.length !== call.texts.length) throw new LlmResponseError(`${client.label} returned ${vectors.length} embedding(s) for ${call.texts.length} text(s)`);
    if (new Set(vectors.map((v) => v.length)).size !== 1) throw new LlmResponseError(`${client.label} returned embeddings of different lengths`);
    const tokensIn = parsed.data.usage?.prompt_tokens ?? 0;
    await this.opts.ledger.recordCall({ ...base, tokensIn, tokensOut: 0, latencyMs, costUsd: priceCost(tokensIn, 0, prices), cache: 'miss' });
    return vectors;
  }
}

const gatewayEnvSchema = z.object({
  MAESTRO_LLM_PROVIDER: z.string().trim().min(1).optional(),
  MAESTRO_LLM_SMALL_MODEL: z.string().trim().min(1).optional(),
  MAESTRO_LLM_EMBEDDING_MODEL: z.string().trim().min(1).optional(),
  MAESTRO_LLM_BUDGET_TRAIN_USD: z.coerce.number().finite().positive().optional(),
  MAESTRO_LLM_BUDGET_DAY_USD: z.coerce.number().finite().positive().optional(),
  MAESTRO_LLM_CACHE: z.enum(['off', 'exact', 'template', 'semantic']).default('exact'),
  MAESTRO_LLM_TEMPLATE_SUPPORT: z.coerce.number().int().min(2).optional(),
  MAESTRO_LLM_SEMANTIC_THRESHOLD: z.coerce.number().min(0).max(1).optional(),
  MAESTRO_LLM_ROUTES: z.string().min(1).optional(),
});

/** The provider named by the base URL when MAESTRO_LLM_PROVIDER is unset: loopback is the embedded server. */
function providerOf(baseUrl: string): string {
  const host = new URL(baseUrl).hostname;
  return host === '127.0.0.1' || host === 'localhost' || host === '::1' ? 'local' : 'openai';
}

/**
 * The gateway from MAESTRO_LLM_* over `ledger`, for a client config already validated (llm/openai.ts):
 * the large tier is MAESTRO_LLM_MODEL, the small one MAESTRO_LLM_SMALL_MODEL (default: the same),
 * caps from MAESTRO_LLM_BUDGET_TRAIN_USD / _DAY_USD, cache MAESTRO_LLM_CACHE (off, exact — the default —, template: exact
 * and templated answers, semantic: all three; MAESTRO_LLM_TEMPLATE_SUPPORT answers make a template, default 3), routes
 * from the calibration file MAESTRO_LLM_ROUTES. A model the price table does not list is priced by
 * MAESTRO_LLM_PRICE_INPUT_PER_MTOK / _OUTPUT_PER_MTOK (default 0).
 */
export function createGateway(client: { baseUrl: string; model: string; apiKey?: string; timeoutMs?: number; prices?: { inputPerMTok: number; outputPerMTok: number } }, env: NodeJS.ProcessEnv, ledger: LlmLedger): LlmGateway {
  const parsed = gatewayEnvSchema.safeParse(Object.fromEntries(Object.keys(gatewayEnvSchema.shape).map((k) => [k, env[k]?.trim() || undefined])));
  if (!parsed.success) throw new PermanentError(`invalid LLM gateway config: ${parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`).join('; ')}`, 'LlmConfig');
  const e = parsed.data;
  const provider = e.MAESTRO_LLM_PROVIDER ?? providerOf(client.baseUrl);
  const table = loadPriceTable();
  const tiers = { small: e.MAESTRO_LLM_SMALL_MODEL ?? client.model, large: client.model };
  const today = new Date().toISOString().slice(0, 10);
  // Models the dated table does not price get the configured per-token prices, dated today.
  const extra = [...new Set([tiers.small, tiers.large, e.MAESTRO_LLM_EMBEDDING_MODEL].filter((m): m is string => !!m))]
    .filter((model) => !table.entries.some((p) => p.provider === provider && p.model === model))
    .map((model) => ({ provider, model, effectiveFrom: '1970-01-01', inputPerMTok: client.prices?.inputPerMTok ?? 0, outputPerMTok: client.prices?.outputPerMTok ?? 0, source: `MAESTRO_LLM_PRICE_* (${today})` }));
  let routes: RoutingTable | undefined;
  if (e.MAESTRO_LLM_ROUTES) {
    const read = routingTableSchema.safeParse((JSON.parse(fs.readFileSync(e.MAESTRO_LLM_ROUTES, 'utf8')) as { routes?: unknown }).routes);
    if (!read.success) throw new PermanentError(`invalid routing table in ${e.MAESTRO_LLM_ROUTES} (MAESTRO_LLM_ROUTES): ${describeIssues(read.error)}; write it with 'maestro router calibrate'`, 'LlmConfig');
    routes = read.data;
  }
  return new LlmGateway({
    provider,
    baseUrl: client.baseUrl,
    ...(client.apiKey ? { apiKey: client.apiKey } : {}),
    ...(client.timeoutMs ? { timeoutMs: client.timeoutMs } : {}),
    tiers,
    ...(e.MAESTRO_LLM_EMBEDDING_MODEL ? { embeddingModel: e.MAESTRO_LLM_EMBEDDING_MODEL } : {}),
    prices: { ...table, entries: [...table.entries, ...extra] },
    caps: { ...(e.MAESTRO_LLM_BUDGET_TRAIN_USD ? { perTrainUsd: e.MAESTRO_LLM_BUDGET_TRAIN_USD } : {}), ...(e.MAESTRO_LLM_BUDGET_DAY_USD ? { perDayUsd: e.MAESTRO_LLM_BUDGET_DAY_USD } : {}) },
    ledger,
    cache: {
      exact: e.MAESTRO_LLM_CACHE !== 'off',
      ...(e.MAESTRO_LLM_CACHE === 'template' || e.MAESTRO_LLM_CACHE === 'semantic' ? { templates: { ...DEFAULT_TEMPLATE_CACHE, ...(e.MAESTRO_LLM_TEMPLATE_SUPPORT !== undefined ? { minSupport: e.MAESTRO_LLM_TEMPLATE_SUPPORT } : {}) } } : {}),
      ...(e.MAESTRO_LLM_CACHE === 'semantic' ? { semantic: { ...DEFAULT_SEMANTIC_CACHE, ...(e.MAESTRO_LLM_SEMANTIC_THRESHOLD !== undefined ? { threshold: e.MAESTRO_LLM_SEMANTIC_THRESHOLD } : {}) } } : {}),
    },
    ...(routes ? { routes } : {}),
  });
}
