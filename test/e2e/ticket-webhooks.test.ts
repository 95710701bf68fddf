/**
 * A person changes a remediation's ticket at the ticketing system, and the system tells drw:
 * Jira Cloud's signed webhook (the embedded default's Jira simulator sends it, wired as
 * `npm start` wires it) and a ServiceNow
 * business rule's callback reach the remediation as a `ticketChanged` signal, through the API's
 * routes, on the real server. Forged, unsigned, irrelevant or foreign messages signal nothing.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { defaultPayloadConverter } from '@temporalio/common';
import { createJiraTicketing, loadJiraConfig } from '../../activities/adapters/jira';
import { CompressionCodec } from '../../audit/compression';
import { startEmbeddedSimulators, type EmbeddedSimulators } from '../../simulators/embedded';
import type { JiraSimulator } from '../../simulators/jira';
import { malwareDetection, startHarness, type Harness } from '../helpers/harness';
import { asset, getState, waitFor } from '../helpers/scenario';

const SECRET = 'jira-webhook-secret-of-the-e2e-test-0123456789';
const SN_TOKEN = 'servicenow-callback-token-of-the-e2e-test-0123';
const JIRA_ROUTE = '/v1/integrations/jira/webhook';
const SN_ROUTE = '/v1/integrations/servicenow/callback';

let dataDir: string;
let sims: EmbeddedSimulators;
let jira: JiraSimulator;
let h: Harness;
/** A second API in front of the same workers, with ingest credentials (as off loopback). */
let guarded: Harness;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'drw-ticket-webhooks-'));
  // The embedded default with Jira simulated (the other kinds in-process here), and the secret npm start would make.
  const others = Object.fromEntries(['CMDB', 'ENDPOINT', 'NOTIFY', 'IAC', 'RUNBOOK', 'IDENTITY'].map((k) => [`DRW_${k}`, 'inprocess']));
  sims = await startEmbeddedSimulators(dataDir, { ...others, DRW_JIRA_WEBHOOK_SECRET: SECRET });
  jira = sims.simulators.jira!;
  const ticketing = createJiraTicketing(loadJiraConfig({ ...sims.env, JIRA_SEARCH_LAG_MS: '0' })!);
  // Time as written: the containment approval waits an hour, so the remediation stays open.
  h = await startHarness({ timeScale: 1, env: { DRW_JIRA_WEBHOOK_SECRET: SECRET }, override: { ticketing } });
  expect(sims.connectApi(h.api)).toEqual([`${h.api}${JIRA_ROUTE}`]);
  guarded = await startHarness({ workers: false, taskQueue: h.cfg.taskQueue, env: { DRW_INGEST_TOKENS: JSON.stringify({ servicenow: [SN_TOKEN] }) } });
});
afterAll(async () => {
  await guarded?.close();
  await h?.close();
  await sims?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** A remediation whose ticket is open in Jira, waiting for the secops approval of its containment. */
async function remediationWithTicket(name: string) {
  const res = await fetch(`${h.api}/v1/detections`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(malwareDetection(asset(name), 50)) });
  const id = ((await res.json()) as { remediations: { id: string }[] }).remediations[0].id;
  const s = await waitFor(h, id, (x) => x.ticket?.ticketId && x.status === 'awaiting_approval', 'ticket open, awaiting approval');
  return { id, instance: s.instance as string, key: s.ticket.ticketId as string };
}

/** The ticketChanged signals in the remediation's history, decoded. */
async function ticketSignals(id: string): Promise<Record<string, unknown>[]> {
  const history = await h.app.service.handle(id).fetchHistory();
  const payloads = (history.events ?? [])
    .filter((e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED && e.workflowExecutionSignaledEventAttributes?.signalName === 'ticketChanged')
    .map((e) => e.workflowExecutionSignaledEventAttributes!.input!.payloads![0]);
  // As the workers read them: larger payloads are compressed (audit/compression.ts).
  return (await new CompressionCodec().decode(payloads)).map((p) => defaultPayloadConverter.fromPayload(p));
}

async function post(base: string, route: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${route}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as Record<string, any> };
}
const signed = (body: string, secret = SECRET) => ({ 'X-Hub-Signature': 'sha256=' + createHmac('sha256', secret).update(body).digest('hex') });

/** A Jira webhook body for `key` as the simulator would send it, with the fields drw reads. */
function jiraUpdate(key: string, labels: string[], changelog: { field: string }[]) {
  return JSON.stringify({
    timestamp: Date.now(),
    webhookEvent: 'jira:issue_updated',
    user: { accountId: '712020:abc', displayName: 'Mallory' },
    issue: { id: '1', key, fields: { status: { name: 'Done', statusCategory: { key: 'done' } }, resolution: { name: 'Done' }, labels } },
    changelog: { id: '9', items: changelog },
  });
}

it('a person closes the Jira issue: the signed webhook reaches the remediation as ticketChanged', async () => {
  const { id, instance, key } = await remediationWithTicket('jira-close');
  expect(jira.issues.get(key)!.labels).toContain(`drw-${instance}`);

  const res = await fetch(`${jira.url}/_admin/issues/${key}/close`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ as: 'Alice Example', resolution: 'Fixed' }) });
  expect(await res.json()).toMatchObject({ status: 'Done', webhook: { url: `${h.api}${JIRA_ROUTE}`, status: 202 } });

  expect(await ticketSignals(id)).toEqual([{ ticketId: key, status: 'Done', closed: true, by: 'Alice Example', resolution: 'Fixed', at: expect.any(String), via: 'webhook' }]);
  // The remediation is still there to act on it (the workflow side decides what a closed ticket means).
  expect((await getState(h, id))?.ticket?.ticketId).toBe(key);
});

