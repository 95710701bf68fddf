/**
 * Malformed and hostile detections, signals and approvals against the HTTP API: wrong types,
 * bodies over 1 MiB (declared and chunked), an ingest batch over the findings limit, details over
 * their size limit, unknown and malformed ids, forged identities, prototype-pollution keys, deep
 * nesting, invalid UTF-8. Every one must be refused with a 4xx (some with an exact status), the
 * server must stay up, no workflow may be started (counted with client.workflow.list
 * before and after), and no approval may reach the remediations they target.
 */
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { eventually, startHarness, type Harness } from '../helpers/harness';
import { report } from './helpers';

const RUN = randomUUID().slice(0, 6);
const SOURCE = `fuzz-${RUN}`;

let h: Harness;

interface Answer {
  status: number;
  body: string;
}

/** Sends exactly these bytes and headers (no client-side JSON, no automatic Content-Length unless asked). */
function raw(method: string, url: string, o: { body?: Buffer | string; headers?: Record<string, string>; chunks?: Buffer[] } = {}): Promise<Answer> {
  return new Promise((resolve) => {
    const u = new URL(url);
    let answered = false;
    // A connection of its own per case: a refused upload may leave its socket unusable.
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method, agent: false, headers: { 'content-type': 'application/json', ...o.headers } }, (res) => {
      answered = true;
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8').slice(0, 500) }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, body: '' }));
    });
    // The server may answer (413) and close while we are still sending: that is its right.
    req.on('error', (e) => {
      if (!answered) resolve({ status: 0, body: `client error: ${e.message}` });
    });
    if (o.chunks) {
      const write = (i: number) => {
        if (i >= o.chunks!.length || req.destroyed) return req.end();
        req.write(o.chunks![i], () => write(i + 1));
      };
      write(0);
    } else req.end(o.body);
  });
}

const json = (v: unknown) => JSON.stringify(v);
const valid = (asset: string) => ({
  source: SOURCE,
  rule: 'Trojan.Fuzz',
  title: `Malware on ${asset}`,
  severity: 'high',
  category: 'malware',
  riskScore: 50,
  asset: { id: asset, type: 'host', environment: 'production' },
});
/** A valid detection's JSON text with `extra` spliced in as the first members (for keys JSON.stringify would not write). */
const withRaw = (asset: string, extra: string) => `{${extra},${json(valid(asset)).slice(1)}`;
const nested = (depth: number, leaf = '1') => `${'{"a":'.repeat(depth)}${leaf}${'}'.repeat(depth)}`;

interface Case {
  name: string;
  method?: string;
  path: string;
  body?: Buffer | string;
  headers?: Record<string, string>;
  chunks?: Buffer[];
  /** The exact status when a plain 4xx is not enough (bounded input: 413 for too many findings, 400 for oversized details). */
  status?: number;
}

/** As many minimal alerts as fit under the 1 MiB body limit: 21,625 findings, each once started as a workflow. */
function alertFlood(): string {
  const alerts: string[] = [];
  let size = '{"version":"4","alerts":[]}'.length;
  for (let i = 0; ; i++) {
    const a = `{"labels":{"alertname":"FuzzFlood","instance":"fuzz-${RUN}-flood-${i}"}}`;
    if (size + a.length + 1 > 1024 * 1024) break;
    alerts.push(a);
    size += a.length + 1;
  }
  return `{"version":"4","alerts":[${alerts.join(',')}]}`;
}

async function workflowsOnQueue(): Promise<number> {
  let n = 0;
  for await (const _ of h.app.service.handle('x').client.list({ query: `TaskQueue="${h.cfg.taskQueue}"` })) n++;
  return n;
}

async function awaitingApproval(id: string): Promise<any> {
  return eventually(async () => {
    const v = await h.app.service.state(id);
    return v.status === 'awaiting_approval' ? v : undefined;
  }, `${id} awaiting approval`, 60_000);
}

