/**
 * The dashboard as a person sees it, in headless chromium: the overview over a real record (KPIs, trains,
 * spend), why a train ended, and a real train running on Temporal followed live until it is promoted.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'puppeteer-core';
import { Pool } from 'pg';
import { createActivities } from '../../../activities';
import { createPeopleTable, splitNameMigration } from '../../../bench/lib/people-load';
import { MigrationEngine } from '../../../migrations/engine';
import { liveTrain } from '../../../cli/release';
import { createDashboard } from '../../../dashboard/server';
import { TrainFixture } from '../../../examples/train-fixture';
import { RecordStore } from '../../../record/store';
import { LlmLedgerStore } from '../../../record/llm-ledger';
import { approveSignal } from '../../../workflows/messages';
import type { releaseTrain } from '../../../workflows/release-train';
import { launchBrowser } from '../../helpers/browser';
import { emptyDatabase, freshDatabase, type FreshDb } from '../../helpers/fresh-db';
import { seedTrain } from '../../helpers/record-fixture';
import { startTestWorker, type TestWorker, tempDir } from '../../helpers/temporal';

const RUN = Date.now().toString(36);
const TASK_QUEUE = `test-dashboard-${RUN}`;
let db: FreshDb;
let app: FastifyInstance;
let base: string;
let browser: Browser;
let temporal: TestWorker;
let ledger: LlmLedgerStore;
const stateDir = tempDir('dashboard-state');
const fixture = new TrainFixture(`dash-${RUN}`, stateDir);

beforeAll(async () => {
  db = await freshDatabase('dashboard');
  const record = new RecordStore({ prisma: db.prisma });
  await seedTrain(record, {
    id: `promoted-${RUN}`,
    title: 'Greet politely',
    author: 'ada',
    prompt: 'implement',
    outcome: 'promoted',
    reason: 'all health gates passed',
    evalScore: 0.97,
    merged: true,
    costUsd: 0.42,
    summary: { timeline: [], rollout: { outcome: 'promoted', reason: 'all health gates passed', finalWeight: 100, probes: 6 } },
  });
  await seedTrain(record, {
    id: `rolled-${RUN}`,
    title: 'Greet <loudly>',
    author: 'grace',
    outcome: 'rolled_back',
    reason: 'health gate at 10% failed',
    evalScore: 0.9,
    merged: true,
    costUsd: 0.08,
    summary: {
      timeline: [{ at: Date.now() - 30_000, kind: 'rollback', detail: 'health gate at 10% failed: error rate 33.00% > 1.00%; 100% on stable', source: 'rollout' }],
      rollout: { outcome: 'rolled_back', reason: 'health gate at 10% failed: error rate 33.00% > 1.00%', finalWeight: 0, probes: 2, mttrMs: 1_850 },
    },
  });
  await seedTrain(record, {
    id: `denied-${RUN}`,
    title: 'Delete the failing test',
    author: 'agent-7',
    prompt: 'fix',
    outcome: 'denied',
    evalScore: 0.5,
    denials: [{ rule: 'tests-weakened', reason: 'the change deletes the test that fails', evidence: 'test/greeting.test.ts: 1 test removed', fix: 'fix greet() instead' }],
  });

  temporal = await startTestWorker(TASK_QUEUE, createActivities({ stateDir, databaseUrl: db.url }));
  await fixture.start();
  // The LLM gateway's ledger: the promoted train's spec (a miss, then an exact-cache hit) and judge calls, a call outside any train.
  ledger = new LlmLedgerStore({ prisma: db.prisma });
  const call = { templateId: 'spec.synthesize', templateVersion: '1', provider: 'openai-compatible', promptKey: 'k', promptChars: 900, latencyMs: 800 };
  await ledger.recordCall({ ...call, trainId: `promoted-${RUN}`, stage: 'synthesizeSpec', callType: 'spec', model: 'gpt-4o-mini', tier: 'small', tokensIn: 1500, tokensOut: 400, costUsd: 0.0012, cache: 'miss' });
  await ledger.recordCall({ ...call, trainId: `promoted-${RUN}`, stage: 'synthesizeSpec', callType: 'spec', model: 'gpt-4o-mini', tier: 'small', tokensIn: 0, tokensOut: 0, costUsd: 0, cache: 'exact' });
  await ledger.recordCall({ ...call, trainId: `promoted-${RUN}`, stage: 'runEvals', callType: 'judge', templateId: 'eval.judge', model: 'gpt-4o', tier: 'large', tokensIn: 2000, tokensOut: 300, costUsd: 0.008, cache: 'miss' });
  await ledger.recordCall({ ...call, stage: '', callType: 'spec', model: 'gpt-4o-mini', tier: 'small', tokensIn: 100, tokensOut: 10, costUsd: 0.0001, cache: 'miss' });
  app = createDashboard({
    record,
    ledger,
    liveTrain: (id) => liveTrain(temporal.client, id),
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await temporal?.stop();
  await fixture.stop();
  await db?.drop();
});

async function newPage(): Promise<Page> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  return page;
}

async function open(path: string): Promise<Page> {
  const page = await newPage();
  const response = await page.goto(`${base}${path}`, { waitUntil: 'load' });
  expect(response?.status()).toBe(200);
  return page;
}
/** MAESTRO_SCREENSHOTS=<dir>: the pages as they were checked, for the README (docs/images/). */
const screenshot = async (page: Page, name: string) => {
  if (process.env.MAESTRO_SCREENSHOTS) await page.screenshot({ path: `${process.env.MAESTRO_SCREENSHOTS}/${name}.png`, fullPage: true });
};
const text = (page: Page, selector: string) => page.$eval(selector, (el) => (el as unknown as { innerText: string }).innerText);

