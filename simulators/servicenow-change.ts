import type { Handler, SimRequest, SimResponse, SimulatorServer } from './base';
import type { SimRecord } from './servicenow';

/**
 * ServiceNow Change Management for the ServiceNow simulator: the Change Management REST API
 * (`/api/sn_chg_rest/change`: create normal / emergency / standard-from-template, read, list
 * with sysparm_query, PATCH) answering every field as `{ value, display_value }` as that API
 * does, change_request and sysapproval_approver rows readable through the Table API, and the
 * documented state model per type:
 * - normal: New → Assess (approval requested: technical approval) → Authorize (CAB) → Scheduled
 *   → Implement → Review → Closed;
 * - emergency: New → Authorize (emergency CAB) → Scheduled → Implement → Review → Closed;
 * - standard: pre-approved by its template, New → Scheduled → Implement → Review → Closed.
 * Assess → Authorize and Authorize → Scheduled happen only when the approvals of the stage are
 * approved (a PATCH there is refused); a rejection sends the change back to New with approval
 * rejected. Any open change may be Canceled. Closed needs close_code and close_notes (data policy).
 *
 * People: `POST /_admin/changes/{number or sys_id}/approve|reject` `{"as": "alice", "comments"?,
 * "start"?, "end"?}` approves or rejects the stage as that approver would in ServiceNow (their
 * sysapproval_approver record; a CAB may set the planned window as it schedules the change).
 */

export const CHANGE_TABLES = ['change_request', 'sysapproval_approver', 'std_change_record_producer'] as const;

/** The standard change template every simulator has (SERVICENOW_STANDARD_CHANGE_TEMPLATE of the embedded default). */
export const DEMO_STANDARD_CHANGE_TEMPLATE = '8f0a7c1e5b3d4e2f9a6b1c0d7e8f9a0b';

const STATE = { New: '-5', Assess: '-4', Authorize: '-3', Scheduled: '-2', Implement: '-1', Review: '0', Closed: '3', Canceled: '4' } as const;
const FINISHED = new Set<string>([STATE.Closed, STATE.Canceled]);

/** Moves a PATCH may make, per type; approval-gated moves are the approval engine's. */
const MOVES: Record<string, Record<string, string[]>> = {
  normal: { [STATE.New]: [STATE.Assess], [STATE.Scheduled]: [STATE.Implement], [STATE.Implement]: [STATE.Review], [STATE.Review]: [STATE.Closed] },
  emergency: { [STATE.New]: [STATE.Authorize], [STATE.Scheduled]: [STATE.Implement], [STATE.Implement]: [STATE.Review], [STATE.Review]: [STATE.Closed] },
  standard: { [STATE.New]: [STATE.Scheduled], [STATE.Scheduled]: [STATE.Implement], [STATE.Implement]: [STATE.Review], [STATE.Review]: [STATE.Closed] },
};
/** Where an approved stage takes the change. */
const APPROVED_STAGE: Record<string, Record<string, string>> = {
  normal: { [STATE.Assess]: STATE.Authorize, [STATE.Authorize]: STATE.Scheduled },
  emergency: { [STATE.Authorize]: STATE.Scheduled },
  standard: {},
};

export const CHANGE_FIELDS: Record<string, string[]> = {
  change_request: [
    'sys_id', 'number', 'type', 'state', 'approval', 'short_description', 'description', 'implementation_plan', 'backout_plan',
    'test_plan', 'justification', 'risk', 'impact', 'urgency', 'priority', 'category', 'cmdb_ci', 'assignment_group', 'assigned_to',
    'requested_by', 'start_date', 'end_date', 'work_start', 'work_end', 'correlation_id', 'correlation_display', 'close_code',
    'close_notes', 'work_notes', 'comments', 'std_change_producer_version', 'active', 'opened_at', 'closed_at', 'sys_created_on',
    'sys_updated_on', 'sys_created_by', 'sys_updated_by',
  ],
  sysapproval_approver: ['sys_id', 'sysapproval', 'document_id', 'source_table', 'approver', 'state', 'comments', 'sys_created_on', 'sys_updated_on', 'sys_updated_by'],
  std_change_record_producer: ['sys_id', 'name', 'short_description', 'active'],
};

