/**
 * Starts one real Temporal dev server for the whole test run, from the same CLI binary
 * temporal-dev.sh resolves (no download, no mock, no time skipping), unless TEMPORAL_ADDRESS
 * points at a server already. Also bundles the workflow code once for every test worker.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleDrwWorkflows } from '../../workers/workflow-bundle';
import { SA } from '../../signals/search-attributes';
import { drwSqlitePragmas, temporalCli } from '../../bench/devserver';

/** Small enough that scenarios with floods exercise continue-as-new; large enough for normal ones. */
export const SUGGEST_CONTINUE_AS_NEW_AFTER = 1500;

export default async function globalSetup(): Promise<void> {
  const root = path.resolve(__dirname, '..', '..');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'drw-test-'));
  const { code } = await bundleDrwWorkflows({ trace() {}, debug() {}, info() {}, warn() {}, error: console.error } as never, path.join(root, 'workflows', 'index.ts'));
  const bundle = path.join(dir, 'workflow-bundle.js');
  writeFileSync(bundle, code);
  process.env.DRW_TEST_WORKFLOW_BUNDLE = bundle;
  process.env.DRW_TEST_TMP = dir;
  // drw runs on Node 20 (README); the AWS SDK's notice that its 2027 releases need Node 22 is not a test result.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

  if (process.env.TEMPORAL_ADDRESS) return;
  const cli = temporalCli();
  process.env.DRW_TEMPORAL_CLI = cli;
  // The dev server prints its banner on stdout and shutdown noise on stderr; a green run prints nothing
  // (its log stays in the run's temporary directory; exec keeps the pid the SDK stops).
  const quietCli = path.join(dir, 'temporal-quiet');
  const q = (p: string) => `'${p.replace(/'/g, `'\\''`)}'`;
  writeFileSync(quietCli, `#!/bin/sh\nexec ${q(cli)} "$@" >/dev/null 2>>${q(path.join(dir, 'temporal-dev-server.log'))}\n`, { mode: 0o755 });
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: quietCli },
      ip: '127.0.0.1',
      namespace: 'default',
      dbFilename: path.join(dir, 'temporal.sqlite'),
      searchAttributes: Object.values(SA),
      extraArgs: [
        '--dynamic-config-value',
        `limit.historyCount.suggestContinueAsNew=${SUGGEST_CONTINUE_AS_NEW_AFTER}`,
        '--log-level',
        'error',
        // The database as npm start's server opens it (write-ahead log).
        ...drwSqlitePragmas().flatMap((p) => ['--sqlite-pragma', p]),
      ],
    },
  });
  process.env.TEMPORAL_ADDRESS = env.address;
  (globalThis as Record<string, unknown>).__DRW_TEMPORAL_ENV__ = env;
}
