/**
 * People authenticate with a JWT verified against a JWKS endpoint (a local one here), the
 * identity and groups from the token go to the workflow, which applies the step policy
 * (default policy: edr-malware containment needs secops below risk 90). Bodies that name
 * someone else are refused. Also: non-loopback without authentication refuses to start, and
 * with nothing configured the API keeps its embedded behaviour on loopback.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ConfigError } from '../../common/config';
import { malwareDetection as detection, eventually, ROOT, startHarness, type Harness } from '../helpers/harness';
import { AUDIENCE, claims, ISSUER, signJwt, testKey, tokenFor } from '../unit/auth/tokens';

const DRW_TOKEN = 'drw-native-ingest-token-4c5d6e7f8a9b0c1d';
const rsa = testKey('RS256', 'idp-rsa-1');
const ec = testKey('ES256', 'idp-ec-1');
const impostor = testKey('RS256', 'idp-rsa-1'); // same kid, not the IdP's key

const alice = () => tokenFor(rsa, claims({ sub: 'alice', groups: ['secops', 'devs'] }));
const bob = () => tokenFor(ec, claims({ sub: 'bob', groups: ['secops'] }));
const mallory = () => tokenFor(rsa, claims({ sub: 'mallory', groups: ['devs'] }));
/** May decide (cloud-owners, policies/access.yaml), but this step needs secops. */
const carol = () => tokenFor(rsa, claims({ sub: 'carol', groups: ['cloud-owners'] }));
/** May operate (sre), may not approve containment. */
const olga = () => tokenFor(rsa, claims({ sub: 'olga', groups: ['sre'] }));

let jwks: http.Server;
let jwksHits = 0;
let h: Harness;

beforeAll(async () => {
  jwks = http.createServer((req, res) => {
    jwksHits++;
    if (req.url !== '/realms/secops/jwks') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify({ keys: [rsa.jwk, ec.jwk] }));
  });
  await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', () => r()));
  const port = (jwks.address() as AddressInfo).port;
  h = await startHarness({
    timeScale: 1,
    env: {
      DRW_JWT_JWKS_URL: `http://127.0.0.1:${port}/realms/secops/jwks`,
      DRW_JWT_ISSUER: ISSUER,
      DRW_JWT_AUDIENCE: AUDIENCE,
      DRW_INGEST_TOKENS: JSON.stringify({ drw: [DRW_TOKEN] }),
    },
  });
});
afterAll(async () => {
  await h?.close();
  await new Promise((r) => jwks?.close(r));
});

async function call(method: string, url: string, o: { body?: unknown; token?: string; headers?: Record<string, string> } = {}) {
  const res = await fetch(url, {
    method,
    headers: { ...(o.body === undefined ? {} : { 'content-type': 'application/json' }), ...(o.token ? { authorization: `Bearer ${o.token}` } : {}), ...o.headers },
    body: o.body === undefined ? undefined : JSON.stringify(o.body),
  });
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* keep text */
  }
  return { status: res.status, body, challenge: res.headers.get('www-authenticate') };
}

async function submit(asset: string, riskScore: number): Promise<string> {
  const r = await call('POST', `${h.api}/v1/detections`, { body: detection(asset, riskScore), token: DRW_TOKEN });
  expect(r.status).toBe(202);
  expect(r.body.remediations[0].outcome).toBe('started');
  return r.body.remediations[0].id;
}

async function waitFor(id: string, pred: (s: any) => boolean, what: string) {
  return eventually(async () => {
    const r = await call('GET', `${h.api}/v1/remediations/${id}`, { token: alice() });
    return r.status === 200 && pred(r.body) ? r.body : undefined;
  }, what);
}

const step = (s: any, id: string) => s.plan.steps.find((x: any) => x.id === id);
const CONTAIN = 'edr-malware.contain';