export const CHANGE_CHOICES: Record<string, Record<string, Record<string, string>>> = {
  change_request: {
    state: Object.fromEntries(Object.entries(STATE).map(([label, value]) => [value, label])),
    approval: { 'not requested': 'Not Yet Requested', requested: 'Requested', approved: 'Approved', rejected: 'Rejected' },
    type: { normal: 'Normal', standard: 'Standard', emergency: 'Emergency' },
    close_code: { successful: 'Successful', successful_issues: 'Successful with issues', unsuccessful: 'Unsuccessful' },
    risk: { '2': 'High', '3': 'Moderate', '4': 'Low' },
  },
  sysapproval_approver: {
    state: { 'not requested': 'Not Yet Requested', requested: 'Requested', approved: 'Approved', rejected: 'Rejected', cancelled: 'Cancelled', not_required: 'No Longer Required' },
  },
};

export const CHANGE_REFERENCES: Record<string, string> = {
  approver: 'sys_user',
  requested_by: 'sys_user',
  assigned_to: 'sys_user',
  assignment_group: 'sys_user_group',
  cmdb_ci: 'cmdb_ci',
  sysapproval: 'change_request',
  document_id: 'change_request',
};

export interface ChangeSimOptions {
  /** Who the approvals of each stage are requested from (sys_user names); anyone may approve as a delegate. */
  cabMembers?: string[];
  /**
   * A CAB member who approves each stage the moment it asks for approval (scenarios about something
   * else than the CAB). Unset (the default, and `npm start`), changes wait for a person's decision.
   */
  autoApproveAs?: string;
  /** Standard change templates besides DEMO_STANDARD_CHANGE_TEMPLATE. */
  standardTemplates?: { sys_id: string; name: string; short_description?: string }[];
}

interface Query {
  groups: { field: string; op: string; value: string }[][][];
  order: { field: string; desc: boolean }[];
}

export interface ChangeSimContext {
  server: SimulatorServer;
  tables: Map<string, Map<string, SimRecord>>;
  insert(table: string, values: Record<string, string>, sysId?: string): SimRecord;
  byName(table: string, name: string): SimRecord;
  render(rec: SimRecord, q: Record<string, string>, table: string): Record<string, unknown>;
  applyWrite(rec: SimRecord, body: Record<string, unknown>, known: Set<string>, by?: string): void;
  authed(h: (req: SimRequest) => SimResponse): Handler;
  failure(status: number, message: string, detail: string | null): SimResponse;
  parseQuery(q: string): Query | { error: string };
  test(rec: SimRecord, c: Query['groups'][number][number][number]): boolean;
  now(): string;
  username: string;
  seq: { changeNumber: number };
  options: ChangeSimOptions;
}