beforeAll(async () => {
  h = await startHarness({ timeScale: 1 });
});

afterAll(async () => {
  await h?.close();
});

test('hostile and malformed input is refused with a 4xx, starts nothing, approves nothing, and the server stays up', async () => {
  // Two legitimate remediations waiting on approval: the targets of signals and approvals.
  const target = (await h.app.service.submit(valid(`fuzz-${RUN}-target`) as never, `api:${SOURCE}`)).id;
  const forgedTarget = (await h.app.service.submit(valid(`fuzz-${RUN}-forged`) as never, `api:${SOURCE}`)).id;
  await awaitingApproval(target);
  await awaitingApproval(forgedTarget);
  const before = await eventually(async () => ((await workflowsOnQueue()) === 2 ? 2 : undefined), 'the two targets in visibility', 30_000);

  const det = '/v1/detections';
  const risk = `/v1/remediations/${target}/risk`;
  const approve = (id: string, step = 'edr-malware.contain') => `/v1/remediations/${id}/steps/${step}/approve`;
  const deny = `/v1/remediations/${target}/steps/edr-malware.contain/deny`;
  const a = (i: number) => `fuzz-${RUN}-${String(i).padStart(3, '0')}`;
  const huge = 'x'.repeat(1536 * 1024);
  const invalidUtf8 = (bytes: number[], i: number) => {
    const text = json(valid(a(i)));
    const at = text.indexOf('Malware on') + 'Malware'.length;
    return Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from(bytes), Buffer.from(text.slice(at))]);
  };
  const okApproval = { approver: 'alice', groups: ['secops'], reason: 'fuzz' };
  const unsignedJwt = `${Buffer.from(json({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(json({ sub: 'alice', groups: ['secops'] })).toString('base64url')}.`;

  const cases: Case[] = [
    // --- detections: wrong types and shapes
    { name: 'detection: severity is a number', path: det, body: json({ ...valid(a(1)), severity: 5 }) },
    { name: 'detection: asset is a string', path: det, body: json({ ...valid(a(2)), asset: 'web-1' }) },
    { name: 'detection: riskScore is a string', path: det, body: json({ ...valid(a(3)), riskScore: 'high' }) },
    { name: 'detection: riskScore 1e309 (Infinity)', path: det, body: json(valid(a(4))).replace('"riskScore":50', '"riskScore":1e309') },
    { name: 'detection: riskScore -1', path: det, body: json({ ...valid(a(5)), riskScore: -1 }) },
    { name: 'detection: title is an array', path: det, body: json({ ...valid(a(6)), title: ['x'] }) },
    { name: 'detection: details is a string', path: det, body: json({ ...valid(a(7)), details: 'x' }) },
    { name: 'detection: asset.tags has 100 entries', path: det, body: json({ ...valid(a(8)), asset: { ...valid(a(8)).asset, tags: Array.from({ length: 100 }, (_, i) => `t${i}`) } }) },
    { name: 'detection: observedAt is not a date', path: det, body: json({ ...valid(a(9)), observedAt: 'yesterday' }) },
    { name: 'detection: severity "__proto__"', path: det, body: json({ ...valid(a(10)), severity: '__proto__' }) },
    { name: 'detection: body is an array', path: det, body: json([valid(a(11))]) },
    { name: 'detection: body is null', path: det, body: 'null' },
    { name: 'detection: body is a number', path: det, body: '42' },
    { name: 'detection: body is a string', path: det, body: '"hello"' },
    { name: 'detection: empty object', path: det, body: '{}' },
    { name: 'detection: empty body', path: det, body: '' },
    { name: 'detection: invalid JSON', path: det, body: '{"source":' },
    { name: 'detection: unknown top-level field', path: det, body: json({ ...valid(a(12)), admin: true }) },
    { name: 'detection: text/plain', path: det, body: json(valid(a(13))), headers: { 'content-type': 'text/plain' } },
    { name: 'detection: asset.id of 10 KB', path: det, body: json({ ...valid(a(14)), asset: { ...valid(a(14)).asset, id: 'h'.repeat(10_240) } }) },
    // --- size
    { name: 'detection: declared Content-Length 1.5 MiB', path: det, body: json({ ...valid(a(15)), title: huge }) },
    { name: 'detection: chunked 1.5 MiB without Content-Length', path: det, chunks: Array.from({ length: 24 }, (_, i) => Buffer.from(i === 0 ? `{"title":"${'y'.repeat(65_536 - 10)}` : 'y'.repeat(65_536))) },
    { name: 'detection: 900 KB title (under the limit, over the field maximum)', path: det, body: json({ ...valid(a(16)), title: 't'.repeat(900 * 1024) }) },
    // --- bounded input
    { name: 'alertmanager: 1 MiB body of 20,000+ alerts (over the findings limit)', path: '/v1/detections/alertmanager', body: alertFlood(), status: 413 },
    { name: 'detection: 900 KB of details (over the 16 KiB details limit)', path: det, body: json({ ...valid(a(27)), details: { evidence: 'e'.repeat(900 * 1024) } }), status: 400 },
    { name: 'detection: a repeat of an open remediation carrying 900 KB of details', path: det, body: json({ ...valid(`fuzz-${RUN}-target`), details: { evidence: 'e'.repeat(900 * 1024) } }), status: 400 },
    // --- deep nesting
    { name: 'detection: details nested 10,000 levels deep', path: det, body: `{"details":${nested(10_000)},${json(valid(a(17))).slice(1)}` },
    { name: 'detection: details nested 100,000 levels deep', path: det, body: `{"details":${nested(100_000)},${json(valid(a(18))).slice(1)}` },
    { name: 'detection: body is 200,000 nested arrays', path: det, body: `${'['.repeat(200_000)}${']'.repeat(200_000)}` },
    // --- prototype pollution
    { name: 'detection: "__proto__" at the top level', path: det, body: withRaw(a(19), '"__proto__":{"polluted":"yes"}') },
    { name: 'detection: "constructor.prototype" at the top level', path: det, body: withRaw(a(20), '"constructor":{"prototype":{"polluted":"yes"}}') },
    { name: 'detection: "__proto__" in details', path: det, body: `{"details":{"__proto__":{"polluted":"yes"}},${json(valid(a(21))).slice(1)}` },
    { name: 'detection: "constructor.prototype" in details', path: det, body: `{"details":{"constructor":{"prototype":{"polluted":"yes"}}},${json(valid(a(22))).slice(1)}` },
    { name: 'detection: "__proto__" in asset', path: det, body: json(valid(a(23))).replace('"asset":{', '"asset":{"__proto__":{"polluted":"yes"},') },
    // --- invalid UTF-8
    { name: 'detection: invalid UTF-8 byte 0xFF in the title', path: det, body: invalidUtf8([0xff], 24) },
    { name: 'detection: overlong UTF-8 (0xC0 0xAF) in the title', path: det, body: invalidUtf8([0xc0, 0xaf], 25) },
    { name: 'detection: truncated UTF-8 sequence in the title', path: det, body: invalidUtf8([0xe2, 0x82], 26) },
    // --- signals
    { name: 'risk: riskScore is a string', path: risk, body: json({ riskScore: 'high', reason: 'fuzz' }) },
    { name: 'risk: riskScore 101', path: risk, body: json({ riskScore: 101, reason: 'fuzz' }) },
    { name: 'risk: riskScore NaN (not JSON)', path: risk, body: '{"riskScore":NaN,"reason":"fuzz"}' },
    { name: 'risk: no reason', path: risk, body: json({ riskScore: 70 }) },
    { name: 'risk: reason of 3,000 characters', path: risk, body: json({ riskScore: 70, reason: 'r'.repeat(3000) }) },
    { name: 'risk: unknown field', path: risk, body: json({ riskScore: 70, reason: 'fuzz', escalate: true }) },
    { name: 'risk: "__proto__" key', path: risk, body: '{"__proto__":{"polluted":"yes"},"riskScore":70,"reason":"fuzz"}' },
    { name: 'risk: body is an array', path: risk, body: json([{ riskScore: 70, reason: 'fuzz' }]) },
    { name: 'risk: invalid UTF-8 in the reason', path: risk, body: Buffer.concat([Buffer.from('{"riskScore":70,"reason":"a'), Buffer.from([0xff, 0xfe]), Buffer.from('b"}')]) },
    { name: 'risk: unknown remediation id', path: `/v1/remediations/drw-fuzz-nobody-${RUN}/risk`, body: json({ riskScore: 70, reason: 'fuzz' }) },
    { name: 'risk: id of 5,000 characters', path: `/v1/remediations/drw-${'a'.repeat(5000)}/risk`, body: json({ riskScore: 70, reason: 'fuzz' }) },
    { name: 'risk: id with upper case and dots', path: '/v1/remediations/DRW..Evil/risk', body: json({ riskScore: 70, reason: 'fuzz' }) },
    { name: 'risk: id escaping the path (%2F..%2F)', path: '/v1/remediations/drw-x%2F..%2F..%2Fhealthz/risk', body: json({ riskScore: 70, reason: 'fuzz' }) },
    { name: 'pause: no "by"', path: `/v1/remediations/${target}/pause`, body: json({ reason: 'fuzz' }) },
    { name: 'cancel: empty object', path: `/v1/remediations/${target}/cancel`, body: '{}' },
    { name: 'false-positive: "by" of 300 characters', path: `/v1/remediations/${target}/false-positive`, body: json({ by: 'b'.repeat(300), reason: 'fuzz' }) },
    { name: 'GET an unknown remediation', method: 'GET', path: `/v1/remediations/drw-fuzz-nobody-${RUN}` },
    // --- approvals: malformed
    { name: 'approve: approver is a number', path: approve(target), body: json({ ...okApproval, approver: 7 }) },
    { name: 'approve: groups is a string', path: approve(target), body: json({ ...okApproval, groups: 'secops' }) },
    { name: 'approve: no reason', path: approve(target), body: json({ approver: 'alice', groups: ['secops'] }) },
    { name: 'approve: approver is blank', path: approve(target), body: json({ ...okApproval, approver: '   ' }) },
    { name: 'approve: 101 groups', path: approve(target), body: json({ ...okApproval, groups: Array.from({ length: 101 }, (_, i) => `g${i}`) }) },
    { name: 'approve: "__proto__" key', path: approve(target), body: '{"__proto__":{"isAdmin":true},"approver":"alice","groups":["secops"],"reason":"fuzz"}' },
    { name: 'approve: stepId in the body too', path: approve(target), body: json({ ...okApproval, stepId: 'edr-malware.notify' }) },
    { name: 'approve: unknown step', path: approve(target, 'edr-malware.reboot'), body: json(okApproval) },
    { name: 'approve: step id of 300 characters', path: approve(target, 's'.repeat(300)), body: json(okApproval) },
    { name: 'approve: malformed percent-encoding in the step id', path: approve(target, '%E0%A4%A'), body: json(okApproval) },
    { name: 'approve: unknown remediation', path: approve(`drw-fuzz-nobody-${RUN}`), body: json(okApproval) },
    // --- approvals: forged identities
    { name: 'approve: outsider (mallory, group devs)', path: approve(target), body: json({ approver: 'mallory', groups: ['devs'], reason: 'let me' }) },
    { name: 'deny: outsider (mallory, group devs)', path: deny, body: json({ approver: 'mallory', groups: ['devs'], reason: 'no' }) },
    { name: 'approve: the requester approving its own change', path: approve(target), body: json({ approver: `api:${SOURCE}`, groups: ['secops'], reason: 'self' }) },
    { name: 'approve: the requester in other case', path: approve(target), body: json({ approver: `API:${SOURCE.toUpperCase()}`, groups: ['SECOPS'], reason: 'self' }) },
    { name: 'approve: unsigned bearer token claiming secops, body says devs', path: approve(target), body: json({ approver: 'mallory', groups: ['devs'], reason: 'token' }), headers: { authorization: `Bearer ${unsignedJwt}` } },
    { name: 'approve: impersonating drw itself ("drw:expiry")', path: approve(forgedTarget), body: json({ approver: 'drw:expiry', groups: ['secops'], reason: 'expired (forged)' }) },
    { name: 'approve: impersonating drw itself ("drw:expiry#1")', path: approve(forgedTarget), body: json({ approver: 'drw:expiry#1', groups: ['secops'], reason: 'expired (forged)' }) },
    // --- browsers against the loopback default (CSRF, DNS rebinding)
    { name: 'approve: a web page\'s text/plain simple request', path: approve(target), body: json(okApproval), headers: { 'content-type': 'text/plain;charset=UTF-8' } },
    { name: 'approve: a rebound DNS name as Host', path: approve(target), body: json(okApproval), headers: { host: 'attacker.example:8080' } },
    { name: 'approve: from a page on another origin', path: approve(target), body: json(okApproval), headers: { origin: 'https://attacker.example' } },
    // --- methods and routes
    { name: 'DELETE /v1/detections', method: 'DELETE', path: det },
    { name: 'GET /v1/detections', method: 'GET', path: det },
    { name: 'PUT a remediation', method: 'PUT', path: `/v1/remediations/${target}`, body: json({ status: 'remediated' }) },
    { name: 'unknown route', method: 'POST', path: '/v1/admin/reset', body: '{}' },
  ];

  const results: { name: string; status: number; body: string; expected?: number }[] = [];
  for (const c of cases) {
    const r = await raw(c.method ?? 'POST', `${h.api}${c.path}`, { body: c.body, headers: c.headers, chunks: c.chunks });
    results.push({ name: c.name, status: r.status, body: r.body.slice(0, 160), expected: c.status });
  }
  // Hostile input must not change the server's own objects either.
  const polluted = ({} as Record<string, unknown>).polluted !== undefined || ({} as Record<string, unknown>).isAdmin !== undefined;

  const health = await raw('GET', `${h.api}/healthz`);
  await new Promise((r) => setTimeout(r, 2000)); // let visibility catch up with anything that did start
  const after = await workflowsOnQueue();
  const t = await h.app.service.state(target);
  const f = await h.app.service.state(forgedTarget);
  const accepted = results.filter((r) => r.status < 400 || r.status > 499);
  const wrongStatus = results.filter((r) => r.expected !== undefined && r.status !== r.expected);
  const byStatus = results.reduce<Record<string, number>>((acc, r) => ((acc[r.status] = (acc[r.status] ?? 0) + 1), acc), {});
  report('fuzz', {
    cases: results.length,
    statuses: byStatus,
    notRefusedWith4xx: accepted.length,
    healthz: health.status,
    workflowsBefore: before,
    workflowsAfter: after,
    targetStatus: t.status,
    targetApprovals: t.approvals.length,
    forgedTargetApprovals: f.approvals.length,
    prototypePolluted: polluted,
  });
  for (const r of accepted) report('fuzz not refused', { case: r.name, status: r.status, body: r.body });

  expect(accepted.map((r) => `${r.name} → ${r.status}`)).toEqual([]);
  expect(wrongStatus.map((r) => `${r.name} → ${r.status} ${r.body}`)).toEqual([]);
  expect(health.status).toBe(200);
  expect(after).toBe(before);
  expect(t.status).toBe('awaiting_approval');
  expect(t.approvals).toEqual([]);
  expect(f.approvals).toEqual([]);
  expect(polluted).toBe(false);
});
