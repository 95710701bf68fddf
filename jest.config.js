/** @type {import('jest').Config} */
module.exports = {
  // Logs are printed only for a failing test (test/setup/logs-on-failure.js).
  testEnvironment: '<rootDir>/test/setup/logs-on-failure.js',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The fault suite is `npm run test:faults`; its fast part (the fuzz of hostile input) runs here too.
  // The cluster suite is `npm run test:cluster` (it needs deploy/local-cluster).
  testPathIgnorePatterns: ['/node_modules/', '/test/faults/(?!fuzz\\.test\\.ts$)', '/test/cluster/'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
  testTimeout: 120000,
  maxWorkers: 2,
};
