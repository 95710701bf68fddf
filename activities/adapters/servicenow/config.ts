import { z } from 'zod';
import { baseUrlProblem, parseEnv, pick, trimSlash } from '../jira/env';

export type ServiceNowAuth = { kind: 'basic'; username: string; password: string } | { kind: 'bearer'; token: string };

export interface ServiceNowConfig {
  instanceUrl: string;
  auth: ServiceNowAuth;
  /** Group sys_id, or a group name resolved once through sys_user_group. */
  assignmentGroup?: string;
  /** close_code used when resolving; the choice list differs between releases. */
  closeCode: string;
  cmdbTable: string;
  /**
   * Field of the CI's own class that says internet-facing: cmdb_ci_server's firewall_status
   * ("Internet"/"Intranet") by default, or a true/false field such as u_internet_facing.
   */
  internetFacingField: string;
  /** Tag (label_entry) that marks a CI internet-facing. */
  internetFacingTag?: string;
  /** Field of the CI's own class with its environment: used_for (cmdb_ci_server) by default. */
  environmentField: string;
  /** Where criticality lives: the business services the CI supports (default), or the CI's own class. */
  criticalityFrom: 'services' | 'ci';
  /** busines_criticality (ServiceNow's spelling, on cmdb_ci_service) by default. */
  criticalityField: string;
  timeoutMs: number;
  /** Group the change requests are assigned to (sys_id or name); the incident group when unset. */
  changeAssignmentGroup?: string;
  /** sys_id of the standard change template (std_change_record_producer) standard changes are made from. */
  standardChangeTemplate?: string;
}

const VARS = [
  'SERVICENOW_INSTANCE_URL',
  'SERVICENOW_USERNAME',
  'SERVICENOW_PASSWORD',
  'SERVICENOW_TOKEN',
  'SERVICENOW_ASSIGNMENT_GROUP',
  'SERVICENOW_CLOSE_CODE',
  'SERVICENOW_CMDB_TABLE',
  'SERVICENOW_INTERNET_FACING_FIELD',
  'SERVICENOW_INTERNET_FACING_TAG',
  'SERVICENOW_CRITICALITY_FIELD',
  'SERVICENOW_CRITICALITY_FROM',
  'SERVICENOW_ENVIRONMENT_FIELD',
  'SERVICENOW_TIMEOUT_MS',
  'SERVICENOW_CHANGE_ASSIGNMENT_GROUP',
  'SERVICENOW_STANDARD_CHANGE_TEMPLATE',
] as const;
const TRIGGERS = ['SERVICENOW_INSTANCE_URL', 'SERVICENOW_USERNAME', 'SERVICENOW_PASSWORD', 'SERVICENOW_TOKEN'];

/** Field and table names go into encoded queries and URL paths; keep them to what ServiceNow allows. */
const identifier = z.string().regex(/^[a-z][a-z0-9_]{0,79}$/, { error: 'must be a ServiceNow table or field name' });

const schema = z
  .object({
    SERVICENOW_INSTANCE_URL: z
      .string({ error: 'is required' })
      .refine((v) => !baseUrlProblem(v), { error: (i) => baseUrlProblem(String(i.input)) ?? 'invalid URL' }),
    SERVICENOW_USERNAME: z.string().max(256).optional(),
    SERVICENOW_PASSWORD: z.string().max(1024).optional(),
    SERVICENOW_TOKEN: z.string().max(4096).optional(),
    SERVICENOW_ASSIGNMENT_GROUP: z.string().max(256).optional(),
    SERVICENOW_CLOSE_CODE: z.string().max(128).default('Solution provided'),
    SERVICENOW_CMDB_TABLE: identifier.default('cmdb_ci'),
    SERVICENOW_INTERNET_FACING_FIELD: identifier.default('firewall_status'),
    SERVICENOW_INTERNET_FACING_TAG: z.string().max(128).optional(),
    SERVICENOW_ENVIRONMENT_FIELD: identifier.default('used_for'),
    SERVICENOW_CRITICALITY_FIELD: identifier.default('busines_criticality'),
    SERVICENOW_CRITICALITY_FROM: z.enum(['services', 'ci'], { error: 'must be services or ci' }).default('services'),
    SERVICENOW_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(15_000),
    SERVICENOW_CHANGE_ASSIGNMENT_GROUP: z.string().max(256).optional(),
    SERVICENOW_STANDARD_CHANGE_TEMPLATE: z.string().regex(/^[0-9a-f]{32}$/, { error: 'must be the sys_id (32 hex characters) of a standard change template' }).optional(),
  })
  .superRefine((v, ctx) => {
    if (v.SERVICENOW_TOKEN) {
      if (v.SERVICENOW_USERNAME || v.SERVICENOW_PASSWORD) {
        ctx.addIssue({ code: 'custom', path: ['SERVICENOW_TOKEN'], message: 'set either SERVICENOW_TOKEN or SERVICENOW_USERNAME/SERVICENOW_PASSWORD, not both' });
      }
      return;
    }
    if (!v.SERVICENOW_USERNAME) ctx.addIssue({ code: 'custom', path: ['SERVICENOW_USERNAME'], message: 'is required (or SERVICENOW_TOKEN)' });
    if (!v.SERVICENOW_PASSWORD) ctx.addIssue({ code: 'custom', path: ['SERVICENOW_PASSWORD'], message: 'is required (or SERVICENOW_TOKEN)' });
  });

/** ServiceNow settings (incidents, changes and CMDB share the connection); undefined when not configured at all. */
export function loadServiceNowConfig(env: NodeJS.ProcessEnv = process.env): ServiceNowConfig | undefined {
  const vars = pick(env, VARS);
  if (!TRIGGERS.some((n) => vars[n] !== undefined)) return undefined;
  const v = parseEnv(schema, vars, 'ServiceNow');
  return {
    instanceUrl: trimSlash(v.SERVICENOW_INSTANCE_URL),
    auth: v.SERVICENOW_TOKEN
      ? { kind: 'bearer', token: v.SERVICENOW_TOKEN }
      : { kind: 'basic', username: v.SERVICENOW_USERNAME!, password: v.SERVICENOW_PASSWORD! },
    assignmentGroup: v.SERVICENOW_ASSIGNMENT_GROUP,
    closeCode: v.SERVICENOW_CLOSE_CODE,
    cmdbTable: v.SERVICENOW_CMDB_TABLE,
    internetFacingField: v.SERVICENOW_INTERNET_FACING_FIELD,
    internetFacingTag: v.SERVICENOW_INTERNET_FACING_TAG,
    environmentField: v.SERVICENOW_ENVIRONMENT_FIELD,
    criticalityFrom: v.SERVICENOW_CRITICALITY_FROM,
    criticalityField: v.SERVICENOW_CRITICALITY_FIELD,
    timeoutMs: v.SERVICENOW_TIMEOUT_MS,
    changeAssignmentGroup: v.SERVICENOW_CHANGE_ASSIGNMENT_GROUP ?? v.SERVICENOW_ASSIGNMENT_GROUP,
    standardChangeTemplate: v.SERVICENOW_STANDARD_CHANGE_TEMPLATE,
  };
}
