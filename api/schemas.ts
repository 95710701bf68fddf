/**
 * The zod schemas of the API's answers and shared parameters, and the registry that names them
 * as OpenAPI components. Answers are loose objects: the serializer re-encodes every answer with
 * its schema, and a field the workflow adds later (a step digest, a fact's provenance) must reach
 * the caller, not be stripped.
 */
import { z } from 'zod';
import { MAX_DETAILS_BYTES } from '../domain/details';
import { detectionSchemaWith, SEVERITIES } from '../domain/detection';
import { REMEDIATION_ID_PATTERN } from '../domain/ids';
import { DECISION_KINDS } from '../remediation/events';
import { ACTIONS, REMEDIATION_STATUSES, STEP_STATUSES } from '../planner/types';
import { approvalDecisionSchema, operatorActionSchema, riskScoreChangedSchema } from '../signals';
import { tokenApprovalSchema, tokenOperatorSchema } from './auth/identity';

/**
 * Component names for the OpenAPI document, in zod's global registry, where `.describe()` keeps
 * descriptions too (the document generator reads both from one registry).
 */
const named = <T extends z.ZodType>(schema: T, id: string, description?: string): T => {
  z.globalRegistry.add(schema, { ...z.globalRegistry.get(schema), id, ...(description ? { description } : {}) });
  return schema;
};

export const errorSchema = named(z.looseObject({ error: z.string(), details: z.unknown().optional(), detail: z.string().optional() }), 'Error');

export const remediationParams = z.object({ id: z.string().regex(REMEDIATION_ID_PATTERN).describe('Remediation id (the workflow id)') });
export const stepParams = remediationParams.extend({ stepId: z.string().min(1).max(200).describe('Plan step id, e.g. edr-malware.contain (URL-encoded)') });

export const detectionBody = named(detectionSchemaWith({ maxDetailsBytes: MAX_DETAILS_BYTES }), 'Detection');
export const riskBody = named(riskScoreChangedSchema, 'RiskScoreChanged');
export const approvalBody = named(approvalDecisionSchema.omit({ stepId: true, assertion: true }), 'ApprovalDecision', 'Without person authentication (loopback): who approves and their groups are in the body');
export const tokenApprovalBody = named(tokenApprovalSchema, 'TokenApprovalDecision', 'With person authentication (JWT): identity and groups come from the token; repeating them is allowed only when equal');
export const operatorBody = named(operatorActionSchema, 'OperatorAction', 'Without person authentication (loopback)');
export const tokenOperatorBody = named(tokenOperatorSchema, 'TokenOperatorAction', 'With person authentication: `by` comes from the token');

export const submitOutcome = named(z.looseObject({ id: z.string(), outcome: z.enum(['started', 'signalled', 'ignored']), reason: z.string().optional() }), 'SubmitOutcome');

const planStep = named(
  z.looseObject({
    id: z.string(),
    action: z.enum(ACTIONS),
    status: z.enum(STEP_STATUSES),
    title: z.string().optional(),
    params: z.record(z.string(), z.unknown()).optional(),
    approval: z.looseObject({ users: z.array(z.string()).optional(), groups: z.array(z.string()).optional(), quorum: z.number().int().optional(), approvedBy: z.array(z.string()).optional(), deniedBy: z.string().optional() }).optional(),
  }),
  'PlanStep',
);
export const planSchema = named(z.looseObject({ version: z.number().int(), policyVersion: z.string().optional(), playbook: z.string(), steps: z.array(planStep) }), 'Plan');

const decisionEntry = named(
  z.looseObject({ seq: z.number().int(), at: z.string(), kind: z.string().describe(`One of ${DECISION_KINDS.join(", ")}`), summary: z.string(), by: z.string().optional() }).describe('A typed decision event: its kind names its structured fields; summary is the sentence rendered from them'),
  'DecisionEntry',
);

export const remediationSchema = named(
  z.looseObject({
    id: z.string(),
    instance: z.string().optional().describe('What vendor records and idempotency keys name this remediation by: `<id>~<first run id>` (a recurrence after a closed remediation is another instance)'),
    status: z.enum(REMEDIATION_STATUSES),
    severity: z.enum(SEVERITIES).optional(),
    riskScore: z.number().optional(),
    asset: z.record(z.string(), z.unknown()).optional(),
    facts: z
      .partialRecord(
        z.enum(['environment', 'criticality', 'internetFacing', 'riskScore']),
        z.looseObject({ value: z.unknown(), from: z.enum(['detection', 'cmdb', 'operator', 'drw']), why: z.string(), detection: z.unknown().optional(), cmdb: z.unknown().optional(), by: z.string().optional() }),
      )
      .optional()
      .describe('Each fact that decides an approval, with where its value came from (the stricter of the detection and the CMDB applies)'),
    plan: planSchema,
    approvals: z.array(z.record(z.string(), z.unknown())).optional(),
    decisions: z.array(decisionEntry).optional(),
  }),
  'Remediation',
);

export const listItemSchema = named(
  z.looseObject({
    id: z.string(),
    runId: z.string(),
    status: z.enum(REMEDIATION_STATUSES).optional(),
    severity: z.enum(SEVERITIES).optional(),
    riskScore: z.number().optional(),
    asset: z.string().optional(),
    startTime: z.string(),
    closeTime: z.string().optional(),
    execution: z.string().describe('Temporal execution status (RUNNING, COMPLETED, ...)'),
  }),
  'RemediationListItem',
);

export const reportSchema = named(
  z.looseObject({ reportVersion: z.literal(1), id: z.string(), history: z.looseObject({ sha256: z.string().regex(/^[0-9a-f]{64}$/) }), timeline: z.array(z.record(z.string(), z.unknown())) }).describe('The audit report (report/build.ts RemediationReport)'),
  'Report',
);
export const renderedReportSchema = named(
  z.looseObject({ id: z.string(), format: z.enum(['md', 'csv']), contentType: z.string(), sha256: z.string().describe('SHA-256 of the history JSON the report was built from'), content: z.string() }),
  'RenderedReport',
);
const historySchema = named(z.looseObject({ events: z.array(z.unknown()) }).describe('Temporal history (proto3 JSON)'), 'History');
export const historyChainSchema = named(z.looseObject({ drwHistoryChain: z.literal(1), workflowId: z.string(), runs: z.array(z.looseObject({ runId: z.string(), history: historySchema })) }), 'HistoryChain');
export { historySchema };
