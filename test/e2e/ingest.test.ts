/**
 * POST /v1/detections/{format} on the real server, with ingest authentication on: every sample
 * payload in ../shared/samples goes to its format's route with its source's credential (bearer
 * token, X-Drw-Signature-256 over the timestamp and the exact bytes, or GitHub's X-Hub-Signature-256), and each
 * finding must start a remediation, signal the open one (repeat or resolution), or be ignored
 * (resolved with nothing open). The policy holds every remediation for a person, so what is
 * open is deterministic. Then the refusals: 401 (token, HMAC, tampered body), 404, 413, 415, 400, 422.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { remediationId } from '../../domain/ids';
import { normalize, type FormatName } from '../../ingest';
import { signIngestRequest } from '../../api/auth/ingest';
import { signHmacSha256 } from '../../ingest/signatures';
import { eventually, startHarness, type Harness } from '../helpers/harness';
import { AUDIENCE, claims, ISSUER, signJwt } from '../unit/auth/tokens';
import { allSampleFiles, FOLDER_FORMAT, SAMPLES_DIR } from '../unit/ingest/samples';


const AM_TOKEN = 'alertmanager-ingest-token-7f3a9c1e5b2d4f60';
const ANY_TOKEN = 'any-source-ingest-token-0a1b2c3d4e5f6071';
const FALCO_SECRET = 'falco-hmac-secret-5d6e7f8091a2b3c4';
const WAZUH_SECRET = 'wazuh-hmac-secret-c4b3a29180f7e6d5';
const GITHUB_SECRET = 'github-webhook-secret-9e8d7c6b5a493827';
const JWT_SECRET = 'ingest-test-hs256-secret-with-32-plus-chars';

/** Holds every remediation at an approval, so nothing closes on its own during the test. */
const HOLD_POLICY = `
id: hold
name: Hold every remediation for a person
match: {}
steps:
  - id: decide
    action: runbook.run
    title: A person decides (withdrawn when the finding resolves at the source)
    params: { runbook: triage, service: "{{asset.id}}" }
    approval: { groups: [secops] }
`;

let h: Harness;
beforeAll(async () => {
  const policyDir = mkdtempSync(path.join(os.tmpdir(), 'drw-ingest-policy-'));
  writeFileSync(path.join(policyDir, '10-hold.yaml'), HOLD_POLICY);
  h = await startHarness({
    policyDir,
    timeScale: 1,
    env: {
      DRW_INGEST_TOKENS: JSON.stringify({ alertmanager: [AM_TOKEN], '*': [ANY_TOKEN] }),
      DRW_INGEST_HMAC_SECRETS: JSON.stringify({ falco: FALCO_SECRET, wazuh: [WAZUH_SECRET] }),
      DRW_GITHUB_WEBHOOK_SECRET: GITHUB_SECRET,
      DRW_JWT_HS256_SECRET: JWT_SECRET,
      DRW_JWT_ISSUER: ISSUER,
      DRW_JWT_AUDIENCE: AUDIENCE,
    },
  });
});
afterAll(async () => {
  // The policy holds remediations open forever: end them, so a rerun against a long-lived server starts afresh.
  await Promise.all([...open.keys()].map((id) => h?.app.service.handle(id).terminate('ingest e2e test done').catch(() => undefined)));
  await h?.close();
});

const reader = () => signJwt(claims({ sub: 'reader', groups: ['auditors'] }), { alg: 'HS256', key: JWT_SECRET });

async function call(method: string, url: string, o: { body?: Buffer | string; headers?: Record<string, string> } = {}) {
  const res = await fetch(url, { method, headers: o.headers, body: o.body });
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* keep text */
  }
  return { status: res.status, body, headers: res.headers };
}

async function state(id: string) {
  const r = await call('GET', `${h.api}/v1/remediations/${id}`, { headers: { authorization: `Bearer ${reader()}` } });
  return r.status === 200 ? r.body : undefined;
}

