import { createPublicKey, randomBytes, randomUUID, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { type SimRequest, type SimResponse, SimulatorServer } from './base';

/**
 * Okta management API simulator: users (by id or login), the lifecycle operations drw uses
 * (suspend: ACTIVE → SUSPENDED, unsuspend: SUSPENDED → ACTIVE; others refused with 400),
 * clearing a user's sessions (204), API tokens (`SSWS`) and OAuth 2.0 service apps
 * (client_credentials with a private_key_jwt client assertion checked against the app's public
 * key, scopes enforced). Okta's shapes: errors `{errorCode, errorSummary, errorLink, errorId,
 * errorCauses}`, rate limits per minute with X-Rate-Limit-Limit/-Remaining/-Reset on every
 * answer and 429 E0000047 without Retry-After.
 */

export interface OktaUserSeed {
  id?: string;
  login: string;
  status?: 'ACTIVE' | 'SUSPENDED' | 'DEPROVISIONED' | 'STAGED' | 'PROVISIONED' | 'LOCKED_OUT' | 'PASSWORD_EXPIRED' | 'RECOVERY';
  sessions?: number;
}

export interface SimOktaUser {
  id: string;
  status: string;
  created: string;
  statusChanged: string | null;
  lastUpdated: string;
  profile: { login: string; email: string; firstName: string; lastName: string };
  /** Live sign-in sessions (not an Okta field; what clearing sessions ends). */
  sessions: number;
}

export interface OktaSimulatorOptions {
  apiToken?: string;
  /** An OAuth service app: its client id, public key (PEM) and granted scopes. */
  serviceApp?: { clientId: string; publicKeyPem: string; scopes: string[] };
  users?: OktaUserSeed[];
  /** Requests per minute per user before 429 (Okta's per-endpoint limits); default unlimited. */
  rateLimitPerMinute?: number;
}

export class OktaSimulator extends SimulatorServer {
  readonly users = new Map<string, SimOktaUser>();
  readonly apiToken: string;
  rateLimitPerMinute: number;
  private readonly app?: { clientId: string; key: KeyObject; scopes: Set<string> };
  private readonly tokens = new Map<string, Set<string>>();
  private readonly usedJti = new Set<string>();
  private window = { startedAt: 0, count: 0 };
  private answerDelays: number[] = [];

  constructor(opts: OktaSimulatorOptions = {}) {
    super('okta');
    this.apiToken = opts.apiToken ?? '00' + randomBytes(20).toString('base64url');
    this.rateLimitPerMinute = opts.rateLimitPerMinute ?? Infinity;
    if (opts.serviceApp) this.app = { clientId: opts.serviceApp.clientId, key: createPublicKey(opts.serviceApp.publicKeyPem), scopes: new Set(opts.serviceApp.scopes) };
    for (const u of opts.users ?? []) this.seedUser(u);

    this.route('POST', '/oauth2/v1/token', (r) => this.token(r));
    this.route('GET', '/api/v1/users/:id', (r) => this.api(r, 'okta.users.read', () => this.getUser(r)));
    this.route('POST', '/api/v1/users/:id/lifecycle/suspend', (r) => this.api(r, 'okta.users.manage', () => this.transition(r, 'ACTIVE', 'SUSPENDED')));
    this.route('POST', '/api/v1/users/:id/lifecycle/unsuspend', (r) => this.api(r, 'okta.users.manage', () => this.transition(r, 'SUSPENDED', 'ACTIVE')));
    this.route('DELETE', '/api/v1/users/:id/sessions', (r) => this.api(r, 'okta.users.manage', () => this.clearSessions(r)));
  }

  seedUser(u: OktaUserSeed): SimOktaUser {
    const now = new Date().toISOString();
    const [first, last] = u.login.split('@')[0].split('.');
    const user: SimOktaUser = {
      id: u.id ?? '00u' + randomBytes(8).toString('hex').slice(0, 17),
      status: u.status ?? 'ACTIVE',
      created: now,
      statusChanged: null,
      lastUpdated: now,
      profile: { login: u.login, email: u.login, firstName: first ?? u.login, lastName: last ?? '' },
      sessions: u.sessions ?? 1,
    };
    this.users.set(user.id, user);
    return user;
  }

  user(idOrLogin: string): SimOktaUser | undefined {
    return this.users.get(idOrLogin) ?? [...this.users.values()].find((u) => u.profile.login.toLowerCase() === idOrLogin.toLowerCase());
  }

  /** The next lifecycle change is carried out, but its answer comes `ms` later. */
  delayNextLifecycleAnswer(ms: number): void {
    this.answerDelays.push(ms);
  }

  lifecycleRequests(op?: 'suspend' | 'unsuspend'): SimRequest[] {
    return this.served((r) => r.method === 'POST' && /\/lifecycle\/(un)?suspend$/.test(r.path) && (!op || r.path.endsWith(`/${op}`))) as SimRequest[];
  }

  private token(r: SimRequest): SimResponse {
    const form = (typeof r.body === 'object' && r.body ? r.body : {}) as Record<string, string>;
    const fail = (status: number, error: string, description: string): SimResponse => ({ status, body: { error, error_description: description } });
    if (!this.app) return fail(401, 'invalid_client', 'Client authentication failed.');
    if (form.grant_type !== 'client_credentials') return fail(400, 'unsupported_grant_type', `The authorization grant type is not supported by the authorization server.`);
    if (form.client_assertion_type !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' || !form.client_assertion) {
      return fail(401, 'invalid_client', 'Client authentication failed. Either the client or the client credentials are invalid.');
    }
    const claims = this.checkAssertion(form.client_assertion);
    if (typeof claims === 'string') return fail(401, 'invalid_client', claims);
    const scopes = (form.scope ?? '').split(' ').filter(Boolean);
    if (!scopes.length || scopes.some((s) => !this.app!.scopes.has(s))) return fail(400, 'invalid_scope', 'The following scopes were requested, but not granted: ' + scopes.filter((s) => !this.app!.scopes.has(s)).join(' '));
    const token = 'eyJraWQiOiJzaW0i.' + randomBytes(32).toString('base64url');
    this.tokens.set(token, new Set(scopes));
    return { status: 200, body: { token_type: 'Bearer', expires_in: 3600, access_token: token, scope: scopes.join(' ') } };
  }

  /** A signed RS256 JWT from the service app, for this token endpoint, unexpired, its jti used once. */
  private checkAssertion(jwt: string): Record<string, unknown> | string {
    const [h, p, s] = jwt.split('.');
    if (!h || !p || !s) return 'The client_assertion is not a JWT.';
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg?: string };
    if (header.alg !== 'RS256') return 'The client_assertion signature algorithm is not supported.';
    if (!verify('RSA-SHA256', Buffer.from(`${h}.${p}`), this.app!.key, Buffer.from(s, 'base64url'))) return 'The client_assertion signature is invalid.';
    const c = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    if (c.iss !== this.app!.clientId || c.sub !== this.app!.clientId) return 'The client_assertion iss and sub must be the client_id.';
    if (c.aud !== `${this.baseUrl}/oauth2/v1/token`) return 'The audience claim for client_assertion must be the endpoint invoked for the request.';
    if (typeof c.exp !== 'number' || c.exp * 1000 < Date.now()) return 'The client_assertion token is expired.';
    if (typeof c.jti !== 'string' || this.usedJti.has(c.jti)) return 'The client_assertion token has already been used.';
    this.usedJti.add(c.jti);
    return c;
  }

  private async api(r: SimRequest, scope: string, next: () => SimResponse | Promise<SimResponse>): Promise<SimResponse> {
    const auth = String(r.headers.authorization ?? '');
    let allowed: boolean;
    if (auth.startsWith('SSWS ')) allowed = auth.slice(5) === this.apiToken;
    else {
      const scopes = this.tokens.get(auth.startsWith('Bearer ') ? auth.slice(7) : '');
      if (scopes && !scopes.has(scope) && !(scope === 'okta.users.read' && scopes.has('okta.users.manage'))) {
        return oktaError(403, 'E0000006', 'You do not have permission to perform the requested action');
      }
      allowed = Boolean(scopes);
    }
    if (!allowed) return oktaError(401, 'E0000011', 'Invalid token provided');
    const now = Date.now();
    if (now - this.window.startedAt >= 60_000) this.window = { startedAt: now, count: 0 };
    const reset = String(Math.ceil((this.window.startedAt + 60_000) / 1000));
    const limit = Number.isFinite(this.rateLimitPerMinute) ? this.rateLimitPerMinute : 600;
    this.window.count++;
    const headers = { 'X-Rate-Limit-Limit': String(limit), 'X-Rate-Limit-Remaining': String(Math.max(limit - this.window.count, 0)), 'X-Rate-Limit-Reset': reset };
    if (this.window.count > this.rateLimitPerMinute) return { ...oktaError(429, 'E0000047', 'API call exceeded rate limit due to too many requests.'), headers };
    const res = await next();
    return { ...res, headers: { ...res.headers, ...headers } };
  }

  private getUser(r: SimRequest): SimResponse {
    const u = this.user(r.params.id);
    if (!u) return notFound(r.params.id);
    const { sessions: _s, ...user } = u;
    void _s;
    return { status: 200, body: { ...user, _links: { self: { href: `${this.baseUrl}/api/v1/users/${u.id}` } } } };
  }

  private async transition(r: SimRequest, from: string, to: string): Promise<SimResponse> {
    const u = this.users.get(r.params.id);
    if (!u) return notFound(r.params.id);
    if (u.status !== from) {
      return oktaError(400, 'E0000001', `Api validation failed: ${to === 'SUSPENDED' ? 'suspend' : 'unsuspend'}`, [`The user's status is ${u.status}; this operation needs ${from}.`]);
    }
    u.status = to;
    u.statusChanged = u.lastUpdated = new Date().toISOString();
    const delay = this.answerDelays.shift();
    if (delay) await new Promise((res) => setTimeout(res, delay).unref());
    return { status: 200 };
  }

  private clearSessions(r: SimRequest): SimResponse {
    const u = this.users.get(r.params.id);
    if (!u) return notFound(r.params.id);
    u.sessions = 0;
    return { status: 204 };
  }

  /** What survives a restart of the embedded default: see OktaSnapshot. */
  snapshot(): OktaSnapshot {
    return { users: [...this.users.values()].map((u) => ({ ...u, profile: { ...u.profile } })) };
  }

  restore(data: unknown): void {
    const s = OktaSnapshotSchema.parse(data);
    this.users.clear();
    for (const u of s.users) this.users.set(u.id, u);
  }
}

