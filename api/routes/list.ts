/**
 * `GET /v1/remediations`: remediations from Temporal visibility, filtered on drw's search
 * attributes (DrwStatus, DrwSeverity, DrwAsset, DrwPendingApproval), a page at a time.
 * Every filter value is validated against its vocabulary or escaped as a string literal;
 * request text never reaches the query unquoted. Shared with `drw list`.
 */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { SEVERITIES } from '../../domain/detection';
import { REMEDIATION_STATUSES } from '../../planner/types';
import { SA } from '../../signals/search-attributes';
import { z } from 'zod';
import { route, type DrwRoute } from '../route';
import { listItemSchema } from '../schemas';
import { ApiError } from '../errors';

export const LIST_STATUS_VALUES = [...REMEDIATION_STATUSES, 'open', 'closed'] as const;
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;

export interface ListFilters {
  /** Remediation statuses (any of), or "open" / "closed" (workflow running or not). */
  status?: string[];
  severity?: string[];
  asset?: string;
  pendingApproval?: boolean;
  /** ISO time: remediations started at or after it. */
  since?: string;
  /** Only the remediations of this drw (its workflow task queue), when several share a namespace. */
  taskQueue?: string;
}

export class ListQueryError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'ListQueryError';
  }
}

/** A visibility-query string literal: quotes and backslashes escaped, control characters refused. */
export function quote(field: string, value: string): string {
  if (value.length === 0 || value.length > 512) throw new ListQueryError(field, 'between 1 and 512 characters');
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new ListQueryError(field, 'control characters are not allowed');
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function oneOf(field: string, values: string[], allowed: readonly string[]): string[] {
  for (const v of values) if (!allowed.includes(v)) throw new ListQueryError(field, `"${v.slice(0, 64)}" is not one of ${allowed.join(', ')}`);
  return [...new Set(values)];
}

/** The visibility query for the filters; every value checked, every string quoted. */
export function buildListQuery(f: ListFilters): string {
  const parts = [`WorkflowType = 'remediation'`];
  if (f.status?.length) {
    const st = oneOf('status', f.status, LIST_STATUS_VALUES);
    const named = st.filter((s) => s !== 'open' && s !== 'closed');
    const exec: string[] = [];
    if (st.includes('open')) exec.push(`ExecutionStatus = 'Running'`);
    if (st.includes('closed')) exec.push(`ExecutionStatus != 'Running'`);
    if (named.length) exec.push(named.length === 1 ? `${SA.status.name} = ${quote('status', named[0])}` : `${SA.status.name} IN (${named.map((s) => quote('status', s)).join(', ')})`);
    parts.push(exec.length === 1 ? exec[0] : `(${exec.join(' OR ')})`);
  }
  if (f.severity?.length) {
    const sv = oneOf('severity', f.severity, SEVERITIES);
    parts.push(sv.length === 1 ? `${SA.severity.name} = ${quote('severity', sv[0])}` : `${SA.severity.name} IN (${sv.map((s) => quote('severity', s)).join(', ')})`);
  }
  if (f.asset !== undefined) parts.push(`${SA.asset.name} = ${quote('asset', f.asset)}`);
  if (f.pendingApproval !== undefined) parts.push(`${SA.pendingApproval.name} = ${f.pendingApproval ? 'true' : 'false'}`);
  if (f.since !== undefined) {
    const t = Date.parse(f.since);
    if (!Number.isFinite(t)) throw new ListQueryError('since', `not a date/time: "${f.since.slice(0, 64)}"`);
    parts.push(`StartTime >= '${new Date(t).toISOString()}'`);
  }
  if (f.taskQueue !== undefined) parts.push(`TaskQueue = ${quote('taskQueue', f.taskQueue)}`);
  return parts.join(' AND ');
}

export interface RemediationListItem {
  id: string;
  runId: string;
  status?: string;
  severity?: string;
  riskScore?: number;
  asset?: string;
  source?: string;
  playbook?: string;
  policyVersion?: string;
  pendingApproval?: boolean;
  slaDeadline?: string;
  startTime: string;
  closeTime?: string;
  execution: string;
}

export function toListItem(i: WorkflowExecutionInfo): RemediationListItem {
  const sa = i.typedSearchAttributes;
  const sla = sa.get(SA.slaDeadline);
  return {
    id: i.workflowId,
    runId: i.runId,
    ...opt('status', sa.get(SA.status)),
    ...opt('severity', sa.get(SA.severity)),
    ...opt('riskScore', sa.get(SA.riskScore)),
    ...opt('asset', sa.get(SA.asset)),
    ...opt('source', sa.get(SA.source)),
    ...opt('playbook', sa.get(SA.playbook)),
    ...opt('policyVersion', sa.get(SA.policyVersion)),
    ...opt('pendingApproval', sa.get(SA.pendingApproval)),
    ...(sla ? { slaDeadline: new Date(sla).toISOString() } : {}),
    startTime: i.startTime.toISOString(),
    ...(i.closeTime ? { closeTime: i.closeTime.toISOString() } : {}),
    execution: i.status.name,
  };
}

function opt<K extends string, V>(k: K, v: V | undefined): Partial<Record<K, V>> {
  return v === undefined || v === null ? {} : ({ [k]: v } as Record<K, V>);
}

const TOKEN = /^[A-Za-z0-9_-]{1,8192}$/;

/** One page of the list, with the token for the next (base64url of the server's own token). */
export async function listPage(client: Client, query: string, pageSize = DEFAULT_PAGE_SIZE, pageToken?: string): Promise<{ remediations: RemediationListItem[]; nextPageToken?: string }> {
  if (pageToken !== undefined && !TOKEN.test(pageToken)) throw new ListQueryError('pageToken', 'not a token this API issued');
  const res = await client.workflowService.listWorkflowExecutions({
    namespace: client.options.namespace,
    query,
    pageSize,
    nextPageToken: pageToken ? Buffer.from(pageToken, 'base64url') : Buffer.alloc(0),
  });
  const { executionInfoFromRaw } = await import('@temporalio/client/lib/helpers');
  const items: RemediationListItem[] = [];
  for (const raw of res.executions ?? []) {
    // The list needs search attributes only; a memo may be encrypted with keys this process lacks (DRW_CODEC_KEYS).
    raw.memo = null;
    items.push(toListItem(await executionInfoFromRaw(raw, client.options.loadedDataConverter, raw, client.options.namespace)));
  }
  const next = res.nextPageToken && res.nextPageToken.length ? Buffer.from(res.nextPageToken).toString('base64url') : undefined;
  return { remediations: items, ...(next ? { nextPageToken: next } : {}) };
}

/** Every remediation matching the query, page by page (as listPage: memos are not decoded), for reports over many. */
export async function* listAll(client: Client, query: string): AsyncGenerator<RemediationListItem> {
  let token: string | undefined;
  do {
    const page = await listPage(client, query, MAX_PAGE_SIZE, token);
    yield* page.remediations;
    token = page.nextPageToken;
  } while (token);
}

const BOOL: Record<string, boolean> = { true: true, '1': true, yes: true, false: false, '0': false, no: false };

/** Reads and validates the query string of `GET /v1/remediations`. */
export function parseListParams(q: URLSearchParams): { filters: ListFilters; pageSize: number; pageToken?: string } {
  const known = new Set(['status', 'severity', 'asset', 'pendingApproval', 'since', 'pageSize', 'pageToken']);
  for (const k of q.keys()) if (!known.has(k)) throw new ApiError(400, `unknown query parameter "${k.slice(0, 64)}"; known: ${[...known].join(', ')}`);
  const multi = (k: string) => q.getAll(k).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  const filters: ListFilters = {};
  if (q.has('status')) filters.status = multi('status');
  if (q.has('severity')) filters.severity = multi('severity');
  if (q.has('asset')) filters.asset = q.get('asset') ?? '';
  if (q.has('since')) filters.since = q.get('since') ?? '';
  if (q.has('pendingApproval')) {
    const v = BOOL[(q.get('pendingApproval') ?? '').toLowerCase()];
    if (v === undefined) throw new ApiError(400, 'pendingApproval: true or false');
    filters.pendingApproval = v;
  }
  let pageSize = DEFAULT_PAGE_SIZE;
  if (q.has('pageSize')) {
    const n = Number(q.get('pageSize'));
    if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE_SIZE) throw new ApiError(400, `pageSize: an integer from 1 to ${MAX_PAGE_SIZE}`);
    pageSize = n;
  }
  const pageToken = q.get('pageToken') ?? undefined;
  return { filters, pageSize, ...(pageToken ? { pageToken } : {}) };
}

