import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { SimulatorServer, type SimRequest, type SimResponse } from './base';
import { OutboundCalls, type OutboundDelivery } from './outbound';
import { CHANGE_CHOICES, CHANGE_FIELDS, CHANGE_REFERENCES, CHANGE_TABLES, installChangeManagement, type ChangeSimOptions } from './servicenow-change';

/**
 * ServiceNow Table API (`/api/now/table/{table}`) for incidents, groups, users and the CMDB
 * class hierarchy: `{ result }` bodies, `{ error: {message, detail}, status: "failure" }` errors,
 * encoded queries (`=`, `!=`, LIKE, STARTSWITH, IN, ISEMPTY, ISNOTEMPTY, `^`, `^OR`, `^NQ`,
 * ORDERBY/ORDERBYDESC), sysparm_fields / sysparm_display_value (false|true|all) /
 * sysparm_exclude_reference_link, sysparm_limit/offset with `Link` and `X-Total-Count`
 * headers, journal fields (work_notes, comments) that only show history as display values,
 * and the incident data policy that makes close_code and close_notes mandatory on resolve.
 * Columns are the documented base-instance ones of each class (a table answers with its own
 * and inherited columns only, and silently drops fields it does not have, as the Table API
 * does), so a field read on the wrong class comes back empty here as it does on an instance.
 * Relationships (cmdb_rel_ci), tags (label, label_entry) and the data dictionary
 * (sys_dictionary) are tables like any other.
 *
 * People: `POST /_admin/incidents/{number or sys_id}/resolve|close|reopen` `{"as": "alice",
 * "close_code"?, "close_notes"?}` changes an incident as that person would on the form
 * (sys_updated_by is theirs). With `callback` set, every change of an incident's state, by anyone,
 * is POSTed there as an after-update business rule with a REST message would (`callbackPayload`),
 * with `Authorization: Bearer <token>`.
 *
 * Change Management (the sn_chg_rest API, change_request and sysapproval_approver, the CAB's admin
 * route) is in simulators/servicenow-change.ts, on these tables.
 */

export interface ServiceNowSimulatorOptions {
  username?: string;
  password?: string;
  /** Accepted as `Authorization: Bearer <token>` (OAuth). */
  token?: string;
  /** sys_user_group names to create. */
  groups?: string[];
  cis?: SeedCi[];
  /**
   * The instance property glide.invalid_query.returns_no_rows: false (the default) drops
   * conditions on unknown fields, which can return every row.
   */
  invalidQueryReturnsNoRows?: boolean;
  /** Columns an administrator added (u_...), per class, as in sys_dictionary. */
  customFields?: Record<string, string[]>;
  /** The state-change business rule's REST message: where, and its shared secret; may be set after start. */
  callback?: { url: string; token: string };
  port?: number;
  /** Change Management (simulators/servicenow-change.ts): CAB members, standard change templates. */
  change?: ChangeSimOptions;
}

/** What the state-change business rule sends (drw's POST /v1/integrations/servicenow/callback reads it). */
export interface IncidentCallback {
  table: 'incident';
  sys_id: string;
  number: string;
  state: string;
  state_label: string;
  previous_state: string;
  close_code: string;
  correlation_id: string;
  sys_updated_by: string;
  sys_updated_on: string;
}

/** A server CI with what drw reads about it, stored where a base instance keeps it. */
export interface SeedHost {
  name: string;
  sys_class_name?: string;
  fqdn?: string;
  ip_address?: string;
  serial_number?: string;
  /** cmdb_ci_server.used_for: Production, Staging, QA, Development, ... */
  usedFor?: string;
  /** cmdb_ci_server.firewall_status: Internet or Intranet. */
  firewallStatus?: 'Internet' | 'Intranet';
  /** busines_criticality of the business service this host supports (Depends on::Used by). */
  serviceCriticality?: string;
  owned_by?: string;
  assigned_to?: string;
  tags?: string[];
  sys_id?: string;
}

/** A CI to seed: plain values; user references may be given by name and are created on the fly. */
export interface SeedCi {
  name: string;
  sys_class_name?: string;
  sys_id?: string;
  [field: string]: string | undefined;
}

