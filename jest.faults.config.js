/**
 * The fault suite (`npm run test:faults`): worker SIGKILLs, a dev server restart, vendor faults,
 * hostile input, a signal flood. Same transform and shared dev server as jest.config.js; the
 * global setup also builds dist/ (the killed worker runs as `node dist/workers/main.js`).
 * One file at a time: each loads the machine on its own.
 */
const base = require('./jest.config.js');

// Retries against a dead server or a failing vendor are the point here; their warnings are noise.
process.env.DRW_TEST_LOG_LEVEL = process.env.DRW_TEST_LOG_LEVEL || 'error';

module.exports = {
  ...base,
  testMatch: ['**/test/faults/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  globalSetup: '<rootDir>/test/faults/setup/global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
  testTimeout: 15 * 60_000,
  maxWorkers: 1,
  // In-band, the suite's own process hosts the tests' Temporal connections; after the teardown no
  // JS handle is left (checked with process._getActiveHandles()), yet the SDK's native runtime
  // threads can keep the process alive. Every test closes what it opened before this applies.
  forceExit: true,
};
