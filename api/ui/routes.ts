/**
 * The approver's pages at /ui, on the API's fastify instance (its loopback Host/Origin guard and
 * rate limit apply): sign-in (the loopback identity picker, or OpenID Connect), the inbox, a
 * remediation's page, and approve/deny through RemediationService.decide — the API's own
 * digest-bound, signed path; there is no other.
 *
 * Every page: a sealed HttpOnly SameSite=Strict session cookie, a CSRF token per session on
 * every POST (checked before anything else), a strict Content-Security-Policy (scripts and
 * styles from /ui only, nothing inline), no caching, and no secret in the markup.
 */
import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Logger } from '../../common/logger';
import { REMEDIATION_ID_PATTERN } from '../../domain/ids';
import { DIGEST_PATTERN } from '../../planner/digest';
import type { RemediationView } from '../../signals';
import { permissionsOf, type AccessPolicy } from '../auth/access';
import { ApiError } from '../errors';
import { APP_CSS, APP_JS } from './assets';
import type { UiBackend } from './backend';
import type { UiSettings } from './config';
import { whyNotDecide, type Person } from './decide-rule';
import type { Html } from './html';
import { buildInbox, InboxStates } from './inbox';
import type { OidcLogin } from './oidc';
import { CookieSealer, cookie, newToken, parseCookies, PRE_COOKIE, preSessionSchema, sameToken, SESSION_COOKIE, sessionSchema, type PreSession, type Session } from './session';
import { inboxPage, messagePage, remediationPage, signInPage, type PageContext } from './views';

export interface UiDeps {
  backend: UiBackend;
  /** policies/access.yaml: the picker's groups, and everyone's permissions. */
  access: AccessPolicy;
  settings: UiSettings;
  sessionKey: Buffer;
  /** The loopback default without person authentication: the local identity picker signs people in. */
  localPicker: boolean;
  /** OpenID Connect sign-in (api/ui/oidc.ts), when configured. */
  oidc?: OidcLogin;
  /** Cookies carry Secure (drw is served over https: DRW_PUBLIC_URL). */
  secureCookies: boolean;
  temporalUi: { url: string; namespace: string };
  logger: Logger;
  now?: () => number;
}

export const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const PRE_TTL_MS = 10 * 60_000;

const decisionForm = z.object({
  csrf: z.string(),
  decision: z.enum(['approve', 'deny']),
  reason: z.string().trim().min(1, 'a reason is required').max(2000),
  digest: z.string().regex(DIGEST_PATTERN, 'the step digest shown (64 hexadecimal characters)'),
});
const localSignIn = z.object({
  csrf: z.string(),
  user: z.string().trim().min(1, 'a name is required').max(200),
  groups: z.array(z.string()).max(100).default([]),
  next: z.string().optional(),
});

/** A redirect target inside the pages only (no open redirect). */
export function safeNext(next: string | undefined): string {
  return next && /^\/ui(?:\/[^/\\]|$|\?)/.test(next) && !/[\r\n]/.test(next) ? next : '/ui';
}

/** An application/x-www-form-urlencoded body, with repeated names as arrays where listed. */
function formOf(req: FastifyRequest, lists: string[] = []): Record<string, unknown> {
  const type = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') throw new ApiError(415, 'send the form (application/x-www-form-urlencoded)');
  const q = new URLSearchParams(Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '');
  const out: Record<string, unknown> = {};
  for (const k of new Set(q.keys())) out[k] = lists.includes(k) ? q.getAll(k) : q.get(k);
  return out;
}

/** What the page shows, hashed: the refresh script swaps the page when it changes. */
function tagOf(parts: unknown): string {
  return crypto.createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 16);
}

