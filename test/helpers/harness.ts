/**
 * A drw process for one test file: its own task queues on the shared test server, the real
 * app assembly (workers + HTTP API on a free port) and in-process systems the test can read.
 */
import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type DrwConfig } from '../../common/config';
import { installSdkLogger } from '../../common/logger';
import { testLogger } from './test-logger';
import { createInProcessSystems, type InProcessOptions, type InProcessSystems } from '../../activities/inprocess';
import { startApp, type App } from '../../cli/app';
import type { ActivityDeps } from '../../activities';
import { pollUntil } from '../../common/poll';

export const ROOT = path.resolve(__dirname, '..', '..');
/** The policy as users get it: facts.yaml counts no native risk score and treats unknown assets as production. */
export const SHIPPED_POLICY = path.join(ROOT, 'policies', 'default');
/** The scenario facts.yaml (see DEFAULT_POLICY), for scenario policies written by a test. */
export const SCENARIO_FACTS = 'trustedRiskSources: [drw, falcon, msgraph, asff, ocsf, trivy, github]\nunknownAsset: { environment: null }\n';
/**
 * The shipped playbooks with scenario facts: the native API's risk scores count and an asset is
 * what the detection says, so a scenario needs no CMDB record per asset. The scenarios are about
 * the workflow; which facts count is tested on its own against SHIPPED_POLICY (test/e2e/facts.test.ts).
 */
export const DEFAULT_POLICY = scenarioPolicy();

function scenarioPolicy(): string {
  const dir = mkdtempSync(path.join(process.env.DRW_TEST_TMP ?? os.tmpdir(), 'drw-scenario-policy-'));
  cpSync(SHIPPED_POLICY, dir, { recursive: true });
  writeFileSync(path.join(dir, 'facts.yaml'), SCENARIO_FACTS);
  return dir;
}
export const TEST_POLICY = path.join(ROOT, 'test', 'fixtures', 'policies');

/** An EDR malware detection on a production host (the edr-malware playbook; risk ≥ 90 needs no approval). */
export const malwareDetection = (asset: string, riskScore: number) => ({
  source: 'crowdstrike',
  rule: 'Trojan.GenericKD',
  title: `Malware on ${asset}`,
  severity: 'high' as const,
  category: 'malware',
  riskScore,
  asset: { id: asset, type: 'host', environment: 'production' },
});

export interface Harness {
  app: App;
  cfg: DrwConfig;
  api: string;
  systems: InProcessSystems;
  close(): Promise<void>;
}

export interface HarnessOptions {
  policyDir?: string;
  timeScale?: number;
  inprocess?: InProcessOptions;
  /** Replace some systems (vendor adapters against simulators). */
  override?: Partial<Omit<ActivityDeps, 'policy'>>;
  env?: Record<string, string>;
  taskQueue?: string;
  /** false: the API alone (a second API in front of another harness's workers, given its taskQueue). */
  workers?: boolean;
}

const logger = testLogger();
installSdkLogger(logger);

export async function startHarness(o: HarnessOptions = {}): Promise<Harness> {
  const cfg = loadConfig({
    TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS,
    DRW_TASK_QUEUE: o.taskQueue ?? `drw-test-${randomUUID().slice(0, 8)}`,
    DRW_API_PORT: '1',
    DRW_POLICY_DIR: o.policyDir ?? DEFAULT_POLICY,
    DRW_TIME_SCALE: String(o.timeScale ?? 0.01),
    DRW_LOG_LEVEL: 'warn',
    // Sealing into the archive is tested on its own (test/e2e/audit-*); other scenarios leave it off.
    DRW_ARCHIVE: 'off',
    // The tests' own key, not the user's state directory.
    DRW_APPROVAL_SIGNING_KEY_FILE: path.join(process.env.DRW_TEST_TMP ?? os.tmpdir(), 'approval-signing-key.pem'),
    DRW_UI_SESSION_KEY_FILE: path.join(process.env.DRW_TEST_TMP ?? os.tmpdir(), 'ui-session.key'),
    // Scenarios poll the API many times a second; the rate limit has its own test (test/unit/api).
    DRW_API_RATE_LIMIT: '100000',
    ...o.env,
  });
  cfg.api.port = 0;
  // Scenarios about something else need no CAB: the stand-in's change manager approves at once
  // (test/e2e/change-control.test.ts waits for the CAB through ServiceNow's simulator).
  const systems = createInProcessSystems({ autoMergeAfterMs: 0, changeApprover: 'cab-member', ...o.inprocess });
  const app = await startApp({
    cfg,
    logger,
    systems: { ...systems, ...o.override },
    workers: o.workers,
    workflowBundle: process.env.DRW_TEST_WORKFLOW_BUNDLE ? { codePath: process.env.DRW_TEST_WORKFLOW_BUNDLE } : undefined,
  });
  return { app, cfg, api: app.apiUrl!, systems, close: () => app.close() };
}

export { http } from './http';

/** Polls until `check` returns a value (not undefined) or the time runs out. */
export function eventually<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  return pollUntil(check, { what, timeoutMs, everyMs: 100 });
}
