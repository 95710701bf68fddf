/**
 * The embedded loopback default (no credentials) against a browser's attacks, as issue 11 ran
 * them: a web page's simple request (text/plain, or no Content-Type at all) needs no CORS
 * preflight, and a rebound DNS name makes the browser send its own Host. Each is refused and
 * nothing reaches the remediation; drw's own CLI-style requests still work without a login.
 */
import http from 'node:http';
import { malwareDetection as detection, eventually, startHarness, type Harness } from '../helpers/harness';

let h: Harness;
let port: number;
const CONTAIN = 'edr-malware.contain';
const approval = JSON.stringify({ approver: 'alice', groups: ['secops'], reason: 'clicked a link' });

beforeAll(async () => {
  h = await startHarness();
  port = Number(new URL(h.api).port);
});
afterAll(async () => {
  await h?.close();
});

/** A request with exactly these headers (a browser's, an attacker's): Host included. */
function raw(method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, agent: false, headers: { host: `127.0.0.1:${port}`, ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function waiting(asset: string): Promise<string> {
  const id = (await h.app.service.submit(detection(asset, 50), 'api:test')).id;
  await eventually(async () => ((await h.app.service.state(id)).status === 'awaiting_approval' ? true : undefined), `${id} awaiting approval`);
  return id;
}

test('a web page posts an approval as text/plain (no CORS preflight): 415, the step still waits', async () => {
  const id = await waiting(`loopback-text-${Date.now()}`);
  const r = await raw('POST', `/v1/remediations/${id}/steps/${CONTAIN}/approve`, { 'content-type': 'text/plain;charset=UTF-8', origin: `http://127.0.0.1:${port}` }, approval);
  expect(r).toEqual({ status: 415, body: { error: 'send application/json (got text/plain;charset=UTF-8)' } });
  const none = await raw('POST', `/v1/remediations/${id}/steps/${CONTAIN}/approve`, {}, approval);
  expect(none).toEqual({ status: 415, body: { error: 'send application/json (got no Content-Type)' } });
  // A JSON-looking parameter on a simple type is no JSON type either.
  expect((await raw('POST', `/v1/remediations/${id}/steps/${CONTAIN}/approve`, { 'content-type': 'text/plain; x=json' }, approval)).status).toBe(415);
  const s = await h.app.service.state(id);
  expect([s.status, s.approvals]).toEqual(['awaiting_approval', []]);
});

test('a page on another origin posts JSON to the API: 403 (a browser sends its Origin)', async () => {
  const id = await waiting(`loopback-origin-${Date.now()}`);
  const r = await raw('POST', `/v1/remediations/${id}/cancel`, { 'content-type': 'application/json', origin: 'https://evil.example' }, JSON.stringify({ by: 'alice', reason: 'x' }));
  expect(r).toEqual({ status: 403, body: { error: 'Origin "https://evil.example" is not this API\'s own: cross-origin requests from web pages are refused' } });
  expect((await raw('GET', `/v1/remediations/${id}`, { origin: 'null' })).status).toBe(403);
  expect((await h.app.service.state(id)).status).toBe('awaiting_approval');
});

test('a rebound DNS name (foreign Host) reads or approves: 403; loopback names with the port are this API', async () => {
  const id = await waiting(`loopback-host-${Date.now()}`);
  const rebound = await raw('POST', `/v1/remediations/${id}/steps/${CONTAIN}/approve`, { host: `evil.example:${port}`, 'content-type': 'application/json' }, approval);
  expect(rebound.status).toBe(403);
  expect(rebound.body.error).toMatch(/^Host "evil.example:\d+" is not this API's loopback address \(localhost, 127.0.0.1 or \[::1\] with port \d+\)/);
  expect((await raw('GET', `/v1/remediations/${id}`, { host: `evil.example:${port}` })).status).toBe(403);
  expect((await raw('GET', `/v1/remediations/${id}`, { host: '127.0.0.1:1' })).status).toBe(403);
  expect((await raw('GET', `/v1/remediations/${id}`, { host: '127.0.0.1' })).status).toBe(403);
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) expect([host, (await raw('GET', `/v1/remediations/${id}`, { host })).status]).toEqual([host, 200]);
  expect((await h.app.service.state(id)).approvals).toEqual([]);
});

test('on the loopback default a same-machine client approves without a login', async () => {
  const id = await waiting(`loopback-ok-${Date.now()}`);
  const r = await raw('POST', `/v1/remediations/${id}/steps/${CONTAIN}/approve`, { 'content-type': 'application/json' }, approval);
  expect(r.status).toBe(200);
  expect((await h.app.service.state(id)).approvals).toMatchObject([{ approver: 'alice', decision: 'approve' }]);
});