export interface SimRecord {
  sys_id: string;
  table: string;
  values: Record<string, string>;
  journal: Record<string, { at: string; by: string; text: string }[]>;
}

export interface ServiceNowSimulator {
  server: SimulatorServer;
  url: string;
  incidents: Map<string, SimRecord>;
  cis: Map<string, SimRecord>;
  /** change_request rows (Change Management). */
  changes: Map<string, SimRecord>;
  seedCi(ci: SeedCi): string;
  /** A server supporting a business service of the given criticality, with its tags. */
  seedHost(host: SeedHost): string;
  /** `parent` depends on `child` (cmdb_rel_ci, type Depends on::Used by). */
  relate(parentSysId: string, childSysId: string): string;
  tag(sysId: string, tag: string): void;
  /** Per-test settings: changes apply to the next request. */
  options: ServiceNowSimulatorOptions;
  /** Business-rule callbacks made, with the receiver's answer. */
  callbacks: OutboundDelivery[];
  /** Resolves once every callback made so far has its answer. */
  callbacksSettled(): Promise<void>;
  close(): Promise<void>;
}

const CMDB_PARENT: Record<string, string> = {
  cmdb_ci_hardware: 'cmdb_ci',
  cmdb_ci_computer: 'cmdb_ci_hardware',
  cmdb_ci_server: 'cmdb_ci_computer',
  cmdb_ci_linux_server: 'cmdb_ci_server',
  cmdb_ci_win_server: 'cmdb_ci_server',
  cmdb_ci_appl: 'cmdb_ci',
  cmdb_ci_service: 'cmdb_ci',
  cmdb_ci_service_auto: 'cmdb_ci_service',
};
/**
 * Each class's own columns on a base instance (ServiceNow docs: "Configuration Item [cmdb_ci]
 * class", "Server [cmdb_ci_server] class", the Service class); a class has its ancestors' too.
 */
const CLASS_FIELDS: Record<string, string[]> = {
  cmdb_ci: [
    'sys_id', 'name', 'fqdn', 'ip_address', 'mac_address', 'serial_number', 'asset_tag', 'sys_class_name', 'owned_by',
    'assigned_to', 'managed_by', 'support_group', 'operational_status', 'install_status', 'dns_domain', 'category',
    'correlation_id', 'sys_tags', 'sys_created_on', 'sys_updated_on',
  ],
  cmdb_ci_hardware: ['hardware_status'],
  cmdb_ci_computer: ['os', 'os_version', 'cpu_count', 'ram', 'virtual'],
  cmdb_ci_server: ['classification', 'firewall_status', 'used_for', 'host_name'],
  cmdb_ci_service: ['busines_criticality', 'used_for', 'service_classification'],
  cmdb_ci_appl: ['version'],
  cmdb_rel_ci: ['sys_id', 'parent', 'child', 'type'],
  cmdb_rel_type: ['sys_id', 'name'],
  label: ['sys_id', 'name'],
  label_entry: ['sys_id', 'label', 'table', 'table_key'],
  sys_dictionary: ['sys_id', 'name', 'element', 'internal_type'],
};
const INCIDENT_FIELDS = [
  'sys_id', 'number', 'short_description', 'description', 'state', 'impact', 'urgency', 'priority', 'assignment_group',
  'assigned_to', 'caller_id', 'category', 'correlation_id', 'correlation_display', 'close_code', 'close_notes',
  'work_notes', 'comments', 'opened_at', 'resolved_at', 'sys_created_on', 'sys_updated_on', 'sys_created_by', 'sys_updated_by',
  'cmdb_ci', 'active', 'reopen_count',
];
const CLOSED = new Set(['6', '7', '8']);
/** Actions of the admin route: the state each sets. */
const PERSON_ACTIONS: Record<string, string> = { resolve: '6', close: '7', reopen: '2' };
const REFERENCES: Record<string, string> = {
  owned_by: 'sys_user',
  assigned_to: 'sys_user',
  managed_by: 'sys_user',
  caller_id: 'sys_user',
  support_group: 'sys_user_group',
  assignment_group: 'sys_user_group',
  cmdb_ci: 'cmdb_ci',
  parent: 'cmdb_ci',
  child: 'cmdb_ci',
  type: 'cmdb_rel_type',
  label: 'label',
};
/** The change tables have their own references (their `type` is a choice, not cmdb_rel_ci's reference). */
const referenceOf = (table: string, field: string): string | undefined => (CHANGE_FIELDS[table] ? CHANGE_REFERENCES[field] : REFERENCES[field]);
const JOURNALS = new Set(['work_notes', 'comments']);
const CHOICES: Record<string, Record<string, string>> = {
  busines_criticality: { '1': '1 - most critical', '2': '2 - somewhat critical', '3': '3 - less critical', '4': '4 - not critical' },
  state: { '1': 'New', '2': 'In Progress', '3': 'On Hold', '6': 'Resolved', '7': 'Closed', '8': 'Canceled' },
  impact: { '1': '1 - High', '2': '2 - Medium', '3': '3 - Low' },
  urgency: { '1': '1 - High', '2': '2 - Medium', '3': '3 - Low' },
  priority: { '1': '1 - Critical', '2': '2 - High', '3': '3 - Moderate', '4': '4 - Low', '5': '5 - Planning' },
  operational_status: { '1': 'Operational', '2': 'Non-Operational', '6': 'Retired' },
};
/** Priority lookup (impact, urgency) of the out-of-the-box incident data lookup rules. */
const PRIORITY: Record<string, string> = { '11': '1', '12': '2', '21': '2', '13': '3', '22': '3', '31': '3', '23': '4', '32': '4', '33': '5' };

