/**
 * `POST /v1/detections/{format}`: a tool's own payload (Alertmanager webhook, ASFF, OCSF,
 * Falco, Trivy, GitHub, Wazuh, Falcon, Microsoft Graph) becomes findings, and each finding
 * starts a remediation or signals the open one (repeats → findingAdded, resolved/fixed →
 * findingResolved: RemediationService.submit decides).
 *
 * Order: format (404) → source credential (401; a signature is checked over the raw bytes)
 * → content type (415) → body (413 over the limit, 400 not JSON, 422 not this format) →
 * submit. The whole payload is normalized before anything is submitted, so an invalid body
 * starts nothing.
 */
import type http from 'node:http';
import type { Logger } from '../../common/logger';
import { FORMAT_NAMES, IngestError, isFormatName, normalize } from '../../ingest';
import type { ApiAuth } from '../auth';
import { route, type Route } from '../server';
import { ApiError, type RemediationService, type SubmitOutcome } from '../service';

export interface IngestRouteDeps {
  service: RemediationService;
  logger: Logger;
  auth?: ApiAuth;
}

/** Credentials never reach the normalizers (and so never a workflow's history). */
const CREDENTIAL_HEADERS = new Set(['authorization', 'cookie', 'x-drw-signature-256', 'x-hub-signature-256', 'x-hub-signature']);

function flatHeaders(h: http.IncomingHttpHeaders): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(h)) if (!CREDENTIAL_HEADERS.has(k)) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

export function ingestRoutes(d: IngestRouteDeps): Route[] {
  return [
    route('POST', '/v1/detections/{format}', async (req, p, _body, raw) => {
      const format = p.format;
      if (!isFormatName(format)) throw new ApiError(404, `unknown format "${format.slice(0, 100)}"; known formats: ${FORMAT_NAMES.join(', ')}`);
      const via = await d.auth?.source(req, format, raw);

      const encoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase();
      if (encoding !== 'identity') throw new ApiError(415, `Content-Encoding ${encoding} is not supported; send the body uncompressed`);
      const type = String(req.headers['content-type'] ?? 'application/json');
      if (!/json/i.test(type)) {
        throw new ApiError(415, `send application/json (or application/x-ndjson, one event per line) (got ${type.slice(0, 100)})${format === 'github' ? '; set the GitHub webhook content type to application/json' : ''}`);
      }
      const bytes = await raw();

      let result;
      try {
        result = normalize(format, bytes, { headers: flatHeaders(req.headers), receivedAt: new Date().toISOString() });
      } catch (e) {
        if (e instanceof IngestError) throw new ApiError(e.status, e.message);
        throw e;
      }

      const requestedBy = `ingest:${format}`;
      const remediations: SubmitOutcome[] = [];
      // In order: a batch may hold a firing and the resolution of the same finding.
      for (const finding of result.findings) remediations.push(await d.service.submit(finding, requestedBy));
      d.logger.info(
        { format, via: via ?? 'unauthenticated', findings: result.findings.length, skipped: result.skipped.length, outcomes: remediations.map((r) => r.outcome) },
        'detections ingested',
      );
      return { status: 202, body: { remediations, skipped: result.skipped } };
    }),
  ];
}
