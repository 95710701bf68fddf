import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import type { EvaluatePolicyInput, PolicyDecision, PolicyEngine } from '../../interfaces';
import { createVendorClient, nonRetryable, vendorMessage } from '../http';
import type { OpaConfig } from './config';

export const VENDOR = 'opa';

/** A package path and rule, slash-separated ("drw/containment/allow"): no dots, no "..", nothing to escape. */
const inputSchema = z.object({
  path: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\/[A-Za-z_][A-Za-z0-9_]*)*$/, 'must be a slash-separated rule path like drw/containment/allow'),
  input: z.record(z.string(), z.unknown()),
});

interface OpaError {
  code?: string;
  message?: string;
  errors?: Array<{ code?: string; message?: string }>;
}

interface DataResponse {
  result?: unknown;
  decision_id?: string;
  provenance?: { version?: string; bundles?: Record<string, { revision?: string }> };
}

/**
 * Decisions from Open Policy Agent through its REST Data API: POST /v1/data/{path} with
 * {input}. OPA gives `decision_id` when its decision logging is on, so the decision can be found
 * in OPA's log; `provenance` adds the revision of each loaded bundle, i.e. which policy decided.
 * An undefined decision (no such rule, or a rule without a default that did not match) is an
 * error, never "false": what to do without a decision (fail closed) is the caller's.
 */
export function createOpaPolicyEngine(config: OpaConfig): PolicyEngine {
  const http = createVendorClient({
    vendor: VENDOR,
    baseURL: config.url,
    timeoutMs: config.timeoutMs,
    headers: config.token ? { Authorization: `Bearer ${config.token}` } : {},
  });
  return {
    async evaluate(raw: EvaluatePolicyInput): Promise<PolicyDecision> {
      const parsed = inputSchema.safeParse(raw);
      if (!parsed.success) throw nonRetryable(VENDOR, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '), 'BadInput');
      const { path, input } = parsed.data;
      const res = await http.post<DataResponse & OpaError>(`/v1/data/${path}`, { input }, {
        params: { provenance: true },
        headers: { 'Content-Type': 'application/json' },
        // A 500 is read here, not by the shared classifier: an evaluation error is a bug in the policy.
        validateStatus: (status) => (status >= 200 && status < 300) || status === 500,
      });
      if (res.status === 500) throw evaluationFailure(path, res.data);
      const data = res.data;
      if (data.result === undefined) {
        throw nonRetryable(VENDOR, `no decision at ${path}: the document is undefined (check the path, and give the rule a default)`, 'UndefinedDecision');
      }
      const revisions = Object.fromEntries(Object.entries(data.provenance?.bundles ?? {}).map(([name, b]) => [name, String(b.revision ?? '')]));
      return {
        result: data.result,
        engine: VENDOR,
        ...(data.decision_id ? { decisionId: data.decision_id } : {}),
        ...(Object.keys(revisions).length ? { revisions } : {}),
      };
    },
  };
}

/**
 * OPA's 500 during evaluation: conflicting rule values, type errors, failing built-ins come back
 * the same for the same input and policy, so they are not retried; a cancelled (timed-out)
 * evaluation or any other server error is.
 */
function evaluationFailure(path: string, body: OpaError): ApplicationFailure {
  const codes = (body.errors ?? []).map((e) => String(e.code ?? ''));
  const policyBug = codes.length > 0 && codes.every((c) => c.startsWith('eval_') && c !== 'eval_cancel_error');
  const message = `${VENDOR}: POST /v1/data/${path} answered 500: ${[...new Set(codes)].join(', ')}${codes.length ? ': ' : ''}${vendorMessage(body)}`;
  return ApplicationFailure.create({ message, type: `${VENDOR}.${policyBug ? 'PolicyError' : 'ServerError'}`, nonRetryable: policyBug, details: [{ status: 500 }] });
}
