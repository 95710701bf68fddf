import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { type RecordedRequest, type SimRequest, type SimResponse, SimulatorServer } from './base';

/**
 * CrowdStrike Falcon API simulator: OAuth2 client credentials, device search (FQL
 * `hostname:'...'`), device details, and the contain / lift_containment device actions, with
 * Falcon's `{meta, resources, errors}` envelope on every answer. Containment goes through its
 * pending state and takes effect after a configurable number of state reads. As strict as
 * Falcon where SDKs must adapt: every token answer names the tenant's cloud in `X-Cs-Region`
 * (a simulator playing another cloud answers the token request with a 308 or a token that its
 * API refuses), and a 429 says when to come back in `X-Ratelimit-Retryafter` (epoch seconds),
 * not Retry-After.
 */

export type FalconStatus = 'normal' | 'containment_pending' | 'contained' | 'lift_containment_pending';

export interface FalconDeviceSeed {
  deviceId: string;
  hostname: string;
  status?: FalconStatus;
  lastSeen?: string;
  platform?: string;
}

export interface CrowdStrikeSimulatorOptions {
  clientId?: string;
  clientSecret?: string;
  tokenTtlSeconds?: number;
  /** State reads of a device after which a pending (lift) containment completes; 0 = at once. */
  readsUntilEffective?: number;
  devices?: FalconDeviceSeed[];
  /** The cloud this simulator plays, announced in X-Cs-Region (default us-1). */
  region?: string;
  /**
   * The tenant lives in another cloud: the token endpoint answers with that cloud in
   * X-Cs-Region, as a 308 to its token URL or as a token this cloud's API does not accept.
   */
  tenantElsewhere?: { region: string; answer: 308 | 201 };
}

interface Device {
  device_id: string;
  hostname: string;
  status: FalconStatus;
  last_seen: string;
  platform_name: string;
  pendingReads: number;
}

const ACTIONS = new Set(['contain', 'lift_containment', 'hide_host', 'unhide_host']);

export class CrowdStrikeSimulator extends SimulatorServer {
  readonly devices = new Map<string, Device>();
  readonly clientId: string;
  readonly clientSecret: string;
  readsUntilEffective: number;
  private readonly tokenTtlSeconds: number;
  private readonly region: string;
  private readonly tenantElsewhere?: CrowdStrikeSimulatorOptions['tenantElsewhere'];
  private readonly tokens = new Set<string>();
  private answerDelays: number[] = [];

  constructor(opts: CrowdStrikeSimulatorOptions = {}) {
    super('crowdstrike');
    this.clientId = opts.clientId ?? 'sim-falcon-client';
    this.clientSecret = opts.clientSecret ?? 'sim-falcon-secret-' + randomBytes(8).toString('hex');
    this.tokenTtlSeconds = opts.tokenTtlSeconds ?? 1799;
    this.readsUntilEffective = opts.readsUntilEffective ?? 2;
    this.region = opts.region ?? 'us-1';
    this.tenantElsewhere = opts.tenantElsewhere;
    for (const d of opts.devices ?? []) this.seedDevice(d);

    this.route('POST', '/oauth2/token', (r) => this.token(r));
    this.route('GET', '/devices/queries/devices/v1', (r) => this.authed(r, () => this.queryDevices(r)));
    this.route('GET', '/devices/entities/devices/v2', (r) => this.authed(r, () => this.deviceDetails(idsOf(r.query.ids))));
    this.route('POST', '/devices/entities/devices/v2', (r) =>
      this.authed(r, () => this.deviceDetails(Array.isArray((r.body as { ids?: unknown })?.ids) ? ((r.body as { ids: string[] }).ids) : [])),
    );
    this.route('POST', '/devices/entities/devices-actions/v2', (r) => this.authed(r, () => this.deviceAction(r)));
  }

  seedDevice(d: FalconDeviceSeed): void {
    this.devices.set(d.deviceId, {
      device_id: d.deviceId,
      hostname: d.hostname,
      status: d.status ?? 'normal',
      last_seen: d.lastSeen ?? new Date().toISOString(),
      platform_name: d.platform ?? 'Windows',
      pendingReads: this.readsUntilEffective,
    });
  }

