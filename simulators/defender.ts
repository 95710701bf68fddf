import { randomBytes, randomUUID } from 'node:crypto';
import { type RecordedRequest, type SimRequest, type SimResponse, SimulatorServer } from './base';

/**
 * Microsoft Defender for Endpoint simulator, Entra ID token endpoint included (point both the
 * API URL and the login URL at it). Machines are seedable; isolate/unisolate create machine
 * actions that go Pending → InProgress → Succeeded (or a chosen outcome) as they are read,
 * and a second isolation request while one is active gets Defender's 400
 * `ActiveRequestAlreadyExists`. Errors use Defender's `{error:{code,message,target}}` shape
 * and Entra ID's `{error, error_description}`.
 */

export interface DefenderMachineSeed {
  id: string;
  computerDnsName: string;
  lastSeen?: string;
  osPlatform?: string;
}

export type ActionStatus = 'Pending' | 'InProgress' | 'Succeeded' | 'Failed' | 'Cancelled' | 'TimeOut';

export interface DefenderSimulatorOptions {
  tenantId?: string;
  clientId?: string;
  clientSecret?: string;
  tokenTtlSeconds?: number;
  /** Reads of an action (single or listed) per status step; 0 = actions finish at once. */
  readsPerStep?: number;
  machines?: DefenderMachineSeed[];
  /** The documented "no recent machines → 404 Not Found" of List machines, instead of an empty list. */
  emptyMachineListIs404?: boolean;
  /**
   * How a second isolation request while one is active is refused: the `ActiveRequestAlreadyExists`
   * code, or the documented 400 "Action is already in progress" under a generic code.
   */
  duplicateActionRefusal?: 'code' | 'message';
}

export interface SimMachineAction {
  id: string;
  type: 'Isolate' | 'Unisolate';
  requestor: string;
  requestorComment: string;
  status: ActionStatus;
  machineId: string;
  computerDnsName: string;
  creationDateTimeUtc: string;
  lastUpdateDateTimeUtc: string;
  isolationType?: string;
}

interface ActionProgress {
  reads: number;
  outcome: ActionStatus;
}

const SCOPE = 'https://api.securitycenter.microsoft.com/.default';
const ISOLATION_TYPES = new Set(['Full', 'Selective', 'UnManagedDevice']);
const FILTER_FIELDS = new Set(['id', 'status', 'machineId', 'type', 'requestor']);

export class DefenderSimulator extends SimulatorServer {
  readonly machines = new Map<string, Required<DefenderMachineSeed>>();
  readonly actions: SimMachineAction[] = [];
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readsPerStep: number;
  emptyMachineListIs404: boolean;
  duplicateActionRefusal: 'code' | 'message';
  private readonly tokenTtlSeconds: number;
  private readonly tokens = new Set<string>();
  private readonly progress = new Map<string, ActionProgress>();
  private outcomes: ActionStatus[] = [];
  private answerDelays: number[] = [];
  private clock = 0;

  constructor(opts: DefenderSimulatorOptions = {}) {
    super('defender');
    this.tenantId = opts.tenantId ?? '11111111-2222-3333-4444-555555555555';
    this.clientId = opts.clientId ?? 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
    this.clientSecret = opts.clientSecret ?? 'sim~defender~' + randomBytes(12).toString('base64url');
    this.tokenTtlSeconds = opts.tokenTtlSeconds ?? 3599;
    this.readsPerStep = opts.readsPerStep ?? 1;
    this.emptyMachineListIs404 = opts.emptyMachineListIs404 ?? false;
    this.duplicateActionRefusal = opts.duplicateActionRefusal ?? 'code';
    for (const m of opts.machines ?? []) this.seedMachine(m);

    this.route('POST', '/:tenant/oauth2/v2.0/token', (r) => this.token(r));
    this.route('GET', '/api/machines', (r) => this.authed(r, () => this.listMachines(r)));
    this.route('GET', '/api/machines/:id', (r) => this.authed(r, () => this.getMachine(r.params.id)));
    this.route('POST', '/api/machines/:id/isolate', (r) => this.authed(r, () => this.act(r, 'Isolate')));
    this.route('POST', '/api/machines/:id/unisolate', (r) => this.authed(r, () => this.act(r, 'Unisolate')));
    this.route('GET', '/api/machineactions', (r) => this.authed(r, () => this.listActions(r)));
    this.route('GET', '/api/machineactions/:id', (r) => this.authed(r, () => this.getAction(r.params.id)));
  }

