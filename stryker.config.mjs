// @ts-check
/**
 * Mutation testing of Maestro's own critical pure modules (issue 14, docs/architecture.md "Test strength").
 * `npm run mutation` runs it (incrementally); `npm run mutation -- --mutate core/health.ts` narrows it to one module.
 * A survivor that no test can or should kill is disabled where it lives, with a reason:
 * `// Stryker disable next-line <Mutator>: <why>`.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  packageManager: 'npm',
  mutate: [
    'core/rollout-plan.ts',
    'core/health.ts',
    'core/judge.ts',
    'core/risk.ts',
    'core/provenance.ts',
    'core/policy-rules/*.ts',
    'evals/scoring.ts',
    // The outline a denial gives for each live mutant of a change, and the figures it is drawn from.
    'core/mutation.ts',
  ],
  testRunner: 'jest',
  // The unit project of jest.config.js, narrowed to the tests of these modules (jest.mutation.config.js).
  // enableFindRelatedTests (default): a mutant's run loads only the test files that import its module.
  jest: { projectType: 'custom', configFile: 'jest.mutation.config.js', enableFindRelatedTests: true },
  // Each mutant runs only the tests that reach it.
  coverageAnalysis: 'perTest',
  // Mutants that do not type-check are dropped before any test runs; the checker sees only the
  // mutated modules and what they import (tsconfig.mutation.json), not the whole tree.
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.mutation.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  // Only mutants in changed code (or whose tests changed) run again; the file is kept between runs, gitignored.
  // Static mutants (module-level schemas, constants) keep their result when only tests change: `--force` after adding tests.
  incremental: true,
  // Static mutants (module-level zod schemas, constants, defaults) run only while a module loads, so each one
  // runs every related test file: 425 of them were 55% of a cold run (over an hour on two cores), beyond CI.
  // They are reported as Ignored and left out of the score; the schemas' defaults and messages are asserted
  // by the modules' own boundary tests instead.
  ignoreStatic: true,
  incrementalFile: 'reports/mutation/stryker-incremental.json',
  reporters: ['html', 'json', 'clear-text', 'progress'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  // The machine's two cores are shared: two test processes at most, and a generous timeout for a loaded CPU.
  concurrency: 2,
  timeoutMS: 10000,
  thresholds: { high: 85, low: 70, break: 70 },
  tempDirName: '.stryker-tmp',
  // .venv is a link to another checkout's Python venv: nothing a unit test needs.
  ignorePatterns: ['.venv', '.maestro', 'dist'],
  cleanTempDir: 'always',
};