/** The credential each source sends: Alertmanager its own token, Falco and Wazuh an HMAC, GitHub its signature, the rest the "*" token. */
function credentialHeaders(format: FormatName, bytes: Buffer, file: string): Record<string, string> {
  switch (format) {
    case 'alertmanager':
      return { authorization: `Bearer ${AM_TOKEN}` };
    case 'falco':
      return signIngestRequest(FALCO_SECRET, bytes);
    case 'wazuh':
      return signIngestRequest(WAZUH_SECRET, bytes);
    case 'github': {
      const event = /(code_scanning_alert|dependabot_alert|secret_scanning_alert)/.exec(file)?.[1];
      return { 'x-hub-signature-256': signHmacSha256(GITHUB_SECRET, bytes), 'x-github-delivery': `e2e-${path.basename(file)}`, ...(event ? { 'x-github-event': event } : {}) };
    }
    default:
      return { authorization: `Bearer ${ANY_TOKEN}` };
  }
}

function post(format: string, bytes: Buffer | string, headers: Record<string, string>) {
  return call('POST', `${h.api}/v1/detections/${format}`, { body: bytes, headers: { 'content-type': 'application/json', ...headers } });
}

// What is open and how many firing findings each open remediation has seen, as the test posts.
const open = new Map<string, number>();
const resolvedSignalled: string[] = [];
const firstPost = new Map<string, { format: FormatName; bytes: Buffer; headers: Record<string, string>; ids: string[] }>();
const files = allSampleFiles().filter((f) => f.toLowerCase().endsWith('.json'));

test(`samples exist in ${SAMPLES_DIR}, each in a folder with a format`, () => {
  expect(files.length).toBeGreaterThan(30);
  for (const f of files) expect(FOLDER_FORMAT[f.split('/')[0]]).toBeDefined();
});

test.each(files)('%s: started, signalled or ignored per finding', async (file) => {
  const format = FOLDER_FORMAT[file.split('/')[0]];
  const bytes = readFileSync(path.join(SAMPLES_DIR, file));
  const headers = credentialHeaders(format, bytes, file);
  const local = normalize(format, bytes, { headers });
  expect(local.findings.length).toBeGreaterThan(0);

  const expected = local.findings.map((f) => {
    const id = remediationId(h.app.service.dedupeKeyFor(f));
    if (f.status === 'resolved') {
      if (!open.has(id)) return { id, outcome: 'ignored' };
      open.delete(id);
      resolvedSignalled.push(id);
      return { id, outcome: 'signalled' };
    }
    const seen = open.get(id);
    open.set(id, (seen ?? 0) + 1);
    return { id, outcome: seen === undefined ? 'started' : 'signalled' };
  });

  const r = await post(format, bytes, headers);
  expect(r.status).toBe(202);
  expect(r.body.skipped).toEqual(local.skipped);
  expect(r.body.remediations.map((x: any) => ({ id: x.id, outcome: x.outcome }))).toEqual(expected);
  for (const x of r.body.remediations) if (x.outcome === 'ignored') expect(x.reason).toBe('resolved, and no open remediation for this key');
  firstPost.set(file, { format, bytes, headers, ids: expected.map((e) => e.id) });
});

test('every open remediation runs with the findings it was sent; resolved ones (firing + resolved pairs) closed as resolved at the source', async () => {
  expect(open.size).toBeGreaterThan(20);
  for (const [id, count] of open) {
    const s = await eventually(async () => {
      const v = await state(id);
      return v && v.findingCount === count && v.status === 'awaiting_approval' ? v : undefined;
    }, `${id}: ${count} finding(s), awaiting approval`);
    expect(s.decisions[0]).toMatchObject({ kind: 'received', by: expect.stringMatching(/^ingest:/) });
  }
  // The Alertmanager firing/resolved pair and the GitHub code-scanning created/fixed pair.
  const am = firstPost.get('alertmanager/metalmatze-alertmanager-bot-firing.json')!.ids[0];
  const gh = firstPost.get('github/octokit-code_scanning_alert-created.json')!.ids[0];
  expect(resolvedSignalled).toEqual(expect.arrayContaining([am, gh]));
  for (const id of resolvedSignalled) {
    const s = await eventually(async () => {
      const v = await state(id);
      return v && v.status === 'resolved' ? v : undefined;
    }, `${id} resolved at the source`);
    expect(s.resolution).toBe('resolved_at_source');
    expect(s.decisions.some((d: any) => d.kind === 'resolved_at_source' && d.by?.startsWith('ingest:'))).toBe(true);
  }
});

