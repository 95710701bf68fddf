/**
 * drw's HTTP API (node:http, no framework: a dozen routes do not need one). Every body is
 * validated with zod before anything reaches Temporal; every refusal is a 4xx with a
 * precise message; nothing is started for invalid input.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { JsonInputError, parseStrictJson } from '../common/strict-json';
import { detectionSchema } from '../domain/detection';
import { REMEDIATION_ID_PATTERN } from '../domain/ids';
import { approvalDecisionSchema, operatorActionSchema, riskScoreChangedSchema } from '../signals';
import type { Logger } from '../common/logger';
import type { ApiAuth } from './auth';
import { approvalFromToken, operatorFromToken, riskFromToken, tokenApprovalSchema, tokenOperatorSchema } from './auth/identity';
import { ApiError, type RemediationService } from './service';

export const MAX_BODY_BYTES = 1024 * 1024;

export interface ApiOptions {
  service: RemediationService;
  logger: Logger;
  /** Answers /healthz: 200 once the workers poll. */
  ready: () => boolean;
  /** Identity used when a request names none (embedded default, loopback only). */
  defaultIdentity?: string;
  /** More routes (ingest formats, lists, reports, ...), each module owning its own. */
  extraRoutes?: Route[];
  /**
   * Authentication (api/auth). Unset, or a half not configured, keeps the embedded behaviour for
   * that half: identity from the body, detections from anyone (cli/app.ts allows that on loopback only).
   */
  auth?: ApiAuth;
}

export type Params = Record<string, string>;
/** `body` parses the request as JSON; `raw` gives its bytes (both read it once, with the size limit). */
export type Handler = (req: http.IncomingMessage, params: Params, body: () => Promise<unknown>, raw: () => Promise<Buffer>) => Promise<{ status: number; body: unknown }>;

export interface Route {
  method: string;
  pattern: RegExp;
  keys: string[];
  handler: Handler;
}

export function route(method: string, path: string, handler: Handler): Route {
  const keys: string[] = [];
  const pattern = new RegExp(`^${path.replace(/\{(\w+)\}/g, (_m, k: string) => (keys.push(k), '([^/]+)'))}$`);
  return { method, pattern, keys, handler };
}

export function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) {
    throw new ApiError(400, 'invalid request body', r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message, code: i.code })));
  }
  return r.data;
}