export async function registerUi(app: FastifyInstance, d: UiDeps): Promise<void> {
  const sealer = new CookieSealer(d.sessionKey);
  const now = d.now ?? Date.now;
  const inboxStates = new InboxStates(d.backend, 5000, now);
  const groups = Object.keys(d.access.groups);
  const knownUsers = Object.keys(d.access.users);

  // Tickets and messages link to a remediation; a person opening the link in a browser lands on its
  // page (and signs in there: the link grants nothing). API clients (no text/html, or a token) get JSON.
  app.addHook('onRequest', async (req, reply) => {
    if (req.method !== 'GET' || req.headers.authorization || !/\btext\/html\b/.test(String(req.headers.accept ?? ''))) return;
    const m = /^\/v1\/remediations\/(drw-[a-z0-9-]{1,100})\/?$/.exec(req.url.split('?')[0]);
    if (m) return reply.code(303).header('location', `/ui/remediations/${m[1]}`).send();
  });

  await app.register(async (ui) => {
    // Pages, not API operations: kept out of the OpenAPI document.
    ui.addHook('onRoute', (opts) => {
      opts.schema = { ...opts.schema, hide: true };
    });
    ui.addHook('onSend', async (_req, reply, payload) => {
      reply.header('content-security-policy', CSP);
      reply.header('x-content-type-options', 'nosniff');
      reply.header('x-frame-options', 'DENY');
      // Not no-referrer: Chromium then sends "Origin: null" with the pages' own forms, which the loopback guard refuses.
      reply.header('referrer-policy', 'same-origin');
      reply.header('cache-control', 'no-store');
      reply.header('cross-origin-opener-policy', 'same-origin');
      return payload;
    });

    const page = (reply: FastifyReply, status: number, body: Html) => reply.code(status).type('text/html; charset=utf-8').send(body.text);
    const sessionOf = (req: FastifyRequest): Session | undefined => sealer.unseal(parseCookies(req.headers.cookie)[SESSION_COOKIE], sessionSchema, now());
    const personOf = (s: Session): Person & { via: Session['via']; csrf: string } => ({ user: s.user, groups: s.groups, permissions: permissionsOf(d.access, s.user, s.groups), via: s.via, csrf: s.csrf });
    const ctxOf = (s: Session): PageContext => ({ who: personOf(s), now: now() });

    /** A fresh pre-session (sign-in form CSRF token, OIDC state): set as its own cookie. */
    const startPre = (reply: FastifyReply, extra: Partial<PreSession> = {}): PreSession => {
      const pre: PreSession = { v: 1, csrf: newToken(), exp: now() + PRE_TTL_MS, ...extra };
      reply.header('set-cookie', cookie(PRE_COOKIE, sealer.seal(pre), { maxAgeSec: PRE_TTL_MS / 1000, secure: d.secureCookies }));
      return pre;
    };
    const signIn = (reply: FastifyReply, who: { user: string; groups: string[]; via: Session['via'] }, next: string | undefined) => {
      const s: Session = { v: 1, ...who, csrf: newToken(), exp: now() + d.settings.sessionTtlMs };
      d.logger.info({ user: s.user, groups: s.groups, via: s.via }, 'signed in to the approval pages');
      reply.header('set-cookie', [
        cookie(SESSION_COOKIE, sealer.seal(s), { maxAgeSec: d.settings.sessionTtlMs / 1000, secure: d.secureCookies }),
        cookie(PRE_COOKIE, '', { maxAgeSec: 0, secure: d.secureCookies }),
      ]);
      return reply.code(303).header('location', safeNext(next)).send();
    };
    /** The signed-in session, or a redirect to sign in (with where to come back). */
    const requireSession = (req: FastifyRequest, reply: FastifyReply): Session | undefined => {
      const s = sessionOf(req);
      if (!s) void reply.code(303).header('location', `/ui/sign-in?next=${encodeURIComponent(req.url)}`).send();
      return s;
    };
    const refuse = (reply: FastifyReply, status: number, text: string, s?: Session) => page(reply, status, messagePage(s ? ctxOf(s) : { now: now() }, status === 403 ? 'Refused' : 'Not possible', text));

    ui.get('/ui/app.css', async (_req, reply) => reply.type('text/css; charset=utf-8').send(APP_CSS));
    ui.get('/ui/app.js', async (_req, reply) => reply.type('text/javascript; charset=utf-8').send(APP_JS));

    ui.get('/ui/sign-in', async (req, reply) => {
      const next = (req.query as Record<string, string | undefined>).next;
      const pre = startPre(reply, next ? { next: safeNext(next) } : {});
      return page(reply, 200, signInPage({ csrf: pre.csrf, groups, users: knownUsers, next: pre.next, oidc: Boolean(d.oidc), local: d.localPicker, now: now() }));
    });

    ui.post('/ui/sign-in', async (req, reply) => {
      const pre = sealer.unseal(parseCookies(req.headers.cookie)[PRE_COOKIE], preSessionSchema, now());
      const form = formOf(req, ['groups']);
      if (!pre || !sameToken(pre.csrf, form.csrf)) return refuse(reply, 403, 'The sign-in form expired or did not come from this page (CSRF token missing or wrong). Open the sign-in page again.');
      if (d.localPicker) {
        const f = localSignIn.safeParse(form);
        if (!f.success) {
          const again = startPre(reply, pre.next ? { next: pre.next } : {});
          return page(reply, 400, signInPage({ csrf: again.csrf, groups, users: knownUsers, next: again.next, oidc: false, local: true, error: f.error.issues.map((i) => i.message).join('; '), now: now() }));
        }
        const unknown = f.data.groups.filter((g) => !groups.includes(g));
        if (unknown.length) return refuse(reply, 400, `unknown group(s) ${unknown.join(', ')}: the groups are those of policies/access.yaml`);
        return signIn(reply, { user: f.data.user, groups: [...new Set(f.data.groups)], via: 'local' }, f.data.next ?? pre.next);
      }
      if (!d.oidc) return refuse(reply, 503, 'No identity provider is configured for the browser (DRW_OIDC_ISSUER, DRW_OIDC_CLIENT_ID).');
      const flow = await d.oidc.begin();
      startPre(reply, { ...(pre.next ? { next: pre.next } : {}), oidc: flow.check });
      return reply.code(303).header('location', flow.url).send();
    });

    ui.get('/ui/auth/callback', async (req, reply) => {
      const pre = sealer.unseal(parseCookies(req.headers.cookie)[PRE_COOKIE], preSessionSchema, now());
      if (!d.oidc) return refuse(reply, 404, 'No identity provider is configured.');
      if (!pre?.oidc) return refuse(reply, 400, 'This sign-in was not started here, or took longer than 10 minutes: sign in again.');
      try {
        const who = await d.oidc.finish(new URL(req.url, 'http://callback.invalid').searchParams, pre.oidc);
        return signIn(reply, { ...who, via: 'oidc' }, pre.next);
      } catch (e) {
        d.logger.warn({ err: (e as Error).message }, 'OpenID Connect sign-in refused');
        return refuse(reply, 401, `Sign-in failed: ${(e as Error).message}`);
      }
    });

    ui.post('/ui/sign-out', async (req, reply) => {
      const s = sessionOf(req);
      const form = formOf(req);
      if (s && !sameToken(s.csrf, form.csrf)) return refuse(reply, 403, 'The sign-out did not come from this page (CSRF token missing or wrong).', s);
      reply.header('set-cookie', cookie(SESSION_COOKIE, '', { maxAgeSec: 0, secure: d.secureCookies }));
      return reply.code(303).header('location', '/ui/sign-in').send();
    });

    ui.get('/ui', async (req, reply) => {
      const s = requireSession(req, reply);
      if (!s) return reply;
      const ctx = ctxOf(s);
      const from = Number((req.query as Record<string, string | undefined>).from ?? 0);
      const inbox = await buildInbox(inboxStates.reader, ctx.who!, Number.isInteger(from) && from >= 0 ? from : 0);
      const tag = tagOf(inbox.items.map((i) => [i.remediation.id, i.step.id, i.step.digest, i.step.approval?.approvedBy, i.remediation.slaBreached]));
      return page(reply, 200, inboxPage(ctx, inbox, tag));
    });

    const idOk = (id: string) => REMEDIATION_ID_PATTERN.test(id);
    const remediationTag = (v: RemediationView) => tagOf([v.status, v.plan.version, v.plan.steps.map((x) => [x.id, x.status, x.digest, x.approval?.approvedBy]), v.decisions.at(-1)?.seq]);
    const load = async (id: string) => {
      const [view, runId] = await Promise.all([d.backend.state(id), d.backend.runId(id)]);
      return { view, runId };
    };
    const readable = (s: Session) => permissionsOf(d.access, s.user, s.groups).has('read');

    ui.get('/ui/remediations/:id', async (req, reply) => {
      const s = requireSession(req, reply);
      if (!s) return reply;
      const { id } = req.params as { id: string };
      if (!idOk(id)) return refuse(reply, 404, `no remediation ${id.slice(0, 200)}`, s);
      if (!readable(s)) return refuse(reply, 403, `${s.user} may not read remediations: none of their groups [${s.groups.join(', ')}] has the "read" permission in policies/access.yaml`, s);
      try {
        const { view, runId } = await load(id);
        const q = req.query as Record<string, string | undefined>;
        const flash = q.decided === 'approve' || q.decided === 'deny' ? { kind: 'ok' as const, text: `Your ${q.decided === 'approve' ? 'approval' : 'denial'} of ${q.step ?? 'the step'} was recorded; the plan below is the one it produced.` } : undefined;
        return page(reply, 200, remediationPage(ctxOf(s), { view, runId, temporalUi: d.temporalUi, ...(flash ? { flash } : {}) }, remediationTag(view)));
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) return refuse(reply, 404, e.message, s);
        throw e;
      }
    });

    ui.post('/ui/remediations/:id/steps/:stepId/decide', async (req, reply) => {
      const { id, stepId } = req.params as { id: string; stepId: string };
      const s = sessionOf(req);
      if (!s) return refuse(reply, 401, 'Sign in first: nothing was decided.');
      const form = formOf(req);
      // The CSRF token first: a forged form learns nothing else.
      if (!sameToken(s.csrf, form.csrf)) return refuse(reply, 403, 'This form did not come from a page of this session (CSRF token missing or wrong): nothing was decided.', s);
      if (!idOk(id)) return refuse(reply, 404, `no remediation ${id.slice(0, 200)}`, s);
      const f = decisionForm.safeParse(form);
      if (!f.success) return refuse(reply, 400, `Nothing was decided: ${f.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, s);
      const who = personOf(s);
      let current: RemediationView;
      try {
        current = await d.backend.state(id);
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) return refuse(reply, 404, e.message, s);
        throw e;
      }
      const step = current.plan.steps.find((x) => x.id === stepId);
      // Refused here, before Temporal, when the person could not decide it whatever its state (the workflow checks again).
      if (step && step.status === 'awaiting_approval') {
        const why = whyNotDecide(who, step);
        if (why && !/already approved/.test(why)) {
          d.logger.warn({ user: who.user, groups: who.groups, remediation: id, step: stepId, refusal: why }, 'action refused');
          return refuse(reply, 403, `Refused: ${why}. Nothing was decided.`, s);
        }
      } else if (!who.permissions.has('decide')) {
        return refuse(reply, 403, `Refused: ${who.user} may not approve or deny steps (no "decide" permission in policies/access.yaml). Nothing was decided.`, s);
      }
      const { decision, reason, digest } = f.data;
      try {
        await d.backend.decide(id, decision, { stepId, approver: who.user, groups: who.groups, reason, digest });
        inboxStates.forget(id);
        return reply.code(303).header('location', `/ui/remediations/${encodeURIComponent(id)}?decided=${decision}&step=${encodeURIComponent(stepId)}`).send();
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        const type = (e.details as { type?: string } | undefined)?.type;
        const { view, runId } = await load(id);
        // Changed under the approver: refused for its digest, or for a new change still being previewed.
        const now = view.plan.steps.find((x) => x.id === stepId);
        if (type === 'DigestMismatch' || (e.status === 409 && now && now.digest !== digest)) {
          return page(reply, 409, remediationPage(ctxOf(s), { view, runId, temporalUi: d.temporalUi, changed: { stepId, sawDigest: digest } }, remediationTag(view)));
        }
        return page(reply, e.status, remediationPage(ctxOf(s), { view, runId, temporalUi: d.temporalUi, flash: { kind: 'error', text: `Nothing was decided: ${e.message}` } }, remediationTag(view)));
      }
    });
  });
}