test('approve with the JWT of a secops member; no, expired, forged or foreign tokens 401; bodies naming someone else 403', async () => {
  const unauthenticated = await call('POST', `${h.api}/v1/detections`, { body: detection('auth-host-1', 60) });
  expect(unauthenticated.status).toBe(401);
  expect(unauthenticated.body.error).toBe('missing credentials for "drw": send Authorization: Bearer <token>');

  const id = await submit('auth-host-1', 60);
  const waiting = await waitFor(id, (s) => s.status === 'awaiting_approval', 'awaiting approval');
  // With person authentication an approval names the step digest the approver reviewed.
  const digest = step(waiting, CONTAIN).digest;
  const approve = (o: { token?: string; body?: Record<string, unknown> }) =>
    call('POST', `${h.api}/v1/remediations/${id}/steps/${CONTAIN}/approve`, { ...o, body: { reason: 'confirmed on the console', ...(o.body ?? {}), digest } });

  const none = await approve({});
  expect(none).toMatchObject({ status: 401, body: { error: 'missing credentials: send Authorization: Bearer <JWT>' }, challenge: 'Bearer realm="drw"' });

  const expired = await approve({ token: tokenFor(rsa, claims({ exp: Math.floor(Date.now() / 1000) - 600 })) });
  expect(expired.status).toBe(401);
  expect(expired.body.error).toMatch(/^invalid token: token expired at \d{4}-\d\d-\d\dT/);
  expect(expired.challenge).toMatch(/^Bearer realm="drw", error="invalid_token", error_description="token expired at /);

  expect((await approve({ token: tokenFor(impostor, claims({ sub: 'alice' })) })).body.error).toBe('invalid token: signature verification failed');
  expect((await approve({ token: tokenFor(rsa, claims({ aud: 'grafana' })) })).body.error).toBe('invalid token: token audience "grafana" does not include drw-api');
  expect((await approve({ token: tokenFor(rsa, claims({ iss: 'https://evil.example' })) })).status).toBe(401);
  expect((await approve({ token: signJwt(claims(), { alg: 'none' }) })).body.error).toBe('invalid token: unsigned tokens (alg "none") are refused');
  expect((await approve({ token: 'Bearer-not-a-jwt' })).status).toBe(401);

  const otherName = await approve({ token: alice(), body: { approver: 'bob', groups: ['secops'], reason: 'for bob' } });
  expect(otherName.status).toBe(403);
  expect(otherName.body.error).toBe('approver "bob" in the body differs from the authenticated user "alice" (token claim sub); omit approver, it is taken from the token');
  const moreGroups = await approve({ token: carol(), body: { groups: ['secops'], reason: 'let me' } });
  expect(moreGroups.status).toBe(403);
  expect(moreGroups.body.error).toBe('groups [secops] in the body are not in the token of "carol" (token groups [cloud-owners]); omit groups, they are taken from the token');

  // A valid token whose groups grant no "decide" (policies/access.yaml): refused before the workflow.
  const noPermission = await approve({ token: mallory() });
  expect(noPermission.status).toBe(403);
  expect(noPermission.body.error).toBe('mallory may not approve or deny steps: that needs the "decide" permission, which policies/access.yaml grants to none of their groups [devs]');
  // May decide, but not this step: the workflow's own approval rule refuses.
  const notSecops = await approve({ token: carol() });
  expect(notSecops.status).toBe(403);
  expect(notSecops.body.error).toMatch(/carol may not approve step "edr-malware.contain": it needs a member of \[secops\]/);
  expect(h.systems.record.isolateCalls).not.toContain('auth-host-1');

  const unreviewed = await call('POST', `${h.api}/v1/remediations/${id}/steps/${CONTAIN}/approve`, { token: alice(), body: { reason: 'no digest' } });
  expect([unreviewed.status, unreviewed.body.error]).toEqual([400, expect.stringMatching(/^digest is required/)]);

  const ok = await approve({ token: alice() });
  expect(ok.status).toBe(200);
  expect(step(ok.body, CONTAIN).status).toBe('pending');
  const s = await waitFor(id, (x) => x.approvals.length === 1, 'the approval recorded');
  expect(s.approvals[0]).toMatchObject({ stepId: CONTAIN, approver: 'alice', groups: ['secops', 'devs'], decision: 'approve', via: 'update' });
  await eventually(async () => (h.systems.record.isolateCalls.includes('auth-host-1') ? true : undefined), 'auth-host-1 contained');
  // Every token above was checked against one fetch of the JWKS.
  expect(jwksHits).toBe(1);
});

test('risk, pause, resume and cancel take the person from the token; every operator route needs one', async () => {
  const id = await submit('auth-host-2', 50);
  await waitFor(id, (s) => s.status === 'awaiting_approval', 'awaiting approval');
  const base = `${h.api}/v1/remediations/${id}`;

  for (const [p, body] of [
    ['risk', { riskScore: 55, reason: 'r' }],
    ['pause', { reason: 'r' }],
    ['resume', { reason: 'r' }],
    ['cancel', { reason: 'r' }],
    ['false-positive', { reason: 'r' }],
    [`steps/${CONTAIN}/approve`, { reason: 'r' }],
    [`steps/${CONTAIN}/deny`, { reason: 'r' }],
  ] as const) {
    const r = await call('POST', `${base}/${p}`, { body, headers: { 'x-drw-signature-256': 'sha256=00' } });
    expect([p, r.status, r.challenge]).toEqual([p, 401, 'Bearer realm="drw"']);
  }
  expect((await call('GET', base)).status).toBe(401);

  expect((await call('POST', `${base}/risk`, { token: alice(), body: { riskScore: 55, reason: 'beacon seen', by: 'mallory' } })).status).toBe(403);
  expect((await call('POST', `${base}/risk`, { token: alice(), body: { riskScore: 55, reason: 'beacon seen' } })).status).toBe(202);
  const pauseAsOther = await call('POST', `${base}/pause`, { token: alice(), body: { by: 'bob', reason: 'hold on' } });
  expect(pauseAsOther.status).toBe(403);
  expect(pauseAsOther.body.error).toMatch(/^by "bob" in the body differs from the authenticated user "alice"/);
  expect((await call('POST', `${base}/pause`, { token: alice(), body: { by: 'alice', reason: 'hold on' } })).status).toBe(202);
  expect((await call('POST', `${base}/resume`, { token: bob(), body: { reason: 'go on' } })).status).toBe(202);
  expect((await call('POST', `${base}/cancel`, { token: alice(), body: { reason: 'done here' } })).status).toBe(202);

  const s = await waitFor(id, (x) => x.status === 'cancelled', 'cancelled');
  const by = (re: RegExp) => s.decisions.find((d: any) => re.test(d.summary))?.by;
  expect(by(/risk score 50 → 55: beacon seen/)).toBe('alice');
  expect(by(/^paused by alice: hold on/)).toBe('alice');
  expect(by(/^resumed by bob: go on/)).toBe('bob');
  expect(by(/^cancel requested by alice: done here/)).toBe('alice');
});

test('a person may submit a detection by hand with a JWT: recorded as the requester, may not approve it; another secops member denies', async () => {
  const r = await call('POST', `${h.api}/v1/detections`, { body: detection('auth-host-3', 40), token: bob() });
  expect(r.status).toBe(202);
  const s = await waitFor(r.body.remediations[0].id, (x) => x.status === 'awaiting_approval', 'awaiting approval');
  expect(s.decisions[0]).toMatchObject({ kind: 'received', by: 'bob' });
  expect(step(s, CONTAIN).requestedBy).toBe('bob');
  // ...and, as the requester, may not approve their own change.
  const digest = step(s, CONTAIN).digest;
  const self = await call('POST', `${h.api}/v1/remediations/${s.id}/steps/${CONTAIN}/approve`, { token: bob(), body: { reason: 'mine', digest } });
  expect(self.status).toBe(403);
  expect(self.body.error).toMatch(/bob requested step "edr-malware.contain" and may not approve their own change/);
  const denied = await call('POST', `${h.api}/v1/remediations/${s.id}/steps/${CONTAIN}/deny`, { token: alice(), body: { reason: 'a lab machine', digest } });
  expect(denied.status).toBe(200);
  expect(step(denied.body, CONTAIN)).toMatchObject({ status: 'skipped', approval: { deniedBy: 'alice' } });
});

test('an SRE who may operate raises the risk to 95 so containment would skip its secops approval: 403; a secops member may', async () => {
  const id = await submit('auth-host-4', 60);
  await waitFor(id, (x) => x.status === 'awaiting_approval', 'awaiting approval');
  const base = `${h.api}/v1/remediations/${id}`;
  const refused = await call('POST', `${base}/risk`, { token: olga(), body: { riskScore: 95, reason: 'looks bad' } });
  expect(refused.status).toBe(403);
  expect(refused.body.error).toMatch(/^olga may not change the risk score here: it would skip the approval of edr-malware.contain, which only @secops may approve/);
  // Pausing undoes nothing: an SRE may.
  expect((await call('POST', `${base}/pause`, { token: olga(), body: { reason: 'hold' } })).status).toBe(202);
  expect((await call('POST', `${base}/resume`, { token: olga(), body: { reason: 'go' } })).status).toBe(202);
  expect(h.systems.record.isolateCalls).not.toContain('auth-host-4');
  const s = await waitFor(id, (x) => x.status === 'awaiting_approval', 'still awaiting approval');
  expect(s.riskScore).toBe(60);
  // Someone who could approve the containment may raise the risk: the policy then contains at once.
  expect((await call('POST', `${base}/risk`, { token: bob(), body: { riskScore: 95, reason: 'lateral movement' } })).status).toBe(202);
  await eventually(async () => (h.systems.record.isolateCalls.includes('auth-host-4') ? true : undefined), 'auth-host-4 contained');
});

describe('listening address', () => {
  test('a non-loopback address without authentication refuses to start, naming the variables', async () => {
    const err = await startHarness({ env: { DRW_API_HOST: '0.0.0.0' } }).then(
      async (x) => (await x.close(), undefined),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(/DRW_API_HOST: 0.0.0.0 is not a loopback address/);
    expect((err as ConfigError).message).toMatch(/DRW_JWT_JWKS_URL with DRW_JWT_ISSUER and DRW_JWT_AUDIENCE; or DRW_JWT_PUBLIC_KEYS or DRW_JWT_HS256_SECRET/);
    expect((err as ConfigError).message).toMatch(/DRW_INGEST_TOKENS, DRW_INGEST_HMAC_SECRETS or DRW_GITHUB_WEBHOOK_SECRET/);

    const half = await startHarness({ env: { DRW_API_HOST: '10.1.2.3', DRW_JWT_HS256_SECRET: 'x'.repeat(32) } }).then(
      async (x) => (await x.close(), undefined),
      (e: unknown) => e,
    );
    expect((half as Error).message).toMatch(/10.1.2.3 is not a loopback address.*Configure ingest authentication/s);
    expect((half as Error).message).not.toMatch(/person authentication/);
  });

  test('with nothing configured, loopback keeps the embedded behaviour: detections and reads need no credentials', async () => {
    const open = await startHarness();
    try {
      // A sample with its own instance label: workflow ids follow dedupe keys, and ingest.test.ts posts the original.
      const sample = JSON.parse(readFileSync(path.join(process.env.DRW_SAMPLES_DIR ?? path.resolve(ROOT, '..', 'shared', 'samples'), 'alertmanager', 'moan0s-alertbot-prometheus-firing.json'), 'utf8'));
      sample.alerts[0].labels.instance = `auth-e2e-${Date.now()}`;
      delete sample.alerts[0].fingerprint;
      const r = await fetch(`${open.api}/v1/detections/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(sample) });
      expect(r.status).toBe(202);
      const body = (await r.json()) as any;
      expect(body.remediations).toEqual([{ id: expect.stringMatching(/^drw-alertmanager-/), outcome: 'started' }]);
      expect((await fetch(`${open.api}/v1/remediations/${body.remediations[0].id}`)).status).toBe(200);
    } finally {
      await open.close();
    }
  });
});
