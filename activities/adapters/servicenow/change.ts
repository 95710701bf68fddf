import { ApplicationFailure } from '@temporalio/common';
import type {
  CancelChangeInput,
  ChangeControl,
  ChangeFailure,
  ChangeRef,
  ChangeState,
  ChangeType,
  CloseChangeInput,
  MarkImplementingInput,
  OpenChangeInput,
} from '../../interfaces';
import type { ServiceNowConfig } from './config';
import { heartbeatIfActivity } from '../activity-context';
import { correlationId } from './correlation';
import { idempotencyMarker } from './incident';
import { APPROVAL_REQUEST_STATE, CHANGE_STATE, FINISHED, IMPLEMENTABLE, approvalOf, stateLabel } from './change-states';
import { SYSTEM, createServiceNowClient, type ServiceNowDeps, groupResolver, rawValue, resultOf, snFailure, text } from './client';

/** The Change Management REST API (sn_chg_rest); approvals are read through the Table API. */
const API = '/api/sn_chg_rest/change';
const APPROVALS = '/api/now/table/sysapproval_approver';
const SHORT_DESCRIPTION_MAX = 160;
const DESCRIPTION_MAX = 30_000;
const SYS_ID = /^[0-9a-f]{32}$/;
/** Changes one step may have had (earlier ones canceled by re-plans); more would be a loop somewhere. */
const SEARCH_LIMIT = 20;

type Row = Record<string, unknown>;

/**
 * Change requests through the Change Management API. A change is tied to its step by
 * correlation_id (the step's idempotency key), searched before anything is created, so a lost
 * answer never opens a second change; a canceled one is not reused (a re-plan that brings the
 * step back gets a new change). Every transition reads the state first and moves only along
 * the documented state model, so a retried call changes nothing twice.
 */