  seedMachine(m: DefenderMachineSeed): void {
    this.machines.set(m.id, {
      id: m.id,
      computerDnsName: m.computerDnsName.toLowerCase(),
      lastSeen: m.lastSeen ?? new Date().toISOString(),
      osPlatform: m.osPlatform ?? 'Windows11',
    });
  }

  revokeTokens(): void {
    this.tokens.clear();
  }

  /** The next created action ends with this status instead of Succeeded. */
  nextActionOutcome(status: ActionStatus): void {
    this.outcomes.push(status);
  }

  /** The next isolate/unisolate is carried out, but its answer comes `ms` later. */
  delayNextActionAnswer(ms: number): void {
    this.answerDelays.push(ms);
  }

  tokenRequests(): RecordedRequest[] {
    return this.served((r) => /\/oauth2\/v2\.0\/token$/.test(r.path));
  }

  /** Isolate/unisolate requests that reached the API (faulted ones excluded). */
  actionRequests(type?: 'isolate' | 'unisolate'): RecordedRequest[] {
    return this.served((r) => r.method === 'POST' && /^\/api\/machines\/[^/]+\/(isolate|unisolate)$/.test(r.path) && (!type || r.path.endsWith(`/${type}`)));
  }

  /** Isolation as the machine experiences it: the newest succeeded action decides. */
  isIsolated(machineId: string): boolean {
    const done = this.actions.filter((a) => a.machineId === machineId && a.status === 'Succeeded');
    return done.length > 0 && done[done.length - 1].type === 'Isolate';
  }

