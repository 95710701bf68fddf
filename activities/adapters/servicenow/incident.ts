import { ApplicationFailure } from '@temporalio/common';
import type {
  CloseTicketInput,
  OpenTicketInput,
  ReopenTicketInput,
  TicketPriority,
  TicketRef,
  TicketState,
  Ticketing,
  UpdateTicketInput,
} from '../../interfaces';
import type { ServiceNowConfig } from './config';
import { heartbeatIfActivity } from '../activity-context';
import { correlationId } from './correlation';
import { CLOSED_STATES, IN_PROGRESS, RESOLVED } from './incident-states';
import { SYSTEM, createServiceNowClient, type ServiceNowDeps, groupResolver, rawValue, resultOf, text } from './client';

const TABLE = '/api/now/table/incident';
const SHORT_DESCRIPTION_MAX = 160;
const DESCRIPTION_MAX = 30_000;

/** ServiceNow derives priority from impact x urgency; these pairs give P1..P4. */
const IMPACT_URGENCY: Record<TicketPriority, { impact: string; urgency: string }> = {
  highest: { impact: '1', urgency: '1' },
  high: { impact: '1', urgency: '2' },
  medium: { impact: '2', urgency: '2' },
  low: { impact: '3', urgency: '2' },
};

type Row = Record<string, unknown>;

export function idempotencyMarker(idempotencyKey: string): string {
  return `[drw-ref:${idempotencyKey}]`;
}

