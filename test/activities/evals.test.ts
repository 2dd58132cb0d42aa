import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createDemoRepo, loadExampleChange } from '../../examples/demo-repo';
import { createRepoActivities } from '../../activities/repo';
import { git } from '../../activities/repo/git';
import { createEvalActivities, parseTestOutput, scoreChecks } from '../../activities/evals';
import { parseChangeRequest } from '../../core/change-request';

const TSX_CLI = require.resolve('tsx/cli');

let tmp: string;
let repoActivities: ReturnType<typeof createRepoActivities>;
const evals = createEvalActivities({ tsxCli: TSX_CLI, testTimeoutMs: 30_000 });
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'maestro-evals-'));
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
    ]);
    expect(report.checks[1].explanation).toBe('14/14 tests passed');
    expect(report).toMatchObject({ score: 1, passed: true, threshold: 0.85 });
  });

  it('passes the bad change too: its failure only shows under traffic', async () => {
    const report = await evals.runEvals(await prepared('bad-change', 'bad'));
    expect(report.passed).toBe(true);
  });

  it('fails the failing-tests change and names the failing tests', async () => {
    const report = await evals.runEvals(await prepared('failing-tests-change', 'failing'));
    const tests = report.checks.find((c) => c.check === 'tests_pass');
    expect(tests).toMatchObject({ passed: false, score: 0.6 });
    expect(tests?.explanation).toMatch(/^6\/10 tests passed; failing: /);
    for (const name of ['greets by name', 'greets the world when no name is given', 'accepts names in any script', 'GET /greet returns a JSON greeting'])
      expect(tests?.explanation).toContain(`'${name}'`);
    expect(report.passed).toBe(false);
    expect(report.score).toBeCloseTo((1 * 1 + 3 * 0.6) / 4);
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
    const quick = createEvalActivities({ tsxCli: TSX_CLI, testTimeoutMs: 500 });
    const report = await quick.runEvals({ changeRequest: input.changeRequest, candidate: hanging });
    expect(report.checks[1]).toMatchObject({ passed: false, score: 0 });
    expect(report.checks[1].explanation).toMatch(/timed out after 500 ms/);
  });

  it('fails patch_applies for a candidate commit that does not exist', async () => {
    const input = await prepared('good-change', 'ghost');
    const report = await evals.runEvals({ ...input, candidate: { ...input.candidate, sha: 'f'.repeat(40) } });
    expect(report.checks.map((c) => c.passed)).toEqual([false, false]);
    expect(report.checks[0].explanation).toMatch(/does not exist/);
    expect(report.score).toBe(0);
  });
});

describe('parseTestOutput and scoreChecks', () => {
  it('reads the spec reporter too', () => {
    const spec = ['✔ a (1.2ms)', '✖ b fails (3ms)', 'ℹ tests 2', 'ℹ pass 1', 'ℹ fail 1', 'ℹ cancelled 0', '✖ failing tests:', '✖ b fails (3ms)'].join('\n');
    expect(parseTestOutput(spec)).toEqual({ pass: 1, fail: 1, failedTests: ['b fails'] });
    expect(parseTestOutput('no summary here')).toBeUndefined();
  });

  it('needs the threshold and every check', () => {
    const check = (name: string, score: number, passed: boolean) => ({ check: name, score, passed, explanation: '' });
    expect(scoreChecks([check('patch_applies', 1, true), check('tests_pass', 1, true)])).toEqual({ score: 1, passed: true, threshold: 0.85 });
    expect(scoreChecks([check('patch_applies', 1, true), check('tests_pass', 0.9, false)]).passed).toBe(false);
    expect(scoreChecks([check('patch_applies', 0, false), check('tests_pass', 1, true)]).score).toBe(0.75);
  });
});
