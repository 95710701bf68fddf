/**
 * drw's HTTP API on fastify. Each route is declared once (api/route.ts) with zod schemas that
 * validate the request, shape the answer and generate the OpenAPI document (@fastify/swagger);
 * nothing reaches Temporal before its caller is verified and authorized for the route's
 * permission (policies/access.yaml) and its body validated. Every refusal is a 4xx whose
 * `error` says what was wrong.
 *
 * Per request: loopback Host/Origin check (onRequest) → body bytes (size limit) → who is calling
 * and may they (preValidation: 401/403) → content type and strict JSON (415/400) → zod schemas
 * (400) → rate limit per identity (preHandler: 429) → handler.
 */
import type { AddressInfo } from 'node:net';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { JsonInputError, parseStrictJson } from '../common/strict-json';
import type { Logger } from '../common/logger';
import { callerKey, isLoopbackHost, type ApiAuth, type Caller } from './auth';
import { z } from 'zod';
import type { Permission } from './auth/access';
import type { ApiSettings } from './config';
import type { DrwRoute } from './route';
import { metaRoutes } from './routes/meta';
import { errorSchema } from './schemas';
import { ApiError } from './service';

export const MAX_BODY_BYTES = 1024 * 1024;

declare module 'fastify' {
  interface FastifyRequest {
    drwCaller?: Caller;
  }
  interface FastifyContextConfig {
    drwRoute?: DrwRoute;
  }
}

export interface ApiOptions {
  logger: Logger;
  /** The routes (api/routes/index.ts apiRoutes), each declared once; health and /openapi.json are added. */
  routes: DrwRoute[];
  /** Answers /healthz: 200 once the workers poll. */
  ready: () => boolean;
  /** Unset: every route open, as on the embedded loopback default without credentials. */
  auth?: ApiAuth;
  /** Where the server listens: on loopback, Host and Origin must be this machine's (DNS rebinding, CSRF). */
  host: string;
  settings: Pick<ApiSettings, 'timeouts' | 'maxConnections' | 'rateLimit' | 'allowedHosts'>;
  /** The approval pages at /ui (api/ui), registered beside the routes. */
  ui?: (app: FastifyInstance) => Promise<void>;
}

const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json$/;

/** The media type of a Content-Type header, lower case, without parameters. */
export function mediaType(header: string | undefined): string | undefined {
  const t = header?.split(';')[0].trim().toLowerCase();
  return t ? t : undefined;
}

export function isJsonType(header: string | undefined): boolean {
  return JSON_TYPE.test(mediaType(header) ?? '');
}

/** `{id}` → `:id`. */
const fastifyPath = (p: string) => p.replace(/\{(\w+)\}/g, ':$1');
const pathPattern = (p: string) => new RegExp(`^${p.replace(/\{\w+\}/g, '[^/]+')}$`);

function send(reply: FastifyReply, status: number, error: string, extra: Record<string, unknown> = {}): FastifyReply {
  return reply.code(status).type('application/json').send({ error, ...extra });
}

/** Host and Origin checks of a loopback bind: a web page's requests (CSRF) and a rebound DNS name carry foreign ones. */
function loopbackGuard(allowedHosts: string[], port: () => number | undefined) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const host = String(req.headers.host ?? '').toLowerCase();
    const m = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(host);
    const ours = m && isLoopbackHost(m[1]) && Number(m[2] ?? 80) === port();
    if (!ours && !(host && (allowedHosts.includes(host) || (m && allowedHosts.includes(m[1]))))) {
      return send(reply, 403, `Host "${host.slice(0, 100)}" is not this API's loopback address (localhost, 127.0.0.1 or [::1] with port ${port()}): refused, as a rebound DNS name would be; a local reverse proxy's name goes in DRW_API_ALLOWED_HOSTS`);
    }
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${host}` && origin !== `https://${host}`) {
      return send(reply, 403, `Origin "${String(origin).slice(0, 100)}" is not this API's own: cross-origin requests from web pages are refused`);
    }
  };
}

