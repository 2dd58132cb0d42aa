import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { TASK_QUEUE } from '../../../workflows/messages';
import { startTestWorker, type TestWorker, realActivities, tempDir } from '../../helpers/temporal';
import { TrainFixture } from '../../../examples/train-fixture';

const MAESTRO = path.resolve(__dirname, '../../../bin/maestro');
const run = promisify(execFile);

async function maestro(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(MAESTRO, args, { env: { ...process.env, TEMPORAL_ADDRESS: process.env.MAESTRO_TEST_TEMPORAL_ADDRESS, ...env }, timeout: 180_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

let temporal: TestWorker;
const stateDir = tempDir('cli-state');
const fixture = new TrainFixture('greeter-cli', stateDir);
const files = tempDir('cli-changes');

beforeAll(async () => {
  temporal = await startTestWorker(TASK_QUEUE, realActivities(stateDir));
  await fixture.start();
}, 120_000);

afterAll(async () => {
  await temporal?.stop();
  await fixture.stop();
});

function writeChange(name: string, content: unknown): string {
  const file = path.join(files, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify(content));
  return file;
}

const RUN = Date.now().toString(36);

test('a denied train exits 11 and prints the reason and the fix', async () => {
  const cr = fixture.change('failing-tests-change', `cli-denied-${RUN}`);
  const out = await maestro(['release', 'start', writeChange('denied', cr), '--wait']);
  expect(out.code).toBe(11);
  expect(out.stdout).toMatch(/outcome: denied — \[eval-score-below-threshold\].*fix:/);

  // Why, from the record, in words; and the KPIs that count it.
  const why = await maestro(['explain', `train-${cr.id}`]);
  expect(why.code).toBe(0);
  expect(why.stdout.split('\n')[0]).toMatch(new RegExp(`^train-${cr.id} \\(greeter-cli → dev, ".*" by .*\\) was denied by rule eval-score-below-threshold: `));
  expect(why.stdout).toMatch(/denied by policy:\n  \[eval-score-below-threshold\] .*Evidence: .*\n    FAIL tests_pass score=0\.714: .*Fix: Make tests_pass, base_tests_pass pass/s);
  expect(why.stdout).toMatch(/FAIL  tests_pass/);
  const kpi = await maestro(['kpi', '--since', '1h', '--json']);
  expect(kpi.code).toBe(0);
  const overrides = (JSON.parse(kpi.stdout) as { kpis: { id: string; n: number }[] }).kpis.find((k) => k.id === 'reviewer_override_rate');
  expect(overrides?.n).toBeGreaterThanOrEqual(1);
});

test('explain and kpi refuse what they cannot answer, saying what to give instead', async () => {
  const missing = await maestro(['explain', 'train-never-ran']);
  expect([missing.code, missing.stderr.trim()]).toEqual([4, "maestro explain: no train 'train-never-ran' in the record (train ids are the workflow ids 'maestro release' prints)"]);
  const period = await maestro(['kpi', '--since', 'yesterday']);
  expect(period.code).toBe(2);
  expect(period.stderr).toContain("since: use a span back from now like '24h', '7d' or '4w', or an ISO date like '2026-11-01'");
});

test('release start --wait follows a train to promotion and exits 0; status shows the history', async () => {
  const cr = fixture.change('good-change', `cli-good-${RUN}`);
  const out = await maestro(['release', 'start', writeChange('good', cr), '--wait']);
  expect(out.stderr).toBe('');
  expect(out.code).toBe(0);
  expect(out.stdout).toContain(`started release train train-${cr.id}`);
  expect(out.stdout).toMatch(/Web UI: http:\/\/127\.0\.0\.1:8233\/namespaces\/default\/workflows\/train-cli-good-/);
  expect(out.stdout).toMatch(/stage rollout · weight 50%/);
  expect(out.stdout).toMatch(/outcome: promoted/);
  const status = await maestro(['status', `train-${cr.id}`]);
  expect(status.code).toBe(0);
  expect(status.stdout).toMatch(/outcome promoted, canary weight 100%/);
  expect(status.stdout).toMatch(/gate-passed/);
  // Under load a whole train with its CLI start-ups can take longer than the default 2 minutes.
}, 240_000);

test('a finished change id is refused with its outcome and how to re-run it on purpose; nothing starts', async () => {
  const cr = fixture.change('failing-tests-change', `cli-again-${RUN}`);
  const file = writeChange('again', cr);
  // Denied (11) on the initial greeter; failed (13) once the promotion above has moved the repo on.
  const first = await maestro(['release', 'start', file, '--wait']);
  const outcome = ({ 11: 'denied', 13: 'failed' } as Record<number, string>)[first.code];
  expect(outcome).toBeDefined();
  const again = await maestro(['release', 'start', file]);
  expect(again.code).toBe(2);
  expect(again.stderr).toContain(`change '${cr.id}' was already released by train train-${cr.id}: ${outcome} — `);
  expect(again.stderr).toContain(`give it a new id (e.g. "${cr.id}-2")`);
  const runs = await temporal.client.workflow.list({ query: `WorkflowId = 'train-${cr.id}'` });
  let count = 0;
  for await (const _ of runs) count++;
  expect(count).toBe(1);
});

test('a repo that does not exist, a path that climbs out, and an unknown base branch are refused before anything starts', async () => {
  const missing = await maestro(['release', 'start', writeChange('missing-repo', { ...fixture.change('good-change', `cli-missing-${RUN}`), repo: '/nonexistent/greeter' })]);
  expect([missing.code, missing.stderr]).toEqual([2, expect.stringContaining("repo '/nonexistent/greeter' does not exist")]);
  const climbing = await maestro(['release', 'start', writeChange('climbing', { ...fixture.change('good-change', `cli-climb-${RUN}`), repo: `${fixture.repo}/../..` })]);
  expect([climbing.code, climbing.stderr]).toEqual([2, expect.stringContaining("must be a normalised absolute path")]);
  const branch = await maestro(['release', 'start', writeChange('bad-branch', { ...fixture.change('good-change', `cli-branch-${RUN}`), baseBranch: 'release-9' })]);
  expect([branch.code, branch.stderr]).toEqual([2, expect.stringContaining("base branch 'release-9' does not exist")]);
  const escaping = await maestro(['release', 'start', writeChange('escaping', { ...fixture.change('good-change', `cli-escape-${RUN}`), baseBranch: '../../etc' })]);
  expect([escaping.code, escaping.stderr]).toEqual([2, expect.stringContaining('must be a git branch name')]);
  for (const id of ['missing', 'climb', 'branch', 'escape']) {
    await expect(temporal.client.workflow.getHandle(`train-cli-${id}-${RUN}`).describe()).rejects.toThrow(/not found/i);
  }
});

test('release --ref: a ref the target repo does not have, or not a ref name, is refused before anything starts', async () => {
  const file = writeChange('by-ref', fixture.change('good-change', `cli-ref-${RUN}`));
  const missing = await maestro(['release', 'start', file, '--ref', 'feature/nope']);
  expect([missing.code, missing.stderr]).toEqual([2, expect.stringMatching(/ref 'feature\/nope' is neither a branch nor a commit of .*; branches: (.*, )?main\b/)]);
  const malformed = await maestro(['release', 'start', file, '--ref', '../main']);
  expect([malformed.code, malformed.stderr]).toEqual([2, expect.stringContaining('change.ref: must be a git branch name or commit id')]);
  await expect(temporal.client.workflow.getHandle(`train-cli-ref-${RUN}`).describe()).rejects.toThrow(/not found/i);
});

test('a train that cannot apply its change fails with exit 13 and says why', async () => {
  // The good change was merged by the test above: applying it again to main cannot work.
  const cr = fixture.change('good-change', `cli-reapply-${RUN}`);
  const out = await maestro(['release', 'start', writeChange('reapply', cr), '--wait']);
  expect(out.code).toBe(13);
  expect(out.stdout).toMatch(/outcome: failed — .*does not apply/);
});

test('a bad change file is rejected with the field path and exit 2, starting nothing', async () => {
  const cr = { ...fixture.change('good-change', 'cli-bad'), environment: 'production', rollout: { steps: [{ setWeight: 0 }] } };
  const out = await maestro(['release', 'start', writeChange('bad', cr)]);
  expect(out.code).toBe(2);
  expect(out.stderr).toMatch(/environment: got 'production', allowed: 'dev', 'staging', 'prod'/);
  expect(out.stderr).toMatch(/rollout\.steps\.0\.setWeight/);
  expect(out.stdout).not.toMatch(/started/);
});

test('a patch that adds a secret is refused before anything reaches Temporal, without echoing the secret', async () => {
  const secret = 'AKIA' + 'ABCDEFGHIJKLMNOP';
  const diff = `diff --git a/src/config.ts b/src/config.ts\nnew file mode 100644\n--- /dev/null\n+++ b/src/config.ts\n@@ -0,0 +1 @@\n+export const awsKey = '${secret}';\n`;
  const cr = { ...fixture.change('good-change', `cli-secret-${RUN}`), change: { kind: 'patch', diff } };
  const out = await maestro(['release', 'start', writeChange('secret', cr)]);
  expect(out.code).toBe(2);
  expect(out.stderr).toMatch(/src\/config\.ts:1: AWS access key id/);
  expect(out.stderr).not.toContain(secret);
  expect((await maestro(['status', `train-${cr.id}`])).code).toBe(4);
});

test('Temporal unreachable: exit 3 and how to start it', async () => {
  const out = await maestro(['status', 'train-x'], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
  expect(out.code).toBe(3);
  expect(out.stderr).toMatch(/not reachable at 127\.0\.0\.1:1/);
  expect(out.stderr).toMatch(/maestro up/);
});

test('signals to an unknown train exit 4; unknown commands exit 2', async () => {
  expect((await maestro(['abort', 'train-does-not-exist', '--by', 'dave'])).code).toBe(4);
  const unknown = await maestro(['deploy']);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toMatch(/unknown command 'deploy'/);
});
