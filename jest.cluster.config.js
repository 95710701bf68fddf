/**
 * The cluster suite (`npm run test:cluster`): drw's API and workers as separate processes on a
 * Temporal server backed by PostgreSQL (deploy/local-cluster), as in production. The global
 * setup starts the cluster (building the server the first time) and builds dist/.
 */
const base = require('./jest.config.js');

process.env.DRW_TEST_LOG_LEVEL = process.env.DRW_TEST_LOG_LEVEL || 'error';

module.exports = {
  ...base,
  testMatch: ['**/test/cluster/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  globalSetup: '<rootDir>/test/cluster/setup/global-setup.ts',
  globalTeardown: '<rootDir>/test/cluster/setup/global-teardown.ts',
  testTimeout: 15 * 60_000,
  maxWorkers: 1,
  // As in the fault suite: the SDK's native runtime threads can outlive a closed connection.
  forceExit: true,
};