const failure = (status: number, message: string, detail: string | null): SimResponse => ({
  status,
  body: { error: { message, detail }, status: 'failure' },
});

export async function startServiceNowSimulator(opts: ServiceNowSimulatorOptions = {}): Promise<ServiceNowSimulator> {
  const username = opts.username ?? 'drw.integration';
  const options = opts;
  const password = opts.password ?? 'servicenow-password';
  const server = new SimulatorServer('servicenow');
  const tables = new Map<string, Map<string, SimRecord>>([
    ['incident', new Map()],
    ['sys_user', new Map()],
    ['sys_user_group', new Map()],
    ['cmdb_ci', new Map()],
    ['cmdb_rel_ci', new Map()],
    ['cmdb_rel_type', new Map()],
    ['label', new Map()],
    ['label_entry', new Map()],
    ['sys_dictionary', new Map()],
    ...CHANGE_TABLES.map((t) => [t, new Map<string, SimRecord>()] as const),
  ]);
  const custom = opts.customFields ?? {};
  /** A table's own, inherited and custom columns. */
  function fieldsOf(table: string): Set<string> {
    const out = new Set<string>();
    for (let t: string | undefined = table; t; t = CMDB_PARENT[t]) for (const f of [...(CLASS_FIELDS[t] ?? []), ...(custom[t] ?? [])]) out.add(f);
    return out;
  }
  const incidents = tables.get('incident')!;
  const cis = tables.get('cmdb_ci')!;
  const seq = { incidentNumber: 10000, changeNumber: 30000 };
  const now = () => new Date().toISOString().replace('T', ' ').slice(0, 19);

  function insert(table: string, values: Record<string, string>, sysId = newSysId()): SimRecord {
    const rec: SimRecord = { sys_id: sysId, table, values: { ...values, sys_id: sysId, sys_created_on: now(), sys_updated_on: now() }, journal: {} };
    tables.get(table)!.set(sysId, rec);
    return rec;
  }
  function byName(table: string, name: string): SimRecord {
    const found = [...tables.get(table)!.values()].find((r) => r.values.name === name);
    return found ?? insert(table, { name });
  }
  for (const g of opts.groups ?? ['Security Operations']) byName('sys_user_group', g);
  for (const [table, fields] of Object.entries({ ...CLASS_FIELDS, ...custom })) {
    for (const element of new Set([...(CLASS_FIELDS[table] ?? []), ...fields])) insert('sys_dictionary', { name: table, element, internal_type: 'string' });
  }

  /** Seeds only the columns the CI's class has, as an import set would. */
  function seedCi(ci: SeedCi): string {
    const cls = ci.sys_class_name ?? 'cmdb_ci_server';
    const columns = fieldsOf(cls);
    const values: Record<string, string> = { sys_class_name: cls, operational_status: '1' };
    for (const [k, v] of Object.entries(ci)) {
      if (v === undefined || k === 'sys_id' || k === 'sys_tags') continue;
      if (!columns.has(k)) throw new Error(`simulator servicenow: ${cls} has no column ${k}`);
      const refTable = REFERENCES[k];
      if (refTable && refTable !== 'cmdb_ci' && !/^[0-9a-f]{32}$/.test(v)) values[k] = byName(refTable, v).sys_id;
      else values[k] = choiceValue(k, v);
    }
    const sysId = insert('cmdb_ci', values, ci.sys_id).sys_id;
    for (const t of (ci.sys_tags ?? '').split(',').map((x) => x.trim()).filter(Boolean)) tag(sysId, t);
    return sysId;
  }
  function tag(sysId: string, name: string): void {
    insert('label_entry', { label: byName('label', name).sys_id, table: 'cmdb_ci', table_key: sysId });
  }
  function relate(parent: string, child: string): string {
    return insert('cmdb_rel_ci', { parent, child, type: byName('cmdb_rel_type', 'Depends on::Used by').sys_id }).sys_id;
  }
  function seedHost(h: SeedHost): string {
    const sysId = seedCi({
      name: h.name,
      sys_class_name: h.sys_class_name ?? 'cmdb_ci_server',
      sys_id: h.sys_id,
      fqdn: h.fqdn,
      ip_address: h.ip_address,
      serial_number: h.serial_number,
      used_for: h.usedFor,
      firewall_status: h.firewallStatus,
      owned_by: h.owned_by,
      assigned_to: h.assigned_to,
      sys_tags: h.tags?.join(','),
    });
    if (h.serviceCriticality) {
      const level = choiceValue('busines_criticality', h.serviceCriticality);
      const name = `Business service (criticality ${level})`;
      const service = [...cis.values()].find((r) => r.values.name === name)?.sys_id ?? seedCi({ name, sys_class_name: 'cmdb_ci_service', busines_criticality: level });
      relate(service, sysId);
    }
    return sysId;
  }
  for (const ci of opts.cis ?? []) seedCi(ci);

  /** Rows of a table; CMDB tables include every subclass, as in ServiceNow. */
  function rowsOf(table: string): SimRecord[] | undefined {
    if (table === 'cmdb_ci' || CMDB_PARENT[table]) {
      return [...cis.values()].filter((r) => isA(r.values.sys_class_name, table));
    }
    const t = tables.get(table);
    return t ? [...t.values()] : undefined;
  }
  function knownFields(table: string): Set<string> {
    if (table === 'incident') return new Set(INCIDENT_FIELDS);
    if (CHANGE_FIELDS[table]) return new Set(CHANGE_FIELDS[table]);
    const fields = fieldsOf(table);
    return fields.size ? fields : new Set(['sys_id', 'name']);
  }

  /** Every column the table has is answered (empty when unset); columns it lacks are dropped. */
  function render(rec: SimRecord, q: Record<string, string>, table: string): Record<string, unknown> {
    const mode = (q.sysparm_display_value ?? 'false').toLowerCase();
    const noLinks = q.sysparm_exclude_reference_link === 'true';
    const known = knownFields(table);
    const fieldNames = q.sysparm_fields ? q.sysparm_fields.split(',').map((f) => f.trim()).filter(Boolean) : [...known];
    const out: Record<string, unknown> = {};
    for (const f of fieldNames) {
      if (!known.has(f) && !JOURNALS.has(f)) continue;
      if (table === 'incident' && !(f in rec.values) && !JOURNALS.has(f)) continue;
      const value = JOURNALS.has(f) ? '' : rec.values[f] ?? '';
      const display = displayOf(rec, f);
      const refTable = referenceOf(table, f);
      const link = refTable && value ? `${server.baseUrl}/api/now/table/${refTable}/${value}` : undefined;
      if (mode === 'all') out[f] = link && !noLinks ? { display_value: display, value, link } : { display_value: display, value };
      else if (mode === 'true') out[f] = link && !noLinks ? { display_value: display, link } : display;
      else out[f] = link && !noLinks ? { link, value } : value;
    }
    return out;
  }
  function displayOf(rec: SimRecord, field: string): string {
    if (JOURNALS.has(field)) {
      const kind = field === 'work_notes' ? 'Work notes' : 'Additional comments';
      return [...(rec.journal[field] ?? [])]
        .reverse()
        .map((e) => `${e.at} - ${e.by} (${kind})\n${e.text}\n\n`)
        .join('');
    }
    const value = rec.values[field] ?? '';
    const refTable = referenceOf(rec.table, field);
    if (refTable && value) {
      const target = refTable === 'cmdb_ci' ? cis.get(value) : tables.get(refTable)?.get(value);
      return target?.values.name ?? target?.values.number ?? '';
    }
    return (CHANGE_CHOICES[rec.table] ?? CHOICES)[field]?.[value] ?? CHOICES[field]?.[value] ?? value;
  }

  function applyWrite(rec: SimRecord, body: Record<string, unknown>, known: Set<string>, by = username): void {
    for (const [k, raw] of Object.entries(body)) {
      // The Table API silently ignores fields the table does not have.
      if (!known.has(k) || k === 'sys_id' || k === 'number' || raw == null) continue;
      const v = String(raw);
      if (JOURNALS.has(k)) {
        if (v.trim()) (rec.journal[k] ??= []).push({ at: now(), by, text: v });
      } else rec.values[k] = v;
    }
    rec.values.priority = PRIORITY[`${rec.values.impact ?? '3'}${rec.values.urgency ?? '3'}`] ?? '5';
    rec.values.sys_updated_on = now();
    if (rec.table === 'incident' || CHANGE_FIELDS[rec.table]) rec.values.sys_updated_by = by;
  }

  const outbound = new OutboundCalls();
  /** The incident's state model after a write, and the business rule that reports a state change. */
  function afterIncidentUpdate(rec: SimRecord, previousState: string): Promise<OutboundDelivery> | undefined {
    const state = rec.values.state;
    if (state === '6' && !rec.values.resolved_at) rec.values.resolved_at = now();
    if (CLOSED.has(state)) rec.values.active = 'false';
    else {
      rec.values.active = 'true';
      rec.values.resolved_at = '';
      if (CLOSED.has(previousState)) rec.values.reopen_count = String(Number(rec.values.reopen_count ?? '0') + 1);
    }
    const hook = options.callback;
    if (!hook || state === previousState) return undefined;
    const v = rec.values;
    const payload: IncidentCallback = {
      table: 'incident',
      sys_id: rec.sys_id,
      number: v.number,
      state,
      state_label: CHOICES.state[state] ?? state,
      previous_state: previousState,
      close_code: v.close_code ?? '',
      correlation_id: v.correlation_id ?? '',
      sys_updated_by: v.sys_updated_by ?? '',
      sys_updated_on: v.sys_updated_on ?? '',
    };
    return outbound.post('incident.state_changed', hook.url, JSON.stringify(payload), { Authorization: `Bearer ${hook.token}` });
  }

  function findIncident(idOrNumber: string): SimRecord | undefined {
    return incidents.get(idOrNumber) ?? [...incidents.values()].find((r) => r.values.number === idOrNumber);
  }

  const authed = (h: (req: SimRequest) => SimResponse) => (req: SimRequest): SimResponse => {
    const a = req.headers.authorization ?? '';
    const basic = 'Basic ' + Buffer.from(`${username}:${password}`).toString('base64');
    const ok = a === basic || (opts.token !== undefined && a === `Bearer ${opts.token}`);
    return ok ? h(req) : failure(401, 'User Not Authenticated', 'Required to provide Auth information');
  };

  server
    .route('GET', '/api/now/table/:table', authed((req) => {
      const rows = rowsOf(req.params.table);
      if (!rows) return failure(400, `Invalid table ${req.params.table}`, null);
      const query = parseQuery(req.query.sysparm_query ?? '');
      if ('error' in query) return failure(400, query.error, null);
      const known = knownFields(req.params.table);
      const invalid = query.groups.flat(2).some((c) => !known.has(c.field)) || query.order.some((o) => !known.has(o.field));
      if (invalid && opts.invalidQueryReturnsNoRows) return { status: 200, headers: { 'X-Total-Count': '0' }, body: { result: [] } };
      // Conditions on unknown fields are dropped, and a clause left empty no longer filters anything.
      const groups = query.groups.map((and) => and.map((or) => or.filter((c) => known.has(c.field))).filter((or) => or.length > 0));
      let matched = rows.filter((r) => groups.length === 0 || groups.some((and) => and.every((or) => or.some((c) => test(r, c)))));
      for (const o of [...query.order].reverse().filter((x) => known.has(x.field))) {
        matched = [...matched].sort((a, b) => (o.desc ? -1 : 1) * (a.values[o.field] ?? '').localeCompare(b.values[o.field] ?? ''));
      }
      const limit = Math.max(Number(req.query.sysparm_limit ?? 10000) || 10000, 1);
      const offset = Math.max(Number(req.query.sysparm_offset ?? 0) || 0, 0);
      const total = matched.length;
      const headers: Record<string, string> = { 'X-Total-Count': String(total) };
      const link = linkHeader(`${server.baseUrl}${req.path}`, req.query, limit, offset, total);
      if (link) headers.Link = link;
      return { status: 200, headers, body: { result: matched.slice(offset, offset + limit).map((r) => render(r, req.query, req.params.table)) } };
    }))
    .route('GET', '/api/now/table/:table/:sys_id', authed((req) => {
      const rows = rowsOf(req.params.table);
      if (!rows) return failure(400, `Invalid table ${req.params.table}`, null);
      const rec = rows.find((r) => r.sys_id === req.params.sys_id);
      if (!rec) return failure(404, 'No Record found', "Record doesn't exist or ACL restricts the record retrieval");
      return { status: 200, body: { result: render(rec, req.query, req.params.table) } };
    }))
    .route('POST', '/api/now/table/:table', authed((req) => {
      if (req.params.table !== 'incident') return failure(403, 'Operation Failed', 'ACL Exception Insert Failed due to security constraints');
      if (!req.body || typeof req.body !== 'object' || Array.isArray(req.body)) return failure(400, 'Exception while reading request', 'Cannot decode: java.io.StringReader');
      const rec = insert('incident', { number: `INC${String(++seq.incidentNumber).padStart(7, '0')}`, state: '1', impact: '3', urgency: '3', active: 'true', opened_at: now(), sys_created_by: username, reopen_count: '0' });
      applyWrite(rec, req.body as Record<string, unknown>, new Set(INCIDENT_FIELDS));
      return { status: 201, headers: { Location: `${server.baseUrl}/api/now/table/incident/${rec.sys_id}` }, body: { result: render(rec, req.query, 'incident') } };
    }));

  const update = authed((req) => {
    if (req.params.table !== 'incident') return failure(403, 'Operation Failed', 'ACL Exception Update Failed due to security constraints');
    const rec = incidents.get(req.params.sys_id);
    if (!rec) return failure(404, 'No Record found', "Record doesn't exist or ACL restricts the record retrieval");
    const body = (req.body ?? {}) as Record<string, unknown>;
    const next = { ...rec.values, ...Object.fromEntries(Object.entries(body).map(([k, v]) => [k, String(v ?? '')])) };
    if ((next.state === '6' || next.state === '7') && (!next.close_code || !next.close_notes)) {
      const missing = [!next.close_code && 'Resolution code', !next.close_notes && 'Resolution notes'].filter(Boolean).join(', ');
      return failure(403, 'Operation Failed', `Data Policy Exception: \n\tThe following fields are mandatory: ${missing}`);
    }
    const previousState = rec.values.state;
    applyWrite(rec, body, new Set(INCIDENT_FIELDS));
    void afterIncidentUpdate(rec, previousState);
    return { status: 200, body: { result: render(rec, req.query, 'incident') } };
  });
  server.route('PATCH', '/api/now/table/:table/:sys_id', update).route('PUT', '/api/now/table/:table/:sys_id', update);

  server.route('POST', '/_admin/incidents/:id/:action', async (req) => {
    const rec = findIncident(req.params.id);
    if (!rec) return failure(404, 'No Record found', `no incident ${req.params.id}`);
    const state = PERSON_ACTIONS[req.params.action];
    if (!state) return failure(404, 'Unknown action', `"${req.params.action}": resolve, close or reopen`);
    const b = (req.body ?? {}) as Record<string, unknown>;
    const as = typeof b.as === 'string' ? b.as.trim() : '';
    if (!as) return failure(400, 'Missing person', 'say who does it: {"as": "<user name>"}');
    const write: Record<string, unknown> = { state };
    if (CLOSED.has(state)) {
      // The form's data policy: a resolution needs its code and notes; a person's defaults here.
      write.close_code = typeof b.close_code === 'string' ? b.close_code : (rec.values.close_code || 'Solution provided');
      write.close_notes = typeof b.close_notes === 'string' ? b.close_notes : (rec.values.close_notes || `Resolved by ${as}`);
    }
    if (typeof b.comment === 'string' && b.comment.trim()) write.comments = b.comment;
    const previousState = rec.values.state;
    applyWrite(rec, write, new Set(INCIDENT_FIELDS), as);
    const sent = afterIncidentUpdate(rec, previousState);
    const hook = sent && (await sent);
    return {
      status: 200,
      body: { number: rec.values.number, state: rec.values.state, state_label: CHOICES.state[rec.values.state], close_code: rec.values.close_code ?? '', ...(hook ? { callback: { url: hook.url, status: hook.status ?? null, ...(hook.error ? { error: hook.error } : {}) } } : {}) },
    };
  });

  // Change Management lives in its own module; its rows are tables here, so the snapshot covers them.
  const { changes } = installChangeManagement({ server, tables, insert, byName, render, applyWrite, authed, failure, parseQuery, test, now, username, seq, options: opts.change ?? {} });

  const url = await server.start(opts.port ?? 0);
  return { server, url, incidents, cis, changes, seedCi, seedHost, relate, tag, options, callbacks: outbound.deliveries, callbacksSettled: () => outbound.settled(), close: () => server.close(), ...serviceNowPersistence(tables, seq) };
}