  /** Invalidates every issued token, as rotating the API client's secret does. */
  revokeTokens(): void {
    this.tokens.clear();
  }

  /** The next device action is carried out, but its answer comes `ms` later (to outlast a client timeout). */
  delayNextActionAnswer(ms: number): void {
    this.answerDelays.push(ms);
  }

  tokenRequests(): RecordedRequest[] {
    return this.served((r) => r.path === '/oauth2/token');
  }

  /** Device action requests that reached the API (faulted ones excluded), optionally of one action. */
  actionRequests(action?: string): RecordedRequest[] {
    return this.served((r) => r.path === '/devices/entities/devices-actions/v2' && (!action || r.query.action_name === action));
  }

  private token(r: SimRequest): SimResponse {
    const form = (typeof r.body === 'object' && r.body ? r.body : {}) as Record<string, string>;
    if (form.client_id !== this.clientId || form.client_secret !== this.clientSecret) {
      return envelope(403, [], [{ code: 403, message: 'access denied, invalid client' }]);
    }
    const elsewhere = this.tenantElsewhere;
    const headers = { 'X-Cs-Region': elsewhere?.region ?? this.region };
    if (elsewhere?.answer === 308) {
      return { status: 308, headers: { ...headers, Location: `https://api.${elsewhere.region}.crowdstrike.com/oauth2/token` } };
    }
    const token = randomBytes(24).toString('base64url');
    // A token for a tenant of another cloud is issued, but this cloud's API refuses it.
    if (!elsewhere) this.tokens.add(token);
    return { status: 201, headers, body: { access_token: token, token_type: 'bearer', expires_in: this.tokenTtlSeconds } };
  }

  protected override rateLimited(retryAfterSeconds: number): SimResponse {
    const at = Math.ceil(Date.now() / 1000) + retryAfterSeconds;
    return {
      ...envelope(429, [], [{ code: 429, message: 'API rate limit exceeded.' }]),
      headers: { 'X-Ratelimit-Limit': '6000', 'X-Ratelimit-Remaining': '0', 'X-Ratelimit-Retryafter': String(at) },
    };
  }

  private authed(r: SimRequest, next: () => SimResponse | Promise<SimResponse>): SimResponse | Promise<SimResponse> {
    const auth = String(r.headers.authorization ?? '');
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
    if (!this.tokens.has(token)) return envelope(401, [], [{ code: 401, message: 'access denied, invalid bearer token' }]);
    return next();
  }

