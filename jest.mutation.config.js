/**
 * The jest configuration Stryker runs (stryker.config.mjs): the `unit` project of jest.config.js (no
 * servers), narrowed to the tests of the modules under mutation, so a dry run takes seconds, not the
 * whole unit suite. `npx jest -c jest.mutation.config.js` runs exactly what Stryker runs.
 */
const { projects, testTimeout } = require('./jest.config');

const unit = projects.find((p) => p.displayName === 'unit');

module.exports = {
  ...unit,
  rootDir: __dirname,
  testTimeout,
  testMatch: ['<rootDir>/test/unit/core/**/*.test.ts', '<rootDir>/test/unit/evals/scoring*.test.ts'],
  // Simulations (thousands of seeded windows, seconds each) are calibration evidence, run by npm test; run for
  // every mutant they cover they made a cold run take hours. Exact verdicts and words kill the mutants.
  testPathIgnorePatterns: ['\\.simulation\\.test\\.ts$'],
};