interface Condition {
  field: string;
  op: string;
  value: string;
}
/** `^NQ` separates OR-ed queries; within one, `^` ANDs clauses and `^OR` ORs a condition into the previous clause. */
interface ParsedQuery {
  groups: Condition[][][];
  order: { field: string; desc: boolean }[];
}

function parseQuery(q: string): ParsedQuery | { error: string } {
  const groups: Condition[][][] = [];
  const order: ParsedQuery['order'] = [];
  for (const part of q ? q.split('^NQ') : []) {
    const and: Condition[][] = [];
    for (const token of part.split('^')) {
      if (!token || token === 'EQ') continue;
      if (token.startsWith('ORDERBYDESC')) order.push({ field: token.slice(11), desc: true });
      else if (token.startsWith('ORDERBY')) order.push({ field: token.slice(7), desc: false });
      else if (token.startsWith('OR')) {
        const c = condition(token.slice(2));
        if (!c || and.length === 0) return { error: `Invalid query: ${token}` };
        and[and.length - 1].push(c);
      } else {
        const c = condition(token);
        if (!c) return { error: `Invalid query: ${token}` };
        and.push([c]);
      }
    }
    if (and.length) groups.push(and);
  }
  return { groups, order };
}

function condition(token: string): Condition | undefined {
  const m = /^([a-z0-9_.]+?)(!=|=|LIKE|STARTSWITH|ENDSWITH|ISNOTEMPTY|ISEMPTY|IN)(.*)$/s.exec(token);
  return m ? { field: m[1], op: m[2], value: m[3] } : undefined;
}

