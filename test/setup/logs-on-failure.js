/**
 * Test output stays quiet: drw's logs during a test file are kept in memory (test/helpers/test-logger.ts
 * writes them to `__drwTestLogs`) and printed only for a test or hook that failed, so a failure shows
 * what the workers said and a green run shows nothing.
 */
// A jest environment is loaded untransformed, so it is CommonJS.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { TestEnvironment } = require('jest-environment-node');

class LogsOnFailureEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.global.__drwTestLogs = [];
  }

  flush(title) {
    const lines = this.global.__drwTestLogs.splice(0);
    if (title && lines.length) process.stderr.write(`\n--- drw logs up to the failure of "${title}" ---\n${lines.join('')}--- end of drw logs ---\n`);
  }

  handleTestEvent(event) {
    if (event.name === 'test_done') this.flush(event.test.errors.length ? event.test.name : undefined);
    else if (event.name === 'hook_failure') this.flush(`${event.hook.type} hook`);
  }
}

module.exports = LogsOnFailureEnvironment;
