/**
 * Issue 11 point 2, the resolve: with person authentication, a resolve sent through
 * POST /v1/detections that would lift a containment drw applied (the playbook's release step)
 * needs someone who could have approved that containment. On the real server: a critical
 * vulnerability on an internet-facing production host, contained after a secops approval while
 * its patch's pull request is open; an SRE's resolve is refused and the host stays contained, a
 * secops member's is accepted and the release runs once the patch is verified.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInProcessSystems } from '../../activities/inprocess';
import { eventually, startHarness, type Harness } from '../helpers/harness';
import { RUN } from '../helpers/scenario';
import { AUDIENCE, claims, ISSUER, testKey, tokenFor } from '../unit/auth/tokens';

const idp = testKey('ES256', 'idp-resolve-1');
const person = (sub: string, groups: string[]) => tokenFor(idp, claims({ sub, groups }));
const ASSET = `web-vuln-${RUN}`;
const CONTAIN = 'critical-vuln-internet-prod.contain';
const RELEASE = 'critical-vuln-internet-prod.release';

let h: Harness;
/** The patch's pull request stays open until the test merges it: until then the host stays contained. */
let merged = false;

beforeAll(async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'drw-resolve-'));
  // SREs may operate and submit detections by hand, not approve containment (the shipped sre group, plus submit:drw).
  writeFileSync(path.join(dir, 'access.yaml'), 'version: 1\ngroups:\n  secops: [read, operate, decide, "submit:*"]\n  sre: [read, operate, "submit:drw"]\n');
  const repos = createInProcessSystems().iac;
  h = await startHarness({
    // The CMDB knows the host as internet-facing production; the fake EDR has it as its own device.
    inprocess: { assets: { [ASSET]: { name: ASSET, environment: 'production', internetFacing: true, criticality: 'high' } } },
    override: { iac: { openPullRequest: (i) => repos.openPullRequest(i), getPullRequestState: async ({ number }) => ({ number, state: merged ? 'merged' : 'open' }) } },
    env: { DRW_JWT_PUBLIC_KEYS: idp.pem, DRW_JWT_ISSUER: ISSUER, DRW_JWT_AUDIENCE: AUDIENCE, DRW_ACCESS_POLICY: path.join(dir, 'access.yaml') },
  });
});
afterAll(() => h?.close());

async function call(method: string, url: string, token: string, body?: unknown) {
  const res = await fetch(url, { method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as any };
}

const vulnerability = (status: 'open' | 'resolved') => ({
  source: 'trivy',
  rule: 'CVE-2030-0001',
  title: `RCE in openssl on ${ASSET}`,
  severity: 'critical',
  category: 'vulnerability',
  riskScore: 80,
  status,
  asset: { id: ASSET, type: 'host', environment: 'production', internetFacing: true },
  details: { repository: 'acme/web', package: 'openssl', fixedVersion: '3.0.14', manifestPath: 'app/package.json' },
});

async function state(id: string, what: string, pred: (s: any) => boolean = () => true) {
  const reader = person('rita', ['secops']);
  return eventually(async () => {
    const r = await call('GET', `${h.api}/v1/remediations/${id}`, reader);
    return r.status === 200 && pred(r.body) ? r.body : undefined;
  }, what);
}

const step = (s: any, id: string) => s.plan.steps.find((x: any) => x.id === id);

test('an SRE resolves a critical vulnerability whose host secops contained: 403 naming the containment, the host stays contained; a secops member may resolve it', async () => {
  const opened = await call('POST', `${h.api}/v1/detections`, person('alice', ['secops']), vulnerability('open'));
  expect(opened.status).toBe(202);
  const id = opened.body.remediations[0].id;
  const waiting = await state(id, 'containment awaiting approval', (s) => s.status === 'awaiting_approval');
  const approved = await call('POST', `${h.api}/v1/remediations/${id}/steps/${CONTAIN}/approve`, person('bob', ['secops']), { reason: 'exposed RCE', digest: step(waiting, CONTAIN).digest });
  expect(approved.status).toBe(200);
  await state(id, 'contained, verifying the patch', (s) => s.status === 'verifying' && step(s, CONTAIN).status === 'done');
  expect(h.systems.record.containments.get(ASSET)).toBe('contained');

  // The SRE may submit detections by hand, and says the finding is gone: the resolve would lift the containment.
  const refused = await call('POST', `${h.api}/v1/detections`, person('sam', ['sre']), vulnerability('resolved'));
  expect(refused).toEqual({
    status: 403,
    body: { error: `sam may not resolve here: it would undo ${CONTAIN} (device ${ASSET}), which only @secops may approve`, details: { type: 'SafeguardUndone' } },
  });
  const held = await state(id, 'state');
  expect(held.status).toBe('verifying');
  expect(held.decisions.some((d: any) => d.kind === 'resolved_at_source')).toBe(false);
  expect(h.systems.record.containments.get(ASSET)).toBe('contained');

  const accepted = await call('POST', `${h.api}/v1/detections`, person('carol', ['secops']), vulnerability('resolved'));
  expect(accepted).toEqual({ status: 202, body: { remediations: [{ id, outcome: 'signalled' }] } });
  await state(id, 'the resolve recorded', (s) => s.decisions.some((d: any) => d.kind === 'resolved_at_source' && d.by === 'carol'));
  // The verification still holds the release until the patch is merged (verify is kept on a resolve).
  merged = true;
  const done = await state(id, 'resolved', (s) => s.status === 'resolved');
  expect(step(done, RELEASE).status).toBe('done');
  expect(h.systems.record.containments.get(ASSET)).toBe('normal');
});
