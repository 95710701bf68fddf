/** The list query builder, the list parameters, and the OpenAPI document's coverage of every route. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { openApiDocument, openApiRoute } from '../../../api/openapi';
import { buildListQuery, ListQueryError, parseListParams, quote } from '../../../api/routes/list';
import { ApiError } from '../../../api/service';

const API = path.resolve(__dirname, '..', '..', '..', 'api');

describe('visibility query for GET /v1/remediations and drw list', () => {
  test('no filter: every remediation workflow', () => {
    expect(buildListQuery({})).toBe(`WorkflowType = 'remediation'`);
  });
  test('each filter on its search attribute', () => {
    expect(buildListQuery({ status: ['awaiting_approval'], severity: ['critical', 'high'], asset: 'web-1', pendingApproval: true, since: '2026-01-01T00:00:00Z' })).toBe(
      `WorkflowType = 'remediation' AND DrwStatus = 'awaiting_approval' AND DrwSeverity IN ('critical', 'high') AND DrwAsset = 'web-1' AND DrwPendingApproval = true AND StartTime >= '2026-01-01T00:00:00.000Z'`,
    );
    expect(buildListQuery({ pendingApproval: false })).toBe(`WorkflowType = 'remediation' AND DrwPendingApproval = false`);
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

/** Every `route('METHOD', '/path'` in the API's sources. */
function declaredRoutes(): { method: string; path: string; file: string }[] {
  const files = [path.join(API, 'server.ts'), path.join(API, 'openapi.ts'), ...readdirSync(path.join(API, 'routes')).filter((f) => f.endsWith('.ts')).map((f) => path.join(API, 'routes', f))];
  const out: { method: string; path: string; file: string }[] = [];
  for (const f of files) {
    for (const m of readFileSync(f, 'utf8').matchAll(/route\(\s*'([A-Z]+)'\s*,\s*'([^']+)'/g)) out.push({ method: m[1], path: m[2], file: path.basename(f) });
  }
  return out;
}

describe('OpenAPI 3.1 document', () => {
  const doc = openApiDocument() as any;

  test('describes every route declared in api/server.ts and api/routes/*', () => {
    const routes = declaredRoutes();
    expect(routes.length).toBeGreaterThanOrEqual(14);
    const missing = routes.filter((r) => !doc.paths[r.path]?.[r.method.toLowerCase()]).map((r) => `${r.method} ${r.path} (${r.file})`);
    expect(missing).toEqual([]);
  });

  test('is OpenAPI 3.1 with resolvable references and request schemas from the zod schemas', () => {
    expect(doc.openapi).toBe('3.1.0');
    const refs = JSON.stringify(doc).match(/"\$ref":"#\/components\/schemas\/[A-Za-z]+"/g) ?? [];
    for (const r of refs) expect(doc.components.schemas[r.split('/').pop()!.replace('"', '')]).toBeDefined();
    expect(doc.components.schemas.Detection.required).toEqual(expect.arrayContaining(['source', 'rule', 'title', 'severity', 'asset']));
    expect(doc.components.schemas.ApprovalDecision.required).toEqual(expect.arrayContaining(['approver', 'reason']));
    expect(doc.components.schemas.TokenApprovalDecision.required).toEqual(['reason']);
    const ops = Object.values(doc.paths).flatMap((p: any) => Object.values(p)) as any[];
    const ids = ops.map((o) => o.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const o of ops) expect(Object.keys(o.responses).length).toBeGreaterThan(0);
  });

  test('is served by its route', async () => {
    const r = openApiRoute();
    expect(r.method).toBe('GET');
    expect(r.pattern.test('/openapi.json')).toBe(true);
    expect(await r.handler({} as never, {}, async () => undefined, async () => Buffer.alloc(0))).toEqual({ status: 200, body: doc });
  });
});
