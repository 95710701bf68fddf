/**
 * Authorization per action on the real server (policies/access.yaml's shape, a test file here):
 * every route is called by an identity holding exactly its permission (answered, never 403) and
 * by one holding every other permission but that one (403 naming it). Tokens are signed in the
 * test with jose. Then the attacks of issue 11 by an authenticated user in no group.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import * as jose from 'jose';
import { ACTION_PERMISSIONS } from '../../api/auth/access';
import type { DrwRoute } from '../../api/route';
import { apiRoutes } from '../../api/routes';
import type { RemediationService } from '../../api/service';
import { ConfigError } from '../../common/config';
import { createLogger } from '../../common/logger';
import { malwareDetection as detection, eventually, startHarness, type Harness } from '../helpers/harness';
import { SAMPLES_DIR } from '../unit/ingest/samples';

const ISSUER = 'https://idp.test.drw/realms/secops';
const AUDIENCE = 'drw-api';
const AM_TOKEN = 'alertmanager-ingest-token-for-the-access-test-0123';
const CONTAIN = 'edr-malware.contain';
/** Every permission a route can need here; submit:* is left out so each source is its own. */
const ALL = [...ACTION_PERMISSIONS, 'submit:drw', 'submit:alertmanager', 'submit:jira', 'submit:servicenow'];

let h: Harness;
let key: jose.KeyLike;

/** A group per permission: a user's groups are exactly the permissions they hold. */
const ACCESS = ['version: 1', 'groups:', ...ALL.map((p) => `  only-${p.replace(':', '-')}: ["${p}"]`), '  secops: []', ''].join('\n');
const group = (p: string) => `only-${p.replace(':', '-')}`;

async function token(user: string, groups: string[], claims: Record<string, unknown> = {}): Promise<string> {
  return new jose.SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: user, groups, ...claims }).setProtectedHeader({ alg: 'RS256', kid: 'access-test' }).setIssuedAt().setExpirationTime('5m').sign(key);
}
/** Holds only `p` (and secops, which the default playbooks' approval rules name and which grants nothing here). */
const permitted = (p: string) => token(`has-${p}`, [group(p), 'secops']);
/** Holds every permission but `p`. */
const refused = (p: string) => token(`lacks-${p}`, [...ALL.filter((x) => x !== p).map(group), 'secops']);

async function call(method: string, url: string, o: { body?: unknown; token?: string; headers?: Record<string, string> } = {}) {
  const res = await fetch(url, {
    method,
    headers: { ...(o.body === undefined ? {} : { 'content-type': 'application/json' }), ...(o.token ? { authorization: `Bearer ${o.token}` } : {}), ...o.headers },
    body: o.body === undefined ? undefined : typeof o.body === 'string' ? o.body : JSON.stringify(o.body),
  });
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* keep text */
  }
  return { status: res.status, body };
}

async function submit(asset: string, riskScore: number): Promise<string> {
  const r = await call('POST', `${h.api}/v1/detections`, { body: detection(asset, riskScore), token: await permitted('submit:drw') });
  expect(r.status).toBe(202);
  return r.body.remediations[0].id;
}

async function awaitingApproval(id: string) {
  const reader = await permitted('read');
  return eventually(async () => {
    const r = await call('GET', `${h.api}/v1/remediations/${id}`, { token: reader });
    return r.status === 200 && r.body.status === 'awaiting_approval' ? r.body : undefined;
  }, `${id} awaiting approval`);
}

beforeAll(async () => {
  const pair = await jose.generateKeyPair('RS256');
  key = pair.privateKey;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'drw-access-'));
  writeFileSync(path.join(dir, 'access.yaml'), ACCESS);
  h = await startHarness({
    timeScale: 1,
    env: {
      DRW_JWT_PUBLIC_KEYS: await jose.exportSPKI(pair.publicKey),
      DRW_JWT_ISSUER: ISSUER,
      DRW_JWT_AUDIENCE: AUDIENCE,
      DRW_INGEST_TOKENS: JSON.stringify({ alertmanager: [AM_TOKEN] }),
      DRW_ACCESS_POLICY: path.join(dir, 'access.yaml'),
    },
  });
});
afterAll(async () => {
  await h?.close();
});

