/** Jest runs the TypeScript tests as ES modules (execa and yargs are ESM-only). */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  testTimeout: 60000,
  // The tests wait on restic, PostgreSQL and containers far more than they compute: more workers
  // than the 2 cores (jest's default would be 1) keep the machine busy.
  maxWorkers: 4,
  reporters: ['default', '<rootDir>/test/helpers/summary-reporter.cjs'],
};
