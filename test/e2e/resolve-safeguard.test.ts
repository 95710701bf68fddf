/**
 * Issue 11 point 2, the resolve: with person authentication, a person's resolve that would lift
 * a containment drw applied (the playbook's release step) needs someone who could have approved
 * that containment. On the real server: a critical vulnerability on an internet-facing production
 * host, contained after a secops approval while its patch's pull request is open; an SRE's resolve
 * is refused and the host stays contained; a secops member's (or the owning source's credential)
 * is accepted and the release runs once the patch is verified.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInProcessSystems } from '../../activities/inprocess';
import { eventually, startHarness, type Harness } from '../helpers/harness';
import { RUN } from '../helpers/scenario';
import { remediationId } from '../../domain/ids';
import { AUDIENCE, claims, ISSUER, testKey, tokenFor } from '../unit/auth/tokens';
import { SAMPLES_DIR } from '../unit/ingest/samples';

const idp = testKey('ES256', 'idp-resolve-1');
const person = (sub: string, groups: string[]) => tokenFor(idp, claims({ sub, groups }));
const ASSET = `web-vuln-${RUN}`;
const OCSF_ASSET = `i-vuln-${RUN}`;
const OCSF_TOKEN = 'ocsf-ingest-token-for-the-resolve-safeguard-test';
const CONTAIN = 'critical-vuln-internet-prod.contain';
const PATCH = 'critical-vuln-internet-prod.patch';
const RELEASE = 'critical-vuln-internet-prod.release';

let h: Harness;
/** Patch pull requests stay open until the test merges them: until then the host stays contained. */
const merged = new Set<number>();

beforeAll(async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'drw-resolve-'));
  // SREs may operate and submit detections by hand, not approve containment (the shipped sre group, plus submit:drw).
  writeFileSync(path.join(dir, 'access.yaml'), 'version: 1\ngroups:\n  secops: [read, operate, decide, "submit:*"]\n  sre: [read, operate, "submit:drw", "submit:ocsf"]\n');
  const repos = createInProcessSystems().iac;
  h = await startHarness({
    // The CMDB knows the host as internet-facing production; the fake EDR has it as its own device.
    inprocess: {
      assets: {
        [ASSET]: { name: ASSET, environment: 'production', internetFacing: true, criticality: 'high' },
        [OCSF_ASSET]: { name: OCSF_ASSET, environment: 'production', internetFacing: true, criticality: 'high', repository: 'acme/web' },
      },
    },
    override: { iac: { previewChange: (i) => repos.previewChange(i), openPullRequest: (i) => repos.openPullRequest(i), getPullRequestState: async ({ number }) => ({ number, state: merged.has(number) ? 'merged' : 'open' }) } },
    env: {
      DRW_JWT_PUBLIC_KEYS: idp.pem,
      DRW_JWT_ISSUER: ISSUER,
      DRW_JWT_AUDIENCE: AUDIENCE,
      DRW_INGEST_TOKENS: JSON.stringify({ ocsf: [OCSF_TOKEN] }),
      DRW_ACCESS_POLICY: path.join(dir, 'access.yaml'),
    },
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

/** Bob (secops) approves the containment; then the host is contained and the patch's pull request verified (open until merged). */
async function contained(id: string, asset: string) {
  const waiting = await state(id, 'containment awaiting approval', (s) => s.status === 'awaiting_approval');
  const approved = await call('POST', `${h.api}/v1/remediations/${id}/steps/${CONTAIN}/approve`, person('bob', ['secops']), { reason: 'exposed RCE', digest: step(waiting, CONTAIN).digest });
  expect(approved.status).toBe(200);
  const s = await state(id, 'contained, verifying the patch', (x) => x.status === 'verifying' && step(x, CONTAIN).status === 'done');
  expect(h.systems.record.containments.get(asset)).toBe('contained');
  return s;
}

/** Amazon Inspector's finding, as Security Lake sends it in OCSF, made critical and about one instance. */
function inspectorFinding(resolved: boolean, instance = OCSF_ASSET) {
  const e = JSON.parse(readFileSync(path.join(SAMPLES_DIR, 'ocsf', 'ocsf-examples-2002-vulnerability-finding-inspector.json'), 'utf8'));
  e.severity_id = 5;
  e.finding_info.uid = `finding-${instance}`;
  e.resources = [{ uid: instance, type: 'AwsEc2Instance' }];
  if (resolved) Object.assign(e, { status: 'Resolved', status_id: 4 });
  return e;
}

test('an SRE resolves a critical vulnerability whose host secops contained: 403 naming the containment, the host stays contained; a secops member may resolve it', async () => {
  const opened = await call('POST', `${h.api}/v1/detections`, person('alice', ['secops']), vulnerability('open'));
  expect(opened.status).toBe(202);
  const id = opened.body.remediations[0].id;
  const s = await contained(id, ASSET);

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
  merged.add(step(s, PATCH).result.number);
  const done = await state(id, 'resolved', (s) => s.status === 'resolved');
  expect(step(done, RELEASE).status).toBe('done');
  expect(h.systems.record.containments.get(ASSET)).toBe('normal');
});

test("an SRE posts the scanner's resolved finding for a contained host: 403, nothing submitted; the scanner's own credential resolves it as before", async () => {
  const opened = await call('POST', `${h.api}/v1/detections/ocsf`, OCSF_TOKEN, inspectorFinding(false));
  expect(opened.status).toBe(202);
  const id = opened.body.remediations[0].id;
  const s = await contained(id, OCSF_ASSET);

  // With a new finding ahead of the resolve in the same payload: the refusal submits neither.
  const other = `i-other-${RUN}`;
  const refused = await call('POST', `${h.api}/v1/detections/ocsf`, person('sam', ['sre']), [inspectorFinding(false, other), inspectorFinding(true)]);
  expect(refused).toEqual({
    status: 403,
    body: { error: `sam may not resolve here: it would undo ${CONTAIN} (device ${OCSF_ASSET}), which only @secops may approve`, details: { type: 'SafeguardUndone' } },
  });
  expect((await state(id, 'state')).decisions.some((d: any) => d.kind === 'resolved_at_source')).toBe(false);
  expect(h.systems.record.containments.get(OCSF_ASSET)).toBe('contained');
  expect((await call('GET', `${h.api}/v1/remediations/${remediationId(`ocsf:inspector|finding-${other}`)}`, person('rita', ['secops']))).status).toBe(404);

  // The source says the finding is fixed: its credential owns the remediation and resolves it.
  const resolved = await call('POST', `${h.api}/v1/detections/ocsf`, OCSF_TOKEN, inspectorFinding(true));
  expect(resolved.body.remediations).toEqual([{ id, outcome: 'signalled' }]);
  await state(id, 'the resolve recorded', (x) => x.decisions.some((d: any) => d.kind === 'resolved_at_source' && d.by === 'ingest:ocsf'));
  merged.add(step(s, PATCH).result.number);
  await state(id, 'resolved', (x) => x.status === 'resolved');
  expect(h.systems.record.containments.get(OCSF_ASSET)).toBe('normal');
});
