import { renderTile } from '../../../evals/report';
import type { RunResult, ScenarioResult } from '../../../evals/runner';
import type { ChangeMutationReport, LiveMutant } from '../../../core/mutation';

const live = (line: number, original: string, replacement: string, mutator: string): LiveMutant => ({ file: 'src/greeting.ts', line, column: 7, mutator, original, replacement, status: 'Survived' });
const survivors = [live(31, 'hour < 12', 'hour <= 12', 'EqualityOperator'), live(33, "'token=abcdef123456'", '""', 'StringLiteral'), ...Array.from({ length: 10 }, (_, i) => live(40 + i, 'a', 'b', 'X'))];
const mutation: ChangeMutationReport = {
  check: 'mutation_score',
  passAt: 0.7,
  mutated: ['src/greeting.ts:30-50'],
  candidate: { score: 0.25, killed: 4, survived: 12, noCoverage: 0, timeout: 0, errors: 0, survivors },
  base: null,
  baseNote: 'the change only adds code',
  durationMs: 1,
};
const scenario: ScenarioResult = {
  id: 'mutation.changed-code@v1', title: 't', holdout: false, weight: 1, threshold: 0.7, score: 0.25, passed: false, repeats: [], flakyChecks: [], cached: false, durationMs: 1,
  checks: [{ check: 'mutation_score', type: 'mutation_score', score: 0.25, passed: false, status: 'failed', explanation: 'low', weight: 1, required: true, durationMs: 1, details: { mutation } }],
};
const run = (scenarios: ScenarioResult[]) =>
  ({ candidateSha: 'c'.repeat(40), baseSha: 'b'.repeat(40), threshold: 0.85, holdout: null, tuning: { score: 0.25, passed: false, count: 1, ci: { low: 0.25, high: 0.25 } }, scenarios }) as unknown as RunResult;

describe('the Eval Score tile', () => {
  it('shows the mutation score of the changed code and the first ten live mutants, each with a test that kills it, secrets redacted', () => {
    const tile = renderTile({ run: run([scenario]) });
    expect(tile).toContain('**Mutation score of the changed code**: score 25.0% (4 killed, 12 survived, 0 no coverage, 0 timeout)');
    expect(tile).toContain('| src/greeting.ts:31 EqualityOperator `hour < 12` → `hour <= 12` | a test where `hour` equals `12`: only there do `hour < 12` and `hour <= 12` differ; assert the outcome at that boundary |');
    expect(tile).toContain('token=[REDACTED]');
    expect(tile).not.toContain('abcdef123456');
    expect(tile.match(/^\| src\/greeting\.ts:/gm)).toHaveLength(10);
    expect(tile).toContain('| … and 2 more (runs/<runId>.json) | |');
  });

  it('has no mutation section without a mutation_score check', () => {
    expect(renderTile({ run: run([{ ...scenario, checks: [{ ...scenario.checks[0], type: 'tests_pass', details: undefined }] }]) })).not.toContain('Mutation score');
  });
});
