/**
 * The outlier analyzer over a real record, filing to GitHub Issues through the REST API (a local server
 * that checks each request against GitHub's OpenAPI description): every anomaly one issue, none twice,
 * a new bad train edits and comments on its issue, and an analyzer that lost its state dir files nothing new.
 */
import { fileIssues } from '../../../outliers/file-issues';
import { GitHubIssueSink, readMarker } from '../../../outliers/github-issues';
import { RecordStore } from '../../../record/store';
import { freshDatabase, type FreshDb } from '../../helpers/fresh-db';
import { startGitHubApiServer, type GitHubApiServer } from '../../helpers/github-api';
import { seedTrain } from '../../helpers/record-fixture';
import { tempDir } from '../../helpers/temporal';

let db: FreshDb;
let record: RecordStore;
let gh: GitHubApiServer;
const period = () => ({ since: new Date(Date.now() - 3_600_000), until: new Date(Date.now() + 60_000) });
const sink = () => new GitHubIssueSink({ repo: 'acme/greeter', token: 'ghp_integration', apiUrl: gh.url });

beforeAll(async () => {
  gh = await startGitHubApiServer('acme/greeter', 'ghp_integration');
  db = await freshDatabase('ghsink');
  record = new RecordStore({ prisma: db.prisma });
  const scores = [0.97, 0.96, 0.98, 0.97, 0.95, 0.99, 0.96, 0.97, 0.98, 0.97, 0.71, 0.74, 0.7];
  for (const [i, evalScore] of scores.entries()) await seedTrain(record, { id: `gh-${String(i).padStart(2, '0')}`, service: 'svc', outcome: evalScore > 0.85 ? 'promoted' : 'denied', evalScore, merged: evalScore > 0.85 });
  await seedTrain(record, { id: 'gh-rolled', service: 'other', outcome: 'rolled_back', reason: 'health gate at 10% failed: error rate 33.00% > 1.00%', evalScore: 0.95, merged: true });
}, 120_000);
afterAll(async () => {
  await gh.close();
  await db.drop();
});

test('one GitHub issue per anomaly, updated on re-detection, never duplicated', async () => {
  const dir = tempDir('gh-issues');
  const first = await fileIssues({ record, dir, github: sink() }, period());
  expect(first.map((f) => [f.key, f.github?.action])).toEqual([
    // The Eval Score and the tests check fell over the same trains: one regression, one issue.
    ['eval-degradation/svc/eval_score', 'created'],
    ['rollout-failed/other/gh-rolled', 'created'],
  ]);
  expect(gh.issues.map((i) => readMarker(i.body)?.key)).toEqual(first.map((f) => f.key));
  expect(gh.issues[0]!.body).toContain('## Reproduce locally');

  // Again with nothing new; then from an analyzer with an empty state dir: GitHub's markers deduplicate.
  expect((await fileIssues({ record, dir, github: sink() }, period())).map((f) => f.github?.action)).toEqual(['unchanged', 'unchanged']);
  expect((await fileIssues({ record, dir: tempDir('gh-issues-lost'), github: sink() }, period())).map((f) => f.github?.action)).toEqual(['unchanged', 'unchanged']);
  expect(gh.issues).toHaveLength(2);

  await seedTrain(record, { id: 'gh-13', service: 'svc', outcome: 'denied', evalScore: 0.69 });
  const third = await fileIssues({ record, dir, github: sink() }, period());
  const score = third.find((f) => f.key === 'eval-degradation/svc/eval_score')!;
  expect([score.status, score.github?.action, score.github?.number]).toEqual(['updated', 'updated', 1]);
  expect(gh.issues[0]!.comments).toEqual([expect.stringContaining('Seen again in `gh-13`')]);
  expect(gh.issues).toHaveLength(2);
  expect(gh.violations).toEqual([]);
  // gh-13's eval score and its tests_pass check both degraded further: their one issue updated, audited with its URL.
  const audit = await db.prisma.auditEvent.findMany({ where: { action: 'anomaly.updated' }, orderBy: { id: 'asc' } });
  expect(audit.map((a) => (a.detail as { githubIssue?: string }).githubIssue)).toEqual(['https://github.com/acme/greeter/issues/1']);
});