export function createServiceNowChange(config: ServiceNowConfig, deps: ServiceNowDeps = {}): ChangeControl {
  const http = deps.client ?? createServiceNowClient(config);
  const assignmentGroup = groupResolver(http, config.changeAssignmentGroup);
  const changeUrl = (sysId: string) => `${config.instanceUrl}/change_request.do?sys_id=${encodeURIComponent(sysId)}`;

  async function findByCorrelation(corr: string): Promise<Row | undefined> {
    const { data } = await http.get(API, {
      // Oldest first: should a race ever produce two changes, every caller converges on one.
      params: { sysparm_query: `correlation_id=${corr}^ORDERBYsys_created_on`, sysparm_limit: SEARCH_LIMIT },
    });
    const rows = resultOf<Row[]>(data, 'change search');
    return (Array.isArray(rows) ? rows : []).find((r) => stateValue(r) !== CHANGE_STATE.Canceled && rawValue(r.correlation_id) === corr);
  }

  async function read(changeId: string): Promise<Row> {
    if (!SYS_ID.test(changeId)) throw snFailure(`"${changeId.slice(0, 80)}" is not a change sys_id`, 'servicenow.BadInput');
    const { data } = await http.get(`${API}/${changeId}`);
    const row = resultOf<Row>(data, 'change read');
    if (!row || !rawValue(row.sys_id)) throw snFailure(`change ${changeId} not found`, 'servicenow.NotFound');
    return row;
  }

  async function patch(changeId: string, body: Row): Promise<void> {
    await http.patch(`${API}/${changeId}`, body);
  }

  async function approvers(changeId: string): Promise<{ approvedBy: string[]; rejectedBy: string[] }> {
    const { data } = await http.get(APPROVALS, {
      params: {
        sysparm_query: `sysapproval=${changeId}^ORDERBYsys_updated_on`,
        sysparm_fields: 'approver,state',
        sysparm_display_value: 'all',
        sysparm_exclude_reference_link: 'true',
        sysparm_limit: 200,
      },
    });
    const rows = resultOf<Row[]>(data, 'approval lookup');
    const who = (state: string) => [...new Set(rows.filter((r) => rawValue(r.state) === state).map((r) => text(r.approver)).filter((n): n is string => !!n))];
    return { approvedBy: who('approved'), rejectedBy: who('rejected') };
  }

  async function stateOf(changeId: string, row?: Row): Promise<ChangeState> {
    const r = row ?? (await read(changeId));
    const value = stateValue(r);
    const { approvedBy, rejectedBy } = await approvers(changeId);
    const type = rawValue(r.type);
    const plannedStart = fromGlide(rawValue(r.start_date));
    const plannedEnd = fromGlide(rawValue(r.end_date));
    const closeCode = FINISHED.has(value) ? rawValue(r.close_code) : undefined;
    return {
      changeId,
      number: text(r.number) ?? changeId,
      ...(type === 'normal' || type === 'standard' || type === 'emergency' ? { type } : {}),
      state: { label: stateLabel(value) ?? text(r.state) ?? String(value), value },
      implementable: IMPLEMENTABLE.has(value),
      approval: approvalOf(rawValue(r.approval)),
      ...(approvedBy.length ? { approvedBy } : {}),
      ...(rejectedBy.length ? { rejectedBy } : {}),
      ...(plannedStart ? { plannedStart } : {}),
      ...(plannedEnd ? { plannedEnd } : {}),
      closed: FINISHED.has(value),
      ...(closeCode ? { closeCode } : {}),
    };
  }

  /**
   * Asks for approval once: a change still New with approval not requested. A change the CAB
   * rejected is back in New with approval rejected, and is left there.
   */
  async function requestApproval(row: Row, type: ChangeType): Promise<void> {
    const sysId = rawValue(row.sys_id)!;
    if (stateValue(row) !== CHANGE_STATE.New) return;
    const approval = approvalOf(rawValue(row.approval));
    if (approval === 'rejected' || (type !== 'standard' && approval !== 'not requested')) return;
    await patch(sysId, { state: String(APPROVAL_REQUEST_STATE[type]) });
  }

  async function create(input: OpenChangeInput, corr: string): Promise<Row> {
    const group = await assignmentGroup();
    const body: Row = {
      short_description: input.shortDescription.replace(/[\r\n]+/g, ' ').trim().slice(0, SHORT_DESCRIPTION_MAX),
      description: describe(input),
      implementation_plan: input.description.slice(0, DESCRIPTION_MAX),
      justification: `Automated remediation by drw${input.link ? `: ${input.link}` : ''}`,
      correlation_id: corr,
      correlation_display: 'drw',
    };
    if (group) body.assignment_group = group;
    if (input.ci?.ciId && SYS_ID.test(input.ci.ciId)) body.cmdb_ci = input.ci.ciId;
    if (input.requestedWindow) {
      body.start_date = toGlide(input.requestedWindow.start, 'requestedWindow.start');
      body.end_date = toGlide(input.requestedWindow.end, 'requestedWindow.end');
    }
    let path: string;
    if (input.type === 'standard') {
      if (!config.standardChangeTemplate) throw snFailure('a standard change needs SERVICENOW_STANDARD_CHANGE_TEMPLATE (the sys_id of a standard change template)', 'servicenow.BadConfig');
      path = `${API}/standard/${config.standardChangeTemplate}`;
    } else path = `${API}/${input.type}`;
    const { data } = await http.post(path, body);
    const created = resultOf<Row>(data, 'change create');
    if (!rawValue(created?.sys_id)) throw snFailure('change create answered without a sys_id', 'servicenow.BadResponse');
    return created;
  }

  const ref = (row: Row, existing: boolean): ChangeRef => {
    const sysId = rawValue(row.sys_id)!;
    return { system: SYSTEM, changeId: sysId, number: text(row.number) ?? sysId, url: changeUrl(sysId), existing };
  };

  return {
    async openChange(input) {
      const corr = correlationId(input.idempotencyKey);
      const found = await findByCorrelation(corr);
      if (found) {
        await requestApproval(found, input.type);
        return ref(found, true);
      }
      heartbeatIfActivity({ creating: corr });
      const created = await create(input, corr);
      await requestApproval(created, input.type);
      return ref(created, false);
    },

    getChange: async ({ changeId }) => stateOf(changeId),

    async markImplementing(input: MarkImplementingInput) {
      const row = await read(input.changeId);
      const value = stateValue(row);
      if (value === CHANGE_STATE.Implement) return stateOf(input.changeId, row);
      if (value !== CHANGE_STATE.Scheduled) {
        throw changeFailure(`change ${text(row.number)} is ${stateLabel(value) ?? value} (approval ${approvalOf(rawValue(row.approval))}), not Scheduled: it may not be implemented`, 'ChangeNotImplementable');
      }
      await patch(input.changeId, { state: String(CHANGE_STATE.Implement), work_notes: `drw starts the change.\n${idempotencyMarker(input.idempotencyKey)}` });
      return stateOf(input.changeId);
    },

    async closeChange(input: CloseChangeInput) {
      let row = await read(input.changeId);
      const number = text(row.number);
      // Walks the model one state at a time (ServiceNow refuses skipped states); each step is re-read, so a retry resumes.
      for (;;) {
        const value = stateValue(row);
        if (value === CHANGE_STATE.Closed) return stateOf(input.changeId, row);
        if (value === CHANGE_STATE.Canceled) throw changeFailure(`change ${number} is Canceled: its outcome cannot be recorded`, 'ChangeNotClosable');
        if (value === CHANGE_STATE.Review) {
          await patch(input.changeId, {
            state: String(CHANGE_STATE.Closed),
            close_code: input.outcome,
            close_notes: `${input.notes.slice(0, DESCRIPTION_MAX)}\n\n${idempotencyMarker(input.idempotencyKey)}`,
          });
        } else if (value === CHANGE_STATE.Implement) await patch(input.changeId, { state: String(CHANGE_STATE.Review) });
        else if (value === CHANGE_STATE.Scheduled) await patch(input.changeId, { state: String(CHANGE_STATE.Implement) });
        else throw changeFailure(`change ${number} is ${stateLabel(value) ?? value}: it was never authorized, so there is nothing to close (cancel it)`, 'ChangeNotClosable');
        row = await read(input.changeId);
        if (stateValue(row) === value) throw snFailure(`change ${number} stayed ${stateLabel(value) ?? value} after drw moved it on`, 'servicenow.StateRefused');
      }
    },

    async cancelChange(input: CancelChangeInput) {
      const row = await read(input.changeId);
      if (FINISHED.has(stateValue(row))) return stateOf(input.changeId, row);
      await patch(input.changeId, { state: String(CHANGE_STATE.Canceled), work_notes: `${input.reason}\n\n${idempotencyMarker(input.idempotencyKey)}` });
      return stateOf(input.changeId);
    },
  };
}

