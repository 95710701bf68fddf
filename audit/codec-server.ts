/**
 * The Temporal remote codec protocol (docs.temporal.io, "Codec Server"): `POST …/encode`
 * and `POST …/decode` with `{"payloads":[{"metadata":{k: base64},"data": base64}]}` in and
 * out, the namespace in `X-Namespace`, and CORS so the Temporal Web UI (another origin) may
 * call it from the browser. It lets engineers read encrypted histories in the UI and with
 * `temporal workflow show --codec-endpoint`.
 *
 * `codecHandler` is a pure function of (method, path, headers, body) so any HTTP layer can
 * mount it; `startCodecServer` serves it with node:http for `drw codec-server`. Outside
 * loopback it needs a bearer token (or the caller's verifier, e.g. the API's JWT check).
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import http from 'node:http';
import type { PayloadCodec } from '@temporalio/common';
import { z } from 'zod';
import { jsonPayloadSchema, payloadFromJson, payloadToJson } from './payload-json';

export interface CodecRequest {
  method: string;
  /** Path without the query string, e.g. /codec/decode. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface CodecResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface CodecHandlerOptions {
  codec: PayloadCodec;
  /** The namespace whose payloads this codec serves (X-Namespace must name it when sent non-empty). */
  namespace: string;
  /** Origins allowed by CORS (the Temporal UI's); "*" for any. */
  corsOrigins: string[];
  /** Bearer token required on /encode and /decode when set. */
  token?: string;
  /** Another way to accept a request (e.g. the UI forwarding the user's JWT); true to accept. */
  authorize?: (authorization: string | undefined) => Promise<boolean>;
}

export const MAX_CODEC_BODY = 8 * 1024 * 1024;
const bodySchema = z.object({ payloads: z.array(jsonPayloadSchema).max(10_000) });

function header(h: CodecRequest['headers'], name: string): string | undefined {
  const v = h[name] ?? h[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

export function codecHandler(o: CodecHandlerOptions): (req: CodecRequest) => Promise<CodecResponse> {
  const anyOrigin = o.corsOrigins.includes('*');
  const cors = (origin: string | undefined): Record<string, string> => {
    if (!origin || !(anyOrigin || o.corsOrigins.includes(origin))) return {};
    return {
      'access-control-allow-origin': origin,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'POST, OPTIONS',
      'access-control-allow-headers': 'Content-Type, X-Namespace, Authorization',
      'access-control-max-age': '600',
      vary: 'Origin',
    };
  };
  const json = (status: number, value: unknown, extra: Record<string, string>): CodecResponse => ({
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...extra },
    body: JSON.stringify(value),
  });
  return async (req) => {
    const c = cors(header(req.headers, 'origin'));
    const op = /\/(encode|decode)\/?$/.exec(req.path)?.[1] as 'encode' | 'decode' | undefined;
    if (!op) return json(404, { error: 'not found: POST /encode or /decode' }, c);
    if (req.method === 'OPTIONS') return { status: 204, headers: c, body: '' };
    if (req.method !== 'POST') return json(405, { error: 'method not allowed: POST' }, { ...c, allow: 'POST, OPTIONS' });
    const auth = header(req.headers, 'authorization');
    if (o.token || o.authorize) {
      const bearer = /^Bearer\s+(.+)$/i.exec(auth ?? '')?.[1]?.trim();
      const ok = (o.token !== undefined && bearer !== undefined && sameSecret(bearer, o.token)) || (o.authorize ? await o.authorize(auth).catch(() => false) : false);
      if (!ok) return json(401, { error: 'unauthorized: send Authorization: Bearer <token>' }, { ...c, 'www-authenticate': 'Bearer' });
    }
    // `temporal workflow show` without --namespace sends an empty X-Namespace (it means the default namespace).
    const ns = header(req.headers, 'x-namespace') || undefined;
    if (ns !== undefined && ns !== o.namespace) return json(403, { error: `this codec serves namespace "${o.namespace}", not "${ns.slice(0, 200)}"` }, c);
    if (!/^application\/json\b/i.test(header(req.headers, 'content-type') ?? 'application/json')) return json(415, { error: 'content-type: application/json' }, c);
    if (Buffer.byteLength(req.body) > MAX_CODEC_BODY) return json(413, { error: `body larger than ${MAX_CODEC_BODY} bytes` }, c);
    let doc: unknown;
    try {
      doc = JSON.parse(req.body);
    } catch {
      return json(400, { error: 'body: not JSON; expected {"payloads":[...]}' }, c);
    }
    const parsed = bodySchema.safeParse(doc);
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      return json(400, { error: `body.${i.path.join('.')}: ${i.message}` }, c);
    }
    try {
      const payloads = parsed.data.payloads.map(payloadFromJson);
      const out = op === 'encode' ? await o.codec.encode(payloads) : await o.codec.decode(payloads);
      return json(200, { payloads: out.map(payloadToJson) }, c);
    } catch (e) {
      return json(400, { error: `${op}: ${(e as Error).message}` }, c);
    }
  };
}

export const LOOPBACK: ReadonlySet<string> = new Set(['127.0.0.1', '::1', 'localhost']);

/** The codec server's base URL on a host and port (an IPv6 address in brackets). */
export function codecServerUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Serves the handler with node:http; refuses a non-loopback address without authentication. */
export async function startCodecServer(o: CodecHandlerOptions & { host: string; port: number }): Promise<{ server: http.Server; url: string; close(): Promise<void> }> {
  if (!LOOPBACK.has(o.host) && !o.token && !o.authorize) {
    throw new Error(`DRW_CODEC_SERVER_TOKEN: required to listen on ${o.host} (beyond loopback, anyone reaching the port could decrypt payloads)`);
  }
  const handle = codecHandler(o);
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_CODEC_BODY) {
        res.writeHead(413, { 'content-type': 'application/json', connection: 'close' }).end(JSON.stringify({ error: `body larger than ${MAX_CODEC_BODY} bytes` }));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (res.headersSent) return;
      handle({ method: req.method ?? 'GET', path: new URL(req.url ?? '/', 'http://codec').pathname, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }).then(
        (r) => res.writeHead(r.status, r.headers).end(r.body),
        () => res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"internal error"}'),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const addr = server.address() as { port: number };
  return { server, url: codecServerUrl(o.host, addr.port), close: () => new Promise((r) => server.close(() => r())) };
}