export function remediationIdParam(p: Params): string {
  if (!REMEDIATION_ID_PATTERN.test(p.id)) throw new ApiError(404, `no remediation ${p.id}`);
  return p.id;
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw new ApiError(413, `body larger than ${MAX_BODY_BYTES} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new ApiError(413, `body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function jsonBody(raw: Buffer, req: http.IncomingMessage): unknown {
  const type = String(req.headers['content-type'] ?? 'application/json');
  if (!/json/i.test(type)) throw new ApiError(415, `send application/json (got ${type})`);
  if (raw.length === 0) throw new ApiError(400, 'empty body: send a JSON object');
  try {
    return parseStrictJson(raw);
  } catch (e) {
    throw new ApiError(400, e instanceof JsonInputError ? e.message : `body is not valid JSON: ${(e as Error).message}`);
  }
}

export function createApi(o: ApiOptions): http.Server {
  const s = o.service;
  // The authenticated person (401 without a valid token), or undefined without person authentication.
  const user = (req: http.IncomingMessage) => o.auth?.user(req) ?? Promise.resolve(undefined);
  const decision = (kind: 'approve' | 'deny'): Handler => async (req, p, body) => {
    const who = await user(req);
    const id = remediationIdParam(p);
    const d = who ? approvalFromToken(who, parse(tokenApprovalSchema, await body())) : parse(approvalDecisionSchema.omit({ stepId: true, assertion: true }), await body());
    const plan = await s.decide(id, kind, { ...d, stepId: p.stepId });
    return { status: 200, body: { id, plan } };
  };
  const operator = (action: 'pause' | 'resume' | 'cancel' | 'falsePositive'): Handler => async (req, p, body) => {
    const who = await user(req);
    const id = remediationIdParam(p);
    await s.operator(id, action, who ? operatorFromToken(who, parse(tokenOperatorSchema, await body())) : parse(operatorActionSchema, await body()));
    return { status: 202, body: { id, accepted: action } };
  };

  const routes: Route[] = [
    route('GET', '/healthz', async () => (o.ready() ? { status: 200, body: { status: 'ok' } } : { status: 503, body: { status: 'starting' } })),
    route('POST', '/v1/detections', async (req, _p, body, raw) => {
      const who = await o.auth?.submitter(req, raw);
      const detection = parse(detectionSchema, await body());
      const r = await s.submit(detection, who?.user ?? o.defaultIdentity ?? `api:${detection.source}`);
      return { status: 202, body: { remediations: [r] } };
    }),
    route('GET', '/v1/remediations/{id}', async (req, p) => {
      await user(req);
      const v = await s.state(remediationIdParam(p));
      return {
        status: 200,
        body: { id: v.id, status: v.status, severity: v.severity, riskScore: v.riskScore, asset: v.asset, plan: { version: v.plan.version, policyVersion: v.plan.policyVersion, playbook: v.plan.playbook, steps: v.plan.steps }, decisions: v.decisions, title: v.title, source: v.source, rule: v.rule, dedupeKey: v.dedupeKey, findingCount: v.findingCount, slaDeadline: v.slaDeadline, slaBreached: v.slaBreached, ticket: v.ticket, resolution: v.resolution, approvals: v.approvals },
      };
    }),
    route('POST', '/v1/remediations/{id}/risk', async (req, p, body) => {
      const who = await user(req);
      const id = remediationIdParam(p);
      const m = parse(riskScoreChangedSchema, await body());
      await s.changeRisk(id, who ? riskFromToken(who, m) : { ...m, by: m.by ?? o.defaultIdentity });
      return { status: 202, body: { id, accepted: 'riskScoreChanged' } };
    }),
    route('POST', '/v1/remediations/{id}/steps/{stepId}/approve', decision('approve')),
    route('POST', '/v1/remediations/{id}/steps/{stepId}/deny', decision('deny')),
    route('POST', '/v1/remediations/{id}/pause', operator('pause')),
    route('POST', '/v1/remediations/{id}/resume', operator('resume')),
    route('POST', '/v1/remediations/{id}/cancel', operator('cancel')),
    route('POST', '/v1/remediations/{id}/false-positive', operator('falsePositive')),
    ...(o.extraRoutes ?? []),
  ];

  return http.createServer((req, res) => {
    const started = Date.now();
    const url = new URL(req.url ?? '/', 'http://drw');
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
      o.logger.info({ method: req.method, path: url.pathname, status, ms: Date.now() - started }, 'http');
    };
    void (async () => {
      const candidates = routes.filter((r) => r.pattern.test(url.pathname));
      const r = candidates.find((x) => x.method === req.method);
      if (!r) {
        if (candidates.length) return send(405, { error: `method ${req.method} not allowed on ${url.pathname}` });
        return send(404, { error: `no route ${req.method} ${url.pathname}` });
      }
      const m = r.pattern.exec(url.pathname)!;
      const params: Params = {};
      try {
        r.keys.forEach((k, i) => (params[k] = decodeURIComponent(m[i + 1])));
      } catch {
        return send(400, { error: `malformed percent-encoding in ${url.pathname.slice(0, 300)}` });
      }
      let read: Promise<Buffer> | undefined;
      const raw = () => (read ??= readBody(req));
      const body = async () => jsonBody(await raw(), req);
      try {
        const out = await r.handler(req, params, body, raw);
        send(out.status, out.body);
      } catch (e) {
        // AuthError (api/auth) carries the WWW-Authenticate challenge of a 401.
        if (e instanceof ApiError) return send(e.status, { error: e.message, ...(e.details ? { details: e.details } : {}) }, (e as { headers?: Record<string, string> }).headers);
        o.logger.error({ err: e, path: url.pathname }, 'request failed');
        send(503, { error: 'temporarily unable to reach Temporal; retry', detail: (e as Error).message?.slice(0, 200) });
      }
    })();
  });
}

export async function listen(server: http.Server, host: string, port: number): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  return `http://${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`;
}