function oktaError(status: number, errorCode: string, errorSummary: string, causes: string[] = []): SimResponse {
  return { status, body: { errorCode, errorSummary, errorLink: errorCode, errorId: 'oae' + randomUUID().replace(/-/g, '').slice(0, 19), errorCauses: causes.map((c) => ({ errorSummary: c })) } };
}

function notFound(id: string): SimResponse {
  return oktaError(404, 'E0000007', `Not found: Resource not found: ${id} (User)`);
}

export async function startOktaSimulator(opts: OktaSimulatorOptions = {}): Promise<OktaSimulator> {
  const sim = new OktaSimulator(opts);
  await sim.start();
  return sim;
}

/**
 * Every user with its id, status (a suspended account stays suspended) and sessions. Access
 * tokens and used client-assertion ids are not kept: a client asks for a new token.
 */
export interface OktaSnapshot {
  users: SimOktaUser[];
}

const OktaSnapshotSchema = z.object({
  users: z.array(
    z.object({
      id: z.string().min(1),
      status: z.string(),
      created: z.string(),
      statusChanged: z.string().nullable(),
      lastUpdated: z.string(),
      profile: z.object({ login: z.string(), email: z.string(), firstName: z.string(), lastName: z.string() }),
      sessions: z.number().int().nonnegative(),
    }),
  ),
});
