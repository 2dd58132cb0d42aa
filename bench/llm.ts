/**
 * `npm run bench:llm`: the LLM gateway's cache, router and overhead on the real local models (infra/llm:
 * SmolLM2-135M-Instruct = small tier, Gemma 3 270M = large tier) and a real ledger (a fresh database).
 *
 * Workload: the conventional commits of unjs/ofetch's history (bench/llm/ofetch-commits.json, 405), each
 * replayed as a recurring task — "classify this change" — whose label is the commit's own type; the eval
 * is exact: the first type word of the answer equals the label. Prices are the table's shadow prices
 * (small as gpt-4o-mini, large as gpt-4o; the local models cost nothing in cash).
 *
 *   1. router: the first ROUTER_FIT commits answered fresh by both tiers and labelled → calibrateRouter;
 *      the next ROUTER_TEST commits (held out) answered by both → routed vs always-large $/PR and pass rate;
 *   2. semantic threshold: fitted on labelled pairs of the last THRESHOLD_SET commits (same type = may
 *      share an answer) as the lowest cosine whose pairs above it share a type ≥ 95% of the time;
 *   3. cache: the next TASKS commits through the gateway (exact, templated, semantic, routed); hit rate, overall and
 *      on recurring tasks (a commit whose subject's shape came earlier: core/llm-templates.ts); a sample of
 *      hits asked again fresh → false-hit rate (answer differs) and Eval Score Δ (fresh − cached);
 *   4. overhead: the same request through the gateway (ledger, caps, no cache) and straight to the server.
 * Sizes: MAESTRO_BENCH_LLM_ROUTER_FIT (50), _ROUTER_TEST (50), _TASKS (all the rest: 225), _THRESHOLD_SET (80),
 * _HIT_SAMPLE (40), _OVERHEAD (30).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { quantile } from 'simple-statistics';
import { normalizePrompt, vectorCosine } from '../core/llm-gateway';
import { promptShape } from '../core/llm-templates';
import { calibrateRouter, formatCalibration, wilson, type LabelledCall } from '../core/llm-router';
import { ensureLlmServer, llmServerOptionsFromEnv, LOCAL_MODELS } from '../infra/llm/server';
import { ensurePostgres } from '../infra/postgres/server';
import { DEFAULT_SEMANTIC_CACHE, DEFAULT_TEMPLATE_CACHE, LlmGateway, loadPriceTable, type ChatCall, type GatewayOptions } from '../llm/gateway';
import { createPrisma } from '../record/db';
import { LlmLedgerStore } from '../record/llm-ledger';
import { migrate } from '../record/migrate';

const TYPES = ['feat', 'fix', 'docs', 'chore', 'refactor', 'test', 'build', 'ci', 'style', 'perf'] as const;
const size = (name: string, fallback: number) => Number(process.env[`MAESTRO_BENCH_LLM_${name}`] ?? fallback);
const ROUTER_FIT = size('ROUTER_FIT', 50);
const ROUTER_TEST = size('ROUTER_TEST', 50);
const TASKS = size('TASKS', 1000);
const THRESHOLD_SET = size('THRESHOLD_SET', 80);
const HIT_SAMPLE = size('HIT_SAMPLE', 40);
const OVERHEAD = size('OVERHEAD', 30);

interface Commit {
  sha: string;
  type: string;
  description: string;
}

const SYSTEM = `Classify each git commit as one word: ${TYPES.join(', ')}.`;
/** Few-shot turns (not from the corpus): a 135M model follows examples, not instructions. */
const SHOTS: [string, string][] = [
  ['add retry option', 'feat'],
  ['fix crash on empty body', 'fix'],
  ['update readme', 'docs'],
  ['update dependency typescript to v5', 'chore'],
  ['add tests for retry', 'test'],
  ['simplify url utils', 'refactor'],
];