  private token(r: SimRequest): SimResponse {
    const form = (typeof r.body === 'object' && r.body ? r.body : {}) as Record<string, string>;
    const aad = (status: number, error: string, code: number, description: string): SimResponse => ({
      status,
      body: {
        error,
        error_description: `AADSTS${code}: ${description}\r\nTrace ID: ${randomUUID()}\r\nTimestamp: ${new Date().toISOString()}`,
        error_codes: [code],
        timestamp: new Date().toISOString(),
        trace_id: randomUUID(),
        correlation_id: randomUUID(),
      },
    });
    if (r.params.tenant !== this.tenantId) return aad(400, 'invalid_request', 90002, `Tenant '${r.params.tenant}' not found.`);
    if (form.grant_type !== 'client_credentials') return aad(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
    if (form.scope !== SCOPE) return aad(400, 'invalid_scope', 1002012, 'The provided value for scope is not valid.');
    if (form.client_id !== this.clientId) return aad(400, 'unauthorized_client', 700016, 'Application was not found in the directory.');
    if (form.client_secret !== this.clientSecret) return aad(401, 'invalid_client', 7000215, 'Invalid client secret provided.');
    const token = 'eyJ0eXAiOiJKV1Qi.' + randomBytes(32).toString('base64url');
    this.tokens.add(token);
    return { status: 200, body: { token_type: 'Bearer', expires_in: this.tokenTtlSeconds, ext_expires_in: this.tokenTtlSeconds, access_token: token } };
  }

  private authed(r: SimRequest, next: () => SimResponse | Promise<SimResponse>): SimResponse | Promise<SimResponse> {
    const auth = String(r.headers.authorization ?? '');
    if (!this.tokens.has(auth.startsWith('Bearer ') ? auth.slice(7) : '')) {
      return mdeError(401, 'Unauthorized', 'Authorization has been denied for this request.');
    }
    return next();
  }

  private listMachines(r: SimRequest): SimResponse {
    let machines = [...this.machines.values()];
    const filter = r.query.$filter;
    if (filter) {
      const eq = /^computerDnsName eq '((?:[^']|'')*)'$/.exec(filter);
      const sw = /^startswith\(computerDnsName,\s*'((?:[^']|'')*)'\)$/.exec(filter);
      if (!eq && !sw) return mdeError(400, 'InvalidRequest', `Invalid filter clause: ${filter}`);
      const value = (eq ?? sw)![1].replace(/''/g, "'").toLowerCase();
      machines = machines.filter((m) => (eq ? m.computerDnsName === value : m.computerDnsName.startsWith(value)));
    }
    if (!machines.length && this.emptyMachineListIs404) return mdeError(404, 'NotFound', 'No recent machines found');
    return { status: 200, body: { '@odata.context': `${this.baseUrl}/api/$metadata#Machines`, value: machines } };
  }

  private getMachine(id: string): SimResponse {
    const m = this.machines.get(id);
    return m ? { status: 200, body: m } : mdeError(404, 'ResourceNotFound', `Machine ${id} was not found`);
  }

  private async act(r: SimRequest, type: SimMachineAction['type']): Promise<SimResponse> {
    const machine = this.machines.get(r.params.id);
    if (!machine) return mdeError(404, 'ResourceNotFound', `Machine ${r.params.id} was not found`);
    const body = (typeof r.body === 'object' && r.body ? r.body : {}) as Record<string, unknown>;
    if (typeof body.Comment !== 'string' || !body.Comment.trim()) return mdeError(400, 'InvalidRequestBody', 'Comment is required');
    if (type === 'Isolate' && body.IsolationType !== undefined && !ISOLATION_TYPES.has(String(body.IsolationType))) {
      return mdeError(400, 'InvalidRequestBody', `IsolationType '${String(body.IsolationType)}' is not valid`);
    }
    const active = this.actions.find((a) => a.machineId === machine.id && (a.status === 'Pending' || a.status === 'InProgress'));
    if (active) return mdeError(400, this.duplicateActionRefusal === 'code' ? 'ActiveRequestAlreadyExists' : 'BadRequest', 'Action is already in progress');

    const at = this.now();
    const action: SimMachineAction = {
      id: randomUUID(),
      type,
      requestor: this.clientId,
      requestorComment: body.Comment,
      status: 'Pending',
      machineId: machine.id,
      computerDnsName: machine.computerDnsName,
      creationDateTimeUtc: at,
      lastUpdateDateTimeUtc: at,
      ...(type === 'Isolate' ? { isolationType: String(body.IsolationType ?? 'Full') } : {}),
    };
    this.actions.push(action);
    this.progress.set(action.id, { reads: 0, outcome: this.outcomes.shift() ?? 'Succeeded' });
    if (this.readsPerStep <= 0) this.finish(action);

    const delay = this.answerDelays.shift();
    if (delay) await new Promise((res) => setTimeout(res, delay));
    return { status: 201, body: { '@odata.context': `${this.baseUrl}/api/$metadata#MachineActions/$entity`, ...action } };
  }

  private listActions(r: SimRequest): SimResponse {
    const clauses: Array<[string, string]> = [];
    const filter = r.query.$filter;
    if (filter) {
      for (const part of filter.split(/\s+and\s+/i)) {
        const m = /^(\w+) eq '((?:[^']|'')*)'$/.exec(part.trim());
        if (!m || !FILTER_FIELDS.has(m[1])) return mdeError(400, 'InvalidRequest', `Invalid filter clause: ${part}`);
        clauses.push([m[1], m[2].replace(/''/g, "'")]);
      }
    }
    const matching = this.actions.filter((a) => clauses.every(([k, v]) => String(a[k as keyof SimMachineAction]) === v));
    for (const a of matching) this.advance(a);
    return { status: 200, body: { '@odata.context': `${this.baseUrl}/api/$metadata#MachineActions`, value: matching } };
  }

  private getAction(id: string): SimResponse {
    const action = this.actions.find((a) => a.id === id);
    if (!action) return mdeError(404, 'ResourceNotFound', `Machine action ${id} was not found`);
    this.advance(action);
    return { status: 200, body: { '@odata.context': `${this.baseUrl}/api/$metadata#MachineActions/$entity`, ...action } };
  }

  /** Pending → InProgress after `readsPerStep` reads, then → the outcome after as many more. */
  private advance(a: SimMachineAction): void {
    const p = this.progress.get(a.id);
    if (!p || (a.status !== 'Pending' && a.status !== 'InProgress')) return;
    p.reads += 1;
    if (p.reads < this.readsPerStep) return;
    p.reads = 0;
    if (a.status === 'Pending') {
      a.status = 'InProgress';
      a.lastUpdateDateTimeUtc = this.now();
    } else this.finish(a);
  }

  private finish(a: SimMachineAction): void {
    a.status = this.progress.get(a.id)?.outcome ?? 'Succeeded';
    a.lastUpdateDateTimeUtc = this.now();
  }

  /** Strictly increasing timestamps, so "newest action" is never a tie. */
  private now(): string {
    this.clock = Math.max(this.clock + 1, Date.now());
    return new Date(this.clock).toISOString();
  }
}

function mdeError(status: number, code: string, message: string): SimResponse {
  return { status, body: { error: { code, message, target: randomUUID() } } };
}

export async function startDefenderSimulator(opts: DefenderSimulatorOptions = {}): Promise<DefenderSimulator> {
  const sim = new DefenderSimulator(opts);
  await sim.start();
  return sim;
}