/** The routes as the server declares them (the matrix follows any route added later). */
function declaredRoutes(): DrwRoute[] {
  return apiRoutes({ service: {} as RemediationService, client: {} as Client, logger: createLogger('silent'), users: true });
}

function alertmanagerPayload(instance: string): string {
  const sample = JSON.parse(readFileSync(path.join(SAMPLES_DIR, 'alertmanager', 'moan0s-alertbot-prometheus-firing.json'), 'utf8'));
  sample.alerts[0].labels.instance = instance;
  delete sample.alerts[0].fingerprint;
  return JSON.stringify(sample);
}

test('every route × an identity holding its permission (answered) and one holding every other permission (403 naming it)', async () => {
  const id = await submit(`access-matrix-${Date.now()}`, 50);
  await awaitingApproval(id);
  const routes = declaredRoutes();
  // What each route must need, written out: a route declared with another permission (or a new one not listed) fails here.
  const expected: Record<string, string> = {
    'POST /v1/detections': 'submit:drw',
    'POST /v1/detections/{format}': 'submit:alertmanager',
    'GET /v1/remediations': 'read',
    'GET /v1/remediations/{id}': 'read',
    'GET /v1/remediations/{id}/report': 'read',
    'GET /v1/remediations/{id}/history': 'read',
    'POST /v1/remediations/{id}/risk': 'operate',
    'POST /v1/remediations/{id}/pause': 'operate',
    'POST /v1/remediations/{id}/resume': 'operate',
    'POST /v1/remediations/{id}/cancel': 'operate',
    'POST /v1/remediations/{id}/false-positive': 'operate',
    'POST /v1/remediations/{id}/steps/{stepId}/approve': 'decide',
    'POST /v1/remediations/{id}/steps/{stepId}/deny': 'decide',
    'POST /v1/policy/publish': 'operate',
    'POST /v1/integrations/jira/webhook': 'submit:jira',
    'POST /v1/integrations/servicenow/callback': 'submit:servicenow',
  };
  expect(routes.map((r) => `${r.method} ${r.path}`).sort()).toEqual(Object.keys(expected).sort());
  const bodies: Record<string, unknown> = {
    '/v1/detections': detection(`access-matrix-new-${Date.now()}`, 50),
    '/v1/detections/{format}': alertmanagerPayload(`access-matrix-${Date.now()}`),
    '/v1/remediations/{id}/risk': { riskScore: 55, reason: 'matrix' },
  };
  const rows: string[] = [];
  for (const r of routes) {
    const needed = expected[`${r.method} ${r.path}`];
    const url = h.api + r.path.replace('{id}', id).replace('{stepId}', CONTAIN).replace('{format}', 'alertmanager');
    const body = r.method === 'POST' ? (bodies[r.path] ?? { reason: 'matrix' }) : undefined;
    const yes = await call(r.method, url, { token: await permitted(needed), body });
    const no = await call(r.method, url, { token: await refused(needed), body });
    rows.push(`${r.method} ${r.path} [${needed}] permitted ${yes.status < 500 && yes.status !== 401 && yes.status !== 403 ? 'ok' : `${yes.status} ${JSON.stringify(yes.body).slice(0, 200)}`}, refused ${no.status === 403 && String(no.body.error).includes(`"${needed}" permission`) ? 'ok' : `${no.status} ${JSON.stringify(no.body).slice(0, 200)}`}`);
  }
  expect(rows).toEqual(rows.map((row) => row.replace(/permitted .*, refused .*/, 'permitted ok, refused ok')));
});