/** The eval: the type the answer starts with equals the label. */
function typeIn(answer: string): string | undefined {
  const text = answer.trim().toLowerCase();
  return TYPES.find((t) => text.startsWith(t));
}
const passes = (answer: string, label: string) => typeIn(answer) === label;

const task = (c: Commit, over: Partial<ChatCall> = {}): ChatCall => ({
  callType: 'classify-commit',
  template: { id: 'bench.classify-commit', version: '1' },
  messages: [
    { role: 'system', content: SYSTEM },
    ...SHOTS.flatMap(([d, t]) => [
      { role: 'user' as const, content: d },
      { role: 'assistant' as const, content: t },
    ]),
    { role: 'user', content: c.description },
  ],
  maxTokens: 4,
  trainId: `ofetch-${c.sha.slice(0, 12)}`,
  stage: 'classify',
  ...over,
});

/** The text the gateway embeds as a prompt's semantic-cache key (its last message, normalized). */
const normalizedPromptOf = (c: Commit) => normalizePrompt(c.description);

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const usd = (x: number) => `$${x.toFixed(8)}`;

async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const pg = await ensurePostgres();
  const name = `bench_llm_${crypto.randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: pg.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = pg.url.replace(/\/[^/]*$/, `/${name}`);
  await migrate(url);
  return {
    url,
    drop: async () => {
      const c = new Client({ connectionString: pg.url });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}

async function main(): Promise<void> {
  const corpus = JSON.parse(fs.readFileSync(path.join(__dirname, 'llm', 'ofetch-commits.json'), 'utf8')) as { source: string; head: string; commits: Commit[] };
  const commits = corpus.commits;
  const server = await ensureLlmServer(llmServerOptionsFromEnv(), 120_000);
  const db = await freshDatabase();
  const prisma = createPrisma(db.url);
  const ledger = new LlmLedgerStore({ prisma });
  const [SMALL, LARGE] = LOCAL_MODELS.map((m) => m.id) as [string, string];
  const base: GatewayOptions = { provider: 'local', baseUrl: server.url, tiers: { small: SMALL, large: LARGE }, embeddingModel: SMALL, prices: loadPriceTable(), caps: {}, ledger, cache: { exact: false }, timeoutMs: 300_000 };
  const started = Date.now();
  console.log(`LLM bench: ${commits.length} commits of ${corpus.source}@${corpus.head.slice(0, 12)}; server ${server.url} (${server.reused ? 'reused' : 'started'})`);
  try {
    // 1. Router: both tiers on the fit and held-out commits, labelled by the eval.
    const fresh = new LlmGateway(base);
    const both = async (c: Commit) => {
      const out: Record<'small' | 'large', { passed: boolean; costUsd: number; promptKey: string; promptChars: number; text: string }> = {} as never;
      for (const tier of ['small', 'large'] as const) {
        const r = await fresh.chat(task(c, { tier, useCache: false }));
        const passed = passes(r.text, c.type);
        await ledger.label(r.callId, passed);
        const row = (await prisma.llmCall.findUniqueOrThrow({ where: { id: BigInt(r.callId) } }));
        out[tier] = { passed, costUsd: r.costUsd, promptKey: row.promptKey, promptChars: row.promptChars, text: r.text };
      }
      return out;
    };
    const fit = commits.slice(0, ROUTER_FIT);
    const held = commits.slice(ROUTER_FIT, ROUTER_FIT + ROUTER_TEST);
    const fitAnswers = [];
    console.log(`   (answering ${fit.length} + ${held.length} commits with both tiers …)`);
    for (const c of fit) fitAnswers.push({ c, ...(await both(c)) });
    const labelled: LabelledCall[] = fitAnswers.flatMap((a) => (['small', 'large'] as const).map((tier) => ({ callType: 'classify-commit', promptKey: a[tier].promptKey, promptChars: a[tier].promptChars, tier, passed: a[tier].passed, costUsd: a[tier].costUsd })));
    const calibration = calibrateRouter(labelled, { tolerance: 0.01 });
    console.log(`\n1. router calibration on ${fit.length} commits (both tiers, labelled by the eval):\n${formatCalibration(calibration)}`);
    const threshold = calibration[0]?.smallUpToChars ?? -1;
    let routedCost = 0;
    let largeCost = 0;
    let routedPass = 0;
    let largePass = 0;
    for (const c of held) {
      const a = await both(c);
      const pick = a.small.promptChars <= threshold ? a.small : a.large;
      routedCost += pick.costUsd;
      routedPass += pick.passed ? 1 : 0;
      largeCost += a.large.costUsd;
      largePass += a.large.passed ? 1 : 0;
    }
    const rr = wilson(routedPass, held.length);
    const lr = wilson(largePass, held.length);
    console.log(`   held out (${held.length} commits = PRs, one call each): routed ${usd(routedCost / held.length)}/PR, pass ${pct(rr.rate)} [${pct(rr.low)}, ${pct(rr.high)}]; always-large ${usd(largeCost / held.length)}/PR, pass ${pct(lr.rate)} [${pct(lr.low)}, ${pct(lr.high)}]; routed is ${pct(1 - routedCost / largeCost)} cheaper`);

    // 2. Semantic threshold on labelled pairs of the fit commits: the lowest cosine whose pairs share a type ≥ 95%.
    const thresholdSet = commits.slice(-THRESHOLD_SET);
    const vectors = await fresh.embed({ texts: thresholdSet.map((c) => normalizedPromptOf(c)), callType: 'bench.threshold' });
    const pairs: { similarity: number; same: boolean }[] = [];
    for (let i = 0; i < thresholdSet.length; i++)
      for (let j = i + 1; j < thresholdSet.length; j++) pairs.push({ similarity: vectorCosine(vectors[i]!, vectors[j]!), same: thresholdSet[i]!.type === thresholdSet[j]!.type });
    pairs.sort((a, b) => b.similarity - a.similarity);
    let semanticThreshold = 0.99;
    let same = 0;
    pairs.forEach((p, i) => {
      same += p.same ? 1 : 0;
      if (i >= 9 && same / (i + 1) >= 0.95) semanticThreshold = p.similarity;
    });
    const above = pairs.filter((p) => p.similarity >= semanticThreshold);
    console.log(`\n2. semantic threshold ${semanticThreshold.toFixed(4)} (fitted on the last ${thresholdSet.length} commits, not replayed below): ${above.length} of ${pairs.length} labelled pairs at or above it, ${pct(above.filter((p) => p.same).length / Math.max(1, above.length))} of them share a type`);

    // 3. The cache on the rest of the history, routed.
    const rest = commits.slice(ROUTER_FIT + ROUTER_TEST, Math.min(ROUTER_FIT + ROUTER_TEST + TASKS, commits.length - THRESHOLD_SET));
    const cached = new LlmGateway({ ...base, cache: { exact: true, templates: DEFAULT_TEMPLATE_CACHE, semantic: { ...DEFAULT_SEMANTIC_CACHE, threshold: semanticThreshold, auditRate: 0.1 } }, routes: Object.fromEntries(calibration.map((c) => [c.callType, { smallUpToChars: c.smallUpToChars }])), agree: (x, y) => typeIn(x) === typeIn(y) });
    const hits: { c: Commit; text: string; tier: 'small' | 'large' }[] = [];
    const outcomes = { miss: 0, exact: 0, template: 0, semantic: 0 };
    // A recurring task: one whose prompt shape came earlier in the stream (the seed's "frequent tasks").
    const shapesSeen = new Set<string>();
    const recurring = { calls: 0, hits: 0 };
    let served = 0;
    let servedPass = 0;
    const cacheStarted = Date.now();
    for (const c of rest) {
      const r = await cached.chat(task(c));
      served++;
      if (passes(r.text, c.type)) servedPass++;
      outcomes[r.cache]++;
      if (r.cache !== 'miss') hits.push({ c, text: r.text, tier: r.tier });
      const shape = promptShape(c.description);
      if (shapesSeen.has(shape)) {
        recurring.calls++;
        if (r.cache !== 'miss') recurring.hits++;
      }
      shapesSeen.add(shape);
      if (served % 50 === 0) console.log(`   … ${served}/${rest.length} commits, ${hits.length} hits`);
    }
    const restTrains = new Set(rest.map((c) => task(c).trainId));
    const spent = (await ledger.rows()).filter((r) => r.trainId && restTrains.has(r.trainId) && !r.callType.startsWith('bench.')).reduce((n, r) => n + r.costUsd, 0);
    const step = Math.max(1, Math.floor(hits.length / HIT_SAMPLE));
    const sample = hits.filter((_, i) => i % step === 0).slice(0, HIT_SAMPLE);
    let falseHits = 0;
    let cachedPass = 0;
    let freshPass = 0;
    for (const h of sample) {
      const r = await fresh.chat(task(h.c, { tier: h.tier, useCache: false, callType: 'bench.re-ask' }));
      if (typeIn(r.text) !== typeIn(h.text)) falseHits++;
      if (passes(h.text, h.c.type)) cachedPass++;
      if (passes(r.text, h.c.type)) freshPass++;
    }
    console.log(
      `\n3. cache on ${rest.length} further commits (${((Date.now() - cacheStarted) / 1000).toFixed(0)} s): hit rate ${pct(hits.length / served)} (${outcomes.exact} exact, ${outcomes.template} templated, ${outcomes.semantic} semantic, ${outcomes.miss} misses); on the ${recurring.calls} recurring tasks (shape seen before) ${pct(recurring.hits / Math.max(1, recurring.calls))}; Eval Score served ${pct(servedPass / served)}; spend ${usd(spent)} (${usd(spent / rest.length)}/PR, embeddings of the cache keys included); semantic threshold now ${cached.semanticThreshold?.toFixed(4)}`,
    );
    console.log(
      `   ${sample.length} hits asked again fresh: false-hit rate ${pct(falseHits / Math.max(1, sample.length))} (answer's type differs); Eval Score cached ${pct(cachedPass / Math.max(1, sample.length))} vs fresh ${pct(freshPass / Math.max(1, sample.length))}: Δ ${(100 * (freshPass - cachedPass) / Math.max(1, sample.length)).toFixed(1)} points`,
    );

    // 4. Gateway overhead: the same request through the gateway (ledger write, budget check, no cache) and straight to the server, interleaved.
    const capped = new LlmGateway({ ...base, caps: { perTrainUsd: 1000, perDayUsd: 1000 } });
    const body = JSON.stringify({ model: SMALL, messages: task(commits[0]!).messages, temperature: 0, max_tokens: 1 });
    const viaGateway: number[] = [];
    const direct: number[] = [];
    for (let i = 0; i < OVERHEAD; i++) {
      let t = performance.now();
      await capped.chat(task(commits[0]!, { tier: 'small', useCache: false, maxTokens: 1, callType: 'bench.overhead' }));
      viaGateway.push(performance.now() - t);
      t = performance.now();
      const res = await fetch(`${server.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      await res.json();
      direct.push(performance.now() - t);
    }
    const med = (xs: number[]) => quantile(xs, 0.5);
    const overheadRows = (await ledger.rows({ callType: 'bench.overhead' })).map((r) => r.latencyMs);
    console.log(
      `\n4. overhead over ${OVERHEAD} interleaved pairs (max_tokens 1): gateway median ${med(viaGateway).toFixed(1)} ms (p90 ${quantile(viaGateway, 0.9).toFixed(1)}), direct median ${med(direct).toFixed(1)} ms (p90 ${quantile(direct, 0.9).toFixed(1)}); gateway total − provider round trip inside it: median ${med(viaGateway.map((v, i) => v - overheadRows[i]!)).toFixed(1)} ms per call`,
    );
    console.log(`\nbench:llm done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    await prisma.$disconnect();
    await db.drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