function neededPermission(r: DrwRoute, params: Record<string, string>): Permission | undefined {
  if (r.permission === 'public') return undefined;
  if (r.permission === 'submit') return `submit:${params.format ?? 'drw'}`;
  return r.permission;
}

/** A path parameter that cannot name anything (a malformed remediation id, an unknown format): 404, as for an unknown one. */
function paramsNotFound(issues: { path: string; message: string }[], params: Record<string, string>): ApiError {
  if (issues.some((i) => i.path === 'id')) return new ApiError(404, `no remediation ${String(params.id).slice(0, 300)}`);
  return new ApiError(404, issues.map((i) => i.message).join('; '));
}

/** Validation errors of the zod schemas, in drw's shape. */
function validationAnswer(err: FastifyError, req: FastifyRequest): ApiError {
  const issues = (err.validation ?? []).map((v) => ({ path: String(v.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.'), message: v.message ?? '', code: v.keyword }));
  const where = err.validationContext;
  if (where === 'params') return paramsNotFound(issues, req.params as Record<string, string>);
  if (where === 'querystring') return new ApiError(400, `invalid query: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')}`, issues);
  return new ApiError(400, 'invalid request body', issues);
}

export async function createApi(o: ApiOptions): Promise<FastifyInstance> {
  const t = o.settings.timeouts;
  const app = Fastify({
    logger: false,
    bodyLimit: MAX_BODY_BYTES,
    requestTimeout: t.requestMs,
    keepAliveTimeout: t.keepAliveMs,
    connectionTimeout: t.requestMs,
    return503OnClosing: true,
    forceCloseConnections: true,
    routerOptions: { maxParamLength: 1000 },
    // A malformed percent-encoding in the path is the caller's mistake.
    frameworkErrors: (err, req, reply) => {
      if (err.code === 'FST_ERR_BAD_URL') return send(reply, 400, `malformed percent-encoding in ${String(req.url).slice(0, 300)}`);
      return send(reply, err.statusCode && err.statusCode < 500 ? err.statusCode : 400, err.message);
    },
  });
  const routes = [...metaRoutes(o.ready, () => app.swagger()), ...o.routes];
  app.server.headersTimeout = t.headersMs;
  app.server.maxConnections = o.settings.maxConnections;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorateRequest('drwCaller', undefined);

  // Bodies are read as bytes (signatures are over them); routes then parse them strictly.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  if (isLoopbackHost(o.host)) app.addHook('onRequest', loopbackGuard(o.settings.allowedHosts, () => (app.server.address() as AddressInfo | null)?.port));

  const started = new WeakMap<FastifyRequest, number>();
  app.addHook('onRequest', async (req) => void started.set(req, Date.now()));
  app.addHook('onResponse', async (req, reply) => {
    o.logger.info({ method: req.method, path: req.url.split('?')[0], status: reply.statusCode, ms: Date.now() - (started.get(req) ?? Date.now()) }, 'http');
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof ApiError) {
      // A refused action is part of the audit: who tried what, and why it was refused (identity, never a token).
      if (err.status === 403 && req.drwCaller?.kind === 'person') {
        o.logger.warn({ user: req.drwCaller.user, groups: req.drwCaller.groups, method: req.method, path: req.url.split('?')[0], type: (err.details as { type?: string } | undefined)?.type, refusal: err.message }, 'action refused');
      }
      for (const [k, v] of Object.entries((err as { headers?: Record<string, string> }).headers ?? {})) reply.header(k, v);
      return send(reply, err.status, err.message, err.details !== undefined ? { details: err.details } : {});
    }
    if (hasZodFastifySchemaValidationErrors(err)) {
      const a = validationAnswer(err, req);
      return send(reply, a.status, a.message, a.details !== undefined ? { details: a.details } : {});
    }
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return send(reply, 413, `body larger than ${MAX_BODY_BYTES} bytes`);
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return send(reply, err.statusCode, err.message);
    o.logger.error({ err, path: req.url.split('?')[0] }, 'request failed');
    if (err.code === 'FST_ERR_RESPONSE_SERIALIZATION') return send(reply, 500, 'the answer did not match its documented schema', { detail: String((err as { cause?: Error }).cause?.message ?? '').slice(0, 300) });
    return send(reply, 503, 'temporarily unable to reach Temporal; retry', { detail: err.message?.slice(0, 200) });
  });

  // A path that exists with another method is 405, not 404.
  const patterns = routes.map((r) => pathPattern(r.path));
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0];
    if (patterns.some((p) => p.test(path))) return send(reply, 405, `method ${req.method} not allowed on ${path.slice(0, 300)}`);
    return send(reply, 404, `no route ${req.method} ${path.slice(0, 300)}`);
  });

  if (o.settings.rateLimit.max > 0) {
    const key = (req: FastifyRequest) => (req.drwCaller && callerKey(req.drwCaller)) ?? `ip:${req.ip}`;
    await app.register(rateLimit, {
      global: true,
      max: o.settings.rateLimit.max,
      timeWindow: o.settings.rateLimit.windowMs,
      // After authentication: the verified identity is the key, so one noisy user does not throttle a shared proxy's others.
      hook: 'preHandler',
      keyGenerator: key,
      // The loopback default's unidentified callers are this machine's own processes (the CLI, a benchmark) behind one address.
      allowList: (req) => isLoopbackHost(o.host) && (!req.drwCaller || req.drwCaller.kind === 'open'),
      errorResponseBuilder: (req, ctx) => new ApiError(429, `rate limit: at most ${ctx.max} requests per ${Math.round(o.settings.rateLimit.windowMs / 1000)} s for ${key(req)}; retry in ${ctx.after}`),
    });
  }

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'drw — Dynamic Remediation Workflows API',
        version: '1',
        description:
          'Every detection becomes a durable Temporal workflow that plans its remediation from policy, re-plans on signals, acts, verifies and closes. Its Temporal history is the audit trail. Each operation names the permission it needs (policies/access.yaml); on the embedded loopback default without credentials every operation is open.',
      },
      servers: [{ url: 'http://127.0.0.1:8080', description: 'embedded default (npm start)' }],
      tags: [
        { name: 'detections', description: 'Submit detections (drw format or a vendor format)' },
        { name: 'remediations', description: 'Read and steer remediations' },
        { name: 'approvals', description: 'Approve or deny plan steps' },
        { name: 'audit', description: 'Reports and histories built from Temporal event history' },
        { name: 'integrations', description: "Ticketing systems' webhooks: a remediation's ticket changed" },
        { name: 'meta', description: 'Health and this document' },
      ],
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: "A person's JWT (DRW_JWT_* configured); groups map to permissions in policies/access.yaml; the drw CLI sends DRW_TOKEN" },
          ingestToken: { type: 'http', scheme: 'bearer', description: 'A detection source credential (DRW_INGEST_TOKENS): grants submit:<source>' },
          drwSignature: { type: 'apiKey', in: 'header', name: 'X-Drw-Signature-256', description: 'sha256=<hex HMAC-SHA256 of "<X-Drw-Timestamp>.<body>"> with the source secret (DRW_INGEST_HMAC_SECRETS); X-Drw-Timestamp (unix seconds) within 5 minutes' },
          githubSignature: { type: 'apiKey', in: 'header', name: 'X-Hub-Signature-256', description: "GitHub's webhook signature (DRW_GITHUB_WEBHOOK_SECRET), github route only" },
          jiraSignature: { type: 'apiKey', in: 'header', name: 'X-Hub-Signature', description: "Jira's webhook signature, sha256=<hex HMAC-SHA256 of the body> (DRW_JIRA_WEBHOOK_SECRET), Jira webhook route only" },
        },
      },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });

  for (const r of routes) register(app, r, o.auth);
  if (o.ui) await o.ui(app);
  return app;
}