  private queryDevices(r: SimRequest): SimResponse {
    let devices = [...this.devices.values()];
    if (r.query.filter) {
      const m = /^hostname:'((?:[^'\\]|\\.)*)'$/.exec(r.query.filter);
      if (!m) return envelope(400, [], [{ code: 400, message: `Invalid filter: ${r.query.filter}` }]);
      const name = m[1].replace(/\\(.)/g, '$1').toLowerCase();
      devices = devices.filter((d) => d.hostname.toLowerCase() === name);
    }
    if (r.query.sort) {
      const m = /^last_seen\.(asc|desc)$/.exec(r.query.sort);
      if (!m) return envelope(400, [], [{ code: 400, message: `Invalid sort: ${r.query.sort}` }]);
      const dir = m[1] === 'asc' ? 1 : -1;
      devices.sort((a, b) => dir * (Date.parse(a.last_seen) - Date.parse(b.last_seen)));
    }
    const offset = Number(r.query.offset ?? 0);
    const limit = Number(r.query.limit ?? 100);
    const page = devices.slice(offset, offset + limit).map((d) => d.device_id);
    return envelope(200, page, [], { pagination: { offset, limit, total: devices.length } });
  }

  private deviceDetails(ids: string[]): SimResponse {
    if (!ids.length) return envelope(400, [], [{ code: 400, message: 'ids is required' }]);
    const found = ids.map((id) => this.devices.get(id)).filter((d): d is Device => Boolean(d));
    for (const d of found) this.advance(d);
    const missing = ids.filter((id) => !this.devices.has(id));
    const errors = missing.map((id) => ({ code: 404, message: `Device not found: ${id}` }));
    const resources = found.map(({ pendingReads: _p, ...d }) => d);
    return envelope(found.length ? 200 : 404, resources, errors);
  }

  private async deviceAction(r: SimRequest): Promise<SimResponse> {
    const action = r.query.action_name;
    if (!action || !ACTIONS.has(action)) return envelope(400, [], [{ code: 400, message: `Invalid action_name: ${action ?? ''}` }]);
    const ids = (r.body as { ids?: unknown })?.ids;
    if (!Array.isArray(ids) || ids.length === 0) return envelope(400, [], [{ code: 400, message: 'Body must contain ids' }]);
    const device = this.devices.get(String(ids[0]));
    if (!device) return envelope(404, [], [{ code: 404, message: `Device not found: ${String(ids[0])}` }]);

    if (action === 'contain') {
      if (device.status !== 'normal') return envelope(409, [], [{ code: 409, message: `Device ${device.device_id} is already ${device.status}` }]);
      this.transition(device, 'containment_pending');
    } else if (action === 'lift_containment') {
      if (device.status !== 'contained') return envelope(409, [], [{ code: 409, message: `Device ${device.device_id} is not contained (${device.status})` }]);
      this.transition(device, 'lift_containment_pending');
    }
    const delay = this.answerDelays.shift();
    if (delay) await new Promise((res) => setTimeout(res, delay));
    return envelope(202, [{ id: device.device_id, path: '' }], []);
  }

  private transition(d: Device, status: FalconStatus): void {
    d.status = status;
    d.pendingReads = this.readsUntilEffective;
    if (d.pendingReads <= 0) this.settle(d);
  }

  private advance(d: Device): void {
    if (d.status !== 'containment_pending' && d.status !== 'lift_containment_pending') return;
    d.pendingReads -= 1;
    if (d.pendingReads <= 0) this.settle(d);
  }

  private settle(d: Device): void {
    if (d.status === 'containment_pending') d.status = 'contained';
    else if (d.status === 'lift_containment_pending') d.status = 'normal';
  }

  /** What survives a restart of the embedded default: see CrowdStrikeSnapshot. */
  snapshot(): CrowdStrikeSnapshot {
    return { devices: [...this.devices.values()].map((d) => ({ ...d })) };
  }

  restore(data: unknown): void {
    const s = CrowdStrikeSnapshotSchema.parse(data);
    this.devices.clear();
    for (const d of s.devices) this.devices.set(d.device_id, { ...d });
  }
}

function idsOf(v: string | undefined): string[] {
  return v ? v.split(',').map((s) => s.trim()).filter(Boolean) : [];
}

function envelope(status: number, resources: unknown[], errors: Array<{ code: number; message: string }>, meta: Record<string, unknown> = {}): SimResponse {
  return {
    status,
    body: { meta: { query_time: 0.001, powered_by: 'device-api', trace_id: randomUUID(), ...meta }, resources, errors },
  };
}

export async function startCrowdStrikeSimulator(opts: CrowdStrikeSimulatorOptions = {}): Promise<CrowdStrikeSimulator> {
  const sim = new CrowdStrikeSimulator(opts);
  await sim.start();
  return sim;
}

/**
 * The devices with their containment state and the state reads a pending (lift) containment
 * still waits for, so a host contained before a restart stays contained after it and a pending
 * action completes. Tokens are not kept: a client authenticates again, as after Falcon expires them.
 */
export interface CrowdStrikeSnapshot {
  devices: Device[];
}

const CrowdStrikeSnapshotSchema = z.object({
  devices: z.array(
    z.object({
      device_id: z.string().min(1),
      hostname: z.string(),
      status: z.enum(['normal', 'containment_pending', 'contained', 'lift_containment_pending']),
      last_seen: z.string(),
      platform_name: z.string(),
      pendingReads: z.number().int(),
    }),
  ),
});