/** String comparisons are case-insensitive, as on ServiceNow's default collation. */
function test(rec: SimRecord, c: Condition): boolean {
  const v = (rec.values[c.field] ?? '').toLowerCase();
  const x = c.value.toLowerCase();
  switch (c.op) {
    case '=':
      return v === x;
    case '!=':
      return v !== x;
    case 'LIKE':
      return v.includes(x);
    case 'STARTSWITH':
      return v.startsWith(x);
    case 'ENDSWITH':
      return v.endsWith(x);
    case 'ISEMPTY':
      return v === '';
    case 'ISNOTEMPTY':
      return v !== '';
    case 'IN':
      return x.split(',').includes(v);
  }
  return false;
}

function linkHeader(base: string, query: Record<string, string>, limit: number, offset: number, total: number): string | undefined {
  if (total <= limit && offset === 0) return undefined;
  const at = (o: number) => {
    const p = new URLSearchParams({ ...query, sysparm_limit: String(limit), sysparm_offset: String(o) });
    return `${base}?${p.toString()}`;
  };
  const lastOffset = Math.max(Math.floor((total - 1) / limit) * limit, 0);
  const links = [`<${at(0)}>;rel="first"`];
  if (offset > 0) links.push(`<${at(Math.max(offset - limit, 0))}>;rel="prev"`);
  if (offset + limit < total) links.push(`<${at(offset + limit)}>;rel="next"`);
  links.push(`<${at(lastOffset)}>;rel="last"`);
  return links.join(',');
}

