/**
 * The drw CLI end to end, in-process (`main(argv, io)`, the function bin/drw.js runs) against
 * a real drw (harness API and workers) and the real Temporal test server: detect, list,
 * show, approve, report (md/json/csv with the history digest), history export, and a
 * policy what-if against a modified policy.
 */
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { main } from '../../cli/drw';
import { historyFromJson } from '../../report/history-json';
import { DEFAULT_POLICY, eventually, startHarness, type Harness } from '../helpers/harness';

let h: Harness;
let dir: string;
const tag = Date.now().toString(36);
const startedAt = new Date().toISOString();

beforeAll(async () => {
  h = await startHarness();
  dir = mkdtempSync(path.join(process.env.DRW_TEST_TMP ?? os.tmpdir(), 'drw-cli-e2e-'));
});
afterAll(async () => {
  await h?.close();
});

async function drw(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    env: { ...process.env, DRW_API_URL: h.api, DRW_USER: 'cli-tester', DRW_TOKEN: '' },
    cwd: dir,
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    readStdin: async () => '',
  });
  return { code, stdout, stderr };
}

async function state(id: string): Promise<any> {
  const r = await drw('show', id, '--json');
  return r.code === 0 ? JSON.parse(r.stdout) : undefined;
}

async function waitFor(id: string, pred: (s: any) => boolean, what: string) {
  return eventually(async () => {
    const s = await state(id);
    return s && pred(s) ? s : undefined;
  }, what);
}

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const asset = `cli-host-${tag}`;
let id: string;

test('detect, show, list, approve (refused, then accepted) until remediated', async () => {
  const file = path.join(dir, 'detection.json');
  writeFileSync(file, JSON.stringify({ source: 'crowdstrike', rule: 'Trojan.GenericKD', title: `Malware on ${asset}`, severity: 'high', category: 'malware', riskScore: 60, asset: { id: asset, type: 'host', environment: 'production' } }));
  const d = await drw('detect', 'detection.json');
  expect(d.code).toBe(0);
  const m = /^started (drw-\S+)$/m.exec(d.stdout);
  expect(m).not.toBeNull();
  id = m![1];

  const waiting = await waitFor(id, (s) => s.status === 'awaiting_approval', 'awaiting approval');
  expect(waiting.plan.steps.find((s: any) => s.id === 'edr-malware.contain').status).toBe('awaiting_approval');
  const shown = await drw('show', id);
  expect(shown.code).toBe(0);
  expect(shown.stdout).toContain('status awaiting_approval');
  expect(shown.stdout).toMatch(/edr-malware\.contain +endpoint\.isolate +awaiting_approval/);

  const listed = await eventually(async () => {
    const r = await drw('list', '--asset', asset, '--pending-approval', '--json');
    const body = JSON.parse(r.stdout);
    return r.code === 0 && body.remediations.length === 1 ? body : undefined;
  }, 'the remediation in visibility');
  expect(listed.remediations[0]).toMatchObject({ id, status: 'awaiting_approval', severity: 'high', asset, pendingApproval: true });
  const table = await drw('list', '--asset', asset, '--status', 'awaiting_approval,remediating');
  expect(table.stdout).toMatch(new RegExp(`^ID +STATUS +SEVERITY[\\s\\S]*${id} +awaiting_approval +high +60 +${asset} +edr-malware +pending`, 'm'));

  const refused = await drw('approve', id, 'contain', '--reason', 'let me', '--as', 'mallory', '--groups', 'devs');
  expect(refused.code).toBe(4);
  expect(refused.stderr).toMatch(/needs a member of \[secops\]/);

  const ok = await drw('approve', id, 'contain', '--reason', 'confirmed on the console', '--as', 'alice', '--groups', 'secops');
  expect(ok.code).toBe(0);
  expect(ok.stdout).toMatch(/^approved edr-malware\.contain of drw-\S+ as alice: step now pending/);

  await waitFor(id, (s) => s.status === 'remediated', 'remediated');
});

test('a vendor payload: format detected, sent to its ingest route', async () => {
  const alert = { version: '4', status: 'firing', receiver: 'drw', groupKey: 'g', alerts: [{ status: 'firing', labels: { alertname: 'DiskFull', instance: `db-${tag}`, severity: 'warning' }, annotations: { summary: 'disk almost full' }, startsAt: new Date().toISOString(), fingerprint: tag }] };
  writeFileSync(path.join(dir, 'alert.json'), JSON.stringify(alert));
  const r = await drw('detect', 'alert.json');
  expect(r.code).toBe(0);
  expect(r.stderr).toContain('detected format alertmanager');
  expect(r.stdout).toMatch(/^started drw-alertmanager-/m);
});

