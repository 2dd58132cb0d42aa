import { defineScenario } from '../../../evals/dsl';
import { gateScenario, selectScenarios, toEvalReport } from '../../../evals/gate';
import { loadRegistry } from '../../../evals/registry';
import type { RunResult, ScenarioResult } from '../../../evals/runner';

const scenario = (id: string, applies_to?: { paths?: string[]; prompts?: string[]; tags?: string[] }, holdout = false) =>
  defineScenario({ id, title: id, holdout, applies_to, checks: [{ type: 'patch_applies' }] });

describe('selectScenarios', () => {
  const scenarios = [
    scenario('by.path@v1', { paths: ['src/**', 'lib/*.js'] }),
    scenario('by.prompt@v1', { prompts: ['fix'] }),
    scenario('by.tag@v1', { tags: ['area:greeter'] }),
    scenario('never@v1'),
    scenario('hidden@v1', { paths: ['**'] }, true),
  ];

  it('selects by path glob, prompt and tag, with every reason; never a scenario without applies_to or a hold-out one', () => {
    const selected = selectScenarios(scenarios, { changedFiles: ['README.md', 'src/a/b.ts'], prompt: 'fix', tags: ['area:greeter', 'area:other'] });
    expect(selected.map((s) => [s.scenario.id, s.reasons])).toEqual([
      ['by.path@v1', ['path src/a/b.ts ~ src/**']],
      ['by.prompt@v1', ['prompt fix']],
      ['by.tag@v1', ['tag area:greeter']],
    ]);
  });

  it('a change nothing applies to gets no scenario (the gate scenario runs alone)', () => {
    expect(selectScenarios(scenarios, { changedFiles: ['docs/x.md', 'lib/sub/y.js'], prompt: 'implement' })).toEqual([]);
  });

  it('the shipped registry: a greeter source change gets the greeter scenario, a fix prompt the fix scenarios', async () => {
    const registry = await loadRegistry();
    const ids = (traits: Parameters<typeof selectScenarios>[1]) => selectScenarios(registry.tuning(), traits).map((s) => s.scenario.id);
    expect(ids({ changedFiles: ['src/greeting.ts', 'test/greeting.test.ts'] })).toEqual(['greeter.validation@v1']);
    expect(ids({ changedFiles: ['test/greeting.test.ts'] })).toEqual([]);
    expect(ids({ changedFiles: ['README.md'], prompt: 'fix' })).toEqual(['fix.suite-green@v1']);
    // Mutation testing costs a test run per mutant: only a change that asks for it (tag `mutation`) gets it.
    expect(ids({ changedFiles: ['README.md'], tags: ['mutation'] })).toEqual(['mutation.changed-code@v1']);
  });
});

describe('toEvalReport', () => {
  const result = (id: string, score: number, passed: boolean, weight = 1, skipped?: string): ScenarioResult => ({
    id, title: id, holdout: false, weight, threshold: 0.85, score, passed, repeats: [], flakyChecks: [], cached: false, durationMs: 1, ...(skipped ? { skipped } : {}),
    checks: [{ check: 'patch_applies', type: 'patch_applies', score, passed, status: passed ? 'passed' : 'failed', explanation: 'x', weight: 1, required: true, durationMs: 1 }],
  });
  const run = (scenarios: ScenarioResult[]) => ({ scenarios }) as unknown as RunResult;
  const gateId = gateScenario().id;

  it("lifts a mutation_score check's figures into the report's `mutation`; without one there is none", () => {
    const figures = { check: 'mutation_score', passAt: 0.7, mutated: ['src/a.ts:1-2'], candidate: { score: 1, killed: 2, survived: 0, noCoverage: 0, timeout: 0, errors: 0, survivors: [] }, base: null, durationMs: 5 };
    const mutationScenario: ScenarioResult = {
      ...result('mutation.changed-code@v1', 1, true),
      checks: [{ check: 'mutation_score', type: 'mutation_score', score: 1, passed: true, status: 'passed', explanation: 'x', weight: 1, required: true, durationMs: 5, details: { mutation: figures } }],
    };
    expect(toEvalReport(run([result(gateId, 1, true), mutationScenario])).mutation).toEqual(figures);
    expect(toEvalReport(run([result(gateId, 1, true)]))).not.toHaveProperty('mutation');
  });

  it('alone, the gate scenario is the Eval Score', () => {
    expect(toEvalReport(run([result(gateId, 0.9, true)]))).toMatchObject({ score: 0.9, passed: true, scenarios: [{ id: gateId, selectedBy: ['gate'] }] });
  });

  it('with selected scenarios: half the gate, half their weighted mean; all must pass; skipped ones do not count', () => {
    const selected = [scenario('a@v1', { prompts: ['fix'] }), scenario('b@v1', { prompts: ['fix'] }), scenario('c@v1', { prompts: ['fix'] })].map((s) => ({ scenario: s, reasons: ['prompt fix'] }));
    const report = toEvalReport(run([result(gateId, 1, true), result('a@v1', 1, true, 3), result('b@v1', 0.6, false, 1), result('c@v1', 0, false, 1, 'requires x')]), selected);
    expect(report.score).toBeCloseTo(0.5 * 1 + 0.5 * ((3 * 1 + 1 * 0.6) / 4));
    expect(report.passed).toBe(false);
    expect(report.checks.map((c) => c.check)).toEqual(['patch_applies']);
    expect(report.scenarios!.map((s) => [s.id, s.selectedBy, s.skipped])).toEqual([
      [gateId, ['gate'], undefined],
      ['a@v1', ['prompt fix'], undefined],
      ['b@v1', ['prompt fix'], undefined],
      ['c@v1', ['prompt fix'], 'requires x'],
    ]);
  });
});
