/**
 * Helpers for the tests that run the real vendor adapters against the local simulators
 * (test/e2e/integrations*, rate-limit, secrets): fault mixes with a tally of what was served,
 * vendor simulators started with given credentials, a policy copy with more patient retries,
 * and a secret scanner. Deliberately does not import ./harness (which installs its own SDK
 * logger on import): the secrets test captures the SDK's log output with its own logger.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { Fault, FaultPlan, SimulatorServer } from '../../simulators/base';
import { startCrowdStrikeSimulator, type CrowdStrikeSimulator } from '../../simulators/crowdstrike';
import { startGitHubSimulator, type GitHubSimulator } from '../../simulators/github';
import { startJiraSimulator, type JiraSimulator } from '../../simulators/jira';
import { startServiceNowSimulator, type ServiceNowSimulator } from '../../simulators/servicenow';
import { startSlackSimulator, type SlackSimulator } from '../../simulators/slack';
import type { Systems } from '../../activities/registry';
import type { ActivityDeps } from '../../activities';
import { pollUntil } from '../../common/poll';

export const ROOT = path.resolve(__dirname, '..', '..');

// ---------------------------------------------------------------- faults

export type FaultKind = Fault['kind'];
export const FAULT_KINDS: FaultKind[] = ['status', 'rateLimit', 'slow', 'hang', 'reset'];

export interface FaultTally {
  /** Faults served, by kind (lost answers included under "slow"). */
  byKind: Record<FaultKind, number>;
  /** Requests that were carried out but whose answer came after the client's timeout. */
  lostAnswers: string[];
  total(): number;
}

export interface LostAnswers {
  /** "METHOD path" of the requests whose answer is lost (e.g. the creates). */
  match: RegExp;
  /** How many of them. */
  count: number;
  /** How late the (carried out) answer comes: longer than the client's timeout. */
  ms: number;
}

/**
 * Puts `plan` on the simulator and counts every fault it serves, by kind. With `lost`, the
 * first `count` requests matching `lost.match` are carried out but answered only after
 * `lost.ms` (the base server's "slow" fault): the client times out although the vendor acted,
 * which is exactly what idempotency must survive. Wraps the server's fault picker, so the
 * faults themselves are the simulator's own.
 */
export function injectFaults(server: SimulatorServer, plan: FaultPlan, lost?: LostAnswers): FaultTally {
  const tally: FaultTally = {
    byKind: { status: 0, rateLimit: 0, slow: 0, hang: 0, reset: 0 },
    lostAnswers: [],
    total: () => Object.values(tally.byKind).reduce((a, b) => a + b, 0),
  };
  server.setFaults(plan);
  let lostLeft = lost?.count ?? 0;
  const target = server as unknown as { nextFault(method: string, path: string): Fault | undefined };
  const pick = target.nextFault.bind(server);
  target.nextFault = (method: string, p: string) => {
    let fault: Fault | undefined;
    if (lost && lostLeft > 0 && lost.match.test(`${method} ${p}`)) {
      lostLeft--;
      fault = { kind: 'slow', ms: lost.ms };
      tally.lostAnswers.push(`${method} ${p}`);
    } else fault = pick(method, p);
    if (fault) tally.byKind[fault.kind]++;
    return fault;
  };
  return tally;
}

/**
 * The mix every simulator gets in the fault test: one of each kind first (so every kind is
 * certainly exercised), then a random fault on `rate` of the requests.
 */
export function faultMix(o: { rate: number; seed: number; slowMs: number; hangMs: number }): FaultPlan {
  const faults: Fault[] = [
    { kind: 'status', status: 503 },
    { kind: 'status', status: 500 },
    { kind: 'rateLimit', retryAfterSeconds: 1 },
    { kind: 'slow', ms: o.slowMs },
    { kind: 'hang', ms: o.hangMs },
    { kind: 'reset' },
  ];
  return { queue: [faults[0], faults[2], faults[3], faults[4], faults[5]], random: { rate: o.rate, faults, seed: o.seed } };
}

// ---------------------------------------------------------------- simulators with given credentials

