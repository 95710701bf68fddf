import { randomBytes, randomUUID } from 'node:crypto';
import { type SimRequest, type SimResponse, SimulatorServer } from './base';

/**
 * Microsoft Entra ID simulator: the v2.0 token endpoint (client credentials, Graph's .default
 * scope) and the Microsoft Graph v1.0 user routes drw uses: GET /users/{id | userPrincipalName}
 * with $select, PATCH /users/{id} {accountEnabled} (204), POST /users/{id}/revokeSignInSessions
 * (200 {value: true}). Graph's shapes: errors `{error: {code, message, innerError}}`,
 * unknown properties refused with Request_BadRequest, Entra ID's `{error, error_description}`
 * (AADSTS codes) at the token endpoint. Throttling (429 + Retry-After) comes from the base
 * server's faults, as Graph sends it.
 */

export interface EntraUserSeed {
  id?: string;
  userPrincipalName: string;
  accountEnabled?: boolean;
  /** Live sign-in sessions (not a Graph property; what revokeSignInSessions ends). */
  sessions?: number;
}

export interface SimEntraUser {
  id: string;
  userPrincipalName: string;
  displayName: string;
  accountEnabled: boolean;
  signInSessionsValidFromDateTime: string;
  sessions: number;
}

export interface EntraSimulatorOptions {
  tenantId?: string;
  clientId?: string;
  clientSecret?: string;
  users?: EntraUserSeed[];
}

const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';
const PATCHABLE = new Set(['accountEnabled', 'displayName', 'jobTitle', 'department']);

export class EntraSimulator extends SimulatorServer {
  readonly users = new Map<string, SimEntraUser>();
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  private readonly tokens = new Set<string>();
  private answerDelays: number[] = [];

  constructor(opts: EntraSimulatorOptions = {}) {
    super('entra');
    this.tenantId = opts.tenantId ?? randomUUID();
    this.clientId = opts.clientId ?? randomUUID();
    this.clientSecret = opts.clientSecret ?? 'sim~entra~' + randomBytes(12).toString('base64url');
    for (const u of opts.users ?? []) this.seedUser(u);

    this.route('POST', '/:tenant/oauth2/v2.0/token', (r) => this.token(r));
    this.route('GET', '/v1.0/users/:id', (r) => this.authed(r, () => this.getUser(r)));
    this.route('PATCH', '/v1.0/users/:id', (r) => this.authed(r, () => this.patchUser(r)));
    this.route('POST', '/v1.0/users/:id/revokeSignInSessions', (r) => this.authed(r, () => this.revoke(r)));
  }

  seedUser(u: EntraUserSeed): SimEntraUser {
    const user: SimEntraUser = {
      id: u.id ?? randomUUID(),
      userPrincipalName: u.userPrincipalName,
      displayName: u.userPrincipalName.split('@')[0],
      accountEnabled: u.accountEnabled ?? true,
      signInSessionsValidFromDateTime: '2026-01-01T00:00:00Z',
      sessions: u.sessions ?? 1,
    };
    this.users.set(user.id, user);
    return user;
  }

  user(idOrUpn: string): SimEntraUser | undefined {
    return this.users.get(idOrUpn) ?? [...this.users.values()].find((u) => u.userPrincipalName.toLowerCase() === idOrUpn.toLowerCase());
  }

  /** The next PATCH is carried out, but its answer comes `ms` later. */
  delayNextPatchAnswer(ms: number): void {
    this.answerDelays.push(ms);
  }

  patches(): SimRequest[] {
    return this.served((r) => r.method === 'PATCH') as SimRequest[];
  }

  private token(r: SimRequest): SimResponse {
    const form = (typeof r.body === 'object' && r.body ? r.body : {}) as Record<string, string>;
    const aad = (status: number, error: string, code: number, description: string): SimResponse => ({
      status,
      body: { error, error_description: `AADSTS${code}: ${description}\r\nTrace ID: ${randomUUID()}`, error_codes: [code], timestamp: new Date().toISOString(), trace_id: randomUUID(), correlation_id: randomUUID() },
    });
    if (r.params.tenant !== this.tenantId) return aad(400, 'invalid_request', 90002, `Tenant '${r.params.tenant}' not found.`);
    if (form.grant_type !== 'client_credentials') return aad(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
    if (form.scope !== GRAPH_SCOPE) return aad(400, 'invalid_scope', 1002012, 'The provided value for scope is not valid.');
    if (form.client_id !== this.clientId) return aad(400, 'unauthorized_client', 700016, 'Application was not found in the directory.');
    if (form.client_secret !== this.clientSecret) return aad(401, 'invalid_client', 7000215, 'Invalid client secret provided.');
    const token = 'eyJ0eXAiOiJKV1Qi.' + randomBytes(32).toString('base64url');
    this.tokens.add(token);
    return { status: 200, body: { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: token } };
  }

  private authed(r: SimRequest, next: () => SimResponse | Promise<SimResponse>): SimResponse | Promise<SimResponse> {
    const auth = String(r.headers.authorization ?? '');
    if (!auth) return graphError(401, 'InvalidAuthenticationToken', 'Access token is empty.');
    if (!this.tokens.has(auth.startsWith('Bearer ') ? auth.slice(7) : '')) return graphError(401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid audience.');
    return next();
  }

  private getUser(r: SimRequest): SimResponse {
    const u = this.user(r.params.id);
    if (!u) return notFound(r.params.id);
    const { sessions: _s, ...all } = u;
    void _s;
    const select = r.query.$select ? r.query.$select.split(',').map((s) => s.trim()) : ['id', 'userPrincipalName', 'displayName'];
    const body: Record<string, unknown> = { '@odata.context': `${this.baseUrl}/v1.0/$metadata#users(${select.join(',')})/$entity` };
    for (const k of select) if (k in all) body[k] = all[k as keyof typeof all];
    return { status: 200, body };
  }

  private async patchUser(r: SimRequest): Promise<SimResponse> {
    const u = this.user(r.params.id);
    if (!u) return notFound(r.params.id);
    const body = (typeof r.body === 'object' && r.body ? r.body : {}) as Record<string, unknown>;
    for (const k of Object.keys(body)) {
      if (!PATCHABLE.has(k)) return graphError(400, 'Request_BadRequest', `Property '${k}' does not exist on type 'microsoft.graph.user' or is read-only.`);
    }
    if ('accountEnabled' in body && typeof body.accountEnabled !== 'boolean') return graphError(400, 'Request_BadRequest', "Invalid value specified for property 'accountEnabled' of resource 'User'.");
    Object.assign(u, body);
    const delay = this.answerDelays.shift();
    if (delay) await new Promise((res) => setTimeout(res, delay).unref());
    return { status: 204 };
  }

  private revoke(r: SimRequest): SimResponse {
    const u = this.user(r.params.id);
    if (!u) return notFound(r.params.id);
    u.sessions = 0;
    u.signInSessionsValidFromDateTime = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    return { status: 200, body: { '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#Edm.Boolean', value: true } };
  }
}

function graphError(status: number, code: string, message: string): SimResponse {
  const id = randomUUID();
  return { status, body: { error: { code, message, innerError: { date: new Date().toISOString().replace(/\.\d+Z$/, ''), 'request-id': id, 'client-request-id': id } } } };
}

function notFound(id: string): SimResponse {
  return graphError(404, 'Request_ResourceNotFound', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);
}

export async function startEntraSimulator(opts: EntraSimulatorOptions = {}): Promise<EntraSimulator> {
  const sim = new EntraSimulator(opts);
  await sim.start();
  return sim;
}