function errorResponses(r: DrwRoute): Record<number, z.ZodType> {
  if (r.permission === 'public') return {};
  const e = (description: string) => errorSchema.describe(description);
  const body: Record<number, z.ZodType> = r.body ? { 413: e(`Body larger than ${MAX_BODY_BYTES} bytes`), 415: e('Not application/json') } : {};
  return {
    ...body,
    400: e('Invalid request: `error` says what, `details` lists each problem'),
    401: e('Missing or invalid credentials (when authentication is configured); WWW-Authenticate names what is accepted'),
    403: e('The caller lacks the permission this operation needs, or the request came through a foreign Host or Origin on loopback'),
    429: e('Rate limit of the caller (its identity, else its address) reached; Retry-After says when to retry'),
    503: e('Temporal or the identity provider is unreachable; retry'),
  };
}

/** Each answer as an OpenAPI response: its `.describe()` text is the response's description. */
function documented(responses: Record<number, z.ZodType>): Record<number, { description: string; content: Record<string, { schema: z.ZodType }> }> {
  return Object.fromEntries(
    Object.entries(responses).map(([status, schema]) => [status, { description: z.globalRegistry.get(schema)?.description ?? `HTTP ${status}`, content: { 'application/json': { schema } } }]),
  );
}

const SECURITY: Record<string, Record<string, string[]>[]> = {
  person: [{ bearerAuth: [] }],
  submit: [{ ingestToken: [] }, { drwSignature: [] }, { githubSignature: [] }, { bearerAuth: [] }],
  'submit:jira': [{ jiraSignature: [] }, { ingestToken: [] }, { drwSignature: [] }, { bearerAuth: [] }],
};