test('report in md, json and csv, each with the SHA-256 of the exported history', async () => {
  const exp = await drw('history', 'export', id, '--out', 'history.json');
  expect(exp.code).toBe(0);
  expect(exp.stderr).toMatch(/wrote \d+ events of run \S+ \(sha256 [0-9a-f]{64}\) to history\.json/);
  const bytes = readFileSync(path.join(dir, 'history.json'));
  const digest = sha(bytes);
  // What Worker.runReplayHistory reads: the workflow code replays it.
  await Worker.runReplayHistory({ workflowBundle: { codePath: process.env.DRW_TEST_WORKFLOW_BUNDLE! } }, historyFromJson(bytes.toString('utf8')), id);

  const json = await drw('report', id, '--format', 'json');
  expect(json.code).toBe(0);
  const r = JSON.parse(json.stdout);
  expect(r.history.sha256).toBe(digest);
  expect(r.outcome).toMatchObject({ status: 'remediated', workflow: 'completed' });
  expect(r.approvals).toEqual([expect.objectContaining({ by: 'alice', groups: ['secops'], reason: 'confirmed on the console', stepId: 'edr-malware.contain' })]);
  expect(r.plans.map((p: any) => p.version)).toEqual([1, 2]);

  const md = await drw('report', id);
  expect(md.stdout).toContain(`# Remediation report: ${id}`);
  expect(md.stdout).toContain(`History SHA-256: \`${digest}\``);
  expect(md.stdout).toMatch(/\| edr-malware\.contain \| approve \| alice \| secops \| confirmed on the console \| update \| accepted \|/);

  const csv = await drw('report', id, '--format', 'csv', '--out', 'report.csv');
  expect(csv.code).toBe(0);
  const lines = readFileSync(path.join(dir, 'report.csv'), 'utf8').split('\r\n');
  expect(lines[0]).toBe('remediation_id,history_sha256,at,kind,summary,by,step,source,run,event_id,decision_seq');
  expect(lines[1].startsWith(`${id},${digest},`)).toBe(true);

  // Offline, from the exported file: the same digest.
  const offline = JSON.parse((await drw('report', '--from', 'history.json', '--json')).stdout);
  expect(offline.history.sha256).toBe(digest);
  expect(offline.timeline).toEqual(r.timeline);

  // Exported twice, byte for byte the same (map keys are sorted; the server does not keep their order).
  await drw('history', 'export', id, '--out', 'again.json');
  expect(sha(readFileSync(path.join(dir, 'again.json')))).toBe(digest);
  const chain = await drw('history', 'export', id, '--chain');
  expect(JSON.parse(chain.stdout)).toMatchObject({ drwHistoryChain: 1, workflowId: id, runs: [expect.objectContaining({ history: JSON.parse(bytes.toString('utf8')) })] });
});

test('policy whatif: no difference with the policy that ran; a difference with a modified one', async () => {
  const same = await drw('policy', 'whatif', '--policy', DEFAULT_POLICY, 'history.json', '--exit-code');
  expect(same.code).toBe(0);
  expect(same.stdout).toMatch(/: no difference/);
  expect(same.stdout).toMatch(/replay of the recorded policy: matches the history/);

  const candidate = path.join(dir, 'candidate');
  cpSync(DEFAULT_POLICY, candidate, { recursive: true });
  const f = path.join(candidate, '40-edr-malware.yaml');
  writeFileSync(f, readFileSync(f, 'utf8').replace('when: riskScore < 90', 'when: riskScore < 50'));
  const diff = await drw('policy', 'whatif', '--policy', 'candidate', 'history.json');
  expect(diff.code).toBe(0);
  expect(diff.stdout).toContain(`${id} (history.json): the candidate policy plans differently`);
  expect(diff.stdout).toMatch(/approval +step contain: approval by groups \[secops\] → no approval \(awaiting_approval → pending\)/);
  expect(diff.stdout).toMatch(/alice's approval of edr-malware\.contain would not be asked for/);
  expect((await drw('policy', 'whatif', '--policy', 'candidate', 'history.json', '--exit-code')).code).toBe(1);
});

test('the aggregate report covers this remediation', async () => {
  // Narrowed to this file's asset: the namespace holds every test file's remediations.
  const r = await drw('report', 'aggregate', '--since', startedAt, '--asset', asset, '--format', 'json');
  expect(r.code).toBe(0);
  const a = JSON.parse(r.stdout);
  const mine = a.remediations.find((x: any) => x.id === id);
  expect(mine).toMatchObject({ status: 'remediated', sla: 'met', approvals: 1 });
  expect(a.timeToRemediate.count).toBeGreaterThanOrEqual(1);
  expect(r.stderr).toMatch(/reading the history of/);
  const md = await drw('report', '--all', '--since', startedAt, '--asset', asset);
  expect([md.code, md.stdout.includes('# Remediations: aggregate report') ? 'report' : md.stderr.slice(-1000)]).toEqual([0, 'report']);
});

test('not found is exit 3 everywhere', async () => {
  const nope = 'drw-nothing-here-0000000000000000';
  for (const argv of [['show', nope], ['report', nope], ['history', 'export', nope], ['approve', nope, 'x.contain', '--reason', 'r'], ['risk', nope, '10', '--reason', 'r']]) {
    const r = await drw(...argv);
    expect([argv.join(' '), r.code]).toEqual([argv.join(' '), 3]);
  }
});
