/**
 * Shared by the fault suite (npm run test:faults): the vendor simulators a test starts in its
 * own process (Jira, CrowdStrike, Slack, GitHub with a real bare git repository), counting of
 * their side effects per asset, a drw worker run as a child process (`node dist/workers/main.js`)
 * that can be SIGKILLed and restarted, and small waiting helpers.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Detection } from '../../domain/detection';
import { startCrowdStrikeSimulator, type CrowdStrikeSimulator } from '../../simulators/crowdstrike';
import { startGitHubSimulator, type GitHubSimulator } from '../../simulators/github';
import { startJiraSimulator, type JiraSimulator } from '../../simulators/jira';
import { startSlackSimulator, type SlackSimulator } from '../../simulators/slack';
import type { FaultPlan, RecordedRequest, SimulatorServer } from '../../simulators/base';
import { remediationId } from '../../domain/ids';
import { defaultDedupeKey } from '../../domain/detection';
import { pollUntil } from '../../common/poll';
import { demoRepository } from '../../simulators/embedded';
import { loadConfig } from '../../common/config';
import { PolicyStore } from '../../activities/policy-store';
import { RemediationService } from '../../api/service';
import { WorkerProcess } from '../../bench/drw-process';
import { CompressionCodec } from '../../audit/compression';

export { WORKER, WORKER_MAIN, WorkerProcess, type ProcessSpec } from '../../bench/drw-process';

export const ROOT = path.resolve(__dirname, '..', '..');
export const FAULT_POLICY = path.join(__dirname, 'fixtures', 'policies');

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One line of counts per test, on stdout (not through console.log, so jest prints it plainly). */
export function report(test: string, counts: Record<string, unknown>): void {
  process.stdout.write(`[faults] ${test}: ${Object.entries(counts).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`).join(' ')}\n`);
}

export function tmpDir(name: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `drw-faults-${name}-`));
}

export async function connect(address = process.env.TEMPORAL_ADDRESS!, namespace = process.env.TEMPORAL_NAMESPACE ?? 'default'): Promise<{ client: Client; connection: Connection }> {
  const connection = await Connection.connect({ address });
  // drw's workers compress larger payloads (audit/compression.ts): query results and histories read through the same codec.
  return { client: new Client({ connection, namespace, dataConverter: { payloadCodecs: [new CompressionCodec()] } }), connection };
}

/** A detection the fault playbook (fixtures/policies) handles: ticket, containment, pull request, notification, verification. */
export function faultDetection(asset: string): Detection {
  return {
    source: 'faults',
    rule: 'FAULT-1',
    title: `Fault finding on ${asset}`,
    severity: 'high',
    category: 'fault',
    riskScore: 95,
    asset: { id: asset, type: 'host', environment: 'production' },
    details: { repository: 'acme/infra', package: 'lodash', fixedVersion: '4.17.21', manifestPath: 'app/package.json' },
  };
}

export function idFor(d: Detection): string {
  return remediationId(defaultDedupeKey(d));
}

// ---------------------------------------------------------------- vendors

export interface Vendors {
  jira: JiraSimulator;
  falcon: CrowdStrikeSimulator;
  slack: SlackSimulator;
  github: GitHubSimulator;
  /** The environment that points drw's adapters at these simulators. */
  env: Record<string, string>;
  servers: SimulatorServer[];
  deviceOf(asset: string): string;
  setFaults(plan: FaultPlan): void;
  clearFaults(): void;
  faulted(): Record<string, number>;
  sideEffects(assets: string[]): SideEffects;
  /**
   * False outcomes: of the assets whose remediation says remediated, those the vendors show no
   * ticket, no containment or no merged pull request for (what the fault playbook does), with what is missing.
   */
  falseOutcomes(remediated: string[]): { asset: string; missing: string[] }[];
  close(): Promise<void>;
}

export interface SideEffects {
  tickets: number;
  containments: number;
  pullRequests: number;
  messages: number;
  /** Assets with more than one of each (the duplicates this suite must never see). */
  duplicateTickets: string[];
  duplicateContainments: string[];
  duplicatePullRequests: string[];
  /** Notifications are not deduplicated across worker restarts (Slack has no idempotency key); reported, not asserted. */
  duplicateMessages: number;
}

/** What the fault tests print of the side effects. */
export function sideEffectCounts(fx: SideEffects): Record<string, number> {
  return {
    tickets: fx.tickets,
    containments: fx.containments,
    pullRequests: fx.pullRequests,
    slackMessages: fx.messages,
    duplicateTickets: fx.duplicateTickets.length,
    duplicateContainments: fx.duplicateContainments.length,
    duplicatePullRequests: fx.duplicatePullRequests.length,
    duplicateSlackMessages: fx.duplicateMessages,
  };
}

/**
 * Starts the simulators for `assets` (each a Falcon device with that hostname). Pull requests
 * are merged by a simulated reviewer `autoMergeMs` (default 3 s) after they are opened: a person,
 * not an instant merge. (The simulator's merge does not move `main`, so a pull request merged
 * within the seconds a timed-out create and its retry race could be opened twice, which real
 * GitHub would refuse with "No commits between"; a reviewer's delay keeps that artifact out.)
 */
export async function startVendors(o: { dir: string; assets: string[]; autoMergeMs?: number; clientTimeoutMs?: number; jiraSearchLagMs?: number }): Promise<Vendors> {
  const timeout = String(o.clientTimeoutMs ?? 5000);
  // With a lagging Jira search, drw is told to wait up to four times the lag for a create that may have happened.
  const lag = o.jiraSearchLagMs ?? 0;
  const jira = await startJiraSimulator({ email: 'drw@example.com', apiToken: 'faults-jira-token', projects: ['SEC'], searchLagMs: lag });
  const devices = new Map(o.assets.map((a, i) => [a, `fault${String(i + 1).padStart(27, '0')}`]));
  const falcon = await startCrowdStrikeSimulator({
    clientId: 'faults-falcon',
    clientSecret: 'faults-falcon-secret',
    readsUntilEffective: 0,
    devices: [...devices].map(([hostname, deviceId]) => ({ deviceId, hostname })),
  });
  const slack = await startSlackSimulator();
  const hooks = Object.fromEntries(['secops', 'cloud-owners', 'vuln-management', 'oncall', 'triage'].map((c) => [c, slack.addWebhook(c)]));
  const bare = demoRepository(path.join(o.dir, 'acme-infra.git'));
  const github = await startGitHubSimulator({ token: 'faults-github-token', repos: { 'acme/infra': bare } });
  const merger = setInterval(() => {
    for (const p of github.pulls()) {
      if (p.state === 'open' && !p.merged && Date.now() - Date.parse(p.created_at) >= (o.autoMergeMs ?? 3000)) github.markMerged(p.repository, p.number);
    }
  }, 200);
  merger.unref();
  const env: Record<string, string> = {
    DRW_CMDB: 'inprocess',
    // No ServiceNow here: the in-process change stand-in, with a CAB that approves at once (change control has its own scenarios).
    DRW_CHANGE: 'inprocess',
    DRW_INPROCESS_CAB_APPROVER: 'CAB Manager',
    JIRA_BASE_URL: jira.url,
    JIRA_EMAIL: 'drw@example.com',
    JIRA_API_TOKEN: 'faults-jira-token',
    JIRA_PROJECT_KEY: 'SEC',
    JIRA_TIMEOUT_MS: timeout,
    JIRA_SEARCH_LAG_MS: String(lag * 4),
    FALCON_BASE_URL: falcon.baseUrl,
    FALCON_CLIENT_ID: 'faults-falcon',
    FALCON_CLIENT_SECRET: 'faults-falcon-secret',
    FALCON_TIMEOUT_MS: timeout,
    FALCON_POLL_INTERVAL_MS: '100',
    FALCON_SETTLE_WAIT_MS: '5000',
    SLACK_WEBHOOK_URLS: JSON.stringify(hooks),
    SLACK_TIMEOUT_MS: timeout,
    GITHUB_API_URL: github.url,
    GITHUB_TOKEN: 'faults-github-token',
    GITHUB_TIMEOUT_MS: String(Math.max(1000, Number(timeout))),
    DRW_IAC_REPOS: JSON.stringify({ 'acme/infra': bare }),
    DRW_IAC_WORKDIR: path.join(o.dir, 'iac-work'),
  };
  const servers: SimulatorServer[] = [jira.server, falcon, slack, github.server];
  const isFaulted = (r: RecordedRequest) => (r as RecordedRequest & { faulted?: boolean }).faulted === true;
  const title = (asset: string) => `Fault finding on ${asset}`;
  return {
    jira,
    falcon,
    slack,
    github,
    env,
    servers,
    deviceOf: (asset) => devices.get(asset)!,
    setFaults: (plan) => servers.forEach((s) => s.setFaults(plan)),
    clearFaults: () => servers.forEach((s) => s.clearFaults()),
    faulted: () => Object.fromEntries(servers.map((s) => [s.name, s.requests.filter(isFaulted).length])),
    sideEffects(assets) {
      const issues = [...jira.issues.values()];
      const contains = falcon.actionRequests('contain');
      const pulls = github.pulls();
      const per = <T>(items: T[], match: (x: T, asset: string) => boolean) => new Map(assets.map((a) => [a, items.filter((x) => match(x, a)).length]));
      // Titles are "[drw] Fault finding on <asset>" / "drw: Fault finding on <asset>"; asset ids never prefix one another here.
      const tickets = per(issues, (i, a) => i.summary.endsWith(title(a)));
      const containments = per(contains, (r, a) => ((r.body as { ids?: string[] })?.ids ?? [])[0] === devices.get(a));
      const prs = per(pulls, (p, a) => p.title.endsWith(title(a)));
      const texts = slack.messages.map((m) => m.text ?? '');
      const messages = per(texts, (t, a) => t.includes(` ${a}`));
      const dups = (m: Map<string, number>) => [...m].filter(([, n]) => n > 1).map(([a]) => a);
      const sum = (m: Map<string, number>) => [...m.values()].reduce((x, y) => x + y, 0);
      return {
        tickets: sum(tickets),
        containments: sum(containments),
        pullRequests: sum(prs),
        messages: sum(messages),
        duplicateTickets: dups(tickets),
        duplicateContainments: dups(containments),
        duplicatePullRequests: dups(prs),
        duplicateMessages: [...messages.values()].reduce((x, n) => x + Math.max(0, n - 1), 0),
      };
    },
    falseOutcomes(remediated) {
      const issues = [...jira.issues.values()];
      const contains = falcon.actionRequests('contain');
      const merged = github.pulls().filter((p) => p.merged);
      return remediated
        .map((a) => ({
          asset: a,
          missing: [
            ...(issues.some((i) => i.summary.endsWith(title(a))) ? [] : ['ticket']),
            ...(contains.some((r) => ((r.body as { ids?: string[] })?.ids ?? [])[0] === devices.get(a)) ? [] : ['containment']),
            ...(merged.some((p) => p.title.endsWith(title(a))) ? [] : ['merged pull request']),
          ],
        }))
        .filter((x) => x.missing.length > 0);
    },
    async close() {
      clearInterval(merger);
      await Promise.all(servers.map((s) => s.close().catch(() => undefined)));
    },
  };
}

// ---------------------------------------------------------------- a worker as a child process

/**
 * What starts remediations (a RemediationService in this process) and the worker process that
 * runs them (not started yet), on one task queue with the same configuration. `env` goes to
 * both; `workerEnv` (vendor endpoints and credentials) to the worker only.
 */
export function serviceAndWorker(client: Client, o: { queue: string; policyDir: string; logFile: string; env?: Record<string, string>; workerEnv?: Record<string, string> }): { service: RemediationService; worker: WorkerProcess } {
  const env = { TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS!, DRW_TASK_QUEUE: o.queue, DRW_POLICY_DIR: o.policyDir, DRW_TIME_SCALE: '1', ...o.env };
  const policy = new PolicyStore(o.policyDir);
  const service = new RemediationService(client, loadConfig({ ...env, DRW_LOG_LEVEL: 'warn' }), () => policy.get());
  return { service, worker: new WorkerProcess({ ...o.workerEnv, ...env, DRW_LOG_LEVEL: 'info' }, o.logFile) };
}

/** Polls until `check` answers a value; the error names what it waited for and the last failure. */
export function eventually<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>, everyMs = 250): Promise<T> {
  return pollUntil(check, { what, timeoutMs, everyMs });
}
