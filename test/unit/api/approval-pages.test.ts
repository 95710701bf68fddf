/**
 * The approval pages (/ui) on a real fastify server with the loopback identity picker and a
 * stand-in for Temporal (the backend answers from a fixed remediation): sign-in, CSRF refusals,
 * the Content-Security-Policy, who sees the approve button, a forged decision refused, a
 * decision sent with the digest shown, and the "changed" view when the step changed meanwhile.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { parseAccessPolicy } from '../../../api/auth/access';
import { createApi, listen } from '../../../api/server';
import { ApiError } from '../../../api/errors';
import type { UiBackend } from '../../../api/ui/backend';
import { CSP, registerUi, safeNext } from '../../../api/ui/routes';
import { loadConfig } from '../../../common/config';
import { createLogger } from '../../../common/logger';
import type { ApprovalDecisionInput, RemediationView } from '../../../signals';
import { D1, D2, fixStep, ID, STEP, view } from '../../helpers/approval-fixture';

const ACCESS = parseAccessPolicy('version: 1\ngroups:\n  secops: [read, operate, decide]\n  cloud-owners: [read, decide]\n  auditors: [read]\n', 'access.yaml');

let current: RemediationView;
let decided: { id: string; kind: string; body: ApprovalDecisionInput }[];
let app: FastifyInstance;
let url: string;

const backend: UiBackend = {
  pending: async () => [{ id: ID, runId: 'run-1', startTime: '2026-11-30T09:00:00.000Z' }],
  state: async (id) => {
    if (id !== ID) throw new ApiError(404, `no remediation ${id}`);
    return current;
  },
  runId: async () => 'run-1',
  decide: async (id, kind, body) => {
    const step = current.plan.steps.find((s) => s.id === body.stepId)!;
    if (body.digest !== step.digest) throw new ApiError(409, `step "${step.id}" changed since it was shown`, { type: 'DigestMismatch', step });
    decided.push({ id, kind, body });
    return current.plan;
  },
};

beforeAll(async () => {
  const cfg = loadConfig({});
  const logger = createLogger('silent');
  app = await createApi({
    logger,
    ready: () => true,
    host: '127.0.0.1',
    settings: cfg.api,
    routes: [],
    ui: (a) => registerUi(a, { backend, access: ACCESS, settings: cfg.api.ui, sessionKey: randomBytes(32), localPicker: true, secureCookies: false, temporalUi: { url: 'http://127.0.0.1:8233', namespace: 'default' }, logger }),
  });
  url = await listen(app, '127.0.0.1', 0);
});
afterAll(async () => app?.close());
beforeEach(() => {
  current = view(fixStep(D1));
  decided = [];
});

/** A browser's cookie jar for one person. */
class Browser {
  private cookies = new Map<string, string>();
  async request(method: 'GET' | 'POST', path: string, form?: Record<string, string | string[]>): Promise<{ status: number; text: string; headers: Headers }> {
    const body = form ? new URLSearchParams(Object.entries(form).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x): [string, string] => [k, x]) : [[k, v] as [string, string]]))).toString() : undefined;
    const res = await fetch(`${url}${path}`, {
      method,
      redirect: 'manual',
      headers: { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '), ...(body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      body,
    });
    for (const c of res.headers.getSetCookie()) {
      const [kv] = c.split(';');
      const i = kv.indexOf('=');
      if (i > 0) this.cookies.set(kv.slice(0, i), kv.slice(i + 1));
    }
    return { status: res.status, text: await res.text(), headers: res.headers };
  }
  async signIn(user: string, groups: string[]): Promise<void> {
    const form = await this.request('GET', '/ui/sign-in');
    const r = await this.request('POST', '/ui/sign-in', { csrf: csrfIn(form.text), user, groups });
    expect(r.status).toBe(303);
  }
}

const csrfIn = (page: string) => /name="csrf" value="([^"]+)"/.exec(page)![1];

