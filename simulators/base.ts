import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mulberry32 } from '../common/prng';

/**
 * A small HTTP server every vendor simulator is built on: routing, JSON bodies, a record of
 * every request (so tests can count side effects), and fault injection (5xx, 429 with
 * Retry-After, hangs longer than a client timeout, slow answers).
 */

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
  body: unknown;
  rawBody: string;
  at: number;
}

export interface SimRequest extends RecordedRequest {
  params: Record<string, string>;
}

export interface SimResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Handler = (req: SimRequest) => SimResponse | Promise<SimResponse>;

export type Fault =
  | { kind: 'status'; status: number; body?: unknown }
  | { kind: 'rateLimit'; retryAfterSeconds: number }
  /** Never answers within `ms` (longer than the client's timeout), then drops the connection. */
  | { kind: 'hang'; ms: number }
  /** Answers normally, after `ms`. */
  | { kind: 'slow'; ms: number }
  /** Destroys the socket without an answer. */
  | { kind: 'reset' };

export interface FaultPlan {
  /** Faults served in order, one per matching request, before normal service resumes. */
  queue?: Fault[];
  /** A fault picked at random with probability `rate` on every matching request. */
  random?: { rate: number; faults: Fault[]; seed?: number };
  /** Only requests whose "METHOD path" matches are subject to faults (default: all). */
  match?: RegExp;
}

interface Route {
  method: string;
  pattern: RegExp;
  keys: string[];
  handler: Handler;
}

export class SimulatorServer {
  readonly requests: RecordedRequest[] = [];
  private readonly routes: Route[] = [];
  private server?: http.Server;
  private faults: FaultPlan = {};
  private rng = mulberry32(1);
  private readonly sockets = new Set<import('node:net').Socket>();
  private readonly handledListeners: ((req: RecordedRequest) => void)[] = [];
  baseUrl = '';

  constructor(readonly name: string) {}

  /** `path` uses `:name` segments, e.g. `/rest/api/3/issue/:key/comment`. */
  route(method: string, path: string, handler: Handler): this {
    const keys: string[] = [];
    const pattern = new RegExp(
      '^' + path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\/:(\w+)/g, (_m, k: string) => (keys.push(k), '/([^/]+)')) + '/?$',
    );
    this.routes.push({ method: method.toUpperCase(), pattern, keys, handler });
    return this;
  }

  /** Called after a handler answered and before the answer leaves (simulators/persistence.ts saves there). */
  onHandled(listener: (req: RecordedRequest) => void): void {
    this.handledListeners.push(listener);
  }

  setFaults(plan: FaultPlan): void {
    this.faults = { ...plan, queue: [...(plan.queue ?? [])] };
    this.rng = mulberry32(plan.random?.seed ?? 1);
  }

  clearFaults(): void {
    this.faults = {};
  }

  /** Requests that reached a handler (faulted ones excluded), optionally filtered. */
  served(filter?: (r: RecordedRequest) => boolean): RecordedRequest[] {
    return this.requests.filter((r) => (r as RecordedRequest & { faulted?: boolean }).faulted !== true && (!filter || filter(r)));
  }

  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, () => resolve());
    });
    const addr = this.server.address() as AddressInfo;
    this.baseUrl = `http://${host}:${addr.port}`;
    return this.baseUrl;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The vendor's 429; most vendors say how long to wait in Retry-After. */
  protected rateLimited(retryAfterSeconds: number): SimResponse {
    return { status: 429, headers: { 'Retry-After': String(retryAfterSeconds) }, body: { error: 'rate limited (simulated)' } };
  }

  private nextFault(method: string, path: string): Fault | undefined {
    const f = this.faults;
    if (f.match && !f.match.test(`${method} ${path}`)) return undefined;
    if (f.queue && f.queue.length > 0) return f.queue.shift();
    if (f.random && this.rng() < f.random.rate) {
      return f.random.faults[Math.floor(this.rng() * f.random.faults.length)];
    }
    return undefined;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://sim');
    let body: unknown = rawBody;
    const type = String(req.headers['content-type'] ?? '');
    if (rawBody && type.includes('json')) {
      try {
        body = JSON.parse(rawBody);
      } catch {
        return send(res, { status: 400, body: { error: 'invalid JSON body' } });
      }
    } else if (rawBody && type.includes('x-www-form-urlencoded')) {
      body = Object.fromEntries(new URLSearchParams(rawBody));
    }
    const method = (req.method ?? 'GET').toUpperCase();
    const rec: RecordedRequest & { faulted?: boolean } = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body,
      rawBody,
      at: Date.now(),
    };
    this.requests.push(rec);

    const fault = this.nextFault(method, url.pathname);
    if (fault && fault.kind !== 'slow') {
      rec.faulted = true;
      switch (fault.kind) {
        case 'status':
          return send(res, { status: fault.status, body: fault.body ?? { error: `simulated ${fault.status}` } });
        case 'rateLimit':
          return send(res, this.rateLimited(fault.retryAfterSeconds));
        case 'hang':
          setTimeout(() => req.socket.destroy(), fault.ms).unref();
          return;
        case 'reset':
          req.socket.destroy();
          return;
      }
    }
    if (fault?.kind === 'slow') await new Promise((r) => setTimeout(r, fault.ms));

    for (const route of this.routes) {
      if (route.method !== method) continue;
      const m = route.pattern.exec(url.pathname);
      if (!m) continue;
      const params: Record<string, string> = {};
      route.keys.forEach((k, i) => (params[k] = decodeURIComponent(m[i + 1])));
      try {
        const answer = await route.handler({ ...rec, params });
        for (const listener of this.handledListeners) listener(rec);
        return send(res, answer);
      } catch (err) {
        return send(res, { status: 500, body: { error: `simulator ${this.name}: ${(err as Error).message}` } });
      }
    }
    return send(res, { status: 404, body: { error: `simulator ${this.name}: no route ${method} ${url.pathname}` } });
  }
}

function send(res: http.ServerResponse, r: SimResponse): void {
  if (res.destroyed) return;
  const headers: Record<string, string> = { ...(r.headers ?? {}) };
  let payload = '';
  if (r.body !== undefined) {
    payload = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
      headers['Content-Type'] = typeof r.body === 'string' ? 'text/plain' : 'application/json';
    }
  }
  res.writeHead(r.status, headers);
  res.end(payload);
}

/** Deterministic PRNG so a fault mix is reproducible from its seed. */
export { mulberry32 };