export interface Credentials {
  jiraEmail: string;
  jiraToken: string;
  serviceNowUser: string;
  serviceNowPassword: string;
  falconClientId: string;
  falconClientSecret: string;
  githubToken: string;
}

export interface SimHost {
  name: string;
  deviceId: string;
  environment?: string;
  criticality?: string;
  internet?: 'true' | 'false';
}

export interface VendorSims {
  env: Record<string, string>;
  jira: JiraSimulator;
  servicenow: ServiceNowSimulator;
  crowdstrike: CrowdStrikeSimulator;
  slack: SlackSimulator;
  github: GitHubSimulator;
  /** channel → webhook URL (each one a secret). */
  webhooks: Record<string, string>;
  close(): Promise<void>;
}

/** A bare repository "acme/infra" seeded with simulators/demo-infra. */
export function demoRepository(dataDir: string): string {
  const bare = path.join(dataDir, 'git', 'acme-infra.git');
  const work = mkdtempSync(path.join(os.tmpdir(), 'drw-sims-infra-'));
  const git = (cwd: string, ...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=drw test', '-c', 'user.email=test@drw.invalid', ...args], { cwd, stdio: 'ignore' });
  cpSync(path.join(ROOT, 'simulators', 'demo-infra'), work, { recursive: true });
  git(work, 'init', '-q', '-b', 'main');
  git(work, 'add', '-A');
  git(work, 'commit', '-q', '-m', 'demo infrastructure');
  mkdirSync(path.dirname(bare), { recursive: true });
  execFileSync('git', ['clone', '-q', '--bare', work, bare], { stdio: 'ignore' });
  rmSync(work, { recursive: true, force: true });
  return bare;
}

/**
 * Jira, ServiceNow (CMDB), CrowdStrike, Slack and GitHub simulators with the given
 * credentials and hosts, and the environment that points the real adapters at them.
 */
export async function startVendorSims(o: { dataDir: string; credentials: Credentials; hosts: SimHost[]; autoMergeAfterMs?: number }): Promise<VendorSims> {
  const c = o.credentials;
  const jira = await startJiraSimulator({ email: c.jiraEmail, apiToken: c.jiraToken, projects: ['SEC'] });
  // Plays the CAB as the timer below plays the reviewer: change control has its own scenarios (test/e2e/change-control).
  const servicenow = await startServiceNowSimulator({ username: c.serviceNowUser, password: c.serviceNowPassword, change: { autoApproveAs: 'CAB Manager' } });
  for (const h of o.hosts) {
    servicenow.seedHost({
      name: h.name,
      usedFor: h.environment ?? 'Production',
      serviceCriticality: h.criticality ?? '1 - most critical',
      firewallStatus: (h.internet ?? 'true') === 'true' ? 'Internet' : 'Intranet',
      owned_by: 'Web Team',
    });
  }
  const crowdstrike = await startCrowdStrikeSimulator({
    clientId: c.falconClientId,
    clientSecret: c.falconClientSecret,
    readsUntilEffective: 1,
    devices: o.hosts.map((h) => ({ deviceId: h.deviceId, hostname: h.name })),
  });
  const slack = await startSlackSimulator();
  const webhooks: Record<string, string> = {};
  for (const channel of ['secops', 'cloud-owners', 'vuln-management', 'oncall', 'triage']) webhooks[channel] = slack.addWebhook(channel);
  const bare = demoRepository(o.dataDir);
  const github = await startGitHubSimulator({ token: c.githubToken, repos: { 'acme/infra': bare } });
  const after = o.autoMergeAfterMs ?? 0;
  // Plays the reviewer, as the embedded default does.
  const timer = setInterval(() => {
    for (const p of github.pulls()) if (p.state === 'open' && Date.now() - Date.parse(p.created_at) >= after) github.markMerged(p.repository, p.number);
  }, 200);
  timer.unref();
  const env: Record<string, string> = {
    JIRA_BASE_URL: jira.url,
    JIRA_EMAIL: c.jiraEmail,
    JIRA_API_TOKEN: c.jiraToken,
    JIRA_PROJECT_KEY: 'SEC',
    DRW_CMDB: 'servicenow',
    SERVICENOW_INSTANCE_URL: servicenow.url,
    SERVICENOW_USERNAME: c.serviceNowUser,
    SERVICENOW_PASSWORD: c.serviceNowPassword,
    FALCON_BASE_URL: crowdstrike.baseUrl,
    FALCON_CLIENT_ID: c.falconClientId,
    FALCON_CLIENT_SECRET: c.falconClientSecret,
    FALCON_POLL_INTERVAL_MS: '200',
    SLACK_WEBHOOK_URLS: JSON.stringify(webhooks),
    GITHUB_API_URL: github.url,
    GITHUB_TOKEN: c.githubToken,
    DRW_IAC_REPOS: JSON.stringify({ 'acme/infra': bare }),
    DRW_IAC_WORKDIR: path.join(o.dataDir, 'iac-work'),
  };
  return {
    env,
    jira,
    servicenow,
    crowdstrike,
    slack,
    github,
    webhooks,
    close: async () => {
      clearInterval(timer);
      await Promise.all([jira.close(), servicenow.close(), crowdstrike.close(), slack.close(), github.close()].map((p) => p.catch(() => undefined)));
    },
  };
}

/** The systems of `buildSystems` as the harness's / startApp's `override` (no providers, no in-process fakes). */
export function adapterSystems(s: Systems): Omit<ActivityDeps, 'policy'> {
  const { providers: _p, inprocess: _i, ...rest } = s;
  void _p;
  void _i;
  return rest;
}

// ---------------------------------------------------------------- policy

export interface RetrySpec {
  maximumAttempts: number;
  initialInterval?: string;
  backoffCoefficient?: number;
  maximumInterval?: string;
}

/**
 * A copy of policies/default in a temp dir where every step (and escalation) retries with
 * `retry` instead of the default 5 attempts, for runs where the vendors are deliberately flaky.
 */
export function policyWithRetries(retry: RetrySpec): string {
  const src = path.join(ROOT, 'policies', 'default');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'drw-policy-retries-'));
  for (const f of readdirSync(src)) {
    const text = readFileSync(path.join(src, f), 'utf8');
    if (!/\.ya?ml$/.test(f)) {
      writeFileSync(path.join(dir, f), text);
      continue;
    }
    const doc = parseYaml(text) as { steps?: Record<string, unknown>[]; escalation?: Record<string, unknown>[] };
    for (const s of [...(doc.steps ?? []), ...(doc.escalation ?? [])]) s.retry = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '4s', ...retry };
    writeFileSync(path.join(dir, f), stringifyYaml(doc));
  }
  return dir;
}