/** How a route's caller may authenticate: a source's credentials (its own webhook signature first) or a person's token. */
function securityOf(permission: DrwRoute['permission']): Record<string, string[]>[] {
  if (permission === 'public') return [];
  if (permission === 'submit') return SECURITY.submit;
  if (permission.startsWith('submit:')) return SECURITY[permission] ?? [{ ingestToken: [] }, { drwSignature: [] }, { bearerAuth: [] }];
  return SECURITY.person;
}

function register(app: FastifyInstance, r: DrwRoute, auth: ApiAuth | undefined): void {
  const needs = r.permission === 'public' ? 'nothing' : r.permission === 'submit' ? 'submit:<source>' : r.permission;
  app.route({
    method: r.method,
    url: fastifyPath(r.path),
    config: { drwRoute: r, ...(r.permission === 'public' ? { rateLimit: false } : {}) },
    schema: {
      operationId: r.operationId,
      summary: r.summary,
      description: `Permission: ${needs} (policies/access.yaml).`,
      tags: r.tags,
      security: securityOf(r.permission),
      ...(r.schema.params ? { params: r.schema.params } : {}),
      ...(r.schema.querystring ? { querystring: r.schema.querystring } : {}),
      ...(r.schema.body ? { body: r.schema.body } : {}),
      response: documented({ ...errorResponses(r), ...r.schema.response }),
    },
    preValidation: async (req) => {
      // What the path names first (404), so an unknown format is not asked for its credential.
      const p = r.schema.params?.safeParse(req.params);
      if (p && !p.success) throw paramsNotFound(p.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })), req.params as Record<string, string>);
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const needed = neededPermission(r, req.params as Record<string, string>);
      if (needed) req.drwCaller = auth ? await auth.authorize(req, needed, async () => raw) : { kind: 'open' };
      if (r.body === 'json') {
        const type = req.headers['content-type'];
        // A web page can send text/plain (or no type) without a CORS preflight: only JSON types are accepted.
        if (!isJsonType(type)) throw new ApiError(415, `send application/json (got ${type ? String(type).slice(0, 100) : 'no Content-Type'})`);
        if (raw.length === 0) throw new ApiError(400, 'empty body: send a JSON object');
        try {
          req.body = parseStrictJson(raw);
        } catch (e) {
          throw new ApiError(400, e instanceof JsonInputError ? e.message : `body is not valid JSON: ${(e as Error).message}`);
        }
      }
    },
    handler: async (req, reply) => {
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const out = await r.handler({ params: req.params, query: req.query, body: req.body, headers: req.headers, caller: req.drwCaller ?? { kind: 'open' }, raw });
      return reply.code(out.status).send(out.body);
    },
  });
}

export async function listen(app: FastifyInstance, host: string, port: number): Promise<string> {
  await app.listen({ host, port });
  const a = app.server.address() as AddressInfo;
  return `http://${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`;
}
