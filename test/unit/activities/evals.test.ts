import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createDemoRepo, loadExampleChange } from '../../../examples/demo-repo';
import { createRepoActivities } from '../../../activities/repo';
import { git } from '../../../io/git';
import { createEvalActivities, EVAL_THRESHOLD, gateScenario } from '../../../activities/evals';
import { scoreScenario } from '../../../evals/scoring';
import { parseTestOutput } from '../../../evals/test-runner';
import { parseChangeRequest } from '../../../core/change-request';
import type { EvalReport } from '../../../core/stages';

import { TSX_CLI } from '../../../io/paths';

let tmp: string;
let repoActivities: ReturnType<typeof createRepoActivities>;
let artifactsDir: string;
let evals: ReturnType<typeof createEvalActivities>;
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'maestro-evals-'));
  artifactsDir = path.join(tmp, 'artifacts', 'evals');
  evals = createEvalActivities({ tsxCli: TSX_CLI, testTimeoutMs: 30_000, artifactsDir });
  repoActivities = createRepoActivities({ workRoot: path.join(tmp, 'work') });
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

let counter = 0;
async function prepared(exampleName: string, id: string) {
  const { repo } = await createDemoRepo(path.join(tmp, `repo-${++counter}`));
  const changeRequest = loadExampleChange(exampleName, repo, id);
  return { changeRequest, candidate: await repoActivities.prepareChange(changeRequest) };
}

