/** Spec coverage: the figure the eval harness scores (spec_coverage) and policy reads (spec-criteria-uncovered). */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { describeSpecCoverage, parseSpecCoverageLine, specCoverage, traceSpec, type SpecIdCitation } from '../../../core/spec';
import type { Spec } from '../../../core/stages';
import { checkSchema } from '../../../evals/dsl';
import { runCheck, type CheckContext } from '../../../evals/checks';

const spec: Spec = {
  changeId: 'area-rename',
  title: 'Rename area to surface',
  scenarios: [{ id: 'SPEC-area-rename-1', given: 'a shape', when: 'surface() is called', then: 'it returns the area' }],
  acceptanceCriteria: [
    { id: 'AC-area-rename-1', text: 'Shapes expose surface()' },
    { id: 'AC-area-rename-2', text: 'The project still type-checks' },
    { id: 'AC-area-rename-3', text: 'Only files under src change' },
  ],
};

describe('specCoverage', () => {
  it('scores covered/total acceptance criteria and lists the uncovered ones; scenarios are reported, not scored', () => {
    const citations: SpecIdCitation[] = [{ id: 'AC-area-rename-1', file: 'test/a.test.ts', line: 3, test: 'surface' }];
    const coverage = specCoverage(traceSpec(spec, citations));
    expect(coverage).toMatchObject({ covered: 1, total: 3, uncoveredScenarios: ['SPEC-area-rename-1'] });
    expect(coverage.score).toBeCloseTo(1 / 3);
    expect(coverage.uncoveredCriteria.map((c) => c.id)).toEqual(['AC-area-rename-2', 'AC-area-rename-3']);
    const text = describeSpecCoverage(coverage);
    expect(text.split('\n')[0]).toBe('spec area-rename: 1/3 acceptance criteria covered by tests; uncovered: AC-area-rename-2, AC-area-rename-3');
    expect(text).toContain('no test cites AC-area-rename-3: Only files under src change');
  });

  it('the first line of the description reads back as the same figures, for any subset of cited criteria', () => {
    fc.assert(
      fc.property(fc.subarray(spec.acceptanceCriteria.map((a) => a.id)), fc.subarray(spec.scenarios.map((s) => s.id)), (criteria, scenarios) => {
        const coverage = specCoverage(traceSpec(spec, [...criteria, ...scenarios].map((id, i) => ({ id, file: 't.test.ts', line: i + 1 }))));
        expect(coverage.covered).toBe(criteria.length);
        expect(coverage.covered + coverage.uncoveredCriteria.length).toBe(coverage.total);
        expect(parseSpecCoverageLine(`${describeSpecCoverage(coverage)}\n  t.test.ts:1 cites AC-area-rename-9, which the spec does not have`)).toEqual({
          changeId: 'area-rename',
          covered: coverage.covered,
          total: coverage.total,
          uncovered: coverage.uncoveredCriteria.map((c) => c.id),
        });
      }),
    );
    expect(parseSpecCoverageLine('12 tests passed')).toBeUndefined();
  });
});

describe('spec_coverage eval check', () => {
  let workDir: string;
  beforeAll(async () => {
    workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'maestro-spec-coverage-'));
    await fs.mkdir(path.join(workDir, 'test'), { recursive: true });
    await fs.writeFile(
      path.join(workDir, 'test/shape.test.ts'),
      "// covers: AC-area-rename-1, SPEC-area-rename-1\nit('surface is the area', () => {});\nit('AC-area-rename-2 type-checks', () => {});\n// covers: AC-area-rename-7\nit('stale', () => {});\n",
    );
    await fs.writeFile(path.join(workDir, 'spec.json'), JSON.stringify(spec));
    await fs.writeFile(path.join(workDir, 'bad-spec.json'), JSON.stringify({ ...spec, acceptanceCriteria: [] }));
  });
  afterAll(() => fs.rm(workDir, { recursive: true, force: true }));

  const ctx = () => ({ workDir, scenario: { timeout: 10_000 }, timeLeftMs: () => 10_000 }) as unknown as CheckContext;
  const run = (check: Record<string, unknown>) => runCheck(checkSchema.parse({ type: 'spec_coverage', ...check }), ctx());

  it('scores the candidate tree: 2/3 criteria cited, fails at the default pass mark, names what is missing', async () => {
    const result = await run({ spec });
    expect(result.score).toBeCloseTo(2 / 3);
    expect(result).toMatchObject({ check: 'spec_coverage', passed: false, status: 'failed' });
    expect(result.explanation.split('\n')[0]).toBe('spec area-rename: 2/3 acceptance criteria covered by tests; uncovered: AC-area-rename-3');
    expect(result.explanation).toContain('test/shape.test.ts:4 cites AC-area-rename-7, which the spec does not have');
    expect(result.details).toMatchObject({ coverage: { covered: 2, total: 3 } });
  });

  it('reads the spec from a JSON file of the candidate and honours pass_at', async () => {
    const result = await run({ spec_file: 'spec.json', pass_at: 0.6 });
    expect(result).toMatchObject({ passed: true, status: 'passed' });
  });

  it('reports bad input as an error: no spec, an invalid spec file, a path outside the work tree', async () => {
    expect(await run({})).toMatchObject({ status: 'error', passed: false, explanation: expect.stringContaining('needs the spec') });
    expect(await run({ spec_file: 'bad-spec.json' })).toMatchObject({ status: 'error', explanation: expect.stringContaining("spec_file 'bad-spec.json' is not a valid spec: acceptanceCriteria") });
    expect(await run({ spec_file: '../spec.json' })).toMatchObject({ status: 'error', explanation: expect.stringContaining('outside the candidate') });
    expect(() => checkSchema.parse({ type: 'spec_coverage', spec: { ...spec, changeId: 'Bad Id' } })).toThrow();
  });
});