export function installChangeManagement(ctx: ChangeSimContext): { changes: Map<string, SimRecord> } {
  const { server, tables, failure } = ctx;
  const changes = tables.get('change_request')!;
  const approvals = tables.get('sysapproval_approver')!;
  const templates = tables.get('std_change_record_producer')!;
  const known = new Set(CHANGE_FIELDS.change_request);
  for (const t of [{ sys_id: DEMO_STANDARD_CHANGE_TEMPLATE, name: 'Contain a compromised host (drw)', short_description: 'Pre-approved containment by drw' }, ...(ctx.options.standardTemplates ?? [])]) {
    if (!templates.has(t.sys_id)) ctx.insert('std_change_record_producer', { name: t.name, short_description: t.short_description ?? t.name, active: 'true' }, t.sys_id);
  }

  // The Change Management API answers every field with its value and display value.
  const answer = (rec: SimRecord, req: SimRequest) =>
    ctx.render(rec, { ...req.query, sysparm_display_value: 'all', sysparm_exclude_reference_link: 'true' }, 'change_request');
  const find = (id: string) => changes.get(id) ?? [...changes.values()].find((r) => r.values.number === id);
  const notFound = (id: string) => failure(404, 'No Record found', `Change request ${id} not found or not accessible`);
  const body = (req: SimRequest): Record<string, unknown> | undefined =>
    req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? (req.body as Record<string, unknown>) : req.rawBody ? undefined : {};

  function open(type: string, req: SimRequest, preset: Record<string, string> = {}): SimResponse {
    const b = body(req);
    if (!b) return failure(400, 'Exception while reading request', 'Cannot decode request body');
    const rec = ctx.insert('change_request', {
      number: `CHG${String(++ctx.seq.changeNumber).padStart(7, '0')}`,
      type,
      state: STATE.New,
      approval: type === 'standard' ? 'approved' : 'not requested',
      risk: '4',
      impact: '3',
      urgency: '3',
      active: 'true',
      opened_at: ctx.now(),
      sys_created_by: ctx.username,
      requested_by: ctx.byName('sys_user', ctx.username).sys_id,
      ...preset,
    });
    // Fields may come as query parameters too, as the API allows; the type and state model are the API's own.
    const fields = Object.fromEntries(Object.entries({ ...req.query, ...b }).filter(([k]) => !k.startsWith('sysparm_') && k !== 'type' && k !== 'state' && k !== 'approval'));
    ctx.applyWrite(rec, fields, known);
    return { status: 200, body: { result: answer(rec, req) } };
  }

  function requestApprovals(rec: SimRecord): void {
    for (const member of ctx.options.cabMembers ?? ['CAB Manager']) {
      ctx.insert('sysapproval_approver', { sysapproval: rec.sys_id, document_id: rec.sys_id, source_table: 'change_request', approver: ctx.byName('sys_user', member).sys_id, state: 'requested' });
    }
    rec.values.approval = 'requested';
    if (ctx.options.autoApproveAs) decide(rec, ctx.options.autoApproveAs, 'approved', {});
  }

  /** A person's decision on the stage waiting for approval, as their sysapproval_approver record would carry it. */
  function decide(rec: SimRecord, as: string, decision: 'approved' | 'rejected', b: Record<string, unknown>): void {
    const stage = pending(rec);
    const user = ctx.byName('sys_user', as).sys_id;
    const mine = stage.find((a) => a.values.approver === user) ?? ctx.insert('sysapproval_approver', { sysapproval: rec.sys_id, document_id: rec.sys_id, source_table: 'change_request', approver: user, state: 'requested' });
    ctx.applyWrite(mine, { state: decision, ...(typeof b.comments === 'string' ? { comments: b.comments } : {}) }, new Set(CHANGE_FIELDS.sysapproval_approver), as);
    // "Anyone approves": the first decision settles the stage for the others.
    for (const a of stage) if (a !== mine) a.values.state = 'not_required';
    const write: Record<string, unknown> = {};
    if (typeof b.start === 'string') write.start_date = b.start;
    if (typeof b.end === 'string') write.end_date = b.end;
    ctx.applyWrite(rec, write, known, as);
    if (decision === 'rejected') {
      rec.values.approval = 'rejected';
      move(rec, STATE.New);
    } else {
      const next = APPROVED_STAGE[rec.values.type]?.[rec.values.state];
      if (next) move(rec, next);
      if (next === STATE.Scheduled) rec.values.approval = 'approved';
      else if (next) requestApprovals(rec);
    }
  }
  const pending = (rec: SimRecord) => [...approvals.values()].filter((a) => a.values.sysapproval === rec.sys_id && a.values.state === 'requested');

  function move(rec: SimRecord, to: string): void {
    rec.values.state = to;
    if (to === STATE.Implement && !rec.values.work_start) rec.values.work_start = ctx.now();
    if (to === STATE.Review && !rec.values.work_end) rec.values.work_end = ctx.now();
    if (FINISHED.has(to)) {
      rec.values.active = 'false';
      rec.values.closed_at = ctx.now();
      for (const a of pending(rec)) a.values.state = 'cancelled';
    }
  }

  const update = ctx.authed((req) => {
    const rec = find(req.params.sys_id);
    if (!rec) return notFound(req.params.sys_id);
    const b = body(req);
    if (!b) return failure(400, 'Exception while reading request', 'Cannot decode request body');
    const from = rec.values.state;
    const to = b.state === undefined ? from : String(b.state);
    if (to !== from) {
      const label = (s: string) => CHANGE_CHOICES.change_request.state[s] ?? s;
      if (FINISHED.has(from)) return failure(403, 'Operation Failed', `Change ${rec.values.number} is ${label(from)}: it can no longer change state`);
      const allowed = to === STATE.Canceled || (MOVES[rec.values.type]?.[from] ?? []).includes(to);
      if (!allowed) {
        const gated = Object.values(APPROVED_STAGE[rec.values.type] ?? {}).includes(to);
        return failure(403, 'Operation Failed', `Invalid state transition from ${label(from)} to ${label(to)}${gated ? ': the change must be approved first' : ''}`);
      }
      if (to === STATE.Scheduled && rec.values.type === 'standard' && rec.values.approval !== 'approved') return failure(403, 'Operation Failed', 'Standard change is not approved');
      if (to === STATE.Closed) {
        const next = { ...rec.values, ...b } as Record<string, unknown>;
        const missing = [!next.close_code && 'Close code', !next.close_notes && 'Close notes'].filter(Boolean).join(', ');
        if (missing) return failure(403, 'Operation Failed', `Data Policy Exception: \n\tThe following fields are mandatory: ${missing}`);
      }
    }
    const { state: _state, approval: _approval, type: _type, ...fields } = b;
    ctx.applyWrite(rec, fields, known);
    if (to !== from) {
      move(rec, to);
      if ((rec.values.type === 'normal' && to === STATE.Assess) || (rec.values.type === 'emergency' && to === STATE.Authorize)) requestApprovals(rec);
    }
    return { status: 200, body: { result: answer(rec, req) } };
  });

  const list = ctx.authed((req) => {
    const query = ctx.parseQuery(req.query.sysparm_query ?? '');
    if ('error' in query) return failure(400, query.error, null);
    const type = req.params.type;
    let rows = [...changes.values()].filter((r) => !type || r.values.type === type);
    // Conditions on fields the table lacks are dropped, as the Table API does.
    const groups = query.groups.map((and) => and.map((or) => or.filter((c) => known.has(c.field))).filter((or) => or.length > 0));
    rows = rows.filter((r) => groups.length === 0 || groups.some((and) => and.every((or) => or.some((c) => ctx.test(r, c)))));
    for (const o of [...query.order].reverse().filter((x) => known.has(x.field))) {
      rows = [...rows].sort((a, b) => (o.desc ? -1 : 1) * (a.values[o.field] ?? '').localeCompare(b.values[o.field] ?? ''));
    }
    const limit = Math.max(Number(req.query.sysparm_limit ?? 500) || 500, 1);
    const offset = Math.max(Number(req.query.sysparm_offset ?? 0) || 0, 0);
    return { status: 200, headers: { 'X-Total-Count': String(rows.length) }, body: { result: rows.slice(offset, offset + limit).map((r) => answer(r, req)) } };
  });
  const read = ctx.authed((req) => {
    const rec = changes.get(req.params.sys_id);
    if (!rec || (req.params.type && rec.values.type !== req.params.type)) return notFound(req.params.sys_id);
    return { status: 200, body: { result: answer(rec, req) } };
  });

  // Typed paths first: "/change/normal" must not be read as the sys_id "normal".
  for (const type of ['normal', 'emergency', 'standard']) {
    server
      .route('GET', `/api/sn_chg_rest/change/${type}`, (req) => list({ ...req, params: { ...req.params, type } }))
      .route('GET', `/api/sn_chg_rest/change/${type}/:sys_id`, (req) => read({ ...req, params: { ...req.params, type } }))
      .route('PATCH', `/api/sn_chg_rest/change/${type}/:sys_id`, update);
  }
  server
    .route('GET', '/api/sn_chg_rest/change', list)
    .route('POST', '/api/sn_chg_rest/change/normal', ctx.authed((req) => open('normal', req)))
    .route('POST', '/api/sn_chg_rest/change/emergency', ctx.authed((req) => open('emergency', req)))
    .route('POST', '/api/sn_chg_rest/change/standard/:template', ctx.authed((req) => {
      const t = templates.get(req.params.template);
      if (!t || t.values.active !== 'true') return failure(404, 'Standard change template not found', `No active standard change template with sys_id ${req.params.template}`);
      return open('standard', req, { std_change_producer_version: t.sys_id, short_description: t.values.short_description ?? t.values.name });
    }))
    .route('GET', '/api/sn_chg_rest/change/:sys_id', read)
    .route('PATCH', '/api/sn_chg_rest/change/:sys_id', update);

  server.route('POST', '/_admin/changes/:id/:action', (req) => {
    const rec = find(req.params.id);
    if (!rec) return notFound(req.params.id);
    const action = req.params.action;
    if (action !== 'approve' && action !== 'reject') return failure(404, 'Unknown action', `"${action}": approve or reject`);
    const b = (req.body ?? {}) as Record<string, unknown>;
    const as = typeof b.as === 'string' ? b.as.trim() : '';
    if (!as) return failure(400, 'Missing person', 'say who decides: {"as": "<user name>"}');
    if (!pending(rec).length) return failure(409, 'No approval requested', `change ${rec.values.number} is ${CHANGE_CHOICES.change_request.state[rec.values.state]} with approval ${rec.values.approval}: nothing to ${action}`);
    decide(rec, as, action === 'approve' ? 'approved' : 'rejected', b);
    const v = rec.values;
    return { status: 200, body: { number: v.number, state: v.state, state_label: CHANGE_CHOICES.change_request.state[v.state], approval: v.approval, decided_by: as } };
  });

  return { changes };
}
