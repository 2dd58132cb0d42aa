/**
 * The mutation_score check on the greeter's two example changes (examples/changes/weak-tests-change.json and
 * strengthened-tests-change.json): the same new function, once with a test that runs every line but pins no
 * boundary, once with a test at noon and 18:00. Each goes through what the train does: prepareChange, the
 * scenarios selected for the change (its `mutation` tag selects mutation.changed-code@v1), runGate with a real
 * Stryker run in a temporary git repository, toEvalReport and the default policy.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createDemoRepo, loadExampleChange } from '../../../../examples/demo-repo';
import { prepareChange } from '../../../../repo/candidate';
import { loadRegistry } from '../../../../evals/registry';
import { runGate, selectScenarios, toEvalReport } from '../../../../evals/gate';
import { runScenarios } from '../../../../evals/runner';
import { defineScenario } from '../../../../evals/dsl';
import { git } from '../../../../io/git';
import { decide } from '../../../../core/policy';
import type { EvalReport, PolicyDecision } from '../../../../core/stages';
import type { ChangeMutationReport } from '../../../../core/mutation';

jest.setTimeout(15 * 60_000);

let dir: string;
let repo: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'maestro-mutation-'));
  ({ repo } = await createDemoRepo(path.join(dir, 'repo')));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function train(name: 'weak-tests-change' | 'strengthened-tests-change'): Promise<{ evals: EvalReport; decision: PolicyDecision; selectedBy: string[] }> {
  const cr = loadExampleChange(name, repo, name);
  const candidate = await prepareChange(cr, path.join(dir, 'work'));
  const selected = selectScenarios((await loadRegistry()).tuning(), { changedFiles: candidate.changedFiles, prompt: cr.prompt, tags: cr.tags });
  const run = await runGate({
    repo,
    candidate: candidate.sha,
    base: candidate.baseSha,
    selected,
    testCommand: candidate.service.test,
    claimedFiles: candidate.changedFiles,
    intent: cr.intent,
    workRoot: path.join(dir, 'evals'),
  });
  const evals: EvalReport = { ...toEvalReport(run, selected), durationMs: run.durationMs };
  const decision = decide({
    changeRequest: { id: cr.id, protectedPaths: cr.protectedPaths },
    candidate: { sha: candidate.sha, changedFiles: candidate.changedFiles, diff: candidate.diff },
    risk: { score: 0, factors: [] },
    evals,
    now: new Date().toISOString(),
  });
  const mutation = evals.mutation;
  // The figures behind docs/architecture.md "Test strength": the check's own time, apart from the gate's.
  console.log(`${name}: mutation ${mutation?.candidate.score} in ${mutation?.durationMs} ms; eval stage ${run.durationMs} ms`);
  return { evals, decision, selectedBy: evals.scenarios?.find((s) => s.id === 'mutation.changed-code@v1')?.selectedBy ?? [] };
}

test('a change whose test leaves the boundary mutants alive is denied, and the fix names them with a test outline for each', async () => {
  const { evals, decision, selectedBy } = await train('weak-tests-change');
  expect(selectedBy).toEqual(['tag mutation']);
  // The gate alone is content: every changed line runs, every test passes.
  expect(evals.scenarios?.[0]).toMatchObject({ id: 'gate.release-train@v1', passed: true });
  const mutation = evals.mutation!;
  expect(mutation.mutated).toEqual(['src/greeting.ts:30-34']);
  expect(mutation.candidate.score).toBeLessThan(0.7);
  expect(mutation.candidate.survived).toBeGreaterThan(0);
  expect(mutation.base).toBeNull();
  expect(mutation.baseNote).toMatch(/only adds code/);
  const boundary = mutation.candidate.survivors.filter((m) => m.mutator === 'EqualityOperator' && m.replacement.includes('<='));
  expect(boundary.map((m) => [m.line, m.original, m.replacement])).toEqual([
    [31, 'hour < 12', 'hour <= 12'],
    [32, 'hour < 18', 'hour <= 18'],
  ]);

  expect(decision.outcome).toBe('deny');
  const denial = decision.outcome === 'deny' ? decision.denials.find((d) => d.rule === 'mutation-score-below-threshold') : undefined;
  expect(denial?.reason).toMatch(/of the mutants in the changed code .* below 70\.0%/);
  expect(denial?.fix).toContain('src/greeting.ts:31 EqualityOperator `hour < 12` → `hour <= 12`: a test where `hour` equals `12`');
  expect(denial?.fix).toContain('a test where `hour` equals `18`');
  expect(denial?.evidence).toContain('src/greeting.ts:31:7 EqualityOperator `hour < 12` → `hour <= 12` (survived)');
});

test('the same change with a test at both boundaries kills every mutant and is allowed', async () => {
  const { evals, decision } = await train('strengthened-tests-change');
  const mutation = evals.mutation!;
  expect(mutation.candidate).toMatchObject({ score: 1, survived: 0, noCoverage: 0, survivors: [] });
  expect(mutation.candidate.killed + mutation.candidate.timeout).toBeGreaterThanOrEqual(10);
  expect(evals.passed).toBe(true);
  expect(decision).toEqual({ outcome: 'allow', notes: expect.any(Array) });
});

/** The same rule with its message in double quotes: line 25 of src/greeting.ts rewritten, its mutants the same on both sides. */
async function rewriteLine25(): Promise<string> {
  const file = path.join(repo, 'src/greeting.ts');
  await git(repo, ['checkout', '--quiet', '--detach', 'main']);
  const text = await fs.readFile(file, 'utf8');
  await fs.writeFile(file, text.replace("error: 'name may contain only letters, digits, spaces and . \\' -' }", `error: "name may contain only letters, digits, spaces and . ' -" }`));
  await git(repo, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '--all', '-m', 'double quotes']);
  return (await git(repo, ['rev-parse', 'HEAD'])).stdout.trim();
}

