import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import axios, { type AxiosInstance } from 'axios';
import { createJiraTicketing, loadJiraConfig } from '../../../activities/adapters/jira';
import { startAwxSimulator } from '../../../simulators/awx';
import type { SimulatorServer } from '../../../simulators/base';
import { startCrowdStrikeSimulator } from '../../../simulators/crowdstrike';
import { startGitHubSimulator } from '../../../simulators/github';
import { startJiraSimulator, type JiraSimulator } from '../../../simulators/jira';
import { startOktaSimulator } from '../../../simulators/okta';
import { persistSimulator, simulatorStateFile, type PersistentState } from '../../../simulators/persistence';
import { startServiceNowSimulator } from '../../../simulators/servicenow';
import { remediation } from '../ticketing/helpers';

/** Each simulator of the embedded default, stopped and started again on the same data folder, answers as before. */

let dataDir: string;
let warnings: string[];
const running: (() => Promise<void>)[] = [];

beforeEach(() => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'drw-sim-state-'));
  warnings = [];
});
afterEach(async () => {
  for (const stop of running.splice(0)) await stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Starts a simulator with its state kept under `dataDir`; `stop` closes it and writes what is left, as npm start does. */
async function persisted<S extends PersistentState & { close(): Promise<void> }>(name: string, start: () => Promise<S>, server: (s: S) => SimulatorServer) {
  const sim = await start();
  const store = persistSimulator({ dataDir, name, server: server(sim), state: sim, warn: (m) => warnings.push(m) });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await sim.close();
    store.close();
  };
  running.push(stop);
  return { sim, store, stop };
}

const JIRA = { email: 'drw@example.com', apiToken: 'jira-token', projects: ['SEC'] };
const startJira = () => persisted('jira', () => startJiraSimulator(JIRA), (s) => s.server);
const jiraAdapter = (sim: JiraSimulator) =>
  createJiraTicketing(loadJiraConfig({ JIRA_BASE_URL: sim.url, JIRA_EMAIL: JIRA.email, JIRA_API_TOKEN: JIRA.apiToken, JIRA_PROJECT_KEY: 'SEC' })!);
const ticket = (remediationId: string, idempotencyKey: string) => ({
  remediationId,
  idempotencyKey,
  title: 'Open security group sg-0abc',
  description: 'Ingress from 0.0.0.0/0 on port 22.',
  severity: 'high' as const,
  priority: 'high' as const,
  labels: ['security'],
  assetId: 'sg-0abc',
});

describe('a Jira issue opened before a restart', () => {
  it('is commented and closed through the adapter after it, and the next issue is SEC-2', async () => {
    const first = await startJira();
    const r = remediation();
    const opened = await jiraAdapter(first.sim).openTicket(ticket(r.remediationId, r.key('open')));
    expect(opened.ticketId).toBe('SEC-1');
    await first.stop();

    const second = await startJira();
    expect(second.store.restored).toBe(true);
    const jira = jiraAdapter(second.sim);
    await jira.updateTicket({ ...r, idempotencyKey: r.key('note'), ticketId: 'SEC-1', comment: 'Containment done.' });
    await jira.closeTicket({ ...r, idempotencyKey: r.key('close'), ticketId: 'SEC-1', resolution: 'remediated', comment: 'Verified.' });
    expect(await jira.getTicketState({ ticketId: 'SEC-1' })).toMatchObject({ ticketId: 'SEC-1', closed: true });
    expect(second.sim.issues.get('SEC-1')!.comments.length).toBeGreaterThanOrEqual(2);

    const next = remediation();
    const another = await jira.openTicket(ticket(next.remediationId, next.key('open')));
    expect(another.ticketId).toBe('SEC-2');
    expect(new Set([...second.sim.issues.values()].map((i) => i.id)).size).toBe(2);
    expect(warnings).toEqual([]);
  });

  it('is found again by a retried open after it, which creates nothing', async () => {
    const first = await startJira();
    const r = remediation();
    await jiraAdapter(first.sim).openTicket(ticket(r.remediationId, r.key('open')));
    await first.stop();

    const second = await startJira();
    const again = await jiraAdapter(second.sim).openTicket(ticket(r.remediationId, r.key('open')));
    expect(again).toMatchObject({ ticketId: 'SEC-1' });
    expect(second.sim.server.served((q) => q.method === 'POST' && q.path === '/rest/api/3/issue')).toHaveLength(0);
    expect(second.sim.issues.size).toBe(1);
  });

  it('is on disk before drw hears it was created, so a killed npm start (no close) loses nothing', async () => {
    const first = await startJira();
    const r = remediation();
    await jiraAdapter(first.sim).openTicket(ticket(r.remediationId, r.key('open')));
    // No stop(): the first simulator neither closes nor flushes, as when the process is killed.
    const second = await startJira();
    expect([...second.sim.issues.keys()]).toEqual(['SEC-1']);
  });
});

describe('a ServiceNow incident and the CMDB', () => {
  const SN = { username: 'drw', password: 'sn-password' };
  const start = () => persisted('servicenow', () => startServiceNowSimulator(SN), (s) => s.server);
  const api = (url: string): AxiosInstance => axios.create({ baseURL: url, auth: SN, validateStatus: () => true });

  it('keep the incident, its work notes and the CI sys_ids, and number the next incident on', async () => {
    const first = await start();
    const hostId = first.sim.seedHost({ name: 'web-1', usedFor: 'Production' });
    const created = await api(first.sim.url).post('/api/now/table/incident', { short_description: 'Open port', work_notes: 'opened by drw' });
    expect(created.status).toBe(201);
    const { sys_id: incidentId, number } = created.data.result as { sys_id: string; number: string };
    await first.stop();

    const second = await start();
    const sn = api(second.sim.url);
    const resolved = await sn.patch(`/api/now/table/incident/${incidentId}`, { state: '6', close_code: 'Solved (Permanently)', close_notes: 'Verified.' });
    expect(resolved.status).toBe(200);
    expect(resolved.data.result).toMatchObject({ number, state: '6', active: 'false' });
    const notes = await sn.get(`/api/now/table/incident/${incidentId}`, { params: { sysparm_display_value: 'true', sysparm_fields: 'work_notes' } });
    expect(notes.data.result.work_notes).toContain('opened by drw');
    const host = await sn.get('/api/now/table/cmdb_ci_server', { params: { sysparm_query: 'name=web-1' } });
    expect(host.data.result.map((r: { sys_id: string }) => r.sys_id)).toEqual([hostId]);
    const next = await sn.post('/api/now/table/incident', { short_description: 'Another' });
    expect(next.data.result.number).not.toBe(number);
    expect(Number(next.data.result.number.slice(3))).toBe(Number(number.slice(3)) + 1);
  });
});

describe('a CrowdStrike host', () => {
  const CS = { clientId: 'falcon-client', clientSecret: 'falcon-secret', readsUntilEffective: 1, devices: [{ deviceId: 'a'.repeat(32), hostname: 'web-1' }, { deviceId: 'b'.repeat(32), hostname: 'db-1' }] };
  const start = () => persisted('crowdstrike', () => startCrowdStrikeSimulator(CS), (s) => s);
  async function falcon(url: string): Promise<AxiosInstance> {
    const token = await axios.post(`${url}/oauth2/token`, new URLSearchParams({ client_id: CS.clientId, client_secret: CS.clientSecret }));
    return axios.create({ baseURL: url, headers: { Authorization: `Bearer ${token.data.access_token}` }, validateStatus: () => true });
  }
  const status = async (api: AxiosInstance, id: string) => (await api.get('/devices/entities/devices/v2', { params: { ids: id } })).data.resources[0].status;
  const act = (api: AxiosInstance, action: string, id: string) => api.post('/devices/entities/devices-actions/v2', { ids: [id] }, { params: { action_name: action } });

  it('contained before a restart stays contained, and a containment still pending completes after it', async () => {
    const first = await start();
    let api = await falcon(first.sim.baseUrl);
    expect((await act(api, 'contain', 'a'.repeat(32))).status).toBe(202);
    expect(await status(api, 'a'.repeat(32))).toBe('contained');
    expect((await act(api, 'contain', 'b'.repeat(32))).status).toBe(202);
    await first.stop();

    const second = await start();
    api = await falcon(second.sim.baseUrl);
    expect(await status(api, 'a'.repeat(32))).toBe('contained');
    expect((await act(api, 'contain', 'a'.repeat(32))).status).toBe(409);
    expect(await status(api, 'b'.repeat(32))).toBe('contained');
    expect((await act(api, 'lift_containment', 'a'.repeat(32))).status).toBe(202);
  });
});

describe('a GitHub pull request', () => {
  const start = () => persisted('github', () => startGitHubSimulator({ token: 'gh-token' }), (s) => s.server);
  const api = (url: string) => axios.create({ baseURL: url, headers: { Authorization: 'Bearer gh-token' }, validateStatus: () => true });

  it('merged before a restart stays merged, an open one stays open, and numbers continue', async () => {
    const first = await start();
    for (const head of ['drw/fix-1', 'drw/fix-2']) expect((await api(first.sim.url).post('/repos/acme/infra/pulls', { title: head, head, base: 'main' })).status).toBe(201);
    first.sim.markMerged('acme/infra', 1);
    await first.stop();

    const second = await start();
    const gh = api(second.sim.url);
    expect((await gh.get('/repos/acme/infra/pulls/1')).data).toMatchObject({ number: 1, state: 'closed', merged: true, url: `${second.sim.url}/repos/acme/infra/pulls/1` });
    expect((await gh.get('/repos/acme/infra/pulls', { params: { head: 'acme:drw/fix-2' } })).data.map((p: { number: number }) => p.number)).toEqual([2]);
    expect((await gh.post('/repos/acme/infra/pulls', { title: 'three', head: 'drw/fix-3', base: 'main' })).data.number).toBe(3);
  });
});

describe('an AWX job and an Okta account', () => {
  it('a job launched before a restart is polled to its end after it, and the next job id continues', async () => {
    const start = () => persisted('awx', () => startAwxSimulator({ token: 'awx-token', readsPerStep: 1, templates: [{ id: 7, name: 'restart-service' }] }), (s) => s);
    const api = (url: string) => axios.create({ baseURL: url, headers: { Authorization: 'Bearer awx-token' }, validateStatus: () => true });
    const first = await start();
    first.sim.nextJobOutcome('failed');
    expect((await api(first.sim.baseUrl).post('/api/v2/job_templates/7/launch/', {})).data.job).toBe(1);
    expect((await api(first.sim.baseUrl).get('/api/v2/jobs/1/')).data.status).toBe('waiting');
    await first.stop();

    const second = await start();
    const awx = api(second.sim.baseUrl);
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) seen.push((await awx.get('/api/v2/jobs/1/')).data.status);
    expect(seen).toEqual(['running', 'failed', 'failed']);
    expect((await awx.post('/api/v2/job_templates/7/launch/', {})).data.job).toBe(2);
  });

  it('an account suspended before a restart is still suspended after it, under the same id', async () => {
    const start = () => persisted('okta', () => startOktaSimulator({ apiToken: 'okta-token', users: [{ login: 'alice@acme.example' }] }), (s) => s);
    const api = (url: string) => axios.create({ baseURL: url, headers: { Authorization: 'SSWS okta-token' }, validateStatus: () => true });
    const first = await start();
    const id = first.sim.user('alice@acme.example')!.id;
    expect((await api(first.sim.baseUrl).post(`/api/v1/users/${id}/lifecycle/suspend`)).status).toBe(200);
    await first.stop();

    const second = await start();
    expect((await api(second.sim.baseUrl).get(`/api/v1/users/${id}`)).data).toMatchObject({ id, status: 'SUSPENDED' });
    expect((await api(second.sim.baseUrl).post(`/api/v1/users/${id}/lifecycle/unsuspend`)).status).toBe(200);
  });
});