test('a repeat of a sample signals the same remediation (findingAdded), never a second one', async () => {
  const first = firstPost.get('falco/elastic-integrations-falco-run-shell-untrusted.json')!;
  const before = (await state(first.ids[0]))!.findingCount;
  const again = await post(first.format, first.bytes, first.headers);
  expect(again.status).toBe(202);
  expect(again.body.remediations).toEqual([{ id: first.ids[0], outcome: 'signalled' }]);
  await eventually(async () => ((await state(first.ids[0]))?.findingCount === before + 1 ? true : undefined), 'findingCount + 1');
});

describe('refusals (nothing is started)', () => {
  const am = () => readFileSync(path.join(SAMPLES_DIR, 'alertmanager', 'moan0s-alertbot-prometheus-firing.json'));
  /** An Alertmanager payload whose alert no other test sends, with the id it would get. */
  const fresh = (tag: string) => {
    const doc = JSON.parse(am().toString('utf8'));
    doc.alerts[0].labels.instance = `refusal-${tag}-${Date.now()}`;
    delete doc.alerts[0].fingerprint;
    const bytes = Buffer.from(JSON.stringify(doc));
    const [f] = normalize('alertmanager', bytes, {}).findings;
    return { bytes, id: remediationId(h.app.service.dedupeKeyFor(f)) };
  };
  const notStarted = async (id: string) => expect((await call('GET', `${h.api}/v1/remediations/${id}`, { headers: { authorization: `Bearer ${reader()}` } })).status).toBe(404);

  test('missing or wrong bearer token: 401 with WWW-Authenticate', async () => {
    const { bytes, id } = fresh('token');
    const none = await post('alertmanager', bytes, {});
    expect(none.status).toBe(401);
    expect(none.body.error).toBe('missing credentials for "alertmanager": send Authorization: Bearer <token>');
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="drw-ingest"');
    const wrong = await post('alertmanager', bytes, { authorization: 'Bearer not-the-token' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('bearer token not accepted for "alertmanager"');
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Bearer realm="drw-ingest", error="invalid_token"/);
    // The Falco HMAC secret is no token for Alertmanager, and Alertmanager's token none for Trivy.
    expect((await post('alertmanager', bytes, { authorization: `Bearer ${FALCO_SECRET}` })).status).toBe(401);
    const trivy = readFileSync(path.join(SAMPLES_DIR, 'trivy', 'trivy-integration-npm-repository.json'));
    expect((await post('trivy', trivy, { authorization: `Bearer ${AM_TOKEN}` })).body.error).toBe('bearer token not accepted for "trivy"');
    await notStarted(id);
  });

  test('wrong HMAC secret, tampered body, wrong GitHub signature: 401', async () => {
    const falco = readFileSync(path.join(SAMPLES_DIR, 'falco', 'falcosidekick-readme-write-below-binary-dir.json'));
    const wrong = await post('falco', falco, signIngestRequest(WAZUH_SECRET, falco));
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toMatch(/^X-Drw-Signature-256 does not match the body/);
    expect(wrong.headers.get('www-authenticate')).toMatch(/HMAC-SHA256 realm="drw-ingest", header="X-Drw-Signature-256"/);

    const doc = JSON.parse(falco.toString('utf8'));
    doc.output_fields['fd.name'] = '/bin/tampered';
    const tampered = await post('falco', JSON.stringify(doc), signIngestRequest(FALCO_SECRET, falco));
    expect(tampered.status).toBe(401);
    expect(tampered.body.error).toMatch(/does not match the body/);

    const gh = readFileSync(path.join(SAMPLES_DIR, 'github', 'octokit-dependabot_alert-created.json'));
    const ghWrong = await post('github', gh, { 'x-github-event': 'dependabot_alert', 'x-hub-signature-256': signHmacSha256('not-the-webhook-secret', gh) });
    expect(ghWrong.status).toBe(401);
    expect(ghWrong.body.error).toBe('X-Hub-Signature-256 does not match the body (check the webhook secret)');
    // A whitespace change is a different body too.
    const ghSpaced = await post('github', Buffer.concat([gh, Buffer.from('\n')]), { 'x-github-event': 'dependabot_alert', 'x-hub-signature-256': signHmacSha256(GITHUB_SECRET, gh) });
    expect(ghSpaced.status).toBe(401);
  });

  test('unknown format 404; not that format 422; not JSON 400; not a JSON type 415; too large 413', async () => {
    const auth = { authorization: `Bearer ${ANY_TOKEN}` };
    const unknown = await post('splunk', '{}', auth);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatch(/^unknown format "splunk"; known formats: alertmanager, asff, ocsf/);

    const { bytes, id } = fresh('format');
    const notTrivy = await post('trivy', bytes, auth);
    expect(notTrivy.status).toBe(422);
    expect(notTrivy.body.error).toMatch(/^not a trivy payload: \$/);
    const badJson = await post('alertmanager', '{"alerts": [', { authorization: `Bearer ${AM_TOKEN}` });
    expect(badJson.status).toBe(400);
    expect(badJson.body.error).toMatch(/^body is not valid JSON/);
    const text = await call('POST', `${h.api}/v1/detections/alertmanager`, { body: bytes, headers: { 'content-type': 'text/plain', authorization: `Bearer ${AM_TOKEN}` } });
    expect(text.status).toBe(415);
    expect(text.body.error).toBe('send application/json (or application/x-ndjson, one event per line) (got text/plain)');
    const big = await post('alertmanager', `{"alerts":[],"pad":"${'x'.repeat(1024 * 1024)}"}`, { authorization: `Bearer ${AM_TOKEN}` });
    expect(big.status).toBe(413);
    expect(big.body.error).toBe('body larger than 1048576 bytes');
    await notStarted(id);
  });

  test('NDJSON (one event per line) is one batch', async () => {
    const lines = ['elastic-integrations-falco-run-shell-untrusted.json', 'falcosidekick-readme-write-below-binary-dir.json'].map((f) => JSON.stringify(JSON.parse(readFileSync(path.join(SAMPLES_DIR, 'falco', f), 'utf8'))));
    const body = Buffer.from(lines.join('\n') + '\n');
    const r = await call('POST', `${h.api}/v1/detections/falco`, { body, headers: { 'content-type': 'application/x-ndjson', ...signIngestRequest(FALCO_SECRET, body) } });
    expect(r.status).toBe(202);
    expect(r.body.remediations.map((x: any) => x.outcome)).toEqual(['signalled', 'signalled']);
  });

  test('reading a remediation needs a person token once JWT authentication is configured', async () => {
    const id = firstPost.get('trivy/trivy-integration-npm-repository.json')!.ids[0];
    const anon = await call('GET', `${h.api}/v1/remediations/${id}`);
    expect(anon.status).toBe(401);
    expect(anon.headers.get('www-authenticate')).toBe('Bearer realm="drw"');
    // An ingest token is not a person.
    expect((await call('GET', `${h.api}/v1/remediations/${id}`, { headers: { authorization: `Bearer ${ANY_TOKEN}` } })).status).toBe(401);
    expect((await state(id))?.id).toBe(id);
    expect((await call('GET', `${h.api}/healthz`)).status).toBe(200);
  });
});