test('a change that rewrites a line is compared with the base: the same line mutated there, under the base tests', async () => {
  const mutationScenario = (await loadRegistry()).tuning().find((s) => s.id === 'mutation.changed-code@v1')!;
  const run = await runScenarios({ repo, candidate: await rewriteLine25(), scenarios: [mutationScenario], cacheDir: null, workRoot: path.join(dir, 'evals') });
  const mutation = run.scenarios[0].checks[0].details?.mutation as ChangeMutationReport;
  console.log(`rewrite: candidate ${mutation.candidate.score}, base ${mutation.base?.score} in ${mutation.durationMs} ms`);
  expect(mutation.mutated).toEqual(['src/greeting.ts:25-25']);
  expect(mutation.base?.mutated).toEqual(['src/greeting.ts:25-25']);
  expect(mutation.base?.score).toBeGreaterThan(0);
  // The message's text is asserted by no test, on either side.
  for (const side of [mutation.candidate, mutation.base!]) expect(side.survivors.filter((m) => m.mutator === 'StringLiteral').map((m) => m.line)).toEqual([25]);
  expect(mutation.candidate.score).toBe(mutation.base?.score);
});

test("Stryker is one process group under the scenario's time limit: past it, it is killed and the check errs", async () => {
  const quick = defineScenario({ id: 'mutation.quick@v1', title: 't', checks: [{ type: 'mutation_score', required: true }], timeout: 3000 });
  const started = Date.now();
  const run = await runScenarios({ repo, candidate: await rewriteLine25(), scenarios: [quick], cacheDir: null, workRoot: path.join(dir, 'evals') });
  const check = run.scenarios[0].checks[0];
  expect(check).toMatchObject({ passed: false, status: 'error' });
  expect(check.explanation).toMatch(/^mutation testing of src\/greeting.ts:25-25 did not finish: Stryker was stopped at the scenario's time limit \(3000 ms\)/);
  expect(Date.now() - started).toBeLessThan(20_000);
});
