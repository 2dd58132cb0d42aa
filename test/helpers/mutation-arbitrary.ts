/** fast-check arbitraries of a change's mutation figures (core/mutation.ts), for the policy properties. */
import fc from 'fast-check';
import type { ChangeMutationReport, LiveMutant, MutationRun } from '../../core/mutation';

const liveMutant: fc.Arbitrary<LiveMutant> = fc.record({
  file: fc.constantFrom('src/a.ts', 'lib/b.js'),
  line: fc.integer({ min: 1, max: 200 }),
  column: fc.nat({ max: 80 }),
  mutator: fc.constantFrom('EqualityOperator', 'ConditionalExpression', 'LogicalOperator', 'StringLiteral', 'BlockStatement', 'Regex', 'Unknown'),
  original: fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('a < b', 'x && y', "'text'", '{ go(); }')),
  replacement: fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('a <= b', 'true', 'false', '""', '{}')),
  status: fc.constantFrom('Survived' as const, 'NoCoverage' as const),
});

/** Counts consistent with the survivors, and the score they give (null without a judged mutant). */
const mutationRun: fc.Arbitrary<MutationRun> = fc
  .record({ killed: fc.nat({ max: 20 }), timeout: fc.nat({ max: 3 }), errors: fc.nat({ max: 2 }), survivors: fc.array(liveMutant, { maxLength: 6 }) })
  .map(({ killed, timeout, errors, survivors }) => {
    const survived = survivors.filter((m) => m.status === 'Survived').length;
    const noCoverage = survivors.length - survived;
    const judged = killed + timeout + survived + noCoverage;
    return { score: judged ? (killed + timeout) / judged : null, killed, timeout, errors, survived, noCoverage, survivors };
  });

export const arbitraryMutationReport: fc.Arbitrary<ChangeMutationReport> = fc.record({
  check: fc.constant('mutation_score'),
  passAt: fc.constant(0.7),
  mutated: fc.constant(['src/a.ts:1-9']),
  candidate: mutationRun,
  base: fc.option(mutationRun.map((run) => ({ ...run, mutated: ['src/a.ts:3-4'] })), { nil: null }),
  durationMs: fc.nat(),
});
