/**
 * The embedded default's vendors: local simulators of Jira, ServiceNow CMDB, CrowdStrike
 * Falcon, Slack, GitHub (with a real git repository of demo infrastructure code, and its alerts), AWX (runbook
 * job templates), Okta (accounts) and AWS Security Hub (findings re-queried to verify a fix), so
 * that a new user of `npm start` sees real tickets, containments and pull requests happen
 * through the real adapters. Each simulator is used only for a kind the user has not
 * configured; pointing a kind at the real vendor is configuration only. Their state is kept in
 * the data folder (simulators/persistence.ts), next to the Temporal dev server's database, so
 * the tickets, pull requests and containments that workflows refer to outlive a restart.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startCrowdStrikeSimulator, type CrowdStrikeSimulator } from './crowdstrike';
import { startGitHubSimulator, type GitHubSimulator } from './github';
import { startJiraSimulator, type JiraSimulator } from './jira';
import { startServiceNowSimulator, type ServiceNowSimulator } from './servicenow';
import { DEMO_STANDARD_CHANGE_TEMPLATE } from './servicenow-change';
import { startSlackSimulator, type SlackSimulator } from './slack';
import { startAwxSimulator, type AwxSimulator } from './awx';
import { startOktaSimulator, type OktaSimulator } from './okta';
import { persistSimulator, type PersistentState } from './persistence';
import type { SimulatorServer } from './base';
import { startSecurityHubSimulator, type SecurityHubSimulator } from './securityhub';

/** Demo assets known to the simulated CMDB and EDR. */
export const DEMO_HOSTS = [
  { name: 'web-1', environment: 'production', criticality: '1 - most critical', internet: 'true', owner: 'Web Team' },
  { name: 'web-2', environment: 'production', criticality: '2 - somewhat critical', internet: 'true', owner: 'Web Team' },
  { name: 'db-1', environment: 'production', criticality: '1 - most critical', internet: 'false', owner: 'Data Team' },
  { name: 'build-1', environment: 'staging', criticality: '3 - less critical', internet: 'false', owner: 'Platform' },
];

/** Job templates of the simulated AWX: the runbooks infrastructure playbooks name. */
export const DEMO_RUNBOOKS = ['restart-service', 'clear-disk', 'scale-up'];

/** Accounts the simulated Okta knows (identity findings name them by login). */
export const DEMO_USERS = ['alice@acme.example', 'bob@acme.example', 'carol@acme.example'];

export interface EmbeddedSimulators {
  env: Record<string, string>;
  urls: Record<string, string>;
  /**
   * Points the simulators' outbound calls at drw's API once it listens: the Jira simulator's
   * webhook to its Jira route, signed with DRW_JIRA_WEBHOOK_SECRET; the Slack simulator's button
   * presses to the interactivity route, signed with DRW_SLACK_SIGNING_SECRET. Returns the URLs it set.
   */
  connectApi(apiUrl: string): string[];
  summary(): Record<string, number>;
  /** The simulators that resumed from the state saved in the data folder. */
  restored: string[];
  /** The running simulators (only those started), for tests that count what the vendors received. */
  simulators: {
    jira?: JiraSimulator;
    servicenow?: ServiceNowSimulator;
    crowdstrike?: CrowdStrikeSimulator;
    slack?: SlackSimulator;
    github?: GitHubSimulator;
    awx?: AwxSimulator;
    okta?: OktaSimulator;
    securityhub?: SecurityHubSimulator;
  };
  close(): Promise<void>;
}

function git(cwd: string, ...args: string[]): void {
  execFileSync('git', ['-c', 'user.name=drw demo', '-c', 'user.email=demo@drw.invalid', ...args], { cwd, stdio: 'ignore' });
}

