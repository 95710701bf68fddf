/** The list query builder, the list parameters, and the generated OpenAPI document's coverage of every route. */
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { DrwRoute } from '../../../api/route';
import { apiRoutes } from '../../../api/routes';
import { buildListQuery, ListQueryError, parseListParams, quote } from '../../../api/routes/list';
import { createApi, listen } from '../../../api/server';
import { ApiError, type RemediationService } from '../../../api/service';
import { loadConfig } from '../../../common/config';
import { createLogger } from '../../../common/logger';

describe('visibility query for GET /v1/remediations and drw list', () => {
  test('no filter: every remediation workflow', () => {
    expect(buildListQuery({})).toBe(`WorkflowType = 'remediation'`);
  });
  test('each filter on its search attribute', () => {
    expect(buildListQuery({ status: ['awaiting_approval'], severity: ['critical', 'high'], asset: 'web-1', pendingApproval: true, since: '2026-01-01T00:00:00Z' })).toBe(
      `WorkflowType = 'remediation' AND DrwStatus = 'awaiting_approval' AND DrwSeverity IN ('critical', 'high') AND DrwAsset = 'web-1' AND DrwPendingApproval = true AND StartTime >= '2026-01-01T00:00:00.000Z'`,
    );
    expect(buildListQuery({ pendingApproval: false })).toBe(`WorkflowType = 'remediation' AND DrwPendingApproval = false`);
    // The approval pages list only their own drw's remediations (its task queue) when deployments share a namespace.
    expect(buildListQuery({ pendingApproval: true, taskQueue: "drw-remediation'x" })).toBe(`WorkflowType = 'remediation' AND DrwPendingApproval = true AND TaskQueue = 'drw-remediation\\'x'`);
  });
  test('open / closed select the workflow execution status', () => {
    expect(buildListQuery({ status: ['open'] })).toBe(`WorkflowType = 'remediation' AND ExecutionStatus = 'Running'`);
    expect(buildListQuery({ status: ['closed', 'escalated'] })).toBe(`WorkflowType = 'remediation' AND (ExecutionStatus != 'Running' OR DrwStatus = 'escalated')`);
  });
  test('values outside the vocabulary are refused, not interpolated', () => {
    expect(() => buildListQuery({ status: [`remediated' OR '1'='1`] })).toThrow(ListQueryError);
    expect(() => buildListQuery({ severity: ['urgent'] })).toThrow(/severity: "urgent" is not one of critical/);
    expect(() => buildListQuery({ since: 'yesterday' })).toThrow(/since/);
  });
  test('free text is a quoted, escaped literal; control characters and empty values are refused', () => {
    expect(quote('asset', `o'brien\\x`)).toBe(`'o\\'brien\\\\x'`);
    expect(buildListQuery({ asset: `x' OR DrwAsset != '` })).toBe(`WorkflowType = 'remediation' AND DrwAsset = 'x\\' OR DrwAsset != \\''`);
    expect(() => quote('asset', 'a\nb')).toThrow(/control characters/);
    expect(() => quote('asset', '')).toThrow(/between 1 and 512/);
    expect(() => quote('asset', 'x'.repeat(513))).toThrow(/between 1 and 512/);
  });
  test('query parameters: comma lists, booleans, page size, unknown names', () => {
    expect(parseListParams(new URLSearchParams('status=remediated,failed&severity=high&severity=low&pendingApproval=true&pageSize=10&pageToken=abc_-'))).toEqual({
      filters: { status: ['remediated', 'failed'], severity: ['high', 'low'], pendingApproval: true },
      pageSize: 10,
      pageToken: 'abc_-',
    });
    expect(parseListParams(new URLSearchParams(''))).toEqual({ filters: {}, pageSize: 50 });
    for (const bad of ['pageSize=0', 'pageSize=1001', 'pageSize=2.5', 'pendingApproval=perhaps', 'sort=asc']) {
      expect(() => parseListParams(new URLSearchParams(bad))).toThrow(ApiError);
    }
  });
});

/** The real API's assembly (nothing is called: the document is built from the route declarations). */
async function api(users: boolean): Promise<{ app: FastifyInstance; routes: DrwRoute[]; url: string }> {
  const logger = createLogger('silent');
  const routes = apiRoutes({ service: {} as RemediationService, client: {} as Client, logger, users });
  const app = await createApi({ logger, ready: () => true, host: '127.0.0.1', settings: loadConfig({}).api, routes });
  return { app, routes, url: await listen(app, '127.0.0.1', 0) };
}

describe('OpenAPI 3.1 document generated from the route declarations', () => {
  let loopback: Awaited<ReturnType<typeof api>>;
  let people: Awaited<ReturnType<typeof api>>;
  beforeAll(async () => {
    loopback = await api(false);
    people = await api(true);
  });
  afterAll(async () => Promise.all([loopback?.app.close(), people?.app.close()]));

  test('lists every declared route with its method, and health and the document itself', () => {
    const doc = loopback.app.swagger() as any;
    const declared = [...loopback.routes.map((r) => `${r.method} ${r.path}`), 'GET /healthz', 'GET /openapi.json'];
    expect(declared.length).toBeGreaterThanOrEqual(15);
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops as object).map((m) => `${m.toUpperCase()} ${p}`));
    expect(documented.sort()).toEqual(declared.sort());
  });

  test('is OpenAPI 3.1 with resolvable references, request schemas from the zod schemas, and each operation names its permission', () => {
    const doc = loopback.app.swagger() as any;
    expect(doc.openapi).toBe('3.1.0');
    const refs = JSON.stringify(doc).match(/"\$ref":"#\/components\/schemas\/[A-Za-z]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(5);
    for (const r of refs) expect(doc.components.schemas[r.split('/').pop()!.replace('"', '')]).toBeDefined();
    expect(doc.components.schemas.DetectionInput.required).toEqual(expect.arrayContaining(['source', 'rule', 'title', 'severity', 'asset']));
    expect(doc.components.schemas.ApprovalDecisionInput.required).toEqual(expect.arrayContaining(['approver', 'reason']));
    const ops = Object.values(doc.paths).flatMap((p: any) => Object.values(p)) as any[];
    const ids = ops.map((o) => o.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const o of ops) expect(Object.keys(o.responses).length).toBeGreaterThan(0);
    expect(doc.paths['/v1/remediations/{id}/cancel'].post.description).toBe('Permission: operate (policies/access.yaml).');
    expect(doc.paths['/v1/remediations/{id}/steps/{stepId}/approve'].post.responses['403']).toBeDefined();
  });

  test('with person authentication, approvals document the token body (identity from the token)', () => {
    const body = (people.app.swagger() as any).paths['/v1/remediations/{id}/steps/{stepId}/approve'].post.requestBody.content['application/json'].schema;
    expect(body.$ref).toBe('#/components/schemas/TokenApprovalDecisionInput');
    expect((people.app.swagger() as any).components.schemas.TokenApprovalDecisionInput.required).toEqual(['reason']);
  });

  test('is served at GET /openapi.json', async () => {
    const r = await fetch(`${loopback.url}/openapi.json`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual(loopback.app.swagger());
  });
});