// ---------------------------------------------------------------- secrets

/** Every form in which a secret could show up: as is, URL-encoded, base64 (alone or as a basic-auth pair). */
export function secretForms(secrets: Record<string, string>, basicPairs: [string, string][] = []): Record<string, string> {
  const forms: Record<string, string> = {};
  for (const [name, value] of Object.entries(secrets)) {
    forms[name] = value;
    forms[`${name} (url-encoded)`] = encodeURIComponent(value);
    forms[`${name} (base64)`] = Buffer.from(value).toString('base64');
  }
  for (const [user, pass] of basicPairs) forms[`basic auth of ${user}`] = Buffer.from(`${user}:${pass}`).toString('base64');
  return forms;
}

/** Names of the secret forms found in `text`. */
export function leaks(text: string, forms: Record<string, string>): string[] {
  return Object.entries(forms)
    .filter(([, v]) => v.length >= 8 && text.includes(v))
    .map(([k]) => k);
}

/** JSON of any value with byte arrays (payload data) decoded as UTF-8 text, so history payloads are searchable. */
export function searchableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => {
    if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
    if (v && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
      return Buffer.from((v as { data: number[] }).data).toString('utf8');
    }
    if (typeof v === 'bigint') return String(v);
    return v;
  });
}

// ---------------------------------------------------------------- small HTTP / polling helpers

export { http } from './http';

/** Polls `check` until it returns a value; the error says what was awaited and the last thing seen. */
export function until<T>(check: () => Promise<T | undefined>, what: string, timeoutMs: number, describe?: () => string): Promise<T> {
  return pollUntil(check, { what, timeoutMs, everyMs: 200, describe });
}
