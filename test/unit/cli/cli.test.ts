/**
 * The drw CLI in-process: argument parsing, --help on every command, exit codes, and the
 * HTTP calls it makes (against a small stub of the API that records requests).
 */
import { loadPolicyDir } from '../../../planner/load';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { COMMANDS, findCommand, main } from '../../../cli/drw';
import { LIST_HELP, sinceTime } from '../../../cli/commands/remediations';
import { DEFAULT_PAGE_SIZE, LIST_STATUS_VALUES, MAX_PAGE_SIZE } from '../../../api/routes/list';
import { classifyPayload } from '../../../cli/commands/detect';
import { CHAIN_FILE, EDR_FILE } from '../report/fixtures';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const DEFAULT_POLICY = path.join(ROOT, 'policies', 'default');

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

let stub: http.Server;
let stubUrl: string;
const seen: Seen[] = [];
let reply: (req: Seen) => { status: number; body: unknown } = () => ({ status: 200, body: {} });

beforeAll(async () => {
  stub = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const s: Seen = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      seen.push(s);
      const r = reply(s);
      res.writeHead(r.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(r.body));
    });
  });
  await new Promise<void>((r) => stub.listen(0, '127.0.0.1', () => r()));
  stubUrl = `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => stub.close(() => r()));
});
beforeEach(() => {
  seen.length = 0;
  reply = () => ({ status: 200, body: {} });
});

async function drw(argv: string[], env: Record<string, string> = {}, stdin = '') {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    env: { DRW_API_URL: stubUrl, DRW_USER: 'tester', PATH: process.env.PATH, ...env },
    cwd: ROOT,
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    readStdin: async () => stdin,
    temporal: async () => {
      throw new Error('no Temporal in unit tests');
    },
  });
  return { code, stdout, stderr };
}

const ID = 'drw-crowdstrike-h1-trojan-0123456789abcdef';
const DIGEST = 'a'.repeat(64);
const detection = { source: 'crowdstrike', rule: 'Trojan.X', title: 'Malware on h1', severity: 'high', category: 'malware', riskScore: 60, asset: { id: 'h1', type: 'host', environment: 'production' } };

function tmp(name: string, content: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'drw-cli-'));
  const f = path.join(dir, name);
  writeFileSync(f, content);
  return f;
}

describe('help and usage', () => {
  test('drw --help lists every command; no arguments is a usage error', async () => {
    const h = await drw(['--help']);
    expect(h.code).toBe(0);
    for (const c of COMMANDS) expect(h.stdout).toContain(c.name);
    expect(h.stdout).toContain('Exit codes: 0 ok, 1 failure or validation error, 2 usage error, 3 not found, 4 refused or unauthorized.');
    expect((await drw([])).code).toBe(2);
  });

  test.each(COMMANDS.map((c) => c.name))('drw %s --help', async (name) => {
    const r = await drw([...name.split(' '), '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage:\n {2}drw /);
    expect(r.stdout).toContain('--json');
    expect(r.stdout).toContain('Exit codes:');
    expect(seen).toEqual([]);
  });

  test('groups without a subcommand print their commands', async () => {
    const r = await drw(['policy']);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/policy validate[\s\S]*policy test[\s\S]*policy whatif/);
    expect((await drw(['history', '--help'])).code).toBe(0);
    expect((await drw(['help', 'approve'])).stdout).toMatch(/^Usage:\n {2}drw approve/);
  });

  test('usage errors exit 2 with the reason', async () => {
    const cases: [string[], RegExp][] = [
      [['bogus'], /unknown command "bogus"/],
      [['policy', 'frobnicate'], /unknown command "drw policy frobnicate"/],
      [['show'], /missing argument/],
      [['show', ID, 'extra'], /unexpected argument "extra"/],
      [['show', ID, '--colour'], /Unknown option '--colour'/],
      [['approve', ID, 'contain'], /--reason is required/],
      [['risk', ID, 'abc', '--reason', 'x'], /a number from 0 to 100/],
      [['risk', ID, '101', '--reason', 'x'], /a number from 0 to 100/],
      [['plan', 'x.json'], /pass --dry-run/],
      [['detect', 'x.json', '--format', 'pdf'], /--format: drw or one of/],
      [['list', '--severity', 'urgent'], /--severity: "urgent" is not one of/],
      [['list', '--page-size', '0'], /--page-size/],
      [['list', '--since', 'last tuesday'], /--since/],
      [['report', ID, '--format', 'pdf'], /--format: one of md, json, csv/],
      [['report'], /usage: drw report <id>/],
      [['policy', 'whatif', 'h.json'], /--policy <dir> is required/],
      [['history', 'export'], /missing argument/],
    ];
    for (const [argv, msg] of cases) {
      const r = await drw(argv);
      expect([argv.join(' '), r.code]).toEqual([argv.join(' '), 2]);
      expect(r.stderr).toMatch(msg);
    }
    expect(seen).toEqual([]);
  });

  test('command lookup: two-word commands, aliases, groups', () => {
    expect(findCommand(['policy', 'validate', '--policy', 'x']).spec?.name).toBe('policy validate');
    expect(findCommand(['report', 'aggregate']).spec?.name).toBe('report aggregate');
    expect(findCommand(['report', 'drw-x-1']).spec?.name).toBe('report');
    expect(findCommand(['ls']).spec?.name).toBe('list');
    expect(findCommand(['history']).group).toBe('history');
  });

  test('list help text matches api/routes/list.ts', () => {
    expect(LIST_HELP).toEqual({ statuses: [...LIST_STATUS_VALUES], defaultPageSize: DEFAULT_PAGE_SIZE, maxPageSize: MAX_PAGE_SIZE });
  });

  test('--since takes ISO times or durations back from now', () => {
    expect(sinceTime('24h', Date.parse('2026-01-02T00:00:00Z'))).toBe('2026-01-01T00:00:00.000Z');
    expect(sinceTime('2026-03-01')).toBe('2026-03-01T00:00:00.000Z');
  });
});

describe('commands over the HTTP API', () => {
  test('detect: a drw detection goes to POST /v1/detections, with the bearer token', async () => {
    reply = () => ({ status: 202, body: { remediations: [{ id: ID, outcome: 'started' }] } });
    const r = await drw(['detect', tmp('d.json', JSON.stringify(detection))], { DRW_TOKEN: 'secret-token' });
    expect(r).toMatchObject({ code: 0, stdout: `started ${ID}\n` });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/v1/detections' });
    expect(seen[0].headers.authorization).toBe('Bearer secret-token');
    expect(JSON.parse(seen[0].body)).toEqual(detection);
  });

  test('detect: a list of detections from stdin, one request each, progress on stderr; --json', async () => {
    reply = () => ({ status: 202, body: { remediations: [{ id: ID, outcome: 'signalled' }] } });
    const r = await drw(['detect', '-', '--json'], {}, JSON.stringify([detection, { ...detection, title: 'again' }]));
    expect(r.code).toBe(0);
    expect(seen.map((s) => s.url)).toEqual(['/v1/detections', '/v1/detections']);
    expect(r.stderr).toContain('submitting 2/2');
    expect(JSON.parse(r.stdout)).toEqual({ format: 'drw', remediations: [{ id: ID, outcome: 'signalled' }, { id: ID, outcome: 'signalled' }] });
  });

  test('detect: a vendor payload goes to /v1/detections/{format} as sent (format detected)', async () => {
    const alert = { version: '4', status: 'firing', receiver: 'drw', groupKey: 'g', alerts: [{ status: 'firing', labels: { alertname: 'DiskFull', instance: 'db-2', severity: 'critical' }, annotations: {}, startsAt: '2026-01-01T00:00:00Z' }] };
    reply = () => ({ status: 202, body: { remediations: [{ id: ID, outcome: 'started' }], skipped: [] } });
    const text = JSON.stringify(alert);
    const r = await drw(['detect', tmp('a.json', text), '--header', 'X-Trace:abc']);
    expect(r.code).toBe(0);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/v1/detections/alertmanager', body: text });
    expect(seen[0].headers['x-trace']).toBe('abc');
    expect(r.stderr).toContain('detected format alertmanager');
  });

  test('detect: not a known format → exit 1; invalid drw detection → exit 1 with the problems', async () => {
    const r = await drw(['detect', tmp('x.json', '{"hello": "world"}')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot tell the format/);
    const bad = await drw(['detect', tmp('b.json', '{"source": "x"}'), '--format', 'drw']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/not a valid drw detection\n {2}rule: /);
    expect((await drw(['detect', '/nope/missing.json'])).code).toBe(3);
    expect(seen).toEqual([]);
  });

  test('classifyPayload', () => {
    expect(classifyPayload(JSON.stringify(detection), undefined, {})).toEqual({ format: 'drw', detections: [expect.objectContaining({ rule: 'Trojan.X' })] });
    expect(classifyPayload('{}', 'falco', {})).toEqual({ format: 'falco' });
  });

  test('show: the remediation; exit 3 when there is none', async () => {
    reply = (s) =>
      s.url.endsWith(ID)
        ? { status: 200, body: { id: ID, title: 'Malware on h1', status: 'awaiting_approval', severity: 'high', riskScore: 60, findingCount: 1, asset: { id: 'h1', type: 'host' }, source: 'crowdstrike', rule: 'Trojan.X', plan: { version: 1, playbook: 'edr-malware', policyVersion: 'p', steps: [{ id: 'edr-malware.contain', action: 'endpoint.isolate', status: 'awaiting_approval', reason: { rule: 'always' }, approval: { users: [], groups: ['secops'], quorum: 1, approvedBy: [] } }] }, decisions: [{ seq: 1, at: 't', kind: 'plan', summary: 'plan v1: initial plan' }] } }
        : { status: 404, body: { error: 'no remediation' } };
    const r = await drw(['show', ID]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('status awaiting_approval');
    expect(r.stdout).toMatch(/edr-malware\.contain +endpoint\.isolate +awaiting_approval +always +needs @secops/);
    const j = await drw(['show', ID, '--json']);
    expect(JSON.parse(j.stdout).id).toBe(ID);
    // A pull request awaiting approval: its repository, file and the change itself; each fact with its origin.
    const change = { base: 'main', baseCommit: 'a'.repeat(40), files: ['s3.tf'], diff: '--- a/s3.tf\n+++ b/s3.tf\n+  block_public_acls = true\n', digest: 'd'.repeat(64), summary: 'block public access' };
    const fix = { id: 'cloud.fix', action: 'iac.pull_request', status: 'awaiting_approval', reason: { rule: 'always' }, digest: 'e'.repeat(64), approval: { users: [], groups: ['cloud-owners'], quorum: 1, approvedBy: [] }, target: { kind: 'repository', id: 'acme/infra', name: 's3.tf', via: 'preview of main at aaaaaaaaaaaa', change } };
    reply = () => ({ status: 200, body: { id: ID, title: 'public bucket', status: 'awaiting_approval', severity: 'high', riskScore: 65, findingCount: 1, asset: { id: 'b', type: 'bucket' }, facts: { environment: { value: 'production', from: 'cmdb', why: 'the CMDB says production, stricter than staging from the detection' } }, plan: { version: 1, playbook: 'cloud', policyVersion: 'p', steps: [fix] }, decisions: [] } });
    const pr = await drw(['show', ID]);
    expect(pr.stdout).toContain('    environment production (cmdb: the CMDB says production, stricter than staging from the detection)');
    expect(pr.stdout).toContain(`  cloud.fix  repository acme/infra (s3.tf) via preview of main at aaaaaaaaaaaa  digest ${'e'.repeat(64)}`);
    expect(pr.stdout).toContain(`    change ${'d'.repeat(64)} on main at aaaaaaaaaaaa: block public access\n    --- a/s3.tf\n    +++ b/s3.tf\n    +  block_public_acls = true`);
    reply = (s) => (s.url.endsWith(ID) ? { status: 200, body: {} } : { status: 404, body: { error: 'no remediation' } });
    const missing = await drw(['show', 'drw-nothing-0000000000000000']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/no remediation/);
    expect((await drw(['show', 'not-an-id'])).code).toBe(3);
  });

  test('policy publish: validates the folder, sends its version with the selection; a refusal exits 4; a bad folder sends nothing', async () => {
    const version = loadPolicyDir(DEFAULT_POLICY).version;
    reply = () => ({ status: 202, body: { version, signalled: [ID], heldBack: 2 } });
    const ok = await drw(['policy', 'publish', '--policy', DEFAULT_POLICY, '--playbook', 'edr-malware, vulnerability', '--percent', '10', '--reason', 'canary', '--as', 'alice']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe(`policy ${version} published to 1 open remediation (2 held back by the canary)\n  ${ID}\n`);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/v1/policy/publish' });
    expect(JSON.parse(seen[0].body)).toEqual({ version, playbooks: ['edr-malware', 'vulnerability'], percent: 10, reason: 'canary', by: 'alice' });
    reply = () => ({ status: 409, body: { error: `this drw reads policy 0000000000000000 from its policy folder, not ${version}` } });
    const refused = await drw(['policy', 'publish', '--policy', DEFAULT_POLICY, '--reason', 'x']);
    expect([refused.code, refused.stderr]).toEqual([4, expect.stringMatching(/reads policy 0000000000000000/)]);
    seen.length = 0;
    expect((await drw(['policy', 'publish', '--policy', DEFAULT_POLICY, '--reason', 'x', '--percent', '0'])).code).toBe(2);
    expect((await drw(['policy', 'publish', '--policy', '/nonexistent', '--reason', 'x'])).code).toBe(1);
    expect(seen).toEqual([]);
  });

  test('approve: short step ids resolve; identity and groups in the body; refusals exit 4', async () => {
    reply = (s) => {
      if (s.method === 'GET') return { status: 200, body: { id: ID, plan: { steps: [{ id: 'edr-malware.ticket' }, { id: 'edr-malware.contain', digest: DIGEST }] } } };
      const b = JSON.parse(s.body);
      if (!b.groups?.includes('secops')) return { status: 403, body: { error: 'mallory may not approve step "edr-malware.contain": it needs a member of [secops]', details: { type: 'Unauthorized' } } };
      return { status: 200, body: { id: ID, plan: { version: 2, steps: [{ id: 'edr-malware.contain', status: 'pending', note: 'approved by alice' }] } } };
    };
    const ok = await drw(['approve', ID, 'contain', '--reason', 'confirmed', '--as', 'alice', '--groups', 'secops,soc']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe(`approved edr-malware.contain of ${ID} as alice: step now pending (approved by alice); plan v2\n`);
    // Without --digest the step's current digest is read, sent and said.
    expect(ok.stderr).toContain(`approving edr-malware.contain at digest ${DIGEST}`);
    const post = seen.find((s) => s.method === 'POST')!;
    expect(post.url).toBe(`/v1/remediations/${ID}/steps/edr-malware.contain/approve`);
    expect(JSON.parse(post.body)).toEqual({ approver: 'alice', groups: ['secops', 'soc'], reason: 'confirmed', digest: DIGEST });

    // The digest reviewed (drw show) is sent as given; a malformed one is a usage error.
    seen.length = 0;
    await drw(['approve', ID, 'edr-malware.contain', '--reason', 'reviewed', '--as', 'alice', '--groups', 'secops', '--digest', 'B'.repeat(64)]);
    expect(seen.map((s) => s.method)).toEqual(['POST']);
    expect(JSON.parse(seen[0].body)).toMatchObject({ digest: 'b'.repeat(64) });
    expect((await drw(['approve', ID, 'edr-malware.contain', '--reason', 'x', '--digest', 'abc'])).code).toBe(2);

    seen.length = 0;
    const refused = await drw(['deny', ID, 'edr-malware.contain', '--reason', 'no', '--as', 'mallory']);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/needs a member of \[secops\]/);
    expect(seen.map((s) => s.method)).toEqual(['GET', 'POST']);
    expect(JSON.parse(seen[1].body)).toEqual({ approver: 'mallory', groups: [], reason: 'no', digest: DIGEST });

    const unknown = await drw(['approve', ID, 'isolate', '--reason', 'x']);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toMatch(/has no step "isolate"; steps: edr-malware.ticket, edr-malware.contain/);
  });

  test('approve with DRW_TOKEN: who and groups come from the token unless given', async () => {
    reply = () => ({ status: 200, body: { id: ID, plan: { version: 2, steps: [] } } });
    await drw(['approve', ID, 'edr-malware.contain', '--reason', 'ok', '--digest', DIGEST], { DRW_TOKEN: 'eyJ.x.y' });
    expect(JSON.parse(seen[0].body)).toEqual({ reason: 'ok', digest: DIGEST });
    expect(seen[0].headers.authorization).toBe('Bearer eyJ.x.y');
  });

  test('HTTP answers map to exit codes: 400 → 1 with details, 401 → 4, 409 → 4, 503 → 1', async () => {
    const statuses: [number, number][] = [
      [400, 1],
      [401, 4],
      [403, 4],
      [404, 3],
      [409, 4],
      [503, 1],
    ];
    for (const [status, code] of statuses) {
      reply = () => ({ status, body: { error: `status ${status}`, details: [{ path: 'riskScore', message: 'too big' }] } });
      const r = await drw(['risk', ID, '50', '--reason', 'x']);
      expect([status, r.code]).toEqual([status, code]);
      expect(r.stderr).toContain(`status ${status}`);
    }
    reply = () => ({ status: 400, body: { error: 'invalid request body', details: [{ path: 'riskScore', message: 'too big' }] } });
    const r = await drw(['risk', ID, '50', '--reason', 'x', '--json']);
    expect(r.stderr).toContain('  riskScore: too big');
    expect(JSON.parse(r.stdout)).toMatchObject({ error: expect.stringContaining('invalid request body'), code: 1 });
  });

  test('risk: the signal body', async () => {
    reply = () => ({ status: 202, body: { id: ID, accepted: 'riskScoreChanged' } });
    const r = await drw(['risk', ID, '95', '--reason', 'lateral movement']);
    expect(r.code).toBe(0);
    expect(JSON.parse(seen[0].body)).toEqual({ riskScore: 95, reason: 'lateral movement', by: 'tester' });
  });

  test('an unreachable API is a failure (exit 1) that names the URL', async () => {
    const r = await drw(['show', ID], { DRW_API_URL: 'http://127.0.0.1:1' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot reach the drw API at http:\/\/127\.0\.0\.1:1/);
  });
});

describe('commands without a server', () => {
  test('plan --dry-run: playbook, steps and why; JSON', async () => {
    const f = tmp('d.json', JSON.stringify(detection));
    const r = await drw(['plan', '--dry-run', f]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Playbook: edr-malware');
    expect(r.stdout).toMatch(/edr-malware\.contain +endpoint\.isolate +awaiting_approval +when always; needs @secops while riskScore < 90, expires after 1h \(escalate\) \[riskScore=65\]; disruptive \(change window\); under a normal change \(the CAB approves it in the change system\)/);
    // The detection's own 60 does not count from the native API; each fact says where it came from.
    expect(r.stdout).toMatch(/riskScore +65 +from drw: severity high → 60, production \+5 .*the detection's 60 does not count: drw is not a trusted risk source/);
    expect(r.stdout).toMatch(/environment +production +from detection: /);
    expect(r.stdout).toContain('Dry run: nothing was started.');
    const j = JSON.parse((await drw(['plan', '--dry-run', f, '--json'])).stdout);
    expect(j).toMatchObject({ playbook: { id: 'edr-malware' }, risk: { score: 65 }, via: 'drw', cmdb: 'not consulted', provenance: { riskScore: { value: 65, from: 'drw', detection: 60 } }, remediationId: expect.stringMatching(/^drw-crowdstrike-h1-/) });
    // Through Falcon's channel, with the CMDB's record: Falcon's score counts, the CMDB's stricter environment applies.
    const falcon = JSON.parse((await drw(['plan', '--dry-run', f, '--json', '--via', 'falcon', '--cmdb', '{"environment":"production","criticality":"critical"}'])).stdout);
    expect(falcon.provenance).toMatchObject({ riskScore: { value: 60, from: 'detection' }, criticality: { value: 'critical', from: 'cmdb' } });
    expect((await drw(['plan', '--dry-run', f, '--via', 'splunk'])).stderr).toMatch(/--via splunk: not a source; sources are drw, alertmanager/);
    // --providers: what a worker with this environment would use; nothing configured fails closed, and the steps say so.
    const closed = await drw(['plan', '--dry-run', f, '--providers'], { DRW_ALLOW_INPROCESS: '' });
    expect(closed.stdout).toContain('Providers a worker with this environment would use: ticketing=none, cmdb=none, iac=none, endpoint=none, notify=none, runbook=none, identity=none');
    expect(closed.stdout).toContain('  edr-malware.contain: blocked when it runs — no endpoint provider (set DRW_ENDPOINT and its variables)');
    const slack = JSON.parse((await drw(['plan', '--dry-run', f, '--providers', '--json'], { DRW_ALLOW_INPROCESS: '', SLACK_WEBHOOK_URLS: '{"secops":"https://hooks.slack.com/services/T0/B0/x"}' })).stdout);
    expect(slack.providers.byKind.notify).toBe('slack');
    expect(slack.providers.blocked.map((b: any) => b.step)).toEqual(['edr-malware.ticket', 'edr-malware.contain']);
    // An EDR but no change system: the containment still cannot run, for want of its change record.
    const edr = JSON.parse((await drw(['plan', '--dry-run', f, '--providers', '--json'], { DRW_ALLOW_INPROCESS: '', DRW_ENDPOINT: 'inprocess' })).stdout);
    expect(edr.providers.blocked).toContainEqual({ step: 'edr-malware.contain', kind: 'change' });
    expect(j.plan.steps.map((s: any) => [s.id, s.status])).toEqual([
      ['edr-malware.ticket', 'pending'],
      ['edr-malware.contain', 'awaiting_approval'],
      ['edr-malware.notify', 'pending'],
      ['edr-malware.verify', 'pending'],
    ]);
    expect(seen).toEqual([]);
  });

  test('policy validate: ok (0); problems as file:line: path: reason (1)', async () => {
    const ok = await drw(['policy', 'validate', '--policy', DEFAULT_POLICY]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/valid — \d+ playbooks/);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'drw-pol-'));
    cpSync(DEFAULT_POLICY, dir, { recursive: true });
    const f = path.join(dir, '40-edr-malware.yaml');
    writeFileSync(f, readFileSync(f, 'utf8').replace('action: endpoint.isolate', 'action: endpoint.nuke'));
    const bad = await drw(['policy', 'validate', '--policy', dir]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+: steps\\.1\\.action: `, 'm'));
    expect(JSON.parse((await drw(['policy', 'validate', '--policy', dir, '--json'])).stdout)).toMatchObject({ valid: false, problems: [expect.objectContaining({ path: 'steps.1.action', line: expect.any(Number) })] });
  });

  test('policy test: the shipped tests pass on the default policy; a failing expectation exits 1', async () => {
    const ok = await drw(['policy', 'test', '--policy', DEFAULT_POLICY]);
    expect(ok.stdout).toMatch(/\d+ passed, 0 failed/);
    expect(ok.code).toBe(0);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'drw-tests-'));
    writeFileSync(
      path.join(dir, 'edr.yaml'),
      `name: wrong on purpose\ndetection: ${JSON.stringify(detection)}\nexpect:\n  playbook: edr-malware\n  steps:\n    - { id: ticket, status: pending }\n    - { id: contain, status: pending }\n`,
    );
    writeFileSync(path.join(dir, 'broken.yaml'), 'name: x\n');
    const r = await drw(['policy', 'test', '--policy', DEFAULT_POLICY, '--tests', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL .*broken\.yaml: \(invalid test file\)/);
    expect(r.stdout).toMatch(/FAIL .*edr\.yaml: wrong on purpose\n {8}initial plan: edr-malware\.contain: status awaiting_approval, expected pending/);
    expect(r.stdout).toMatch(/unexpected step 3: edr-malware\.notify/);
    expect((await drw(['policy', 'test', '--policy', DEFAULT_POLICY, '--tests', '/nope'])).code).toBe(3);
  });

  test('report --from an exported history: md, json, csv with the digest', async () => {
    const md = await drw(['report', '--from', EDR_FILE]);
    expect(md.code).toBe(0);
    expect(md.stdout).toMatch(/^# Remediation report: drw-/);
    const json = JSON.parse((await drw(['report', '--from', EDR_FILE, '--json'])).stdout);
    expect(json.history.sha256).toMatch(/^[0-9a-f]{64}$/);
    const csv = await drw(['report', '--from', EDR_FILE, '--format', 'csv']);
    expect(csv.stdout.split('\r\n')[1]).toContain(json.history.sha256);
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'drw-rep-')), 'r.md');
    const w = await drw(['report', '--from', CHAIN_FILE, '--out', out]);
    expect(w.code).toBe(0);
    expect(w.stderr).toMatch(/wrote the md report of drw-aws-securityhub-/);
    expect(readFileSync(out, 'utf8')).toContain('## Timeline');
    const notHistory = await drw(['report', '--from', tmp('x.json', '{"a":1}')]);
    expect(notHistory.code).toBe(1);
    expect(notHistory.stderr).toMatch(/not a Temporal history/);
  });

  test('policy whatif: differences per remediation; --exit-code', async () => {
    const same = await drw(['policy', 'whatif', '--policy', DEFAULT_POLICY, EDR_FILE]);
    expect(same.code).toBe(0);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'drw-cand-'));
    cpSync(DEFAULT_POLICY, dir, { recursive: true });
    const f = path.join(dir, '40-edr-malware.yaml');
    writeFileSync(f, readFileSync(f, 'utf8').replace('groups: [secops]', 'groups: [soc-leads]'));
    // The chain was recorded before the misconfiguration playbook confirmed at Security Hub: only the EDR change should differ.
    const m = path.join(dir, '30-cloud-misconfiguration.yaml');
    writeFileSync(m, readFileSync(m, 'utf8').replace(/ {2}# A merged change is not a fixed account[\s\S]*?verify: \{ interval: 15m, deadline: 2d \}\n/, ''));
    expect(readFileSync(m, 'utf8')).not.toContain('id: confirm');
    const diff = await drw(['policy', 'whatif', '--policy', dir, EDR_FILE, CHAIN_FILE]);
    expect(diff.code).toBe(0);
    expect(diff.stdout).toMatch(/edr-approved\.history\.json\): the candidate policy plans differently/);
    expect(diff.stdout).toMatch(/approval +step contain: approval by groups \[secops\] → approval by groups \[soc-leads\]/);
    expect(diff.stdout).toMatch(/alice's approval of edr-malware\.contain would be refused/);
    expect(diff.stdout).toMatch(/2 remediations replayed with policy [0-9a-f]+: 1 would be planned differently/);
    expect(diff.stderr).toContain('replaying 2/2');
    expect((await drw(['policy', 'whatif', '--policy', dir, EDR_FILE, '--exit-code'])).code).toBe(1);
    const j = JSON.parse((await drw(['policy', 'whatif', '--policy', dir, EDR_FILE, '--json'])).stdout);
    expect(j.results[0]).toMatchObject({ differs: true, fidelity: { matches: true } });
    expect((await drw(['policy', 'whatif', '--policy', dir, '/nope.json'])).code).toBe(3);
  });

  test('commands that need Temporal report a connection failure as exit 1', async () => {
    const r = await drw(['history', 'export', ID]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no Temporal in unit tests/);
  });
});