const multi = z.union([z.string(), z.array(z.string())]).optional();
/** The query as documented; values are checked against their vocabularies by parseListParams (messages name the field). */
export const listQuerySchema = z.looseObject({
  status: multi.describe(`Any of these statuses (comma-separated or repeated): ${LIST_STATUS_VALUES.join(', ')}; "open"/"closed" select running/closed workflows`),
  severity: multi.describe(`Any of ${SEVERITIES.join(', ')}`),
  asset: z.string().optional().describe('Asset id (exact)'),
  pendingApproval: z.string().optional().describe('true or false'),
  since: z.string().optional().describe('Started at or after (ISO 8601)'),
  pageSize: z.string().optional().describe(`1 to ${MAX_PAGE_SIZE} (default ${DEFAULT_PAGE_SIZE})`),
  pageToken: z.string().optional().describe('nextPageToken of the previous page'),
});

/** Fastify's parsed query back as URLSearchParams (repeated names are arrays there). */
export function searchParams(query: Record<string, unknown>): URLSearchParams {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) for (const x of Array.isArray(v) ? v : [v]) q.append(k, String(x));
  return q;
}

export function listRoutes(client: Client): DrwRoute[] {
  return [
    route({
      method: 'GET',
      path: '/v1/remediations',
      operationId: 'listRemediations',
      summary: "List remediations (Temporal visibility over drw's search attributes), a page at a time",
      tags: ['remediations'],
      permission: 'read',
      schema: {
        querystring: listQuerySchema,
        response: { 200: z.object({ remediations: z.array(listItemSchema), nextPageToken: z.string().optional(), query: z.string().describe('The visibility query that was run') }).describe('One page') },
      },
      handler: async ({ query: q }) => {
        const { filters, pageSize, pageToken } = parseListParams(searchParams(q));
        let query: string;
        try {
          query = buildListQuery(filters);
        } catch (e) {
          if (e instanceof ListQueryError) throw new ApiError(400, e.message);
          throw e;
        }
        try {
          const page = await listPage(client, query, pageSize, pageToken);
          return { status: 200, body: { ...page, query } };
        } catch (e) {
          if (e instanceof ListQueryError) throw new ApiError(400, e.message);
          const msg = (e as Error).message ?? '';
          if ((e as { code?: number }).code === 3 || /invalid.*(token|query)|InvalidArgument/i.test(msg)) throw new ApiError(400, `visibility refused the request: ${msg.slice(0, 200)}`);
          throw e;
        }
      },
    }),
  ];
}
