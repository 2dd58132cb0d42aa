/** The outlier analyzer over a real record: one issue per anomaly with its bundle; found again, updated, never duplicated. */
import fs from 'node:fs';
import path from 'node:path';
import { fileIssues } from '../../../outliers/file-issues';
import { RecordStore } from '../../../record/store';
import { freshDatabase, type FreshDb } from '../../helpers/fresh-db';
import { seedTrain } from '../../helpers/record-fixture';
import { tempDir } from '../../helpers/temporal';

let db: FreshDb;
let record: RecordStore;
const dir = tempDir('issues');
const specArtifacts = tempDir('specs');
const period = () => ({ since: new Date(Date.now() - 3_600_000), until: new Date(Date.now() + 60_000) });

beforeAll(async () => {
  db = await freshDatabase('outliers');
  record = new RecordStore({ prisma: db.prisma });
  const scores = [0.97, 0.96, 0.98, 0.97, 0.95, 0.99, 0.96, 0.97, 0.98, 0.97, 0.71, 0.74, 0.7];
  for (const [i, evalScore] of scores.entries()) await seedTrain(record, { id: `svc-${String(i).padStart(2, '0')}`, service: 'svc', outcome: evalScore > 0.85 ? 'promoted' : 'denied', evalScore, merged: evalScore > 0.85 });
  await seedTrain(record, {
    id: 'other-rolled',
    service: 'other',
    outcome: 'rolled_back',
    reason: 'health gate at 10% failed: error rate 33.00% > 1.00%',
    evalScore: 0.95,
    merged: true,
    summary: { timeline: [{ at: Date.now(), kind: 'rollback', detail: 'health gate at 10% failed; 100% on stable', source: 'rollout' }], rollout: { outcome: 'rolled_back', reason: 'health gate at 10% failed: error rate 33.00% > 1.00%', finalWeight: 0, probes: 2, mttrMs: 1_200 } },
  });
}, 120_000);
afterAll(() => db.drop());

test('every injected anomaly is filed once with its repro bundle; a second run files nothing new; a new bad train updates its issue', async () => {
  // SpecSynth's spec of the train to reproduce travels in its bundle.
  fs.mkdirSync(path.join(specArtifacts, 'svc-12'), { recursive: true });
  fs.writeFileSync(path.join(specArtifacts, 'svc-12', 'spec.json'), '{"title":"Greet by name"}\n');
  fs.writeFileSync(path.join(specArtifacts, 'svc-12', 'spec.md'), '# Greet by name\n');
  const first = await fileIssues({ record, dir, specArtifacts }, period());
  expect(first.map((f) => [f.key, f.status])).toEqual([
    // The Eval Score and the tests check fell over the same trains: one regression, one issue.
    ['eval-degradation/svc/eval_score', 'filed'],
    ['rollout-failed/other/other-rolled', 'filed'],
  ]);
  const issue = fs.readFileSync(path.join(dir, 'eval-degradation_svc_eval_score', 'issue.md'), 'utf8');
  expect(issue).toMatch(/# eval_score of svc degraded: 0\.717 over the last 3 trains against 0\.970 before; with it tests_pass \d\.\d{3} against \d\.\d{3}\n/);
  expect(issue).toMatch(/Mann–Whitney z = 2\.\d\d, one-sided p = /);
  expect(issue).toContain('bin/maestro explain svc-12');
  expect(issue).toContain('no workflow history: Temporal was not reachable');
  const bundle = path.join(dir, 'eval-degradation_svc_eval_score', 'bundle');
  expect(fs.readdirSync(bundle).sort()).toEqual(['change-request.json', 'diff.patch', 'eval-report.json', 'explain.txt', 'gate.json', 'spec.json', 'spec.md']);
  expect(fs.readFileSync(path.join(bundle, 'spec.md'), 'utf8')).toBe('# Greet by name\n');
  expect(issue).toContain('- `spec.json`, `spec.md`: the spec SpecSynth wrote for it');
  expect(fs.readFileSync(path.join(dir, 'rollout-failed_other_other-rolled', 'issue.md'), 'utf8')).toContain('- no spec: SpecSynth kept none for this change');
  expect(JSON.parse(fs.readFileSync(path.join(bundle, 'change-request.json'), 'utf8'))).toMatchObject({ id: 'svc-12', service: 'svc' });
  const gate = JSON.parse(fs.readFileSync(path.join(dir, 'rollout-failed_other_other-rolled', 'bundle', 'gate.json'), 'utf8'));
  expect(gate.rollout).toMatchObject({ outcome: 'rolled_back', mttrMs: 1_200 });

  const second = await fileIssues({ record, dir }, period());
  expect(second.map((f) => f.status)).toEqual(['unchanged', 'unchanged']);

  await seedTrain(record, { id: 'svc-13', service: 'svc', outcome: 'denied', evalScore: 0.69 });
  const third = await fileIssues({ record, dir }, period());
  expect(third.find((f) => f.key === 'eval-degradation/svc/eval_score')?.status).toBe('updated');
  expect(fs.readdirSync(dir).sort()).toEqual(['eval-degradation_svc_eval_score', 'rollout-failed_other_other-rolled']);
  expect(JSON.parse(fs.readFileSync(path.join(dir, 'eval-degradation_svc_eval_score', 'state.json'), 'utf8')).trainIds).toEqual(['svc-10', 'svc-11', 'svc-12', 'svc-13']);

  // The record has one audit event per filing or update.
  const events = await db.prisma.auditEvent.findMany({ where: { actor: 'maestro-analyzer' }, orderBy: { id: 'asc' } });
  expect(events.map((e) => e.action)).toEqual(['anomaly.filed', 'anomaly.filed', 'anomaly.updated']);
});
