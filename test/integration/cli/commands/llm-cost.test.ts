/** `maestro cost` and `maestro router calibrate` over a real record holding the gateway's ledger rows. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LlmCallRow } from '../../../../llm/gateway';
import { LlmLedgerStore } from '../../../../record/llm-ledger';
import { RecordStore } from '../../../../record/store';
import { freshDatabase, type FreshDb } from '../../../helpers/fresh-db';
import { maestroOn } from '../../../helpers/maestro-cli';
import { seedTrain } from '../../../helpers/record-fixture';

let db: FreshDb;
let out: string;
const maestro = (args: string[]) => maestroOn(db.url, args);

const call = (over: Partial<LlmCallRow>): LlmCallRow => ({
  stage: 'synthesizeSpec',
  callType: 'spec',
  templateId: 'spec.synthesize',
  templateVersion: '1',
  provider: 'local',
  model: 'large-m',
  tier: 'large',
  promptKey: 'k',
  promptChars: 100,
  tokensIn: 100,
  tokensOut: 10,
  latencyMs: 5,
  costUsd: 0,
  cache: 'miss',
  ...over,
});

beforeAll(async () => {
  db = await freshDatabase('llm_cost');
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'maestro-routes-'));
  const record = new RecordStore({ prisma: db.prisma });
  await seedTrain(record, { id: 'cost-merged', outcome: 'promoted', merged: true });
  await seedTrain(record, { id: 'cost-denied', outcome: 'denied' });
  const ledger = new LlmLedgerStore({ prisma: db.prisma });
  await ledger.recordCall(call({ trainId: 'cost-merged', costUsd: 0.02 }));
  await ledger.recordCall(call({ trainId: 'cost-merged', cache: 'exact' }));
  await ledger.recordCall(call({ trainId: 'cost-merged', stage: 'runEvals', callType: 'judge', model: 'small-m', tier: 'small', costUsd: 0.001 }));
  await ledger.recordCall(call({ trainId: 'cost-denied', costUsd: 0.01 }));
  // Labelled answers of both tiers: short prompts pass on small, long ones only on large.
  for (const [i, chars] of [20, 30, 40, 400, 500].entries()) {
    const promptKey = `p${i}`;
    await ledger.recordCall(call({ callType: 'classify', promptKey, promptChars: chars, tier: 'small', model: 'small-m', costUsd: 0.001, passed: chars < 100 }));
    await ledger.recordCall(call({ callType: 'classify', promptKey, promptChars: chars, tier: 'large', costUsd: 0.01, passed: true }));
  }
}, 120_000);
afterAll(async () => {
  fs.rmSync(out, { recursive: true, force: true });
  await db.drop();
});

test('maestro cost: $/train over both trains, $/PR over the merged one, broken down by stage, model and cache outcome', async () => {
  const r = await maestro(['cost', '--json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const report = JSON.parse(r.stdout);
  expect(report).toMatchObject({ trains: 2, prs: 1 });
  expect(report.perPrUsd).toBeCloseTo(0.021, 9);
  expect(report.perTrainUsd).toBeCloseTo(0.031 / 2, 9);
  expect(report.byStage.map((l: { key: string }) => l.key)).toEqual(['synthesizeSpec', 'runEvals']);
  expect(report.byCache.find((l: { key: string }) => l.key === 'exact')).toMatchObject({ calls: 1, costUsd: 0 });
  const text = await maestro(['cost']);
  expect(text.stdout).toMatch(/2 trains \(\$0\.015500\/train\), 1 PRs \(\$0\.021000\/PR\)/);
  expect(text.stdout).toMatch(/by model:\n {2}large-m/);
});

test('maestro router calibrate: short prompts routed to small, the report and the routes file written', async () => {
  const routes = path.join(out, 'routes.json');
  const r = await maestro(['router', 'calibrate', '--out', routes]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/classify: 5 prompts answered by both tiers\n {2}route: prompts ≤ 40 characters → small \(3 picked\), longer → large \(2\)/);
  expect(r.stdout).toMatch(/savings 54\.0%/);
  const written = JSON.parse(fs.readFileSync(routes, 'utf8'));
  expect(written.routes).toEqual({ classify: { smallUpToChars: 40 } });
  expect(await maestro(['router'])).toMatchObject({ code: 2, stderr: expect.stringContaining('maestro router calibrate') });
  expect(await maestro(['router', 'calibrate', '--tolerance', 'lots'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--tolerance must be a number') });
});

test("the KPIs' $ per PR counts the gateway's spend beside the cost ledger's", async () => {
  const facts = await new RecordStore({ prisma: db.prisma }).trainFacts({ since: new Date(Date.now() - 3_600_000), until: new Date(Date.now() + 60_000) });
  expect(facts.find((f) => f.id === 'cost-merged')!.costUsd).toBeCloseTo(0.021, 9);
  expect(facts.find((f) => f.id === 'cost-denied')!.costUsd).toBeCloseTo(0.01, 9);
});
