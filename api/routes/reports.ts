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
import type { ApiAuth } from '../auth';
import { remediationIdParam, route, type Route } from '../server';
import { ApiError } from '../service';

const RUN_ID = /^[0-9a-fA-F-]{8,64}$/;

function query(req: { url?: string }): URLSearchParams {
  return new URL(req.url ?? '/', 'http://drw').searchParams;
}

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

/** `auth`: when person authentication is configured, reports and histories need a token (as every read does). */
export function reportRoutes(client: Client, auth?: ApiAuth, archive?: Archive): Route[] {
  return [
    route('GET', '/v1/remediations/{id}/report', async (req, p) => {
      await auth?.user(req);
      const id = remediationIdParam(p);
      const q = query(req);
      known(q, ['format', 'runId']);
      const format = q.get('format') ?? 'json';
      if (!isReportFormat(format)) throw new ApiError(400, `format: one of ${REPORT_FORMATS.join(', ')}`);
      const { report } = await notFound(() => reportFromServer(client, id, { runId: runIdParam(q), archive }));
      if (format === 'json') return { status: 200, body: report };
      return { status: 200, body: { id, format, contentType: CONTENT_TYPES[format], sha256: report.history.sha256, content: renderReport(report, format) } };
    }),
    route('GET', '/v1/remediations/{id}/history', async (req, p) => {
      await auth?.user(req);
      const id = remediationIdParam(p);
      const q = query(req);
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
    }),
  ];
}