describe('runEvals', () => {
  it('passes the good change with score 1', async () => {
    const report = await evals.runEvals(await prepared('good-change', 'good'));
    expect(report.checks.map((c) => [c.check, c.passed, c.score])).toEqual([
      ['patch_applies', true, 1],
      ['tests_pass', true, 1],
      ['base_tests_pass', true, 1],
      ['changed_lines_covered', true, 1],
    ]);
    expect(report.checks[1].explanation).toBe('18/18 tests passed');
    // Diff coverage reads that same run: every changed code line of src/ ran (interface members and comments do not count).
    expect(report.checks[3].explanation).toMatch(/^(\d+)\/\1 changed code lines run by the tests \(100\.0%, needs 80%\)$/);
    // The base's tests judge the candidate; the two whose expectation the change updates (a "language" field,
    // as its intent says) are the intended behaviour change, not a failure.
    expect(report.checks[2].explanation).toMatch(/^12\/12 base tests pass on the candidate; intended by the change .*'GET \/greet returns a JSON greeting', 'greets by name'/);
    expect(report.testChanges).toEqual([]);
    expect(report).toMatchObject({ score: 1, passed: true, threshold: 0.85 });
    // The harness wrote the run's artifacts under <artifactsDir>/<changeId>/.
    const dir = path.join(artifactsDir, 'good');
    expect((await fs.readdir(dir)).sort()).toEqual(['badge.svg', 'eval-score.md', 'latest.json', 'runs']);
    expect(await fs.readFile(path.join(dir, 'eval-score.md'), 'utf8')).toMatch(/^### Eval Score: 100\.0% ✅ pass[\s\S]*\| gate\.release-train@v1 \| 1\.000 \| pass \|/);
    expect(JSON.parse(await fs.readFile(path.join(dir, 'latest.json'), 'utf8')).run.scenarios[0].checks[1].explanation).toBe('18/18 tests passed');
  });

  it('passes the bad change too: its failure only shows under traffic', async () => {
    const report = await evals.runEvals(await prepared('bad-change', 'bad'));
    expect(report.passed).toBe(true);
    // Its test starts the entry file in a child process: the child's coverage counts too.
    expect(report.checks.find((c) => c.check === 'changed_lines_covered')).toMatchObject({ passed: true, score: 1 });
  });

  it('fails the failing-tests change and names the failing tests', async () => {
    const report = await evals.runEvals(await prepared('failing-tests-change', 'failing'));
    const tests = report.checks.find((c) => c.check === 'tests_pass');
    expect(tests).toMatchObject({ passed: false, score: 10 / 14 });
    expect(tests?.explanation).toMatch(/^10\/14 tests passed; failing: /);
    for (const name of ['greets by name', 'greets the world when no name is given', 'accepts names in any script', 'GET /greet returns a JSON greeting'])
      expect(tests?.explanation).toContain(`'${name}'`);
    expect(report.passed).toBe(false);
    // Gate: weighted mean (1·1 + 3·10/14 + 3·s_base + 2·s_cov)/9, capped by the lowest failed required check (evals/scoring.ts).
    const base = report.checks.find((c) => c.check === 'base_tests_pass')!;
    const cov = report.checks.find((c) => c.check === 'changed_lines_covered')!;
    const gate = ((1 * 1 + 3 * (10 / 14) + 3 * base.score + 2 * cov.score) / 9) * Math.min(10 / 14, base.passed ? 1 : base.score, cov.passed ? 1 : cov.score);
    // It changes src/greeting.ts, so the registry's greeter scenario ran too; the Eval Score is half each (evals/gate.ts).
    const [, validation] = report.scenarios!;
    expect(validation).toMatchObject({ id: 'greeter.validation@v1', passed: true, score: 1, selectedBy: ['path src/greeting.ts ~ src/greeting.ts'] });
    expect(report.score).toBeCloseTo(0.5 * gate + 0.5 * validation.score);
  });

  it('does not leak the worker environment into the tests', async () => {
    const { repo } = await createDemoRepo(path.join(tmp, `repo-${++counter}`));
    const testFile = [
      "import { test } from 'node:test';",
      "import assert from 'node:assert/strict';",
      "test('no secrets in env', () => { assert.equal(process.env.MAESTRO_TEST_SECRET, undefined); });",
      "test('PATH is kept', () => { assert.ok(process.env.PATH); });",
      '',
    ].join('\n');
    await fs.writeFile(path.join(repo, 'test/env.test.ts'), testFile);
    const descriptor = { entry: 'src/server.ts', test: ['{node}', '{tsx}', '--test', 'test/env.test.ts'] };
    const changeRequest = parseChangeRequest({
      id: 'env-check',
      title: 'env check',
      intent: 'check the env',
      repo,
      service: 'greeter',
      change: { kind: 'codemod', codemod: { codemod: 'replace-literal', file: 'maestro.service.json', from: (await fs.readFile(path.join(repo, 'maestro.service.json'), 'utf8')).trim(), to: JSON.stringify(descriptor) } },
    });
    // The new test file is untracked in the user's checkout: commit it so the candidate carries it.
    await git(repo, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'add', 'test/env.test.ts']);
    await git(repo, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'env test']);
    const candidate = await repoActivities.prepareChange(changeRequest);
    process.env.MAESTRO_TEST_SECRET = 'hunter2';
    try {
      const report = await evals.runEvals({ changeRequest, candidate });
      expect(report.checks[1]).toMatchObject({ passed: true, explanation: '2/2 tests passed' });
      const dir = path.join(artifactsDir, 'env-check');
      for (const file of ['latest.json', 'eval-score.md', 'badge.svg']) expect(await fs.readFile(path.join(dir, file), 'utf8')).not.toContain('hunter2');
    } finally {
      delete process.env.MAESTRO_TEST_SECRET;
    }
  });

  it('passes a project-wide rename codemod (the renamed tests still run green)', async () => {
    const { repo } = await createDemoRepo(path.join(tmp, `repo-${++counter}`));
    const changeRequest = parseChangeRequest({
      id: 'rename-greet',
      title: 'Rename greet',
      intent: 'clearer name',
      repo,
      service: 'greeter',
      change: { kind: 'codemod', codemod: { codemod: 'rename-symbol', from: 'greet', to: 'composeGreeting' } },
    });
    const candidate = await repoActivities.prepareChange(changeRequest);
    expect(candidate.changedFiles).toEqual(['src/app.ts', 'src/greeting.ts', 'test/greeting.test.ts']);
    const report = await evals.runEvals({ changeRequest, candidate });
    expect(report).toMatchObject({ score: 1, passed: true });
  });

  it('kills a test command that exceeds its time limit', async () => {
    const input = await prepared('good-change', 'slow');
    const hanging = { ...input.candidate, service: { ...input.candidate.service, test: ['{node}', '-e', 'setInterval(() => {}, 1000)'] } };
    // No registry scenarios: this is about the gate's own limit (each selected scenario has its own).
    const quick = createEvalActivities({ tsxCli: TSX_CLI, testTimeoutMs: 3000, scenariosDir: await fs.mkdtemp(path.join(os.tmpdir(), 'no-scenarios-')) });
    const report = await quick.runEvals({ changeRequest: input.changeRequest, candidate: hanging });
    expect(report.checks[1]).toMatchObject({ passed: false, score: 0 });
    // The harness bounds the whole gate scenario by the limit and reports how long the test command ran before the kill.
    const [, ms] = /timed out after (\d+) ms and was killed/.exec(report.checks[1].explanation) ?? [];
    expect(Number(ms)).toBeGreaterThan(0);
    // 3 s, not less: on a loaded machine the patch check alone can take a second before the tests start.
    expect(Number(ms)).toBeLessThanOrEqual(3000 + 250);
    expect(report.durationMs).toBeLessThan(10_000);
  });

  it('heartbeats when it runs as an activity', async () => {
    const input = await prepared('good-change', 'heartbeat');
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (details: unknown) => beats.push(details));
    const report: EvalReport = await env.run(evals.runEvals, input);
    expect(report.passed).toBe(true);
    expect(beats[0]).toMatchObject({ phase: 'evals', scenario: 'gate.release-train@v1' });
  });

  it('fails patch_applies for a candidate commit that does not exist', async () => {
    const input = await prepared('good-change', 'ghost');
    const report = await evals.runEvals({ ...input, candidate: { ...input.candidate, sha: 'f'.repeat(40) } });
    expect(report.checks.map((c) => c.passed)).toEqual([false, false, false, false]);
    expect(report.checks[0].explanation).toBe(`candidate ${'f'.repeat(40)} is not a commit of ${input.changeRequest.repo}`);
    expect(report.checks[1].explanation).toMatch(/^not run: /);
    expect(report).toMatchObject({ score: 0, passed: false, threshold: 0.85 });
  });
});

