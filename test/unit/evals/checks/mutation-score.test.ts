/** The mutation_score check where it needs no Stryker run: nothing to mutate, nothing to run the mutants with. */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createDemoRepo } from '../../../../examples/demo-repo';
import { defineScenario } from '../../../../evals/dsl';
import { runScenarios } from '../../../../evals/runner';
import { git } from '../../../../io/git';

const scenario = defineScenario({ id: 'mutation.unit@v1', title: 't', checks: [{ type: 'mutation_score', required: true }] });
let dir: string;
let repo: string;
let baseSha: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'maestro-mutation-unit-'));
  ({ repo, baseSha } = await createDemoRepo(path.join(dir, 'repo')));
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

async function commit(edit: (repo: string) => Promise<void>): Promise<string> {
  await git(repo, ['checkout', '--quiet', '--detach', baseSha]);
  await edit(repo);
  await git(repo, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '--all', '-m', 'change']);
  return (await git(repo, ['rev-parse', 'HEAD'])).stdout.trim();
}
const checkOf = async (candidate: string, testCommand?: string[]) =>
  (await runScenarios({ repo, candidate, base: baseSha, scenarios: [scenario], cacheDir: null, workRoot: path.join(dir, 'work'), ...(testCommand ? { testCommand } : {}) })).scenarios[0].checks[0];

test('a change without JS/TS source code lines (docs, a comment, a test) has nothing to mutate and passes', async () => {
  const sha = await commit(async (r) => {
    await fs.appendFile(path.join(r, 'README.md'), '\nMore words.\n');
    await fs.appendFile(path.join(r, 'src/greeting.ts'), '\n// a comment is no code\n');
    await fs.appendFile(path.join(r, 'test/greeting.test.ts'), "\ntest('one more', () => assert.ok(greet('Ada').ok));\n");
  });
  const check = await checkOf(sha);
  expect(check).toMatchObject({ passed: true, score: 1, explanation: 'the change adds or rewrites no JS/TS source code lines: nothing to mutate' });
  expect(check.details?.mutation).toMatchObject({ mutated: [], candidate: { score: null, survivors: [] }, base: null });
});

test('a repository without a test command cannot kill a mutant: an error, not a pass', async () => {
  const sha = await commit(async (r) => {
    await fs.appendFile(path.join(r, 'src/greeting.ts'), '\nexport const twice = (n: number): number => n * 2;\n');
    await fs.rm(path.join(r, 'maestro.service.json'));
  });
  const check = await checkOf(sha);
  expect(check).toMatchObject({ passed: false, status: 'error', explanation: 'the repository declares no test command (maestro.service.json "test"): no test can kill a mutant' });
});