export function createServiceNowTicketing(config: ServiceNowConfig, deps: ServiceNowDeps = {}): Ticketing {
  const http = deps.client ?? createServiceNowClient(config);
  const incidentUrl = (sysId: string) => `${config.instanceUrl}/incident.do?sys_id=${encodeURIComponent(sysId)}`;
  const assignmentGroup = groupResolver(http, config.assignmentGroup);

  async function findByCorrelation(corr: string): Promise<Row | undefined> {
    const { data } = await http.get(TABLE, {
      params: {
        // Oldest first: if a race ever produced two incidents, every caller converges on one.
        sysparm_query: `correlation_id=${corr}^ORDERBYsys_created_on`,
        sysparm_fields: 'sys_id,number,description',
        sysparm_limit: 1,
        sysparm_exclude_reference_link: true,
      },
    });
    return resultOf<Row[]>(data, 'incident search')[0];
  }

  /** Accepts the incident number (what openTicket returns) or a sys_id. */
  async function fetchIncident(ticketId: string, fields: string): Promise<Row & { sysId: string }> {
    const params = { sysparm_fields: `sys_id,${fields}`, sysparm_display_value: 'all', sysparm_exclude_reference_link: true };
    let row: Row | undefined;
    if (/^[0-9a-f]{32}$/.test(ticketId)) {
      const { data } = await http.get(`${TABLE}/${ticketId}`, { params });
      row = resultOf<Row>(data, 'incident read');
    } else if (/^[A-Z]{2,8}\d{4,12}$/.test(ticketId)) {
      const { data } = await http.get(TABLE, { params: { ...params, sysparm_query: `number=${ticketId}`, sysparm_limit: 1 } });
      row = resultOf<Row[]>(data, 'incident search')[0];
    } else {
      throw failure(`"${ticketId.slice(0, 80)}" is neither an incident number nor a sys_id`, 'servicenow.BadInput');
    }
    const sysId = rawValue(row?.sys_id);
    if (!row || !sysId) throw failure(`incident ${ticketId} not found`, 'servicenow.NotFound');
    return { ...row, sysId };
  }

  return {
    async openTicket(input: OpenTicketInput): Promise<TicketRef> {
      const corr = correlationId(input.remediationId);
      const marker = idempotencyMarker(input.idempotencyKey);
      const found = await findByCorrelation(corr);
      if (found) {
        const number = text(found.number) ?? text(found.sys_id)!;
        const ours = text(found.description)?.includes(marker) ?? false;
        return { system: SYSTEM, ticketId: number, url: incidentUrl(text(found.sys_id)!), existing: !ours };
      }
      heartbeatIfActivity({ creating: corr });
      const group = await assignmentGroup();
      const body: Row = {
        short_description: input.title.replace(/[\r\n]+/g, ' ').trim().slice(0, SHORT_DESCRIPTION_MAX),
        description: describe(input, marker),
        correlation_id: corr,
        correlation_display: 'drw',
        ...IMPACT_URGENCY[input.priority],
      };
      if (group) body.assignment_group = group;
      const { data } = await http.post(TABLE, body, {
        params: { sysparm_fields: 'sys_id,number', sysparm_exclude_reference_link: true },
      });
      const created = resultOf<Row>(data, 'incident create');
      const sysId = text(created.sys_id);
      if (!sysId) throw failure('incident create answered without a sys_id', 'servicenow.BadResponse');
      return { system: SYSTEM, ticketId: text(created.number) ?? sysId, url: incidentUrl(sysId), existing: false };
    },

    async updateTicket(input: UpdateTicketInput): Promise<void> {
      const inc = await fetchIncident(input.ticketId, 'work_notes');
      const marker = idempotencyMarker(input.idempotencyKey);
      const patch: Row = {};
      // Journal fields only show their history as a display value, hence display_value=all above.
      if (!text(inc.work_notes)?.includes(marker)) patch.work_notes = `${input.comment}\n\n${marker}`;
      if (input.priority) Object.assign(patch, IMPACT_URGENCY[input.priority]);
      if (Object.keys(patch).length === 0) return;
      await http.patch(`${TABLE}/${inc.sysId}`, patch, { params: { sysparm_fields: 'sys_id' } });
    },

    async closeTicket(input: CloseTicketInput): Promise<void> {
      const inc = await fetchIncident(input.ticketId, 'state');
      if (CLOSED_STATES.has(rawValue(inc.state) ?? '')) return;
      await http.patch(
        `${TABLE}/${inc.sysId}`,
        {
          state: RESOLVED,
          close_code: config.closeCode,
          close_notes: `${input.comment}\n\nResolution: ${input.resolution}\n${idempotencyMarker(input.idempotencyKey)}`,
        },
        { params: { sysparm_fields: 'sys_id' } },
      );
    },

    async reopenTicket(input: ReopenTicketInput): Promise<void> {
      const inc = await fetchIncident(input.ticketId, 'state,work_notes');
      const marker = idempotencyMarker(input.idempotencyKey);
      const patch: Row = {};
      if (!text(inc.work_notes)?.includes(marker)) patch.work_notes = `${input.comment}\n\n${marker}`;
      // Back to In Progress, as the incident form's Reopen does; an open incident keeps its state.
      if (CLOSED_STATES.has(rawValue(inc.state) ?? '')) patch.state = IN_PROGRESS;
      if (Object.keys(patch).length === 0) return;
      await http.patch(`${TABLE}/${inc.sysId}`, patch, { params: { sysparm_fields: 'sys_id' } });
    },

    async getTicketState(input: { ticketId: string }): Promise<TicketState> {
      const inc = await fetchIncident(input.ticketId, 'number,state,sys_updated_by,close_code');
      const state = rawValue(inc.state) ?? '';
      const closed = CLOSED_STATES.has(state);
      const updatedBy = text(inc.sys_updated_by);
      const closeCode = closed ? text(inc.close_code) : undefined;
      return {
        ticketId: input.ticketId,
        status: text(inc.state) ?? 'unknown',
        closed,
        ...(updatedBy ? { updatedBy } : {}),
        ...(closeCode ? { resolution: closeCode } : {}),
      };
    },
  };
}

function describe(input: OpenTicketInput, marker: string): string {
  return [
    input.description.slice(0, DESCRIPTION_MAX),
    '',
    `Asset: ${input.assetId}`,
    `Severity: ${input.severity}`,
    `Remediation: ${input.remediationId}`,
    input.labels.length ? `Labels: ${input.labels.join(', ')}` : undefined,
    input.link ? `Details: ${input.link}` : undefined,
    '',
    marker,
  ]
    .filter((l) => l !== undefined)
    .join('\n');
}

function failure(message: string, type: string): ApplicationFailure {
  return ApplicationFailure.create({ message: `servicenow: ${message}`, type, nonRetryable: true });
}