test('the overview shows every train with its state, the KPIs computed from the record, and spend by author', async () => {
  const page = await open('/?since=24h');
  const trains = await text(page, '#trains');
  expect(trains).toContain(`rolled-${RUN}`);
  expect(trains).toContain('Greet <loudly>');
  expect(trains).toMatch(new RegExp(`denied-${RUN}\\s+greeter\\s+dev\\s+Delete the failing test\\s+agent-7\\s+denied`));
  const kpis = await text(page, '#kpis');
  // One rolled-back train with a 1.85 s MTTR; 1 of 2 merged trains promoted.
  expect(kpis).toMatch(/rollback MTTR, median\s+1\.85 s \(max 1\.85 s\)\s+≤ 300 s\s+1/);
  expect(kpis).toMatch(/change failure rate\s+50\.0%/);
  // ($0.42 + $0.08 seeded, + $0.0092 of the promoted train's LLM calls in the ledger) over 2 merged trains.
  expect(kpis).toMatch(/\$ per PR\s+\$0\.2546/);
  expect(await page.$$eval('#kpis svg.trend', (svgs) => svgs.length)).toBe(10);
  expect(await page.$eval('svg.trend[data-kpi="rollback_mttr_median_s"]', (svg) => svg.getAttribute('data-points'))).toBe('1');
  expect(await text(page, 'body')).toMatch(/ada\s+\$0\.4292\s+1\s+\$0\.4292/);
  await screenshot(page, 'dashboard-overview');
  await page.close();
});

test('the spend page shows $ per PR and where the LLM money went, by stage, model and cache outcome, from the ledger', async () => {
  const overview = await open('/?since=24h');
  await overview.click('#cost-link');
  await overview.waitForSelector('#cost-tiles');
  const page = overview;
  // $0.0093 over 4 calls; the one train merged, so $/PR is its $0.0092; the exact hit is one of three answered spec/judge calls.
  expect(await text(page, '#cost-tiles')).toMatch(/\$0\.009200\s+\$ per PR\s+\$0\.009200\s+\$ per train\s+\$0\.009300\s+LLM spend\s+4\s+calls\s+25\.0%\s+cache hit rate/);
  const rows = (selector: string) => page.$$eval(`${selector} tbody tr`, (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((c) => (c as unknown as { innerText: string }).innerText.trim())));
  expect(await rows('#by-stage')).toEqual([
    ['runEvals', '1', '2000', '300', '$0.008000', '86.0%'],
    ['synthesizeSpec', '2', '1500', '400', '$0.001200', '12.9%'],
    ['(none)', '1', '100', '10', '$0.000100', '1.1%'],
  ]);
  expect((await rows('#by-model')).map((r) => r.slice(0, 2))).toEqual([['gpt-4o', '1'], ['gpt-4o-mini', '3']]);
  expect((await rows('#by-cache')).map((r) => r.slice(0, 2))).toEqual([['miss', '3'], ['exact', '1']]);
  await screenshot(page, 'dashboard-cost');
  const bad = await page.goto(`${base}/cost?since=yesterday`);
  expect(bad?.status()).toBe(400);
});

test('a train page says why it ended, with the gate figures; a bad link and a bad period say what is wrong', async () => {
  const page = await open('/');
  await Promise.all([page.waitForNavigation(), page.click(`a[href="/trains/rolled-${RUN}"]`)]);
  const why = await text(page, '#explanation');
  expect(why).toContain('was rolled back: health gate at 10% failed: error rate 33.00% > 1.00% (back on stable 1.9 s after the first red probe).');
  expect(await text(page, '#eval-score')).toContain('0.900');
  await screenshot(page, 'dashboard-rolled-back');
  await page.goto(`${base}/trains/denied-${RUN}`);
  expect(await text(page, '#explanation')).toContain('[tests-weakened] the change deletes the test that fails. Evidence: test/greeting.test.ts: 1 test removed. Fix: fix greet() instead');

  const missing = await page.goto(`${base}/trains/no-such-train`);
  expect(missing?.status()).toBe(404);
  expect(await text(page, '#error')).toBe("No train 'no-such-train' in the record.");
  const bad = await page.goto(`${base}/?since=yesterday`);
  expect(bad?.status()).toBe(400);
  expect(await text(page, '#error')).toContain("since: use a span back from now like '24h', '7d' or '4w'");
  await page.close();
});