test('a visitor is sent to sign in; the loopback picker is marked as such and offers the groups of access.yaml', async () => {
  const b = new Browser();
  const inbox = await b.request('GET', '/ui');
  expect([inbox.status, inbox.headers.get('location')]).toEqual([303, '/ui/sign-in?next=%2Fui']);
  const page = await b.request('GET', '/ui/sign-in');
  expect(page.text).toMatch(/Local identity picker \(loopback default\)/);
  expect([...page.text.matchAll(/name="groups" value="([^"]+)"/g)].map((m) => m[1])).toEqual(['secops', 'cloud-owners', 'auditors']);
  const pre = page.headers.getSetCookie()[0];
  expect(pre).toMatch(/^drw_ui_pre=[^;]+; Path=\/ui; HttpOnly; SameSite=Strict; Max-Age=600$/);
});

test('signing in sets an HttpOnly SameSite=Strict session cookie; a tampered cookie is no session', async () => {
  const b = new Browser();
  const form = await b.request('GET', '/ui/sign-in');
  const r = await b.request('POST', '/ui/sign-in', { csrf: csrfIn(form.text), user: 'carol', groups: ['cloud-owners'] });
  expect([r.status, r.headers.get('location')]).toEqual([303, '/ui']);
  const session = r.headers.getSetCookie().find((c) => c.startsWith('drw_ui='))!;
  expect(session).toMatch(/; Path=\/ui; HttpOnly; SameSite=Strict; Max-Age=28800$/);
  const value = session.split(';')[0].slice('drw_ui='.length);
  const tampered = value.slice(0, -2) + (value.endsWith('A') ? 'B' : 'A') + value.slice(-1);
  const res = await fetch(`${url}/ui`, { redirect: 'manual', headers: { cookie: `drw_ui=${tampered}` } });
  expect(res.status).toBe(303);
});

test('sign-in without the form’s CSRF token is refused (403)', async () => {
  const b = new Browser();
  await b.request('GET', '/ui/sign-in');
  const r = await b.request('POST', '/ui/sign-in', { csrf: 'forged-token-forged-token', user: 'mallory', groups: ['secops'] });
  expect(r.status).toBe(403);
  expect(r.text).toMatch(/CSRF token missing or wrong/);
  expect((await b.request('GET', '/ui')).status).toBe(303);
});

test('every page carries a strict Content-Security-Policy and no inline script or style', async () => {
  const b = new Browser();
  await b.signIn('carol', ['cloud-owners']);
  for (const path of ['/ui/sign-in', '/ui', `/ui/remediations/${ID}`]) {
    const r = await b.request('GET', path);
    expect(r.headers.get('content-security-policy')).toBe(CSP);
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(r.headers.get('x-frame-options')).toBe('DENY');
    expect(r.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(r.text).not.toMatch(/\sstyle=|\son[a-z]+=/i);
  }
  expect(CSP).toMatch(/script-src 'self';/);
  expect(CSP).not.toMatch(/unsafe-inline|unsafe-eval/);
});

test('a cloud owner sees the step in the inbox and, on its page, the target, the diff, the digest and the approve button', async () => {
  const b = new Browser();
  await b.signIn('carol', ['cloud-owners']);
  const inbox = await b.request('GET', '/ui');
  expect(inbox.text).toMatch(/1 step awaiting your decision/);
  expect(inbox.text).toContain(`/ui/remediations/${ID}#step-${STEP}`);
  expect(inbox.text).toMatch(/3 h \d+ min left|2 h 59 min left/);
  const page = await b.request('GET', `/ui/remediations/${ID}`);
  expect(page.text).toContain('Public bucket &lt;acme-logs&gt;');
  expect(page.text).toContain('<code>acme/infra</code>');
  expect(page.text).toContain('<span class="add">+block_public_acls = true</span>');
  expect(page.text).toContain(`<code class="digest" data-test="digest">${D1}</code>`);
  expect(page.text).toContain(`name="digest" value="${D1}"`);
  expect(page.text).toMatch(/<button type="submit" name="decision" value="approve"/);
  expect(page.text).toContain(`http://127.0.0.1:8233/namespaces/default/workflows/${ID}/run-1/history`);
  expect(page.text).toMatch(/environment<\/th><td>production<\/td><td>cmdb/);
});

test('a step under a change record shows its change number, where the CAB is, and who approved there', async () => {
  const b = new Browser();
  await b.signIn('carol', ['cloud-owners']);
  current = { ...view({ ...fixStep(D1), change: 'normal' }) };
  expect((await b.request('GET', `/ui/remediations/${ID}`)).text).toMatch(/data-test="change-[^"]+">a normal change, not opened yet</);
  current = { ...current, changes: { [STEP]: { number: 'CHG0030002', url: 'https://acme.service-now.com/change_request.do?sys_id=9', type: 'normal', state: 'Scheduled', approval: 'approved', approvedBy: ['cab.lead'] } } };
  const page = await b.request('GET', `/ui/remediations/${ID}`);
  expect(page.text).toContain('<a href="https://acme.service-now.com/change_request.do?sys_id=9" rel="noreferrer noopener">CHG0030002</a> (normal, Scheduled, approval approved; approved by cab.lead)');
});

test('an auditor sees the step without an approve button, and a forged decision from them is 403 with nothing decided', async () => {
  const b = new Browser();
  await b.signIn('eve', ['auditors']);
  expect((await b.request('GET', '/ui')).text).toMatch(/Nothing awaits your decision/);
  const page = await b.request('GET', `/ui/remediations/${ID}`);
  expect(page.status).toBe(200);
  expect(page.text).not.toMatch(/value="approve"/);
  expect(page.text).toMatch(/You cannot decide this step: eve may not approve or deny steps/);
  const forged = await b.request('POST', `/ui/remediations/${ID}/steps/${STEP}/decide`, { csrf: csrfIn(page.text), decision: 'approve', reason: 'let me', digest: D1 });
  expect(forged.status).toBe(403);
  expect(decided).toEqual([]);
});

test('a secops member outside the step’s group (cloud-owners) gets no button, and their forged approval is 403', async () => {
  const b = new Browser();
  await b.signIn('sam', ['secops']);
  const page = await b.request('GET', `/ui/remediations/${ID}`);
  expect(page.text).toMatch(/You cannot decide this step: this step needs a member of \[cloud-owners\]/);
  const forged = await b.request('POST', `/ui/remediations/${ID}/steps/${STEP}/decide`, { csrf: csrfIn(page.text), decision: 'approve', reason: 'let me', digest: D1 });
  expect([forged.status, forged.text]).toEqual([403, expect.stringMatching(/Refused: this step needs a member of \[cloud-owners\]. Nothing was decided./)]);
  expect(decided).toEqual([]);
});

test('a decision without this session’s CSRF token is refused (403) and nothing is decided', async () => {
  const b = new Browser();
  await b.signIn('carol', ['cloud-owners']);
  const other = new Browser();
  await other.signIn('carol', ['cloud-owners']);
  const otherToken = csrfIn((await other.request('GET', `/ui/remediations/${ID}`)).text);
  for (const csrf of [undefined, otherToken]) {
    const r = await b.request('POST', `/ui/remediations/${ID}/steps/${STEP}/decide`, { ...(csrf ? { csrf } : {}), decision: 'approve', reason: 'ok', digest: D1 });
    expect(r.status).toBe(403);
  }
  expect(decided).toEqual([]);
});

test('approving sends the signed-in identity and the digest shown, then shows the page with the outcome', async () => {
  const b = new Browser();
  await b.signIn('carol', ['cloud-owners']);
  const page = await b.request('GET', `/ui/remediations/${ID}`);
  const r = await b.request('POST', `/ui/remediations/${ID}/steps/${STEP}/decide`, { csrf: csrfIn(page.text), decision: 'approve', reason: 'checked the diff', digest: D1, approver: 'someone-else' });
  expect([r.status, r.headers.get('location')]).toEqual([303, `/ui/remediations/${ID}?decided=approve&step=${STEP}`]);
  expect(decided).toEqual([{ id: ID, kind: 'approve', body: { stepId: STEP, approver: 'carol', groups: ['cloud-owners'], reason: 'checked the diff', digest: D1 } }]);
  expect((await b.request('GET', r.headers.get('location')!)).text).toMatch(/Your approval of cloud-misconfiguration.fix-bucket was recorded/);
});

test('approving a step that changed meanwhile decides nothing and shows the changed view with the new step', async () => {
  const b = new Browser();
  await b.signIn('carol', ['cloud-owners']);
  const page = await b.request('GET', `/ui/remediations/${ID}`);
  current = view(fixStep(D2, 'acme-other'));
  const r = await b.request('POST', `/ui/remediations/${ID}/steps/${STEP}/decide`, { csrf: csrfIn(page.text), decision: 'approve', reason: 'looked fine', digest: D1 });
  expect(r.status).toBe(409);
  expect(decided).toEqual([]);
  expect(r.text).toMatch(/The plan changed since you opened this page/);
  expect(r.text).toContain(`at digest <code>${D1}</code>; it is now <code>${D2}</code>`);
  expect(r.text).toContain('+block_public_acls = true');
  expect(r.text).toContain('acme-other');
  expect(r.text).toContain(`name="digest" value="${D2}"`);
});

test('sign-in redirects only inside the pages', () => {
  expect(safeNext('/ui/remediations/drw-x')).toBe('/ui/remediations/drw-x');
  expect(safeNext('//evil.example.com/ui')).toBe('/ui');
  expect(safeNext('/ui//evil.example.com')).toBe('/ui');
  expect(safeNext('https://evil.example.com')).toBe('/ui');
  expect(safeNext('/uix')).toBe('/ui');
});

test('a remediation link opened in a browser lands on its page, which still asks to sign in; API clients still get JSON', async () => {
  const html = await fetch(`${url}/v1/remediations/${ID}`, { redirect: 'manual', headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
  expect([html.status, html.headers.get('location')]).toEqual([303, `/ui/remediations/${ID}`]);
  const page = await fetch(`${url}/ui/remediations/${ID}`, { redirect: 'manual' });
  expect([page.status, page.headers.get('location')]).toEqual([303, `/ui/sign-in?next=${encodeURIComponent(`/ui/remediations/${ID}`)}`]);
  const api = await fetch(`${url}/v1/remediations/${ID}`, { redirect: 'manual', headers: { accept: 'application/json' } });
  expect(api.status).toBe(404);
});

test('the pages are not API operations: the OpenAPI document does not list them', async () => {
  const doc = (await (await fetch(`${url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
  expect(Object.keys(doc.paths).filter((p) => p.startsWith('/ui'))).toEqual([]);
});
