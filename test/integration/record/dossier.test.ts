/** The readers of the record (trainDossier, listTrains, trainFacts) against a real PostgreSQL, fed by the writers. */
import { computeKpis } from '../../../core/kpi';
import { RecordStore } from '../../../record/store';
import { freshDatabase, type FreshDb } from '../../helpers/fresh-db';
import { seedTrain } from '../../helpers/record-fixture';

let db: FreshDb;
let store: RecordStore;
beforeAll(async () => {
  db = await freshDatabase('dossier');
  store = new RecordStore({ prisma: db.prisma });
});
afterAll(() => db.drop());

test("a closed train's dossier has every stage, verdict and the workflow's summary, parsed", async () => {
  const summary = {
    timeline: [{ at: 1_764_000_000_000, kind: 'abort', detail: 'wrong region', by: 'grace', source: 'train' as const }],
    rollout: { outcome: 'rolled_back' as const, reason: 'health gate at 10% failed: error rate 30% > 1%', finalWeight: 0, probes: 3, mttrMs: 1_700 },
  };
  await seedTrain(store, { id: 'train-rb', outcome: 'rolled_back', evalScore: 0.9, merged: true, costUsd: 0.012, prompt: 'fix', summary });
  const d = await store.trainDossier({ trainId: 'train-rb' });
  expect(d.train).toMatchObject({ id: 'train-rb', state: 'closed', outcome: 'rolled_back', prompt: 'fix', mergeSha: 'm'.repeat(40) });
  expect(d.stages.map((s) => s.name)).toEqual(['runEvals', 'merge']);
  expect(d.evals[0]).toMatchObject({ score: 0.9, passed: true, checks: [{ check: 'tests_pass' }] });
  expect(d.decisions[0]).toMatchObject({ outcome: 'allow' });
  expect(d.costs[0]).toMatchObject({ costUsd: 0.012, model: 'smollm2' });
  expect(d.summary).toEqual(summary);

  const [facts] = await store.trainFacts({ since: new Date(Date.now() - 3_600_000), until: new Date(Date.now() + 60_000) });
  expect(facts).toMatchObject({ id: 'train-rb', outcome: 'rolled_back', autonomous: true, mttrMs: 1_700, evalScore: 0.9, decisions: ['allow'], overridden: false, costUsd: 0.012 });
  expect(facts!.mergedAt).toEqual(expect.any(Number));
});

test('a summary that does not parse is left out, not trusted; an unknown train is UnknownTrain', async () => {
  await seedTrain(store, { id: 'train-odd', outcome: 'failed' });
  await db.prisma.train.update({ where: { id: 'train-odd' }, data: { summary: { timeline: 'not a list' } } });
  expect((await store.trainDossier({ trainId: 'train-odd' })).summary).toBeUndefined();
  await expect(store.trainDossier({ trainId: 'nope' })).rejects.toMatchObject({ type: 'UnknownTrain' });
});

test('KPIs over the record: a granted appeal counts as an override, a deny-then-allow too', async () => {
  const since = new Date();
  await seedTrain(store, { id: 'k-denied', outcome: 'denied', evalScore: 0.4, denials: [{ rule: 'tests-weakened', reason: 'r', evidence: 'e', fix: 'f' }] });
  await seedTrain(store, { id: 'k-promoted', outcome: 'promoted', evalScore: 0.97, merged: true });
  await db.prisma.appeal.create({ data: { id: 'appeal-k', trainId: 'k-denied', rules: ['tests-weakened'], appellant: 'ada', reason: 'flaky', status: 'granted', decidedBy: 'grace' } });
  const facts = await store.trainFacts({ since, until: new Date(Date.now() + 60_000) });
  expect(facts.map((f) => [f.id, f.overridden])).toEqual([
    ['k-denied', true],
    ['k-promoted', false],
  ]);
  const kpis = computeKpis(facts, { since: since.getTime(), until: Date.now() + 60_000 });
  expect(kpis.find((k) => k.id === 'reviewer_override_rate')).toMatchObject({ value: 0.5, n: 2 });
  expect(kpis.find((k) => k.id === 'policy_violations')).toMatchObject({ value: 0, n: 1 });
  expect((await store.listTrains({ since })).map((t) => t.id)).toEqual(['k-promoted', 'k-denied']);
});