describe('parseTestOutput and the gate scenario', () => {
  it('reads the spec reporter too', () => {
    const spec = ['✔ a (1.2ms)', '✖ b fails (3ms)', 'ℹ tests 2', 'ℹ pass 1', 'ℹ fail 1', 'ℹ cancelled 0', '✖ failing tests:', '✖ b fails (3ms)'].join('\n');
    expect(parseTestOutput(spec)).toEqual({ pass: 1, fail: 1, failedTests: ['b fails'] });
    expect(parseTestOutput('no summary here')).toBeUndefined();
  });

  it('weighs patch_applies 1, tests_pass 3, base_tests_pass 3 and changed_lines_covered 2 (passing at 0.8), all required, threshold 0.85', () => {
    const scenario = gateScenario();
    expect(scenario.checks.map((c) => [c.type, c.weight, c.required, c.pass_at])).toEqual([
      ['patch_applies', 1, true, 1],
      ['tests_pass', 3, true, 1],
      ['base_tests_pass', 3, true, 1],
      ['changed_lines_covered', 2, true, 0.8],
    ]);
    expect(scenario.scoring.threshold).toBe(EVAL_THRESHOLD);
    expect(EVAL_THRESHOLD).toBe(0.85);
  });

  it('needs the threshold and every check', () => {
    const { checks, scoring } = gateScenario();
    const score = (patch: [number, boolean], tests: [number, boolean], base: [number, boolean] = [1, true], cov: [number, boolean] = [1, true]) =>
      scoreScenario(
        checks.map((c, i) => ({ check: c.type, weight: c.weight, required: c.required, score: [patch, tests, base, cov][i][0], passed: [patch, tests, base, cov][i][1] })),
        scoring.threshold,
      );
    expect(score([1, true], [1, true])).toMatchObject({ score: 1, passed: true });
    expect(score([1, true], [0.9, false]).passed).toBe(false);
    expect(score([1, true], [0.9, false]).score).toBeCloseTo(((1 + 3 * 0.9 + 3 + 2) / 9) * 0.9);
    // A candidate that does not carry its change scores 0 however green its tests (was 0.75 as a plain mean).
    expect(score([0, false], [1, true])).toMatchObject({ score: 0, passed: false });
    // Its own suite green, but a base test it deleted fails on its source: capped by the base check.
    expect(score([1, true], [1, true], [0.8, false])).toMatchObject({ passed: false });
    expect(score([1, true], [1, true], [0.8, false]).score).toBeCloseTo(((1 + 3 + 3 * 0.8 + 2) / 9) * 0.8);
    // Every test green, but only half the changed lines ran: capped by the coverage check.
    expect(score([1, true], [1, true], [1, true], [0.5, false])).toMatchObject({ passed: false });
    expect(score([1, true], [1, true], [1, true], [0.5, false]).score).toBeCloseTo(((1 + 3 + 3 + 2 * 0.5) / 9) * 0.5);
    // 80 % of the changed lines run: the check passes, the score drops a little.
    expect(score([1, true], [1, true], [1, true], [0.8, true])).toMatchObject({ passed: true });
    expect(score([1, true], [1, true], [1, true], [0.8, true]).score).toBeCloseTo((7 + 2 * 0.8) / 9);
  });
});