describe('a state file that cannot be restored', () => {
  const asideFiles = () => readdirSync(path.dirname(simulatorStateFile(dataDir, 'jira'))).filter((f) => f.startsWith('jira.json.corrupt-'));
  const write = (content: string) => {
    const file = simulatorStateFile(dataDir, 'jira');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
  };
  const cases: [string, string, RegExp][] = [
    ['truncated JSON', '{"format":"drw-simulator-state","vers', /not a state this simulator can restore/],
    ['the state of another simulator', JSON.stringify({ format: 'drw-simulator-state', version: 1, simulator: 'github', savedAt: 'x', state: { pulls: [], nextNumber: 1 } }), /simulator "github"/],
    ['a Jira state with an issue lacking its key', JSON.stringify({ format: 'drw-simulator-state', version: 1, simulator: 'jira', savedAt: 'x', state: { issues: [{ id: '10000' }], counters: {}, nextIssueId: 10001, nextCommentId: 1 } }), /issues\.0\.key/],
    ['some other program\'s file', '{"hello":"world"}', /format/],
  ];

  it.each(cases)('holding %s is moved aside with a warning, and the simulator starts empty and saves anew', async (_what, content, reason) => {
    write(content);
    const { sim, store, stop } = await startJira();
    expect(store.restored).toBe(false);
    expect(sim.issues.size).toBe(0);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(reason);
    expect(warnings[0]).toContain('moved to');
    expect(asideFiles()).toHaveLength(1);

    const r = remediation();
    expect((await jiraAdapter(sim).openTicket(ticket(r.remediationId, r.key('open')))).ticketId).toBe('SEC-1');
    await stop();
    expect(existsSync(store.file)).toBe(true);
    const again = await startJira();
    expect(again.store.restored).toBe(true);
    expect([...again.sim.issues.keys()]).toEqual(['SEC-1']);
  });
});

describe('a data folder that cannot be written', () => {
  it('warns once, and the simulator keeps answering from memory', async () => {
    // A file where the simulators' folder should be: every save fails.
    writeFileSync(path.join(dataDir, 'simulators'), 'not a folder');
    const { sim } = await startJira();
    const jira = jiraAdapter(sim);
    for (const r of [remediation(), remediation()]) await jira.openTicket(ticket(r.remediationId, r.key('open')));
    expect([...sim.issues.keys()]).toEqual(['SEC-1', 'SEC-2']);
    expect(warnings.filter((w) => w.includes('cannot save'))).toHaveLength(1);
  });
});