function isA(cls: string | undefined, table: string): boolean {
  for (let c = cls; c; c = CMDB_PARENT[c]) if (c === table) return true;
  return table === 'cmdb_ci' && !!cls;
}

/** Seeds may give a choice's label ("1 - most critical") or its value ("1"). */
function choiceValue(field: string, v: string): string {
  const choices = CHOICES[field];
  if (!choices) return v;
  const byLabel = Object.entries(choices).find(([, label]) => label.toLowerCase() === v.toLowerCase());
  return byLabel ? byLabel[0] : v;
}

function newSysId(): string {
  return randomBytes(16).toString('hex');
}

/**
 * What survives a restart of the embedded default (simulators/persistence.ts): every row of every
 * table (incidents with their journals, the CMDB with its sys_ids, users, groups, relationships,
 * tags, the data dictionary) and the incident number, so an incident opened before a restart can
 * be updated and resolved after it, a CI keeps its sys_id and no INC number is given twice.
 */
export interface ServiceNowSimulator {
  snapshot(): ServiceNowSnapshot;
  restore(data: unknown): void;
}

export interface ServiceNowSnapshot {
  tables: Record<string, SimRecord[]>;
  lastIncidentNumber: number;
  lastChangeNumber?: number;
}

// Loose: fields a newer simulator adds to records are kept as they are.
const SnapshotRecord = z.looseObject({
  sys_id: z.string().min(1),
  table: z.string(),
  values: z.record(z.string(), z.string()),
  journal: z.record(z.string(), z.array(z.object({ at: z.string(), by: z.string(), text: z.string() }))),
});
const ServiceNowSnapshotSchema = z.object({
  tables: z.record(z.string(), z.array(SnapshotRecord)),
  lastIncidentNumber: z.number().int().nonnegative(),
  // Absent from files saved before Change Management: the change rows then say what was given.
  lastChangeNumber: z.number().int().nonnegative().optional(),
});

