/**
 * `GET /v1/remediations/{id}/report?format=md|json|csv` (the audit report, built from the
 * Temporal history, with the history's SHA-256) and `GET /v1/remediations/{id}/history`
 * (the history JSON as the Temporal UI downloads it; `?chain=true` for every run of a
 * continue-as-new chain, `?runId=` for one run).
 */
import type { Archive } from '../../audit';
import type { Client } from '@temporalio/client';
import { CONTENT_TYPES, isReportFormat, REPORT_FORMATS, renderReport } from '../../report/render';
import { fetchChain, fetchRun, NotFoundError, reportFromServer } from '../../report/fetch';
import { chainText } from '../../report/history';
import { z } from 'zod';
import { route, type DrwRoute } from '../route';
import { historyChainSchema, historySchema, remediationParams, renderedReportSchema, reportSchema } from '../schemas';
import { ApiError } from '../service';
import { searchParams } from './list';

const RUN_ID = /^[0-9a-fA-F-]{8,64}$/;

function runIdParam(q: URLSearchParams): string | undefined {
  const v = q.get('runId');
  if (v === null || v === '') return undefined;
  if (!RUN_ID.test(v)) throw new ApiError(400, 'runId: a Temporal run id');
  return v;
}

function known(q: URLSearchParams, names: string[]): void {
  for (const k of q.keys()) if (!names.includes(k)) throw new ApiError(400, `unknown query parameter "${k.slice(0, 64)}"; known: ${names.join(', ')}`);
}

async function notFound<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof NotFoundError) throw new ApiError(404, e.message);
    throw e;
  }
}

export function reportRoutes(client: Client, archive?: Archive): DrwRoute[] {
  return [
    route({
      method: 'GET',
      path: '/v1/remediations/{id}/report',
      operationId: 'getReport',
      summary: 'Audit report built from the Temporal event history (follows continue-as-new), with the SHA-256 of that history',
      tags: ['audit'],
      permission: 'read',
      schema: {
        params: remediationParams,
        querystring: z.looseObject({ format: z.string().optional().describe(`One of ${REPORT_FORMATS.join(', ')} (default json)`), runId: z.string().optional().describe('Any run of the chain (default: the latest)') }),
        response: {
          200: z.union([reportSchema, renderedReportSchema]).describe('format=json: the report object. format=md|csv: the rendered report in `content`'),
          404: z.object({ error: z.string() }).describe('No such remediation'),
        },
      },
      handler: async ({ params, query }) => {
        const id = params.id;
        const q = searchParams(query);
        known(q, ['format', 'runId']);
        const format = q.get('format') ?? 'json';
        if (!isReportFormat(format)) throw new ApiError(400, `format: one of ${REPORT_FORMATS.join(', ')}`);
        const { report } = await notFound(() => reportFromServer(client, id, { runId: runIdParam(q), archive }));
        if (format === 'json') return { status: 200, body: report };
        return { status: 200, body: { id, format, contentType: CONTENT_TYPES[format], sha256: report.history.sha256, content: renderReport(report, format) } };
      },
    }),
    route({
      method: 'GET',
      path: '/v1/remediations/{id}/history',
      operationId: 'getHistory',
      summary: 'The Temporal event history JSON (as the Temporal UI downloads it; readable by historyFromJSON and the replayer)',
      tags: ['audit'],
      permission: 'read',
      schema: {
        params: remediationParams,
        querystring: z.looseObject({ runId: z.string().optional(), chain: z.string().optional().describe('true: every run of the continue-as-new chain, as a drw history chain') }),
        response: { 200: z.union([historySchema, historyChainSchema]).describe('History JSON'), 404: z.object({ error: z.string() }).describe('No such remediation') },
      },
      handler: async ({ params, query }) => {
        const id = params.id;
        const q = searchParams(query);
        known(q, ['runId', 'chain']);
        const chain = q.get('chain');
        if (chain !== null && chain !== 'true' && chain !== 'false') throw new ApiError(400, 'chain: true or false');
        const runId = runIdParam(q);
        if (chain === 'true') {
          const runs = await notFound(() => fetchChain(client, id, { runId }));
          return { status: 200, body: JSON.parse(chainText(id, runs)) as unknown };
        }
        const run = await notFound(() => fetchRun(client, id, runId));
        return { status: 200, body: JSON.parse(run.text) as unknown };
      },
    }),
  ];
}
