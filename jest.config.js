/** @type {import('jest').Config} */
const shared = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { isolatedModules: true, diagnostics: false }] },
  // A failing fast-check property writes a repro file and names it (test/helpers/fast-check-repro.ts).
  setupFilesAfterEnv: ['<rootDir>/test/helpers/fast-check-repro.ts'],
};

/**
 * Two projects, both run by `npm test`: `unit` needs no server (`npm run test:unit`, seconds);
 * `integration` gets Temporal, PostgreSQL and Neo4j from the global setup.
 */
module.exports = {
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...shared,
      displayName: 'integration',
      // test/replay holds the recorded workflow histories; it replays them on a real worker bundle.
      testMatch: ['<rootDir>/test/integration/**/*.test.ts', '<rootDir>/test/replay/**/*.test.ts'],
      globalSetup: '<rootDir>/test/global-setup.ts',
      globalTeardown: '<rootDir>/test/global-teardown.ts',
    },
  ],
  testTimeout: 120000,
  maxWorkers: 2,
  // Pooled clients (Prisma, Neo4j, gRPC) inside activities outlive the tests by design; do not hang CI on them.
  forceExit: true,
};