test('a running train is followed live: its stage while it waits for approval, then the record once it is promoted', async () => {
  const handle = await temporal.client.workflow.start<typeof releaseTrain>('releaseTrain', {
    taskQueue: TASK_QUEUE,
    workflowId: `live-${RUN}`,
    args: [fixture.change('good-change', `live-${RUN}`, { approval: 'required', author: 'ada' })],
  });
  const page = await newPage();
  // The train row exists from its first activity on.
  for (let i = 0; i < 100; i++) {
    const r = await page.goto(`${base}/trains/live-${RUN}`);
    if (r?.status() === 200) break;
    await new Promise((r) => setTimeout(r, 300));
  }
  // Expressions run in the page (strings: this file is compiled without the DOM's types).
  // The page reloads when the stage changes: wait for the one rendered at awaitingApproval.
  await page.waitForFunction("document.getElementById('live')?.dataset.stage === 'awaitingApproval' && document.getElementById('live-stage')?.textContent === 'awaitingApproval'", { timeout: 90_000 });
  expect(await text(page, '#live-timeline')).toMatch(/evals\s+score \d\.\d{3} \(threshold 0\.85\)/);
  await screenshot(page, 'dashboard-live');
  expect(await text(page, '#explanation')).toContain('is running: stage awaitingApproval');

  await handle.signal(approveSignal, { by: 'grace', reason: 'looks right' });
  // Live weights while it rolls out, then the page reloads onto the closed record.
  await page.waitForFunction("/canary weight (10|50|100)%/.test(document.getElementById('live-timeline')?.textContent ?? '')", { timeout: 90_000 });
  await page.waitForFunction("document.getElementById('state')?.textContent === 'promoted'", { timeout: 90_000 });
  expect((await handle.result()).outcome).toBe('promoted');
  const why = await text(page, '#explanation');
  expect(why).toMatch(/was promoted: all health gates passed, Eval Score \d\.\d{3}\./);
  expect(why).toContain('approve by grace: looks right');
  // The rollout's own timeline is in the record too: its weights and gates.
  expect(why).toMatch(/weight: canary weight 10%[\s\S]*gate-passed: gate at 10% passed[\s\S]*weight: canary weight 100%/);
  await page.close();
}, 240_000);

test('the migrations page follows a backfill live: phase, rows left, rate and ETA, then ready', async () => {
  const service = await emptyDatabase('dash_people');
  const pool = new Pool({ connectionString: service.url, max: 3 });
  // pool.end() resolves before the last socket closes; the drop's FORCE then ends it, which must not crash the test.
  pool.on('error', () => undefined);
  const engine = new MigrationEngine(pool);
  try {
    await createPeopleTable(engine, service.url, 20_000);
    await engine.register(splitNameMigration);
    await engine.expand('split_name');
    await seedTrain(new RecordStore({ prisma: db.prisma }), { id: `migrating-${RUN}`, title: 'Split the name column', migration: { databaseUrl: service.url, definition: splitNameMigration } });
    // Throttled so that the page sees it running: 200 rows every 20 ms.
    const backfill = (async () => {
      let p = await engine.backfill('split_name', { batchSize: 200, delayMs: 20 }, 500);
      while (p.phase === 'backfilling' || p.phase === 'validating') p = await engine.backfill('split_name', { batchSize: 200, delayMs: 20 }, 500);
      return p;
    })();
    const page = await open('/migrations');
    const row = async () => text(page, '#migrations tbody');
    await page.waitForFunction("/backfilling/.test(document.querySelector('#migrations tbody')?.innerText ?? '') && /rows\\/s/.test(document.querySelector('#migrations tbody')?.innerText ?? '')", { timeout: 60_000 });
    const during = await row();
    expect(during).toContain(`migrating-${RUN}`);
    expect(during).toContain('split_name (v1 → v2)');
    const left = Number(/backfilling\s+[\d.]+%\s+(\d+)/.exec(during)?.[1]);
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(20_000);
    await screenshot(page, 'dashboard-migrations');
    expect((await backfill).phase).toBe('ready');
    await page.waitForFunction("/ready\\s+100\\.0%\\s+0/.test(document.querySelector('#migrations tbody')?.innerText ?? '')", { timeout: 30_000 });
    await page.close();
  } finally {
    await pool.end();
    await service.drop();
  }
}, 180_000);