function stateValue(row: Row): number {
  const v = Number(rawValue(row.state));
  return Number.isFinite(v) ? v : NaN;
}

function describe(input: OpenChangeInput): string {
  return [
    input.description.slice(0, DESCRIPTION_MAX),
    '',
    input.ci?.name || input.ci?.ciId ? `Configuration item: ${input.ci.name ?? input.ci.ciId}` : undefined,
    `Change digest: ${input.digest}`,
    `Remediation: ${input.remediationId}`,
    input.link ? `Details: ${input.link}` : undefined,
    '',
    idempotencyMarker(input.idempotencyKey),
  ]
    .filter((l) => l !== undefined)
    .join('\n');
}

/** Glide date-times are "yyyy-MM-dd HH:mm:ss" in UTC when written and read as raw values. */
function toGlide(iso: string, field: string): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw snFailure(`${field}: "${iso.slice(0, 40)}" is not a date-time`, 'servicenow.BadInput');
  return new Date(t).toISOString().replace('T', ' ').slice(0, 19);
}

function fromGlide(value: string | undefined): string | undefined {
  if (!value || !/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(value)) return undefined;
  return `${value.replace(' ', 'T')}.000Z`;
}

/** Shared across change systems (interfaces.ts ChangeFailure), so not prefixed with the vendor. */
function changeFailure(message: string, type: ChangeFailure): ApplicationFailure {
  return ApplicationFailure.create({ message: `servicenow: ${message}`, type, nonRetryable: true });
}