/** A bare repository "acme/infra" seeded with the demo Terraform and manifests. */
/** A bare git repository at `bare` holding the demo infrastructure (simulators/demo-infra) on main; kept if it exists. */
export function demoRepository(bare: string): string {
  if (existsSync(bare)) return bare;
  mkdirSync(path.dirname(bare), { recursive: true });
  const work = mkdtempSync(path.join(os.tmpdir(), 'drw-demo-infra-'));
  // dist/simulators/ (compiled) has no copy of the demo files; from the sources they sit next to this file.
  const source = [path.join(__dirname, '..', '..', 'simulators', 'demo-infra'), path.join(__dirname, 'demo-infra')].find((d) => existsSync(path.join(d, 'terraform')));
  if (!source) throw new Error('simulators/demo-infra not found');
  cpSync(source, work, { recursive: true });
  git(work, 'init', '-q', '-b', 'main');
  git(work, 'add', '-A');
  git(work, 'commit', '-q', '-m', 'demo infrastructure');
  execFileSync('git', ['clone', '-q', '--bare', work, bare], { stdio: 'ignore' });
  rmSync(work, { recursive: true, force: true });
  return bare;
}

/** Slack people of the embedded default (DRW_SLACK_USERS): who may press Approve / Deny in the simulated Slack. */
export const DEMO_SLACK_USERS = { U0ALICE: { user: 'alice', groups: ['secops'] }, U0CAROL: { user: 'carol', groups: ['cloud-owners'] } };

/** Whether the embedded default plays Slack (no notifier configured), as startEmbeddedSimulators decides. */
export function simulatesSlack(env: NodeJS.ProcessEnv): boolean {
  return (env.DRW_NOTIFY ?? 'auto') === 'auto' && !env.SLACK_WEBHOOK_URLS && !env.DRW_WEBHOOK_URLS;
}

/** Whether the embedded default plays Jira (no ticketing system configured), as startEmbeddedSimulators decides. */
export function simulatesJira(env: NodeJS.ProcessEnv): boolean {
  return (env.DRW_TICKETING ?? 'auto') === 'auto' && !env.JIRA_BASE_URL && !env.SERVICENOW_INSTANCE_URL;
}

export interface EmbeddedOptions {
  autoMergeAfterMs?: number;
  /** A CAB member of the ServiceNow simulator who approves every change at once (tests about something else); unset, a person decides. */
  cabApprover?: string;
  /** Where a state file that cannot be restored is reported (default: a process warning). */
  warn?: (message: string) => void;
}

