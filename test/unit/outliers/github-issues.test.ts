/**
 * The GitHub Issues sink against a local GitHub REST server that checks every request against GitHub's
 * published OpenAPI description (test/helpers/github-api.ts): create, nothing on a repeat, edit and
 * comment on a new train, one issue per anomaly even for a sink that starts with no memory.
 */
import { ANOMALY_LABEL, anomalyMarker, GitHubIssueSink, GitHubRejectedError, readMarker, type AnomalyIssue } from '../../../outliers/github-issues';
import { PermanentError } from '../../../core/errors';
import { checkRequest, startGitHubApiServer, type GitHubApiServer } from '../../helpers/github-api';

const REPO = 'acme/greeter';
const TOKEN = 'ghp_test_DO_NOT_LEAK_0123456789';
let gh: GitHubApiServer;
const sink = () => new GitHubIssueSink({ repo: REPO, token: TOKEN, apiUrl: gh.url });
const anomaly = (trainIds: string[]): AnomalyIssue => ({
  key: 'eval-degradation/greeter/eval_score',
  kind: 'eval-degradation',
  title: 'eval_score of greeter degraded: 0.717 over the last 3 trains against 0.970 before',
  body: `# eval degraded\n\nlatest train: ${trainIds.at(-1)}\n`,
  trainIds,
});

beforeEach(async () => {
  gh = await startGitHubApiServer(REPO, TOKEN);
}, 60_000);
afterEach(() => gh.close());

test('files a new anomaly once, labelled and marked; the same trains again send nothing but the list', async () => {
  const first = await sink().sync(anomaly(['t1', 't2', 't3']));
  expect(first).toEqual({ number: 1, url: `https://github.com/${REPO}/issues/1`, action: 'created' });
  expect(gh.issues).toHaveLength(1);
  expect(gh.issues[0]!.labels).toEqual([ANOMALY_LABEL, 'eval-degradation']);
  expect(readMarker(gh.issues[0]!.body)).toEqual({ key: 'eval-degradation/greeter/eval_score', trainIds: ['t1', 't2', 't3'] });

  const again = await sink().sync(anomaly(['t1', 't2', 't3']));
  expect(again.action).toBe('unchanged');
  expect(gh.calls).toEqual(['issues/list-for-repo', 'issues/create', 'issues/list-for-repo']);
  expect(gh.violations).toEqual([]);
});

test('seen in a new train: the issue is edited (reopened if closed) and gets a comment naming the train; never a second issue', async () => {
  await sink().sync(anomaly(['t1', 't2', 't3']));
  gh.issues[0]!.state = 'closed';
  const updated = await sink().sync(anomaly(['t1', 't2', 't3', 't4']));
  expect(updated).toMatchObject({ number: 1, action: 'updated' });
  expect(gh.issues).toHaveLength(1);
  expect(gh.issues[0]).toMatchObject({ state: 'open', body: expect.stringContaining('latest train: t4') });
  expect(readMarker(gh.issues[0]!.body)?.trainIds).toEqual(['t1', 't2', 't3', 't4']);
  expect(gh.issues[0]!.comments).toEqual([expect.stringContaining('Seen again in `t4`')]);
  expect(gh.calls.slice(-3)).toEqual(['issues/list-for-repo', 'issues/update', 'issues/create-comment']);
  expect(gh.violations).toEqual([]);
});

test('another anomaly is another issue; issues without our marker are left alone', async () => {
  gh.issues.push({ number: 1, title: 'someone else’s', body: 'a human wrote this', state: 'open', labels: [ANOMALY_LABEL], comments: [] });
  const s = sink();
  await s.sync(anomaly(['t1']));
  await s.sync({ ...anomaly(['r9']), key: 'rollout-failed/greeter/r9', kind: 'rollout-failed', title: 'rollout of r9 failed' });
  expect(gh.issues.map((i) => [i.number, readMarker(i.body)?.key])).toEqual([
    [1, undefined],
    [2, 'eval-degradation/greeter/eval_score'],
    [3, 'rollout-failed/greeter/r9'],
  ]);
  // One sink reads the list once.
  expect(gh.calls.filter((c) => c === 'issues/list-for-repo')).toHaveLength(1);
});

test('a bad token is a permanent failure that never echoes the token', async () => {
  const bad = new GitHubIssueSink({ repo: REPO, token: 'wrong-token', apiUrl: gh.url });
  const err = await bad.sync(anomaly(['t1'])).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(GitHubRejectedError);
  expect(err).toBeInstanceOf(PermanentError);
  expect((err as Error).message).toMatch(/HTTP 401: .*Bad credentials/);
  expect((err as Error).message).not.toContain('wrong-token');
});

test('the configuration is validated: repo as owner/name, a token', () => {
  expect(() => new GitHubIssueSink({ repo: 'greeter', token: TOKEN })).toThrow(/owner\/name/);
  expect(() => new GitHubIssueSink({ repo: REPO, token: '' })).toThrow(/MAESTRO_GITHUB_TOKEN/);
});

test('markers round-trip keys and train ids with any characters', () => {
  expect(readMarker(`text\n${anomalyMarker('a b/c', ['x,y', 'z'])}`)).toEqual({ key: 'a b/c', trainIds: ['x,y', 'z'] });
});

test('the checker refuses what GitHub would: a wrong body, a wrong path, missing headers', () => {
  const headers = { accept: 'application/vnd.github+json', authorization: 'Bearer x', 'x-github-api-version': '2022-11-28', 'user-agent': 'ua', 'content-type': 'application/json' };
  const url = (p: string) => new URL(`http://127.0.0.1${p}`);
  expect(checkRequest('POST', url('/repos/a/b/issues'), headers, { title: 't', labels: [ANOMALY_LABEL] }).problems).toEqual([]);
  expect(checkRequest('POST', url('/repos/a/b/issues'), headers, { body: 'no title' }).problems.join()).toMatch(/title/);
  expect(checkRequest('POST', url('/repos/a/b/issues'), headers, { title: 't', labels: 'one' }).problems.join()).toMatch(/labels/);
  expect(checkRequest('PATCH', url('/repos/a/b/issues/1'), headers, { state: 'reopened' }).problems.join()).toMatch(/state|allowed values/);
  expect(checkRequest('GET', url('/repos/a/b/issues?state=everything'), headers, undefined).problems.join()).toMatch(/state/);
  expect(checkRequest('POST', url('/repos/a/b/tickets'), headers, {}).problems.join()).toMatch(/no operation/);
  expect(checkRequest('GET', url('/repos/a/b/issues'), { accept: 'application/json' }, undefined).problems).toHaveLength(4);
});
