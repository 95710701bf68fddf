import { createLogger, type Logger } from '../../common/logger';

/**
 * A logger for tests: lines go to the buffer test/setup/logs-on-failure.js prints only when a test
 * fails (straight to stderr under another environment).
 */
export function testLogger(level = process.env.DRW_TEST_LOG_LEVEL ?? 'warn'): Logger {
  const g = globalThis as { __drwTestLogs?: string[] };
  return createLogger(level, { write: (line: string) => void (g.__drwTestLogs ? g.__drwTestLogs.push(line) : process.stderr.write(line)) });
}
