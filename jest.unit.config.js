/** Server-less tests only (planner, ingest, adapters against simulators): `npx jest -c jest.unit.config.js`. */
const base = require('./jest.config.js');
module.exports = { ...base, globalSetup: undefined, globalTeardown: undefined, testMatch: ['**/unit/**/*.test.ts', '**/contract/**/*.test.ts'] };