it('a Jira webhook with a forged, missing or other-secret signature is refused with 401 and signals nothing', async () => {
  const { id, instance, key } = await remediationWithTicket('jira-forged');
  const body = jiraUpdate(key, [`drw-${instance}`], [{ field: 'status' }]);
  const refusals = [
    await post(h.api, JIRA_ROUTE, body),
    await post(h.api, JIRA_ROUTE, body, signed(body, 'not-the-secret')),
    await post(h.api, JIRA_ROUTE, body, { 'X-Hub-Signature': 'sha256=' + '0'.repeat(64) }),
    // Signed, then changed: the signature covers the exact bytes.
    await post(h.api, JIRA_ROUTE, body.replace('Mallory', 'Malloryy'), signed(body)),
  ];
  expect(refusals.map((r) => r.status)).toEqual([401, 401, 401, 401]);
  expect(refusals[0].body.error).toContain('X-Hub-Signature');
  expect(refusals[1].body.error).toContain('does not match the body');
  expect(await ticketSignals(id)).toEqual([]);
});

it('a comment, an unlabelled issue or the ticket of an earlier remediation is answered 202 ignored and signals nothing', async () => {
  const { id, instance, key } = await remediationWithTicket('jira-ignored');
  const cases = [
    jiraUpdate(key, [`drw-${instance}`], []),
    jiraUpdate(key, ['security'], [{ field: 'status' }]),
    jiraUpdate(key, [`drw-${id}~000000000000`], [{ field: 'status' }]),
    jiraUpdate(key, [`drw-drw-nobody-${Date.now()}~000000000000`], [{ field: 'status' }]),
    JSON.stringify({ webhookEvent: 'jira:issue_created', issue: JSON.parse(jiraUpdate(key, [`drw-${instance}`], [])).issue }),
  ];
  const answers = await Promise.all(cases.map((body) => post(h.api, JIRA_ROUTE, body, signed(body))));
  expect(answers.map((a) => [a.status, a.body.ignored])).toEqual([
    [202, expect.stringContaining('no status change')],
    [202, expect.stringContaining('carries no label naming a drw remediation')],
    [202, expect.stringContaining('belongs to an earlier remediation')],
    [202, expect.stringContaining('no remediation drw-nobody-')],
    [202, expect.stringContaining('jira:issue_created')],
  ]);
  expect(await ticketSignals(id)).toEqual([]);
});

it('a signed Jira body that is not JSON, or not a Jira webhook, is refused with 400', async () => {
  const notJson = 'webhookEvent=jira:issue_updated';
  const noKey = JSON.stringify({ webhookEvent: 'jira:issue_updated', issue: { fields: { status: { name: 'Done' } } } });
  const a = await post(h.api, JIRA_ROUTE, notJson, signed(notJson));
  const b = await post(h.api, JIRA_ROUTE, noKey, signed(noKey));
  expect([a.status, b.status]).toEqual([400, 400]);
  expect(b.body.details.map((d: { path: string }) => d.path)).toContain('issue.key');
});

it('a ServiceNow business-rule callback reaches the remediation as ticketChanged; without the source credential it is refused', async () => {
  const { id, instance } = await remediationWithTicket('servicenow-resolve');
  const callback = JSON.stringify({
    table: 'incident',
    sys_id: 'a'.repeat(32),
    number: 'INC0012345',
    state: '6',
    state_label: 'Resolved',
    previous_state: '2',
    close_code: 'Solution provided',
    correlation_id: `drw:${instance}`,
    sys_updated_by: 'bob.analyst',
    sys_updated_on: '2026-11-30 20:00:00',
  });
  // Off loopback's shape: the servicenow source needs its credential.
  expect((await post(guarded.api, SN_ROUTE, callback)).status).toBe(401);
  expect((await post(guarded.api, SN_ROUTE, callback, { Authorization: 'Bearer wrong-token-of-the-e2e-test-0123456789' })).status).toBe(401);
  expect(await ticketSignals(id)).toEqual([]);

  expect(await post(guarded.api, SN_ROUTE, callback, { Authorization: `Bearer ${SN_TOKEN}` })).toEqual({ status: 202, body: { signalled: { remediation: id, ticketId: 'INC0012345', status: 'Resolved', closed: true } } });
  // The loopback default without ingest credentials takes it as ingest does.
  const unchanged = callback.replace('"previous_state":"2"', '"previous_state":"6"');
  expect(await post(h.api, SN_ROUTE, unchanged)).toEqual({ status: 202, body: { ignored: 'INC0012345: no state change' } });
  expect((await post(h.api, SN_ROUTE, JSON.stringify({ table: 'problem' }))).status).toBe(400);

  expect(await ticketSignals(id)).toEqual([{ ticketId: 'INC0012345', status: 'Resolved', closed: true, by: 'bob.analyst', resolution: 'Solution provided', at: '2026-11-30T20:00:00Z', via: 'webhook' }]);
});

it('both routes are in the OpenAPI document with the permission they need', async () => {
  const doc = (await (await fetch(`${h.api}/openapi.json`)).json()) as { paths: Record<string, { post?: { description?: string; security?: unknown[] } }> };
  expect(doc.paths[JIRA_ROUTE]?.post?.description).toContain('submit:jira');
  expect(doc.paths[JIRA_ROUTE]?.post?.security).toContainEqual({ jiraSignature: [] });
  expect(doc.paths[SN_ROUTE]?.post?.description).toContain('submit:servicenow');
});