test('a user in no group raises the risk to 95 so containment skips its approval: 403, nothing contained', async () => {
  const asset = `access-risk-${Date.now()}`;
  const id = await submit(asset, 50);
  await awaitingApproval(id);
  const nobody = await token('nobody', []);
  const r = await call('POST', `${h.api}/v1/remediations/${id}/risk`, { token: nobody, body: { riskScore: 95, reason: 'trust me' } });
  expect(r).toEqual({ status: 403, body: { error: 'nobody may not operate remediations (pause, resume, cancel, false-positive, risk, policy publish): that needs the "operate" permission, which policies/access.yaml grants to none of their groups []' } });
  const s = await awaitingApproval(id);
  expect(s.riskScore).toBe(50);
  expect(h.systems.record.isolateCalls).not.toContain(asset);
});

test('a user in no group cancels, marks a false positive, approves and submits detections: each 403, the remediation still waits', async () => {
  const id = await submit(`access-nobody-${Date.now()}`, 50);
  await awaitingApproval(id);
  const nobody = await token('nobody', ['devs']);
  const attempts = [
    call('POST', `${h.api}/v1/remediations/${id}/cancel`, { token: nobody, body: { reason: 'release it' } }),
    call('POST', `${h.api}/v1/remediations/${id}/false-positive`, { token: nobody, body: { reason: 'release it' } }),
    call('POST', `${h.api}/v1/remediations/${id}/steps/${CONTAIN}/approve`, { token: nobody, body: { reason: 'me' } }),
    call('POST', `${h.api}/v1/detections`, { token: nobody, body: detection('domain-controller-1', 95) }),
    call('POST', `${h.api}/v1/detections/alertmanager`, { token: nobody, body: alertmanagerPayload('access-nobody') }),
    call('GET', `${h.api}/v1/remediations/${id}`, { token: nobody }),
  ];
  expect((await Promise.all(attempts)).map((r) => r.status)).toEqual([403, 403, 403, 403, 403, 403]);
  const s = await awaitingApproval(id);
  expect(s.decisions.some((d: any) => /cancel|false positive/i.test(d.summary))).toBe(false);
});

test('a valid token issued for another application (audience) is refused: 401', async () => {
  const other = await token('alice', [group('read')], { aud: 'grafana' });
  const r = await call('GET', `${h.api}/v1/remediations`, { token: other });
  expect(r.status).toBe(401);
  expect(r.body.error).toBe('invalid token: token audience "grafana" does not include drw-api');
});

test('an ingest token grants submitting from its own source only: not reading, not operating, not another source', async () => {
  const id = await submit(`access-ingest-${Date.now()}`, 50);
  expect((await call('POST', `${h.api}/v1/detections/alertmanager`, { token: AM_TOKEN, body: alertmanagerPayload(`access-ingest-${Date.now()}`) })).status).toBe(202);
  expect((await call('POST', `${h.api}/v1/detections`, { token: AM_TOKEN, body: detection('access-ingest-native', 50) })).status).toBe(401);
  expect((await call('GET', `${h.api}/v1/remediations/${id}`, { token: AM_TOKEN })).status).toBe(401);
  expect((await call('POST', `${h.api}/v1/remediations/${id}/cancel`, { token: AM_TOKEN, body: { reason: 'x' } })).status).toBe(401);
});

test('a non-loopback bind with an HS256 secret but no issuer or audience refuses to start', async () => {
  const err = await startHarness({ env: { DRW_API_HOST: '0.0.0.0', DRW_JWT_HS256_SECRET: 'x'.repeat(32), DRW_INGEST_TOKENS: JSON.stringify({ '*': AM_TOKEN }) } }).then(
    async (x) => (await x.close(), undefined),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  expect((err as Error).message).toMatch(/0.0.0.0 is not a loopback address: set DRW_JWT_ISSUER and DRW_JWT_AUDIENCE/);
});
