/**
 * `POST /v1/detections/{format}`: a tool's own payload (Alertmanager webhook, ASFF, OCSF,
 * Falco, Trivy, GitHub, Wazuh, Falcon, Microsoft Graph) becomes findings, and each finding
 * starts a remediation or signals the open one (repeats → findingAdded, resolved/fixed →
 * findingResolved: RemediationService.submit decides).
 *
 * Order: format (404) → source credential and its permission (401/403; a signature is checked
 * over the raw bytes) → content type (415) → body (413 over the limit, 400 not JSON, 422 not
 * this format) → a person's resolves (403 when one would undo a safeguard they could not have
 * approved) → submit. The whole payload is normalized and checked before anything is submitted, so
 * an invalid or refused body starts nothing.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import type { Logger } from '../../common/logger';
import { FORMAT_NAMES, IngestError, normalize, type IngestLimits } from '../../ingest';
import { mediaType } from '../server';
import { route, type DrwRoute } from '../route';
import { submitOutcome } from '../schemas';
import { ApiError, type RemediationService, type SubmitOutcome } from '../service';

export interface IngestRouteDeps {
  service: RemediationService;
  logger: Logger;
  /** DRW_INGEST_MAX_FINDINGS and DRW_MAX_DETAILS_BYTES, read once at start. */
  limits: IngestLimits;
}

/** Credentials never reach the normalizers (and so never a workflow's history). */
const CREDENTIAL_HEADERS = new Set(['authorization', 'cookie', 'x-drw-signature-256', 'x-drw-timestamp', 'x-hub-signature-256', 'x-hub-signature']);

function flatHeaders(h: IncomingHttpHeaders): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(h)) if (!CREDENTIAL_HEADERS.has(k)) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

const INGEST_TYPES = /^application\/(?:[\w.-]+\+)?(?:json|x-ndjson)$/;

export function ingestRoutes(d: IngestRouteDeps): DrwRoute[] {
  return [
    route({
      method: 'POST',
      path: '/v1/detections/{format}',
      operationId: 'submitVendorPayload',
      summary: 'Submit a vendor payload (normalized to drw detections; each starts or signals a remediation)',
      tags: ['detections'],
      permission: 'submit',
      body: 'raw',
      schema: {
        params: z.object({ format: z.enum(FORMAT_NAMES, { error: (i) => `unknown format "${String(i.input).slice(0, 100)}"; known formats: ${FORMAT_NAMES.join(', ')}` }) }),
        body: z.unknown().describe("The vendor's payload as it sends it (JSON, or newline-delimited JSON for event streams)"),
        response: {
          202: z
            .object({ remediations: z.array(submitOutcome), skipped: z.array(z.looseObject({ reason: z.string(), ref: z.string().optional() })) })
            .describe('Accepted: one outcome per finding, and the findings skipped with why'),
          404: z.object({ error: z.string() }).describe('Unknown format'),
          413: z.object({ error: z.string() }).describe('Body too large'),
          415: z.object({ error: z.string() }).describe('Not application/json (or application/x-ndjson), or compressed'),
          422: z.object({ error: z.string() }).describe('JSON, but not a payload of this format'),
        },
      },
      handler: async ({ params, headers, caller, raw }) => {
        const format = params.format;
        const encoding = String(headers['content-encoding'] ?? 'identity').toLowerCase();
        if (encoding !== 'identity') throw new ApiError(415, `Content-Encoding ${encoding} is not supported; send the body uncompressed`);
        const type = mediaType(headers['content-type']);
        // Without a credential (loopback default) a missing type could be a web page's simple request; an authenticated tool may omit it.
        if (type === undefined ? caller.kind === 'open' : !INGEST_TYPES.test(type)) {
          throw new ApiError(415, `send application/json (or application/x-ndjson, one event per line) (got ${String(headers['content-type'] ?? 'no Content-Type').slice(0, 100)})${format === 'github' ? '; set the GitHub webhook content type to application/json' : ''}`);
        }

        let result;
        try {
          result = normalize(format, raw, { headers: flatHeaders(headers), receivedAt: new Date().toISOString(), limits: d.limits });
        } catch (e) {
          if (e instanceof IngestError) throw new ApiError(e.status, e.message);
          throw e;
        }

        const requestedBy = `ingest:${format}`;
        // A person posting a tool's payload resolves as a person (safeguards apply); a credential, as the source.
        // A resolve they may not make refuses the whole payload (403) before any of it is submitted.
        const actor = caller.kind === 'person' ? { user: caller.user, groups: caller.groups } : undefined;
        if (actor) for (const finding of result.findings) if (finding.status === 'resolved') await d.service.refuseResolving(finding, requestedBy, actor);
        const remediations: SubmitOutcome[] = [];
        // In order: a batch may hold a firing and the resolution of the same finding.
        for (const finding of result.findings) remediations.push(await d.service.submit(finding, requestedBy, actor));
        d.logger.info(
          { format, via: caller.kind === 'source' ? caller.method : caller.kind === 'person' ? `person ${caller.user}` : 'unauthenticated', findings: result.findings.length, skipped: result.skipped.length, outcomes: remediations.map((r) => r.outcome) },
          'detections ingested',
        );
        return { status: 202, body: { remediations, skipped: result.skipped } };
      },
    }),
  ];
}
