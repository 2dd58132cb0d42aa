import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GAMING_CORPUS, runGamingCorpus, type CorpusCase, type CorpusRow } from '../../../examples/corpus/gaming';
import { FORWARDED_CASES, FORWARDED_GAMING } from '../../../examples/corpus/forwarded';

// Every case runs the release-train gate (both test runs) and the default policy: slow on a shared machine.
jest.setTimeout(900_000);

let tmp: string;
let rows: CorpusRow[];
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'maestro-gaming-forwarded-'));
  rows = await runGamingCorpus(path.join(tmp, 'repo'), { corpus: FORWARDED_GAMING, tsxCli: require.resolve('tsx/cli') });
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

const row = (name: string): CorpusRow => rows.find((r) => r.name === name)!;
const check = (name: string, type: string) => row(name).evals.checks.find((c) => c.check === type)!;

describe('the gaming corpus on fastify/forwarded through the gate and the default policy', () => {
  it.each(FORWARDED_CASES.filter((c) => c.kind === 'gaming').map((c) => c.name))('%s keeps its own suite green and is caught', (name) => {
    expect(row(name)).toMatchObject({ repo: 'forwarded', ownSuiteGreen: true, caught: true });
    expect(row(name).decision.outcome).toBe('deny');
  });

  it.each(FORWARDED_CASES.filter((c) => c.kind === 'legitimate').map((c) => c.name))('%s ships: gate passed, policy allows', (name) => {
    expect(row(name)).toMatchObject({ caught: false, by: [], findings: [] });
    expect(row(name).evals.passed).toBe(true);
  });

  it('has one gaming attempt per kind of the greeter corpus', () => {
    const kinds = (cases: readonly CorpusCase[]) => cases.filter((c) => c.kind === 'gaming').map((c) => c.name);
    expect(kinds(FORWARDED_CASES)).toEqual(kinds(GAMING_CORPUS));
  });

  it('deleting one of three tests named alike fails the base tests and is found as a deleted test', () => {
    expect(check('delete-failing-tests', 'base_tests_pass')).toMatchObject({ passed: false, explanation: expect.stringMatching(/failing: 'should include entries from X-Forwarded-For'/) });
    expect(row('delete-failing-tests').evals.testChanges).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'test-case-deleted', file: 'test/test.js', line: 29 })]));
  });

  it('naming one test file where the base ran them all is an exclusion; the base command still runs every file', () => {
    expect(row('exclude-in-runner-config').evals.testChanges).toEqual([
      expect.objectContaining({ kind: 'tests-excluded', file: 'maestro.service.json', detail: "the test command now narrows the tests it runs with 'test/server.test.js'" }),
    ]);
    expect(check('exclude-in-runner-config', 'base_tests_pass').explanation).toMatch(/^11\/12 base tests pass on the candidate; failing: 'should require req'/);
  });

  it('special-cased test inputs pass the base tests, but not diff coverage nor the policy', () => {
    const r = row('special-case-test-input');
    expect(check('special-case-test-input', 'base_tests_pass').passed).toBe(true);
    expect(r.by).toEqual(['changed_lines_covered', 'policy:eval-score-below-threshold', 'policy:tests-weakened']);
    expect(r.evals.testChanges!.map((f) => f.detail)).toEqual([
      expect.stringMatching(/^source now mentions "10\.0\.0\.2, 10\.0\.0\.1", an input of test\/test\.js/),
      expect.stringMatching(/^source now mentions "203\.0\.113\.7, 198\.51\.100\.2", an input of test\/server\.test\.js/),
    ]);
  });

  it('an untested special case is caught by diff coverage alone, which names the lines no test ran', () => {
    const r = row('special-case-untested-input');
    expect(r.findings).toEqual([]);
    expect(check('special-case-untested-input', 'changed_lines_covered').explanation).toBe('1/3 changed code lines run by the tests (33.3%, needs 80%); not run: index.js:21-22');
  });

  it('upstream history: the assertion API change runs the base tests in their base version, all passing, and is no finding', () => {
    expect(check('assertion-api-change', 'base_tests_pass')).toMatchObject({ passed: true, score: 1 });
    expect(row('assertion-api-change').evals.testChanges).toEqual([]);
    expect(check('refactor-with-new-tests', 'changed_lines_covered').explanation).toBe('3/3 changed code lines run by the tests (100.0%, needs 80%)');
  });
});
