/**
 * OpenAPI 3.1 description of drw's HTTP API (every route of api/server.ts, the ingest,
 * list and report routes), served at `GET /openapi.json`. Request schemas are generated
 * from the same zod schemas the server validates with, so the document cannot drift from
 * what the API accepts.
 */
import { DECISION_KINDS } from '../remediation/events';
import { z } from 'zod';
import { detectionSchema, SEVERITIES } from '../domain/detection';
import { REMEDIATION_ID_PATTERN } from '../domain/ids';
import { FORMAT_NAMES } from '../ingest';
import { ACTIONS, REMEDIATION_STATUSES, STEP_STATUSES } from '../planner/types';
import { approvalDecisionSchema, operatorActionSchema, riskScoreChangedSchema } from '../signals';
import { tokenApprovalSchema, tokenOperatorSchema } from './auth/identity';
import { REPORT_FORMATS } from '../report/render';
import { DEFAULT_PAGE_SIZE, LIST_STATUS_VALUES, MAX_PAGE_SIZE } from './routes/list';
import { route, type Route } from './server';

function schemaOf(s: z.ZodType): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown, description: string) => ({ description, content: { 'application/json': { schema } } });
const error = (description: string) => json(ref('Error'), description);

const idParam = { name: 'id', in: 'path', required: true, description: 'Remediation id (the workflow id)', schema: { type: 'string', pattern: REMEDIATION_ID_PATTERN.source } };
const stepParam = { name: 'stepId', in: 'path', required: true, description: 'Plan step id, e.g. edr-malware.contain (URL-encoded)', schema: { type: 'string', minLength: 1, maxLength: 200 } };

const common4xx = {
  '400': error('Invalid request: the message says what, `details` lists each problem'),
  '401': error('Missing or invalid bearer token (when authentication is configured)'),
  '404': error('No such remediation'),
  '503': error('Temporal is unreachable; retry'),
};

function operator(action: string, summary: string) {
  return {
    post: {
      operationId: action,
      summary,
      tags: ['remediations'],
      parameters: [idParam],
      requestBody: { required: true, content: { 'application/json': { schema: { oneOf: [ref('OperatorAction'), ref('TokenOperatorAction')] } } } },
      responses: { '202': json({ type: 'object', properties: { id: { type: 'string' }, accepted: { type: 'string' } }, required: ['id', 'accepted'] }, 'Signal sent'), ...common4xx, '403': error('`by` in the body differs from the token') },
    },
  };
}

function decision(kind: 'approve' | 'deny') {
  return {
    post: {
      operationId: `${kind}Step`,
      summary: kind === 'approve' ? 'Approve a step awaiting approval (a workflow update: answers with the new plan)' : 'Deny a step awaiting approval (the step is skipped)',
      tags: ['approvals'],
      parameters: [idParam, stepParam],
      requestBody: { required: true, content: { 'application/json': { schema: { oneOf: [ref('ApprovalDecision'), ref('TokenApprovalDecision')] } } } },
      responses: {
        '200': json({ type: 'object', properties: { id: { type: 'string' }, plan: ref('Plan') }, required: ['id', 'plan'] }, 'Decision recorded; the re-planned plan'),
        ...common4xx,
        '403': error('The approver may not decide this step (not in the required users/groups, or requested the step), or the body names another user/groups than the token'),
        '409': error('The step is not awaiting approval, is unknown, or the remediation is over'),
      },
    },
  };
}

let cached: Record<string, unknown> | undefined;

