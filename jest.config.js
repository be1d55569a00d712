/**
 * Jest runs the TypeScript tests as ES modules (execa and yargs are ESM-only), in two projects:
 * `unit`, the pure modules, in seconds, without root, network or the global set-up (npm run
 * test:unit); and `system`, the integration and end-to-end tiers against real programs, after the
 * set-up has installed them. `npm test` runs both.
 */
const typescript = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  testEnvironment: 'node',
  testTimeout: 60000,
};

export default {
  projects: [
    { ...typescript, displayName: 'unit', roots: ['<rootDir>/test/unit'], testMatch: ['**/*.test.ts'] },
    {
      ...typescript,
      displayName: 'system',
      roots: ['<rootDir>/test/integration', '<rootDir>/test/e2e'],
      testMatch: ['**/*.test.ts'],
      globalSetup: '<rootDir>/test/helpers/global-setup.ts',
    },
  ],
  testTimeout: 60000,
  // The tests wait on restic, PostgreSQL and containers far more than they compute: more workers
  // than the 2 cores (jest's default would be 1) keep the machine busy.
  maxWorkers: 4,
  reporters: ['default', '<rootDir>/test/helpers/summary-reporter.cjs'],
};