export async function startEmbeddedSimulators(dataDir: string, env: NodeJS.ProcessEnv, opts: EmbeddedOptions = {}): Promise<EmbeddedSimulators> {
  const out: Record<string, string> = {};
  const urls: Record<string, string> = {};
  const closers: (() => Promise<void>)[] = [];
  const restored: string[] = [];
  /** Restores the simulator's saved state (replacing its seed) and saves each change; returns the store. */
  const persisted = (name: string, server: SimulatorServer, state: PersistentState, close: () => Promise<void>) => {
    const store = persistSimulator({ dataDir, name, server, state, warn: opts.warn });
    if (store.restored) restored.push(name);
    closers.push(async () => {
      await close();
      store.close();
    });
    return store;
  };
  const counts: Record<string, () => number> = {};
  const simulators: EmbeddedSimulators['simulators'] = {};
  const configured = (...vars: string[]) => vars.some((v) => env[v]);
  const chosen = (kind: string, ...vars: string[]) => (env[`DRW_${kind}`] ?? 'auto') === 'auto' && !configured(...vars);

  if (simulatesJira(env)) {
    const jira = await startJiraSimulator({ email: 'drw@example.com', apiToken: 'demo-jira-token', projects: ['SEC'] });
    Object.assign(out, { JIRA_BASE_URL: jira.url, JIRA_EMAIL: 'drw@example.com', JIRA_API_TOKEN: 'demo-jira-token', JIRA_PROJECT_KEY: 'SEC' });
    urls.jira = jira.url;
    simulators.jira = jira;
    counts.tickets = () => jira.issues.size;
    persisted('jira', jira.server, jira, () => jira.close());
  }
  if (chosen('CMDB', 'SERVICENOW_INSTANCE_URL', 'DRW_INVENTORY_FILE')) {
    const sn = await startServiceNowSimulator({ username: 'drw', password: 'demo-servicenow-password', ...(opts.cabApprover ? { change: { autoApproveAs: opts.cabApprover } } : {}) });
    for (const h of DEMO_HOSTS) {
      sn.seedHost({ name: h.name, usedFor: capitalized(h.environment), serviceCriticality: h.criticality, firewallStatus: h.internet === 'true' ? 'Internet' : 'Intranet', owned_by: h.owner });
    }
    Object.assign(out, {
      DRW_CMDB: 'servicenow',
      SERVICENOW_INSTANCE_URL: sn.url,
      SERVICENOW_USERNAME: 'drw',
      SERVICENOW_PASSWORD: 'demo-servicenow-password',
      SERVICENOW_STANDARD_CHANGE_TEMPLATE: DEMO_STANDARD_CHANGE_TEMPLATE,
    });
    urls.servicenow = sn.url;
    simulators.servicenow = sn;
    persisted('servicenow', sn.server, sn, () => sn.close());
  }
  if (chosen('ENDPOINT', 'FALCON_CLIENT_ID', 'DEFENDER_CLIENT_ID')) {
    const cs = await startCrowdStrikeSimulator({
      clientId: 'demo-falcon-client',
      clientSecret: 'demo-falcon-secret',
      readsUntilEffective: 1,
      devices: DEMO_HOSTS.map((h, i) => ({ deviceId: `demo${String(i + 1).padStart(28, '0')}`, hostname: h.name })),
    });
    Object.assign(out, { FALCON_BASE_URL: cs.baseUrl, FALCON_CLIENT_ID: 'demo-falcon-client', FALCON_CLIENT_SECRET: 'demo-falcon-secret', FALCON_POLL_INTERVAL_MS: '500' });
    urls.crowdstrike = cs.baseUrl;
    simulators.crowdstrike = cs;
    counts.containActions = () => cs.served((r) => r.path.includes('devices-actions')).length;
    persisted('crowdstrike', cs, cs, () => cs.close());
  }
  if (simulatesSlack(env)) {
    // Signed with the API's DRW_SLACK_SIGNING_SECRET (npm start sets one for the run), so its clicks reach drw.
    const slack = await startSlackSimulator({ signingSecret: env.DRW_SLACK_SIGNING_SECRET });
    const hooks: Record<string, string> = {};
    for (const channel of ['secops', 'cloud-owners', 'vuln-management', 'oncall', 'triage']) hooks[channel] = slack.addWebhook(channel);
    out.SLACK_WEBHOOK_URLS = JSON.stringify(hooks);
    // The approval requests (chat.postMessage with a bot token), unless a real bot is configured.
    if (!env.SLACK_BOT_TOKEN) Object.assign(out, { SLACK_BOT_TOKEN: slack.botToken, SLACK_API_URL: `${slack.baseUrl}/api` });
    urls.slack = slack.baseUrl;
    simulators.slack = slack;
    counts.messages = () => slack.messages.length;
    closers.push(() => slack.close());
  }
  if (chosen('IAC', 'DRW_IAC_REPOS')) {
    const bare = demoRepository(path.join(dataDir, 'git', 'acme-infra.git'));
    const gh = await startGitHubSimulator({ token: 'demo-github-token', repos: { 'acme/infra': bare } });
    Object.assign(out, {
      GITHUB_API_URL: gh.url,
      GITHUB_TOKEN: 'demo-github-token',
      DRW_IAC_REPOS: JSON.stringify({ 'acme/infra': bare }),
      DRW_IAC_WORKDIR: path.join(dataDir, 'iac-work'),
    });
    urls.github = gh.url;
    simulators.github = gh;
    counts.pullRequests = () => gh.pulls().length;
    // Plays the reviewer: open pull requests are merged after a while, so verification completes.
    const after = opts.autoMergeAfterMs ?? 5000;
    const timer = setInterval(() => {
      const due = gh.pulls().filter((p) => p.state === 'open' && Date.now() - Date.parse(p.created_at) >= after);
      for (const p of due) gh.markMerged(p.repository, p.number);
      if (due.length) store.save();
    }, 1000);
    timer.unref();
    const store = persisted('github', gh.server, gh, async () => {
      clearInterval(timer);
      await gh.close();
    });
  }
  if (chosen('RUNBOOK', 'AWX_URL', 'AWX_JOB_TEMPLATES', 'RUNDECK_URL', 'RUNDECK_JOBS')) {
    const runbooks = DEMO_RUNBOOKS.map((name, i) => ({ id: i + 7, name, ask_limit_on_launch: true }));
    const awx = await startAwxSimulator({ token: 'demo-awx-token', readsPerStep: 1, templates: runbooks });
    Object.assign(out, {
      AWX_URL: awx.baseUrl,
      AWX_TOKEN: 'demo-awx-token',
      AWX_JOB_TEMPLATES: JSON.stringify(Object.fromEntries(runbooks.map((t) => [t.name, t.id]))),
      AWX_LIMIT_TO_ASSET: '1',
      AWX_POLL_INTERVAL_MS: '500',
    });
    urls.awx = awx.baseUrl;
    simulators.awx = awx;
    counts.runbookJobs = () => awx.jobs.length;
    persisted('awx', awx, awx, () => awx.close());
  }
  if (chosen('IDENTITY', 'OKTA_ORG_URL', 'OKTA_API_TOKEN', 'ENTRA_TENANT_ID', 'ENTRA_CLIENT_ID')) {
    const okta = await startOktaSimulator({ apiToken: 'demo-okta-token', users: DEMO_USERS.map((login) => ({ login })) });
    Object.assign(out, { OKTA_ORG_URL: okta.baseUrl, OKTA_API_TOKEN: 'demo-okta-token' });
    urls.okta = okta.baseUrl;
    simulators.okta = okta;
    counts.suspendedAccounts = () => [...okta.users.values()].filter((u) => u.status === 'SUSPENDED').length;
    persisted('okta', okta, okta, () => okta.close());
  }
  // Security Hub for re-querying findings (a source_finding check), unless AWS is configured; its
  // findings are those imported into it (POST /_sim/findings), like a real hub's.
  if (chosen('FINDING_SOURCES', 'SECURITYHUB_ENDPOINT', 'AWS_ACCESS_KEY_ID', 'AWS_PROFILE', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_CREDENTIALS_FULL_URI')) {
    const hub = await startSecurityHubSimulator({ accessKeyId: 'AKIADEMOSECURITYHUB0', secretAccessKey: 'demo-securityhub-secret' });
    Object.assign(out, { SECURITYHUB_ENDPOINT: hub.baseUrl, AWS_ACCESS_KEY_ID: hub.accessKeyId, AWS_SECRET_ACCESS_KEY: hub.secretAccessKey, AWS_REGION: 'us-east-1' });
    urls.securityhub = hub.baseUrl;
    simulators.securityhub = hub;
    counts.securityHubFindings = () => hub.findings.size;
    persisted('securityhub', hub, hub, () => hub.close());
  }
  return {
    env: out,
    urls,
    connectApi(apiUrl) {
      const set: string[] = [];
      const jira = simulators.jira;
      const secret = env.DRW_JIRA_WEBHOOK_SECRET;
      if (jira && secret) {
        jira.options.webhook = { url: `${apiUrl}/v1/integrations/jira/webhook`, secret };
        set.push(jira.options.webhook.url);
      }
      const slack = simulators.slack;
      if (slack && env.DRW_SLACK_SIGNING_SECRET) set.push((slack.requestUrl = `${apiUrl}/v1/integrations/slack/interactivity`));
      return set;
    },
    summary: () => Object.fromEntries(Object.entries(counts).map(([k, f]) => [k, f()])),
    restored,
    simulators,
    close: async () => {
      await Promise.all(closers.map((c) => c().catch(() => undefined)));
    },
  };
}

function capitalized(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}
