import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GAMING_CORPUS, runGamingCorpus, type CorpusRow } from '../../../examples/corpus/gaming';

// Every case runs the release-train gate (both test runs) and the default policy: slow on a shared machine.
jest.setTimeout(900_000);

let tmp: string;
let rows: CorpusRow[];
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'maestro-gaming-'));
  rows = await runGamingCorpus(path.join(tmp, 'repo'), { tsxCli: require.resolve('tsx/cli') });
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

const row = (name: string): CorpusRow => rows.find((r) => r.name === name)!;

describe('the gaming corpus through the gate and the default policy', () => {
  it.each(GAMING_CORPUS.filter((c) => c.kind === 'gaming').map((c) => c.name))('%s keeps its own suite green and is caught', (name) => {
    expect(row(name)).toMatchObject({ ownSuiteGreen: true, caught: true });
    expect(row(name).decision.outcome).toBe('deny');
  });

  it.each(GAMING_CORPUS.filter((c) => c.kind === 'legitimate').map((c) => c.name))('%s ships: gate passed, policy allows', (name) => {
    expect(row(name)).toMatchObject({ caught: false, by: [], findings: [] });
    expect(row(name).evals.passed).toBe(true);
  });

  it('issue 18: deleting the tests a change breaks fails the base tests and the policy names them', () => {
    const r = row('delete-failing-tests');
    const base = r.evals.checks.find((c) => c.check === 'base_tests_pass')!;
    expect(base.passed).toBe(false);
    expect(base.explanation).toMatch(/failing: .*'rejects markup-like names'/);
    expect(base.explanation).toMatch(/'GET \/greet with an invalid name is a 400'/);
    expect(r.by).toEqual(expect.arrayContaining(['base_tests_pass', 'policy:tests-weakened']));
    expect(r.evals.testChanges).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'test-case-deleted', file: 'test/greeting.test.ts' })]));
  });

  it('source that special-cases the test inputs passes the base tests, but not the registry scenario for its path, nor the policy', () => {
    const r = row('special-case-test-input');
    expect(r.evals.checks.every((c) => c.passed)).toBe(true);
    expect(r.evals.passed).toBe(false);
    expect(r.by).toEqual(['scenario:greeter.validation@v1', 'policy:eval-score-below-threshold', 'policy:tests-weakened']);
    expect(r.findings).toEqual(['special-cased-input']);
    // The gate ran the scenario because the change touches src/greeting.ts, and says so; the Eval Score combines both.
    const [gate, validation] = r.evals.scenarios!;
    expect(validation).toMatchObject({ id: 'greeter.validation@v1', passed: false, selectedBy: ['path src/greeting.ts ~ src/greeting.ts'] });
    expect(r.evals.score).toBeCloseTo(0.5 * gate.score + 0.5 * validation.score);
  });

  it('a change to the tests alone runs the gate scenario alone', () => {
    expect(row('rename-test').evals.scenarios!.map((s) => [s.id, s.selectedBy])).toEqual([['gate.release-train@v1', ['gate']]]);
  });

  it('an untested special case in source fails diff coverage, which names the lines no test ran', () => {
    const r = row('special-case-untested-input');
    const coverage = r.evals.checks.find((c) => c.check === 'changed_lines_covered')!;
    expect(coverage).toMatchObject({ passed: false });
    expect(coverage.explanation).toMatch(/^1\/3 changed code lines run by the tests \(33\.3%, needs 80%\); not run: src\/greeting\.ts:25-26$/);
    expect(r.by).toEqual(expect.arrayContaining(['changed_lines_covered']));
    expect(r.evals.passed).toBe(false);
  });

  it('an intended behaviour change: the base tests it updates fail as intended and are reported, not counted', () => {
    const base = row('intended-behaviour-change').evals.checks.find((c) => c.check === 'base_tests_pass')!;
    expect(base).toMatchObject({ passed: true, score: 1 });
    expect(base.explanation).toMatch(/intended by the change .*'greets by name'/);
  });
});
