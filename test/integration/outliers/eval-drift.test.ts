/**
 * The analyzer on eval results the real harness produced: the eval activity runs on the demo drift's changes
 * (cli/demo-eval-drift.ts: one test more per baseline change, then the loosened name validation) in a real greeter
 * repository, and each report goes into the record as the release train writes it (recordTrainStarted,
 * recordEvalResult). No train runs: scripts/demo-eval-drift.sh does that end to end.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createEvalActivities } from '../../../activities/evals';
import { createRepoActivities } from '../../../activities/repo';
import { BASELINE_NAMES, baselineChange, REGRESSION_CHANGE } from '../../../cli/demo-eval-drift';
import { defaultDegradationOptions } from '../../../core/anomalies';
import type { ChangeRequest } from '../../../core/change-request';
import type { EvalReport } from '../../../core/stages';
import { createDemoRepo, loadExampleChange } from '../../../examples/demo-repo';
import { TSX_CLI } from '../../../io/paths';
import { fileIssues } from '../../../outliers/file-issues';
import { RecordStore } from '../../../record/store';
import { freshDatabase, type FreshDb } from '../../helpers/fresh-db';
import { tempDir } from '../../helpers/temporal';

const { minBaseline, window } = defaultDegradationOptions;
let db: FreshDb;
let record: RecordStore;
const tmp = tempDir('eval-drift');
const reports = new Map<string, EvalReport>();

const scenario = (report: EvalReport, id: string) => report.scenarios?.find((s) => s.id === id);

beforeAll(async () => {
  db = await freshDatabase('evaldrift');
  record = new RecordStore({ prisma: db.prisma });
  const { repo } = await createDemoRepo(path.join(tmp, 'greeter'));
  const repository = createRepoActivities({ workRoot: path.join(tmp, 'work') });
  const evals = createEvalActivities({ tsxCli: TSX_CLI, testTimeoutMs: 60_000, artifactsDir: path.join(tmp, 'artifacts') });
  const changes: ChangeRequest[] = [
    ...(await Promise.all(BASELINE_NAMES.slice(0, minBaseline).map((name, i) => baselineChange(repo, name, `base-${i + 1}`)))),
    ...Array.from({ length: window }, (_, i) => loadExampleChange(REGRESSION_CHANGE, repo, `regressed-${i + 1}`)),
  ];
  // One after the other, as the service's trains run: the series is ordered by when each result was recorded.
  for (const changeRequest of changes) {
    const candidate = await repository.prepareChange(changeRequest);
    const report = await evals.runEvals({ changeRequest, candidate });
    reports.set(changeRequest.id, report);
    await record.recordTrainStarted({ trainId: `train-${changeRequest.id}`, changeRequest });
    await record.recordEvalResult({ trainId: `train-${changeRequest.id}`, candidateSha: candidate.sha, evals: report });
  }
}, 300_000);
afterAll(async () => {
  await db.drop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('the loosened validation passes the gate and fails only greeter.validation@v1; the baseline changes pass both', () => {
  for (const [id, report] of reports) {
    // The gate's own checks pass for every change, so only the Eval Score series can move.
    expect([id, report.checks.map((c) => [c.check, c.score])]).toEqual([id, [['patch_applies', 1], ['tests_pass', 1], ['base_tests_pass', 1], ['changed_lines_covered', 1]]]);
    const validation = scenario(report, 'greeter.validation@v1');
    if (id.startsWith('base-')) {
      expect([id, report.score, validation?.score]).toEqual([id, 1, 1]);
    } else {
      expect([id, report.score, report.passed, validation?.score, validation?.passed]).toEqual([id, 0.5, false, 0, false]);
    }
  }
});

test('the analyzer files exactly one eval degradation with its bundle, and nothing new when run again', async () => {
  const period = { since: new Date(Date.now() - 3_600_000), until: new Date(Date.now() + 60_000) };
  const dir = path.join(tmp, 'issues');
  const deps = { record, dir, evalArtifacts: path.join(tmp, 'artifacts') };
  const first = await fileIssues(deps, period);
  expect(first.map((f) => [f.key, f.status])).toEqual([['eval-degradation/greeter/eval_score', 'filed']]);
  // The scenario that fell is a series of its own, over the same trains: one issue, naming both.
  expect(first[0]!.title).toBe(`eval_score of greeter degraded: 0.500 over the last ${window} trains against 1.000 before; with it scenario:greeter.validation@v1 0.000 against 1.000`);
  const folder = path.join(dir, 'eval-degradation_greeter_eval_score');
  const state = JSON.parse(fs.readFileSync(path.join(folder, 'state.json'), 'utf8')) as { trainIds: string[] };
  expect(state.trainIds).toEqual(Array.from({ length: window }, (_, i) => `train-regressed-${i + 1}`));
  const issue = fs.readFileSync(path.join(folder, 'issue.md'), 'utf8');
  expect(issue).toMatch(/Mann–Whitney z = \d\.\d\d, one-sided p = \S+ < α = 0\.01/);
  // The harness's tile in the issue shows every scenario of the latest train.
  expect(issue).toContain(`## Eval scenarios of the latest train (train-regressed-${window})`);
  expect(issue).toMatch(/\| gate\.release-train@v1 \| 1\.000 \| pass \|/);
  expect(issue).toMatch(/\| greeter\.validation@v1 \| 0\.000 \| FAIL \| ✖ json_schema 0\.00 \|/);
  expect(fs.readdirSync(path.join(folder, 'bundle')).sort()).toEqual(['change-request.json', 'diff.patch', 'eval-report.json', 'eval-scenarios.md', 'explain.txt', 'gate.json']);
  // The bundle carries the regression itself: the diff that loosens the validation and its eval report.
  expect(fs.readFileSync(path.join(folder, 'bundle', 'diff.patch'), 'utf8')).toContain('+const TAG_NAME = ');
  expect(JSON.parse(fs.readFileSync(path.join(folder, 'bundle', 'eval-report.json'), 'utf8'))[0]).toMatchObject({ score: 0.5, passed: false });

  const second = await fileIssues(deps, period);
  expect(second.map((f) => [f.key, f.status])).toEqual([['eval-degradation/greeter/eval_score', 'unchanged']]);
  expect(fs.readdirSync(dir)).toEqual(['eval-degradation_greeter_eval_score']);
});
