/**
 * Reports, history and list routes against a real Temporal server: the report is built
 * from history (following continue-as-new), carries the digest of the history the history
 * route returns, and that history replays with the workflow code. Set
 * DRW_RECORD_FIXTURES=1 to refresh the recorded histories the unit tests use.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import path from 'node:path';
import type { Client, Connection } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { apiRoutes } from '../../api/routes';
import { createApi, listen } from '../../api/server';
import { testLogger } from '../helpers/test-logger';
import { pollUntil } from '../../common/poll';
import { connectClient } from '../../common/temporal';
import { loadPolicyDir } from '../../planner/load';
import { historyFromJson, sha256 } from '../../report/history-json';
import { runsFromText } from '../../report/history';
import { whatIf } from '../../report/whatif';
import { buildReport } from '../../report/build';
import { extract } from '../../report/extract';
import { malwareDetection as malware, DEFAULT_POLICY, eventually, http as call, startHarness, type Harness } from '../helpers/harness';

const FIXTURES = path.join(__dirname, '..', 'unit', 'report', 'fixtures');
const record = process.env.DRW_RECORD_FIXTURES === '1';
const tag = Date.now().toString(36);

let h: Harness;
let chainH: Harness;
let client: Client;
let connection: Connection;
let server: FastifyInstance;
let api: string;

beforeAll(async () => {
  [h, chainH] = await Promise.all([startHarness(), startHarness({ env: { DRW_MAX_HISTORY_EVENTS: '100' } })]);
  ({ client, connection } = await connectClient(h.cfg));
  const logger = testLogger();
  server = await createApi({ logger, ready: () => true, host: '127.0.0.1', settings: h.cfg.api, routes: apiRoutes({ service: h.app.service, client, logger, users: false }) });
  api = await listen(server, '127.0.0.1', 0);
});
afterAll(async () => {
  await server?.close();
  await connection?.close();
  await Promise.all([h?.close(), chainH?.close()]);
});

async function waitFor(base: string, id: string, pred: (s: any) => boolean, what: string) {
  return eventually(async () => {
    const r = await call('GET', `${base}/v1/remediations/${id}`);
    return r.status === 200 && pred(r.body) ? r.body : undefined;
  }, what);
}

let edrId: string;

test('an EDR remediation with a repeat, a risk change and an approval: report and history from the routes', async () => {
  const asset = `rpt-host-${tag}`;
  const start = await call('POST', `${api}/v1/detections`, malware(asset, 60));
  expect(start.status).toBe(202);
  edrId = start.body.remediations[0].id;
  await waitFor(api, edrId, (s) => s.status === 'awaiting_approval', 'awaiting approval');
  await call('POST', `${api}/v1/detections`, { ...malware(asset, 60), observedAt: '2026-01-01T00:00:00Z' });
  expect((await call('POST', `${api}/v1/remediations/${edrId}/risk`, { riskScore: 70, reason: 'second host talked to the C2', by: 'soc-bot' })).status).toBe(202);
  await waitFor(api, edrId, (s) => s.riskScore === 70 && s.findingCount === 2, 'risk 70, two findings');
  const ok = await call('POST', `${api}/v1/remediations/${edrId}/steps/edr-malware.contain/approve`, { approver: 'alice', groups: ['secops'], reason: 'confirmed on the console' });
  expect(ok.status).toBe(200);
  await waitFor(api, edrId, (s) => s.status === 'remediated', 'remediated');

  const hist = await call('GET', `${api}/v1/remediations/${edrId}/history`);
  expect(hist.status).toBe(200);
  const historyText = JSON.stringify(hist.body, null, 2);
  const rep = await call('GET', `${api}/v1/remediations/${edrId}/report?format=json`);
  expect(rep.status).toBe(200);
  const r = rep.body;
  expect(r.history.sha256).toBe(sha256(historyText));
  expect(r.history.runs).toHaveLength(1);
  expect(r.outcome).toMatchObject({ status: 'remediated', workflow: 'completed', findingCount: 2, riskScore: 70, playbook: 'edr-malware' });
  expect(r.detections.map((d: any) => d.kind)).toEqual(['initial', 'repeat']);
  expect(r.riskChanges).toEqual([expect.objectContaining({ from: 60, to: 70, reason: 'second host talked to the C2', by: 'soc-bot' })]);
  expect(r.approvals).toEqual([expect.objectContaining({ stepId: 'edr-malware.contain', decision: 'approve', by: 'alice', groups: ['secops'], reason: 'confirmed on the console', via: 'update', outcome: 'accepted' })]);
  expect(r.approvals[0].waitMs).toBeGreaterThanOrEqual(0);
  expect(r.plans.length).toBeGreaterThanOrEqual(2);
  expect(r.plans[0]).toMatchObject({ version: 1, why: 'initial plan', playbook: 'edr-malware' });
  expect(r.actions.filter((a: any) => a.stepId === 'edr-malware.contain').map((a: any) => [a.activity, a.outcome])).toEqual([['isolateHost', 'completed']]);
  expect(r.verification.some((v: any) => v.ok === true)).toBe(true);
  expect(r.sla.status).toBe('met');
  expect(r.timeline.map((t: any) => t.kind)).toEqual(expect.arrayContaining(['detection', 'repeat', 'risk', 'approval', 'plan', 'action', 'verification', 'run']));

  const md = await call('GET', `${api}/v1/remediations/${edrId}/report?format=md`);
  expect(md.body).toMatchObject({ format: 'md', sha256: r.history.sha256, contentType: expect.stringMatching(/markdown/) });
  expect(md.body.content).toContain(`# Remediation report: ${edrId}`);
  expect(md.body.content).toContain(r.history.sha256);
  const csv = await call('GET', `${api}/v1/remediations/${edrId}/report?format=csv`);
  expect(csv.body.content.split('\r\n')[0]).toBe('remediation_id,history_sha256,at,kind,summary,by,step,source,run,event_id,decision_seq');
  expect(csv.body.content).toContain(r.history.sha256);

  // The history alone (memo writes, the result) holds the whole decision log the workflow keeps; a
  // memo write that holds only what the activity events beside it say (steps started and done) is
  // made only as the remediation waits for a person or a time (none in a task that schedules an activity).
  const kept = (await call('GET', `${api}/v1/remediations/${edrId}`)).body.decisions.map((d: any) => d.seq);
  expect(extract(runsFromText(historyText).runs).decisions.map((d) => d.seq)).toEqual(kept);
  const tasks: any[][] = [];
  for (const e of hist.body.events) {
    if (e.eventType === 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED') tasks.push([]);
    else tasks[tasks.length - 1]?.push(e);
  }
  const mirrorsOnly = tasks.filter((events) =>
    events.some((e) => {
      const f = e.workflowPropertiesModifiedEventAttributes?.upsertedMemo?.fields?.drwDecisions;
      return f && JSON.parse(Buffer.from(f.data, 'base64').toString('utf8')).every((d: any) => d.kind === 'step_started' || d.kind === 'step_done');
    }),
  );
  expect(tasks.some((events) => events.some((e) => e.workflowPropertiesModifiedEventAttributes))).toBe(true);
  expect(mirrorsOnly.filter((events) => events.some((e) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED'))).toEqual([]);

  // The exported history is what the replayer reads: the workflow code replays it deterministically.
  await Worker.runReplayHistory({ workflowBundle: { codePath: process.env.DRW_TEST_WORKFLOW_BUNDLE! } }, historyFromJson(hist.body), edrId);

  // Built offline from the exported file: the same report.
  const offline = buildReport(runsFromText(historyText).runs);
  expect(offline.history.sha256).toBe(r.history.sha256);
  expect(offline.timeline).toEqual(r.timeline);

  const w = whatIf(runsFromText(historyText).runs, loadPolicyDir(DEFAULT_POLICY));
  expect(w.fidelity).toMatchObject({ checked: true, matches: true });
  expect(w.differs).toBe(false);

  if (record) {
    mkdirSync(FIXTURES, { recursive: true });
    writeFileSync(path.join(FIXTURES, 'edr-approved.history.json'), historyText);
  }
});

test('report and history routes: 404 for unknown remediations, 400 for bad parameters', async () => {
  expect((await call('GET', `${api}/v1/remediations/drw-nope-0000/report`)).status).toBe(404);
  expect((await call('GET', `${api}/v1/remediations/drw-nope-0000/history`)).status).toBe(404);
  expect((await call('GET', `${api}/v1/remediations/not-an-id/report`)).status).toBe(404);
  expect((await call('GET', `${api}/v1/remediations/${edrId}/report?format=pdf`)).status).toBe(400);
  expect((await call('GET', `${api}/v1/remediations/${edrId}/report?frmat=md`)).status).toBe(400);
  expect((await call('GET', `${api}/v1/remediations/${edrId}/history?runId=x'or'1`)).status).toBe(400);
});

test('list: filters on search attributes, safe quoting, paging', async () => {
  const asset = `rpt-host-${tag}`;
  const found = await eventually(async () => {
    const r = await call('GET', `${api}/v1/remediations?asset=${encodeURIComponent(asset)}&status=remediated`);
    return r.status === 200 && r.body.remediations.length === 1 ? r.body : undefined;
  }, 'the remediation in visibility');
  expect(found.remediations[0]).toMatchObject({ id: edrId, status: 'remediated', severity: 'high', asset, playbook: 'edr-malware', pendingApproval: false, execution: 'COMPLETED' });
  expect(found.query).toBe(`WorkflowType = 'remediation' AND DrwStatus = 'remediated' AND DrwAsset = '${asset}'`);

  // Quotes and backslashes are data, not query syntax.
  const tricky = await call('GET', `${api}/v1/remediations?asset=${encodeURIComponent(`x' OR DrwAsset != '`)}`);
  expect(tricky.status).toBe(200);
  expect(tricky.body.remediations).toEqual([]);
  expect((await call('GET', `${api}/v1/remediations?asset=${encodeURIComponent('a\\b\'c')}`)).status).toBe(200);

  for (const bad of ['severity=urgent', 'status=done', 'pendingApproval=maybe', 'pageSize=0', 'pageSize=5000', 'colour=red', `asset=${encodeURIComponent('a\nb')}`, 'pageToken=***', 'since=yesterday']) {
    const r = await call('GET', `${api}/v1/remediations?${bad}`);
    expect([bad, r.status]).toEqual([bad, 400]);
  }

  // A second remediation on another asset; page through both with pageSize=1.
  const other = await call('POST', `${api}/v1/detections`, malware(`rpt-host-b-${tag}`, 95));
  const otherId = other.body.remediations[0].id;
  // From the first one's start: the namespace is shared with the other test files running now.
  const since = new Date(Date.parse(found.remediations[0].startTime) - 1000).toISOString();
  let last: unknown;
  await pollUntil(
    async () => {
      const r = await call('GET', `${api}/v1/remediations?severity=high&since=${since}&pageSize=1000`);
      last = { status: r.status, ids: (r.body.remediations ?? []).map((x: any) => x.id) };
      const ids = (r.body.remediations ?? []).map((x: any) => x.id);
      return ids.includes(edrId) && ids.includes(otherId) ? true : undefined;
    },
    { what: 'both in visibility', timeoutMs: 60_000, everyMs: 200, describe: () => `want ${edrId} and ${otherId}, last answer ${JSON.stringify(last).slice(0, 2000)}` },
  );
  const seen = new Set<string>();
  let token: string | undefined;
  let pages = 0;
  do {
    const r = await call('GET', `${api}/v1/remediations?severity=high&since=${since}&pageSize=1${token ? `&pageToken=${token}` : ''}`);
    expect(r.status).toBe(200);
    expect(r.body.remediations.length).toBeLessThanOrEqual(1);
    r.body.remediations.forEach((x: any) => seen.add(x.id));
    token = r.body.nextPageToken;
    pages++;
  } while (token && pages < 200);
  expect(seen.has(edrId) && seen.has(otherId)).toBe(true);
  expect(pages).toBeGreaterThanOrEqual(2);
});

test('GET /openapi.json describes every route of the API', async () => {
  const r = await call('GET', `${api}/openapi.json`);
  expect(r.status).toBe(200);
  expect(r.body.openapi).toBe('3.1.0');
  expect(r.body).toEqual(server.swagger());
  expect(Object.keys(r.body.paths)).toEqual(
    expect.arrayContaining(['/healthz', '/v1/detections', '/v1/detections/{format}', '/v1/remediations', '/v1/remediations/{id}', '/v1/remediations/{id}/report', '/v1/remediations/{id}/history', '/openapi.json']),
  );
});

test('a remediation that continued as new: the report and what-if follow the chain', async () => {
  const asset = `rpt-bucket-${tag}`;
  const det = {
    source: 'aws-securityhub',
    rule: 'S3.8',
    title: `S3 bucket ${asset} allows public access`,
    severity: 'high',
    category: 'misconfiguration',
    asset: { id: asset, type: 'bucket', environment: 'production' },
    details: { bucket: asset, repository: 'acme/infra' },
  };
  const base = chainH.api;
  const start = await call('POST', `${base}/v1/detections`, det);
  const id = start.body.remediations[0].id;
  await waitFor(base, id, (s) => s.status === 'awaiting_approval', 'awaiting approval');
  // Repeats grow the history past DRW_MAX_HISTORY_EVENTS=100: the workflow continues as new.
  for (let i = 0; i < 30; i++) await call('POST', `${base}/v1/detections`, { ...det, observedAt: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString() });
  await waitFor(base, id, (s) => s.findingCount === 31, '31 findings');
  const runsBefore = await eventually(async () => {
    const runs = (await (await import('../../report/fetch')).fetchChain(client, id)).length;
    return runs >= 2 ? runs : undefined;
  }, 'a continue-as-new');
  expect(runsBefore).toBeGreaterThanOrEqual(2);
  const ok = await call('POST', `${base}/v1/remediations/${id}/steps/cloud-misconfiguration.fix-bucket/approve`, { approver: 'carol', groups: ['cloud-owners'], reason: 'not meant to be public' });
  expect(ok.status).toBe(200);
  await waitFor(base, id, (s) => s.status === 'remediated', 'remediated');

  const rep = await call('GET', `${api}/v1/remediations/${id}/report`);
  expect(rep.status).toBe(200);
  const r = rep.body;
  expect(r.history.runs.length).toBeGreaterThanOrEqual(2);
  expect(r.history.runs[0].close).toBe('continued_as_new');
  expect(r.history.runs[1].continuedFrom).toBe(r.history.runs[0].runId);
  expect(r.outcome).toMatchObject({ status: 'remediated', findingCount: 31 });
  expect(r.detections.filter((d: any) => d.kind === 'repeat')).toHaveLength(30);
  expect(r.approvals).toEqual([expect.objectContaining({ by: 'carol', stepId: 'cloud-misconfiguration.fix-bucket', outcome: 'accepted' })]);
  expect(r.timeline.some((t: any) => t.kind === 'run' && /continued as new/.test(t.summary))).toBe(true);

  const chain = await call('GET', `${api}/v1/remediations/${id}/history?chain=true`);
  expect(chain.body.drwHistoryChain).toBe(1);
  const chainText = JSON.stringify(chain.body, null, 2);
  expect(sha256(chainText)).toBe(r.history.sha256);
  const w = whatIf(runsFromText(chainText).runs, loadPolicyDir(DEFAULT_POLICY));
  expect(w.fidelity).toMatchObject({ checked: true, matches: true });
  expect(w.differs).toBe(false);
  // Each run replays on its own.
  for (const run of chain.body.runs) {
    await Worker.runReplayHistory({ workflowBundle: { codePath: process.env.DRW_TEST_WORKFLOW_BUNDLE! } }, historyFromJson(run.history), id);
  }
  if (record) writeFileSync(path.join(FIXTURES, 'misconfig-chain.history.json'), chainText);
});