function serviceNowPersistence(tables: Map<string, Map<string, SimRecord>>, seq: { incidentNumber: number; changeNumber: number }): Pick<ServiceNowSimulator, 'snapshot' | 'restore'> {
  return {
    snapshot: () => ({
      tables: Object.fromEntries([...tables].map(([name, rows]) => [name, [...rows.values()]])),
      lastIncidentNumber: seq.incidentNumber,
      lastChangeNumber: seq.changeNumber,
    }),
    restore(data) {
      const s = ServiceNowSnapshotSchema.parse(data);
      // Tables this simulator does not have are ignored; tables the snapshot lacks keep their seed.
      for (const [name, rows] of Object.entries(s.tables)) {
        const table = tables.get(name);
        if (!table) continue;
        table.clear();
        for (const r of rows) table.set(r.sys_id, r);
      }
      // Never below what the incidents show, even from an edited file.
      const numbers = [...(tables.get('incident')?.values() ?? [])].map((r) => Number(/^INC(\d+)$/.exec(r.values.number ?? '')?.[1] ?? 0));
      seq.incidentNumber = Math.max(s.lastIncidentNumber, ...numbers);
      const changeNumbers = [...(tables.get('change_request')?.values() ?? [])].map((r) => Number(/^CHG(\d+)$/.exec(r.values.number ?? '')?.[1] ?? 0));
      seq.changeNumber = Math.max(s.lastChangeNumber ?? 0, seq.changeNumber, ...changeNumbers);
    },
  };
}