/** The OpenAPI 3.1 document. */
export function openApiDocument(): Record<string, unknown> {
  if (cached) return cached;
  const stepSchema = {
    type: 'object',
    properties: {
      id: { type: 'string' },
      action: { type: 'string', enum: [...ACTIONS] },
      title: { type: 'string' },
      params: { type: 'object', additionalProperties: true },
      status: { type: 'string', enum: [...STEP_STATUSES] },
      reason: { type: 'object', properties: { playbook: { type: 'string' }, section: { type: 'string', enum: ['steps', 'escalation'] }, rule: { type: 'string' }, facts: { type: 'object', additionalProperties: true }, trigger: { type: 'string' } } },
      fingerprint: { type: 'string' },
      approval: {
        type: 'object',
        properties: { users: { type: 'array', items: { type: 'string' } }, groups: { type: 'array', items: { type: 'string' } }, quorum: { type: 'integer' }, approvedBy: { type: 'array', items: { type: 'string' } }, deniedBy: { type: 'string' } },
      },
      note: { type: 'string' },
      result: { type: 'object', additionalProperties: true },
    },
    required: ['id', 'action', 'status'],
  };
  cached = {
    openapi: '3.1.0',
    info: {
      title: 'drw — Dynamic Remediation Workflows API',
      version: '1',
      description:
        'Every detection becomes a durable Temporal workflow that plans its remediation from policy, re-plans on signals, acts, verifies and closes. Its Temporal history is the audit trail: reports and history exports come from it.',
    },
    servers: [{ url: 'http://127.0.0.1:8080', description: 'embedded default (npm start)' }],
    security: [{}, { bearerAuth: [] }, { ingestToken: [] }],
    tags: [
      { name: 'detections', description: 'Submit detections (drw format or a vendor format)' },
      { name: 'remediations', description: 'Read and steer remediations' },
      { name: 'approvals', description: 'Approve or deny plan steps' },
      { name: 'audit', description: 'Reports and histories built from Temporal event history' },
      { name: 'meta', description: 'Health and this document' },
    ],
    paths: {
      '/healthz': {
        get: {
          operationId: 'health',
          summary: 'Readiness: 200 once the workers poll',
          tags: ['meta'],
          security: [{}],
          responses: {
            '200': json({ type: 'object', properties: { status: { const: 'ok' } } }, 'Ready'),
            '503': json({ type: 'object', properties: { status: { const: 'starting' } } }, 'Starting'),
          },
        },
      },
      '/openapi.json': {
        get: { operationId: 'openapi', summary: 'This OpenAPI document', tags: ['meta'], security: [{}], responses: { '200': json({ type: 'object' }, 'OpenAPI 3.1 document') } },
      },
      '/v1/detections': {
        post: {
          operationId: 'submitDetection',
          summary: "Submit one detection in drw's format: starts a remediation, or signals the running one with the same deduplication key",
          tags: ['detections'],
          requestBody: { required: true, content: { 'application/json': { schema: ref('Detection') } } },
          responses: {
            '202': json({ type: 'object', properties: { remediations: { type: 'array', items: ref('SubmitOutcome') } }, required: ['remediations'] }, 'Accepted'),
            '400': error('Invalid detection; `details` lists the zod issues'),
            '401': error('Missing or invalid bearer token (when authentication is configured)'),
            '413': error('Body larger than 1 MiB'),
            '415': error('Not application/json'),
            '503': error('Temporal is unreachable; retry'),
          },
        },
      },
      '/v1/detections/{format}': {
        post: {
          operationId: 'submitVendorPayload',
          summary: 'Submit a vendor payload (normalized to drw detections; each starts or signals a remediation)',
          tags: ['detections'],
          parameters: [{ name: 'format', in: 'path', required: true, schema: { type: 'string', enum: [...FORMAT_NAMES] } }],
          requestBody: { required: true, content: { 'application/json': { schema: { description: "The vendor's payload as it sends it (JSON, or newline-delimited JSON for event streams)" } } } },
          responses: {
            '202': json(
              { type: 'object', properties: { remediations: { type: 'array', items: ref('SubmitOutcome') }, skipped: { type: 'array', items: { type: 'object', properties: { reason: { type: 'string' }, ref: { type: 'string' } } } } } },
              'Accepted: one outcome per finding, and the findings skipped with why',
            ),
            '400': error('Not valid JSON'),
            '401': error('Missing or invalid source credential (ingest token, or HMAC signature over the raw body, when configured)'),
            '404': error('Unknown format'),
            '413': error('Body too large'),
            '415': error('Not application/json (or application/x-ndjson), or compressed'),
            '422': error('JSON, but not a payload of this format'),
            '503': error('Temporal is unreachable; retry'),
          },
        },
      },
      '/v1/remediations': {
        get: {
          operationId: 'listRemediations',
          summary: "List remediations (Temporal visibility over drw's search attributes), a page at a time",
          tags: ['remediations'],
          parameters: [
            { name: 'status', in: 'query', description: 'Any of these statuses (comma-separated or repeated); "open"/"closed" select running/closed workflows', schema: { type: 'array', items: { type: 'string', enum: [...LIST_STATUS_VALUES] } }, style: 'form', explode: false },
            { name: 'severity', in: 'query', schema: { type: 'array', items: { type: 'string', enum: [...SEVERITIES] } }, style: 'form', explode: false },
            { name: 'asset', in: 'query', description: 'Asset id (exact)', schema: { type: 'string', minLength: 1, maxLength: 512 } },
            { name: 'pendingApproval', in: 'query', schema: { type: 'boolean' } },
            { name: 'since', in: 'query', description: 'Started at or after (ISO 8601)', schema: { type: 'string', format: 'date-time' } },
            { name: 'pageSize', in: 'query', schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE } },
            { name: 'pageToken', in: 'query', description: 'nextPageToken of the previous page', schema: { type: 'string' } },
          ],
          responses: {
            '200': json(
              { type: 'object', properties: { remediations: { type: 'array', items: ref('RemediationListItem') }, nextPageToken: { type: 'string' }, query: { type: 'string', description: 'The visibility query that was run' } }, required: ['remediations', 'query'] },
              'One page',
            ),
            '400': error('Invalid filter or page token'),
            '401': error('Missing or invalid bearer token (when authentication is configured)'),
            '503': error('Temporal is unreachable; retry'),
          },
        },
      },
      '/v1/remediations/{id}': {
        get: {
          operationId: 'getRemediation',
          summary: 'Current state: status, facts, plan, approvals, decision log (workflow query)',
          tags: ['remediations'],
          parameters: [idParam],
          responses: { '200': json(ref('Remediation'), 'The remediation'), ...common4xx },
        },
      },
      '/v1/remediations/{id}/risk': {
        post: {
          operationId: 'changeRisk',
          summary: 'Change the risk score (signal riskScoreChanged): the plan is re-built',
          tags: ['remediations'],
          parameters: [idParam],
          requestBody: { required: true, content: { 'application/json': { schema: ref('RiskScoreChanged') } } },
          responses: { '202': json({ type: 'object', properties: { id: { type: 'string' }, accepted: { const: 'riskScoreChanged' } } }, 'Signal sent'), ...common4xx },
        },
      },
      '/v1/remediations/{id}/steps/{stepId}/approve': decision('approve'),
      '/v1/remediations/{id}/steps/{stepId}/deny': decision('deny'),
      '/v1/remediations/{id}/pause': operator('pause', 'Pause: no new step starts until resumed'),
      '/v1/remediations/{id}/resume': operator('resume', 'Resume a paused remediation'),
      '/v1/remediations/{id}/cancel': operator('cancel', 'Cancel: completed steps with a compensation are undone'),
      '/v1/remediations/{id}/false-positive': operator('falsePositive', 'Mark a false positive: compensate and close as resolved'),
      '/v1/remediations/{id}/report': {
        get: {
          operationId: 'getReport',
          summary: 'Audit report built from the Temporal event history (follows continue-as-new), with the SHA-256 of that history',
          tags: ['audit'],
          parameters: [
            idParam,
            { name: 'format', in: 'query', schema: { type: 'string', enum: [...REPORT_FORMATS], default: 'json' } },
            { name: 'runId', in: 'query', description: 'Any run of the chain (default: the latest)', schema: { type: 'string' } },
          ],
          responses: {
            '200': {
              description: 'format=json: the report object. format=md|csv: the rendered report in `content`',
              content: { 'application/json': { schema: { oneOf: [ref('Report'), ref('RenderedReport')] } } },
            },
            ...common4xx,
          },
        },
      },
      '/v1/remediations/{id}/history': {
        get: {
          operationId: 'getHistory',
          summary: 'The Temporal event history JSON (as the Temporal UI downloads it; readable by historyFromJSON and the replayer)',
          tags: ['audit'],
          parameters: [
            idParam,
            { name: 'runId', in: 'query', schema: { type: 'string' } },
            { name: 'chain', in: 'query', description: 'Every run of the continue-as-new chain, as a drw history chain', schema: { type: 'boolean', default: false } },
          ],
          responses: {
            '200': json({ oneOf: [ref('History'), ref('HistoryChain')] }, 'History JSON'),
            ...common4xx,
          },
        },
      },
    },
    components: {
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: "A person's JWT (DRW_JWT_* configured): required for reads, approvals and operator actions; the drw CLI sends DRW_TOKEN" },
        ingestToken: { type: 'http', scheme: 'bearer', description: 'A detection source credential (DRW_INGEST_TOKENS; or an HMAC signature header, DRW_INGEST_HMAC_SECRETS / DRW_GITHUB_WEBHOOK_SECRET) for POST /v1/detections[/{format}]' },
      },
      schemas: {
        Error: { type: 'object', properties: { error: { type: 'string' }, details: {}, detail: { type: 'string' } }, required: ['error'] },
        Detection: schemaOf(detectionSchema),
        RiskScoreChanged: schemaOf(riskScoreChangedSchema),
        ApprovalDecision: { ...schemaOf(approvalDecisionSchema.omit({ stepId: true })), description: 'Without person authentication: who approves and their groups are in the body' },
        TokenApprovalDecision: { ...schemaOf(tokenApprovalSchema), description: 'With person authentication (JWT): identity and groups come from the token; repeating them is allowed only when equal' },
        OperatorAction: { ...schemaOf(operatorActionSchema), description: 'Without person authentication' },
        TokenOperatorAction: { ...schemaOf(tokenOperatorSchema), description: 'With person authentication: `by` comes from the token' },
        SubmitOutcome: { type: 'object', properties: { id: { type: 'string' }, outcome: { type: 'string', enum: ['started', 'signalled', 'ignored'] }, reason: { type: 'string' } }, required: ['id', 'outcome'] },
        PlanStep: stepSchema,
        Plan: { type: 'object', properties: { version: { type: 'integer' }, policyVersion: { type: 'string' }, playbook: { type: 'string' }, steps: { type: 'array', items: ref('PlanStep') } }, required: ['version', 'playbook', 'steps'] },
        DecisionEntry: {
          type: 'object',
          description: 'A typed decision event (remediation/events.ts): its kind names its structured fields; summary is the sentence rendered from them',
          properties: {
            seq: { type: 'integer' },
            at: { type: 'string', format: 'date-time' },
            kind: { type: 'string', enum: [...DECISION_KINDS] },
            summary: { type: 'string' },
            by: { type: 'string' },
          },
          additionalProperties: true,
          required: ['seq', 'at', 'kind', 'summary'],
        },
        Remediation: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            status: { type: 'string', enum: [...REMEDIATION_STATUSES] },
            severity: { type: 'string', enum: [...SEVERITIES] },
            riskScore: { type: 'number' },
            asset: { type: 'object', additionalProperties: true },
            title: { type: 'string' },
            source: { type: 'string' },
            rule: { type: 'string' },
            dedupeKey: { type: 'string' },
            findingCount: { type: 'integer' },
            slaDeadline: { type: 'string', format: 'date-time' },
            slaBreached: { type: 'boolean' },
            resolution: { type: 'string' },
            ticket: { type: 'object', properties: { system: { type: 'string' }, ticketId: { type: 'string' }, url: { type: 'string' } } },
            plan: ref('Plan'),
            approvals: { type: 'array', items: { type: 'object', additionalProperties: true } },
            decisions: { type: 'array', items: ref('DecisionEntry') },
          },
          required: ['id', 'status', 'plan'],
        },
        RemediationListItem: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            runId: { type: 'string' },
            status: { type: 'string', enum: [...REMEDIATION_STATUSES] },
            severity: { type: 'string', enum: [...SEVERITIES] },
            riskScore: { type: 'number' },
            asset: { type: 'string' },
            source: { type: 'string' },
            playbook: { type: 'string' },
            policyVersion: { type: 'string' },
            pendingApproval: { type: 'boolean' },
            slaDeadline: { type: 'string', format: 'date-time' },
            startTime: { type: 'string', format: 'date-time' },
            closeTime: { type: 'string', format: 'date-time' },
            execution: { type: 'string', description: 'Temporal execution status (RUNNING, COMPLETED, ...)' },
          },
          required: ['id', 'runId', 'startTime', 'execution'],
        },
        Report: {
          type: 'object',
          description: 'The audit report (see report/build.ts RemediationReport)',
          properties: {
            reportVersion: { const: 1 },
            id: { type: 'string' },
            generatedAt: { type: 'string', format: 'date-time' },
            history: { type: 'object', properties: { sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' }, runs: { type: 'array', items: { type: 'object' } }, events: { type: 'integer' } }, required: ['sha256'] },
            detection: ref('Detection'),
            outcome: { type: 'object', additionalProperties: true },
            sla: { type: 'object', properties: { deadline: { type: 'string' }, breached: { type: 'boolean' }, status: { type: 'string', enum: ['met', 'breached', 'open', 'none'] } } },
            detections: { type: 'array', items: { type: 'object' } },
            plans: { type: 'array', items: { type: 'object' } },
            approvals: { type: 'array', items: { type: 'object' } },
            riskChanges: { type: 'array', items: { type: 'object' } },
            actions: { type: 'array', items: { type: 'object' } },
            verification: { type: 'array', items: { type: 'object' } },
            compensations: { type: 'array', items: { type: 'object' } },
            timeline: { type: 'array', items: { type: 'object', properties: { at: { type: 'string' }, kind: { type: 'string' }, summary: { type: 'string' }, by: { type: 'string' }, source: { type: 'string', enum: ['history', 'decision-log'] } } } },
            warnings: { type: 'array', items: { type: 'string' } },
          },
          required: ['reportVersion', 'id', 'history', 'timeline'],
        },
        RenderedReport: {
          type: 'object',
          properties: { id: { type: 'string' }, format: { type: 'string', enum: ['md', 'csv'] }, contentType: { type: 'string' }, sha256: { type: 'string', description: 'SHA-256 of the history JSON the report was built from' }, content: { type: 'string' } },
          required: ['id', 'format', 'contentType', 'sha256', 'content'],
        },
        History: { type: 'object', description: 'Temporal history (proto3 JSON)', properties: { events: { type: 'array', items: { type: 'object' } } }, required: ['events'] },
        HistoryChain: {
          type: 'object',
          properties: { drwHistoryChain: { const: 1 }, workflowId: { type: 'string' }, runs: { type: 'array', items: { type: 'object', properties: { runId: { type: 'string' }, history: ref('History') } } } },
          required: ['drwHistoryChain', 'workflowId', 'runs'],
        },
      },
    },
  };
  return cached;
}

/** `GET /openapi.json`. */
export function openApiRoute(): Route {
  return route('GET', '/openapi.json', async () => ({ status: 200, body: openApiDocument() }));
}

/** Same, as a list, like the other route modules. */
export function openApiRoutes(): Route[] {
  return [openApiRoute()];
}
