import { z } from 'zod';
import { createHash } from 'node:crypto';
import { signHmacSha256 } from '../ingest/signatures';
import { SimulatorServer, type SimRequest, type SimResponse } from './base';
import { OutboundCalls, type OutboundDelivery } from './outbound';

/**
 * Jira Cloud REST API v3, the subset drw uses, with the documented shapes: basic auth (email +
 * API token), 201 `{id,key,self}` on create, `{errorMessages, errors}` on 400/404, ADF bodies,
 * enhanced JQL search with `nextPageToken`/`isLast`, transitions with 204, paginated comments,
 * the create metadata of each project and issue type. Strict where Jira is: a project whose
 * screens lack Priority refuses the field ("Field 'priority' cannot be set"), and the enhanced
 * search is eventually consistent ("recent updates might not be immediately visible") unless
 * the caller names the issue in `reconcileIssues`.
 *
 * People: `POST /_admin/issues/{key}/close|reopen` `{"as": "alice", "resolution"?: "Fixed"}`
 * changes an issue as that person would in Jira's UI (tests, and `npm start` users). Every change
 * is in the issue's changelog (GET issue `expand=changelog`, most recent first), and with
 * `webhook` set each update (a transition, by anyone; a comment) is POSTed as Jira Cloud's
 * `jira:issue_updated` webhook, signed with `X-Hub-Signature: sha256=<hex HMAC-SHA256 of the
 * body>` when the webhook has a secret, as Jira signs admin webhooks.
 */

export interface JiraSimulatorOptions {
  email?: string;
  apiToken?: string;
  projects?: string[];
  priorities?: string[];
  issueTypes?: string[];
  /** Answer 404 on /search/jql, like a site without the enhanced search endpoint. */
  legacySearchOnly?: boolean;
  /** Projects whose create and edit screens do not have the Priority field. */
  projectsWithoutPriority?: string[];
  /** How long a new issue stays invisible to /search/jql (Atlassian documents no bound). */
  searchLagMs?: number;
  /** Where issue updates are POSTed (a Jira admin webhook); may be set after start. */
  webhook?: { url: string; secret?: string };
  port?: number;
}

/** A Jira user as webhooks and changelogs show them. */
export interface SimUser {
  accountId: string;
  displayName: string;
  emailAddress?: string;
}

export interface SimHistory {
  id: string;
  author: SimUser;
  created: string;
  items: { field: string; fieldtype: 'jira'; fieldId: string; from: string | null; fromString: string | null; to: string | null; toString: string | null }[];
}

export interface SimStatus {
  id: string;
  name: string;
  statusCategory: { id: number; key: 'new' | 'indeterminate' | 'done'; name: string };
}

export interface SimComment {
  id: string;
  body: unknown;
  created: string;
}

export interface SimIssue {
  id: string;
  key: string;
  project: string;
  summary: string;
  description: unknown;
  labels: string[];
  priority?: string;
  issuetype: string;
  status: SimStatus;
  comments: SimComment[];
  created: string;
  updated: string;
  resolution?: string;
  /** Oldest first. */
  histories: SimHistory[];
}

export interface JiraSimulator {
  server: SimulatorServer;
  url: string;
  issues: Map<string, SimIssue>;
  /** Per-test strictness: changes apply to the next request. */
  options: JiraSimulatorOptions;
  /** Webhook calls made, with the receiver's answer. */
  webhooks: OutboundDelivery[];
  /** Resolves once every webhook sent so far has its answer. */
  webhooksSettled(): Promise<void>;
  close(): Promise<void>;
}

const STATUSES: SimStatus[] = [
  { id: '10000', name: 'To Do', statusCategory: { id: 2, key: 'new', name: 'To Do' } },
  { id: '3', name: 'In Progress', statusCategory: { id: 4, key: 'indeterminate', name: 'In Progress' } },
  { id: '10001', name: 'Done', statusCategory: { id: 3, key: 'done', name: 'Done' } },
];
/** The simplified workflow: every status reachable from every other one. */
const TRANSITIONS = [
  { id: '11', name: 'To Do', to: STATUSES[0] },
  { id: '21', name: 'In Progress', to: STATUSES[1] },
  { id: '31', name: 'Done', to: STATUSES[2] },
];

/** Actions of the admin route and the status each leads to. */
const PERSON_ACTIONS: Record<string, SimStatus> = { close: STATUSES[2], reopen: STATUSES[0] };

const PRIORITY_NOT_SETTABLE = "Field 'priority' cannot be set. It is not on the appropriate screen, or unknown.";
const ISSUE_TYPE_IDS: Record<string, string> = { Task: '10001', Bug: '10002', Story: '10003' };

const JQL_CLAUSE = /^(project|labels|key|status)\s*=\s*("([^"\\]*)"|[A-Za-z0-9_.\-]+)$/i;

export async function startJiraSimulator(opts: JiraSimulatorOptions = {}): Promise<JiraSimulator> {
  const email = opts.email ?? 'drw@example.com';
  const token = opts.apiToken ?? 'jira-api-token';
  const projects = new Set(opts.projects ?? ['SEC']);
  const priorities = opts.priorities ?? ['Highest', 'High', 'Medium', 'Low', 'Lowest'];
  const issueTypes = opts.issueTypes ?? ['Task', 'Bug', 'Story'];
  const issues = new Map<string, SimIssue>();
  const options = opts;
  const priorityOn = (project: string) => !(options.projectsWithoutPriority ?? []).includes(project);
  const issueTypeId = (name: string) => ISSUE_TYPE_IDS[name] ?? String(10100 + issueTypes.indexOf(name));
  const counters = new Map<string, number>();
  const seq = { issueId: 10000, commentId: 1 };
  const server = new SimulatorServer('jira');
  const expected = 'Basic ' + Buffer.from(`${email}:${token}`).toString('base64');

  const authed = (h: (req: SimRequest) => SimResponse) => (req: SimRequest): SimResponse =>
    req.headers.authorization === expected
      ? h(req)
      : {
          status: 401,
          headers: { 'Content-Type': 'text/plain;charset=UTF-8', 'WWW-Authenticate': 'Basic realm="protected-area"' },
          body: 'Client must be authenticated to access this resource.',
        };
  const self = (id: string) => `${server.baseUrl}/rest/api/3/issue/${id}`;
  /** The account drw's API token belongs to. */
  const apiUser: SimUser = { accountId: accountIdOf(email), displayName: 'drw', emailAddress: email };
  const outbound = new OutboundCalls();
  let nextHistoryId = 1;
  let nextDeliveryId = 1;
  const lookup = (idOrKey: string) => issues.get(idOrKey) ?? [...issues.values()].find((i) => i.id === idOrKey);
  const notFound: SimResponse = {
    status: 404,
    body: { errorMessages: ['Issue does not exist or you do not have permission to see it.'], errors: {} },
  };

  function view(issue: SimIssue, fields: string[] | undefined, expand: string[] = []) {
    const all: Record<string, unknown> = {
      summary: issue.summary,
      description: issue.description,
      labels: issue.labels,
      priority: issue.priority ? { name: issue.priority } : null,
      issuetype: { name: issue.issuetype },
      project: { key: issue.project },
      status: issue.status,
      created: issue.created,
      updated: issue.updated,
      resolution: issue.resolution ? { name: issue.resolution } : null,
    };
    const wanted = !fields || fields.includes('*all') || fields.includes('*navigable') ? Object.keys(all) : fields;
    return {
      id: issue.id,
      key: issue.key,
      self: self(issue.id),
      fields: Object.fromEntries(wanted.filter((f) => f in all).map((f) => [f, all[f]])),
      ...(expand.includes('changelog')
        ? { changelog: { startAt: 0, maxResults: Math.min(issue.histories.length, 100), total: issue.histories.length, histories: [...issue.histories].reverse().slice(0, 100) } }
        : {}),
    };
  }

  /** Jira Cloud's `jira:issue_updated` webhook for a change `by` someone (changelog items, or a comment). */
  function issueUpdated(issue: SimIssue, by: SimUser, change: { history?: SimHistory; comment?: SimComment }): Promise<OutboundDelivery> | undefined {
    const hook = options.webhook;
    if (!hook) return undefined;
    const { description: _description, ...fields } = view(issue, undefined).fields as Record<string, unknown>;
    const payload = {
      timestamp: Date.now(),
      webhookEvent: 'jira:issue_updated',
      issue_event_type_name: change.comment ? 'issue_commented' : 'issue_generic',
      user: { self: `${server.baseUrl}/rest/api/3/user?accountId=${by.accountId}`, accountId: by.accountId, displayName: by.displayName, active: true, accountType: 'atlassian' },
      issue: { id: issue.id, self: self(issue.id), key: issue.key, fields },
      ...(change.history ? { changelog: { id: change.history.id, items: change.history.items } } : {}),
      ...(change.comment ? { comment: { id: change.comment.id, self: `${self(issue.id)}/comment/${change.comment.id}`, author: by, body: change.comment.body, created: change.comment.created, updated: change.comment.created } } : {}),
    };
    const raw = JSON.stringify(payload);
    const headers: Record<string, string> = { 'User-Agent': 'Atlassian Webhook HTTP Client', 'X-Atlassian-Webhook-Identifier': String(nextDeliveryId++) };
    if (hook.secret) headers['X-Hub-Signature'] = signHmacSha256(hook.secret, raw);
    return outbound.post('jira:issue_updated', hook.url, raw, headers);
  }

  /** Moves an issue to `to` as `by` does, with its changelog entry and webhook; the resolution follows the status category. */
  function transition(issue: SimIssue, to: SimStatus, by: SimUser, resolution?: string): Promise<OutboundDelivery> | undefined {
    const from = issue.status;
    const before = issue.resolution;
    issue.status = to;
    issue.resolution = to.statusCategory.key === 'done' ? (resolution ?? 'Done') : undefined;
    issue.updated = new Date().toISOString();
    const items: SimHistory['items'] = [{ field: 'status', fieldtype: 'jira', fieldId: 'status', from: from.id, fromString: from.name, to: to.id, toString: to.name }];
    if (before !== issue.resolution) {
      items.push({ field: 'resolution', fieldtype: 'jira', fieldId: 'resolution', from: before ? '10000' : null, fromString: before ?? null, to: issue.resolution ? '10000' : null, toString: issue.resolution ?? null });
    }
    const history: SimHistory = { id: String(nextHistoryId++), author: by, created: issue.updated, items };
    issue.histories.push(history);
    return issueUpdated(issue, by, { history });
  }

  /** The JQL drw sends: `a = b [AND c = "d"] [ORDER BY created ASC|DESC]`. */
  function runJql(jql: string, lagged = false, reconcile: string[] = []): SimIssue[] | SimResponse {
    const m = /^(.*?)(?:\s+ORDER\s+BY\s+(\w+)(?:\s+(ASC|DESC))?)?\s*$/i.exec(jql.trim());
    const where = m?.[1]?.trim() ?? '';
    const clauses = where ? where.split(/\s+AND\s+/i) : [];
    const filters: ((i: SimIssue) => boolean)[] = [];
    for (const clause of clauses) {
      const c = JQL_CLAUSE.exec(clause.trim());
      if (!c) return { status: 400, body: { errorMessages: [`Error in the JQL Query: unsupported clause '${clause}'.`], errors: {} } };
      const field = c[1].toLowerCase();
      const value = c[3] ?? c[2];
      if (field === 'project' && !projects.has(value)) {
        return { status: 400, body: { errorMessages: [`The value '${value}' does not exist for the field 'project'.`], errors: {} } };
      }
      filters.push((i) =>
        field === 'project' ? i.project === value : field === 'labels' ? i.labels.includes(value) : field === 'key' ? i.key === value : i.status.name === value,
      );
    }
    const lagMs = lagged ? (options.searchLagMs ?? 0) : 0;
    const indexed = (i: SimIssue) => lagMs <= 0 || Date.now() - Date.parse(i.created) >= lagMs || reconcile.includes(i.id);
    const found = [...issues.values()].filter((i) => indexed(i) && filters.every((f) => f(i)));
    const desc = (m?.[3] ?? 'ASC').toUpperCase() === 'DESC';
    // Insertion order is creation order.
    return desc ? found.reverse() : found;
  }

  function page(found: SimIssue[], fields: string[] | undefined, maxResults: number, token: string | undefined) {
    const start = token ? Number(Buffer.from(token, 'base64url').toString()) || 0 : 0;
    const slice = found.slice(start, start + maxResults);
    const isLast = start + maxResults >= found.length;
    return {
      issues: slice.map((i) => view(i, fields)),
      isLast,
      ...(isLast ? {} : { nextPageToken: Buffer.from(String(start + maxResults)).toString('base64url') }),
    };
  }

  const search = (jql: unknown, fields: string[] | undefined, maxResults: unknown, token: unknown, reconcile: unknown = []): SimResponse => {
    if (typeof jql !== 'string' || !jql.trim()) {
      // The enhanced search refuses unbounded queries.
      return { status: 400, body: { errorMessages: ['Unbounded JQL queries are not allowed here. Please add a search restriction to your query.'], errors: {} } };
    }
    if (!Array.isArray(reconcile) || reconcile.length > 50 || reconcile.some((id) => !Number.isInteger(Number(id)))) {
      return { status: 400, body: { errorMessages: ['reconcileIssues accepts at most 50 numeric issue ids.'], errors: {} } };
    }
    const found = runJql(jql, true, reconcile.map(String));
    if (!Array.isArray(found)) return found;
    const max = Math.min(Math.max(Number(maxResults ?? 50) || 50, 1), 5000);
    return { status: 200, body: page(found, fields ?? ['id'], max, typeof token === 'string' ? token : undefined) };
  };
  const fieldList = (v: unknown): string[] | undefined =>
    Array.isArray(v) ? v.map(String) : typeof v === 'string' && v ? v.split(',').map((s) => s.trim()) : undefined;

  server
    .route('POST', '/rest/api/3/issue', authed((req) => {
      const fields = ((req.body as { fields?: Record<string, any> })?.fields ?? {}) as Record<string, any>;
      const errors: Record<string, string> = {};
      const project = fields.project?.key ?? fields.project?.id;
      if (!project || !projects.has(String(project))) errors.project = 'Specify a valid project ID or key';
      if (typeof fields.summary !== 'string' || !fields.summary.trim()) errors.summary = 'You must specify a summary of the issue.';
      else if (/[\r\n]/.test(fields.summary)) errors.summary = 'The summary is invalid because it contains newline characters.';
      else if (fields.summary.length > 255) errors.summary = 'Summary must be less than 255 characters.';
      const typeName: string | undefined = fields.issuetype?.id !== undefined ? issueTypes.find((n) => issueTypeId(n) === String(fields.issuetype.id)) : fields.issuetype?.name;
      if (!typeName || !issueTypes.includes(typeName)) errors.issuetype = 'Specify an issue type';
      if (fields.description !== undefined && !isAdf(fields.description)) errors.description = 'Operation value must be an Atlassian Document (see the Atlassian Document Format)';
      if (fields.priority !== undefined && project && !priorityOn(String(project))) errors.priority = PRIORITY_NOT_SETTABLE;
      else if (fields.priority !== undefined && !priorities.includes(fields.priority?.name)) errors.priority = `Specify the Priority (name) in the string format`;
      const labels: unknown[] = Array.isArray(fields.labels) ? fields.labels : [];
      const spaced = labels.find((l) => typeof l !== 'string' || /\s/.test(l));
      if (spaced !== undefined) errors.labels = `The label '${String(spaced)}' contains spaces which is invalid.`;
      if (Object.keys(errors).length) return { status: 400, body: { errorMessages: [], errors } };
      const n = (counters.get(project) ?? 0) + 1;
      counters.set(project, n);
      const issue: SimIssue = {
        id: String(seq.issueId++),
        key: `${project}-${n}`,
        project: String(project),
        summary: fields.summary,
        description: fields.description ?? null,
        labels: labels as string[],
        priority: fields.priority?.name ?? (priorityOn(String(project)) ? 'Medium' : undefined),
        issuetype: typeName!,
        status: STATUSES[0],
        comments: [],
        created: new Date().toISOString(),
        updated: new Date().toISOString(),
        histories: [],
      };
      issues.set(issue.key, issue);
      return { status: 201, body: { id: issue.id, key: issue.key, self: self(issue.id) } };
    }))
    .route('GET', '/rest/api/3/issue/:key', authed((req) => {
      const issue = lookup(req.params.key);
      return issue ? { status: 200, body: view(issue, fieldList(req.query.fields), fieldList(req.query.expand)) } : notFound;
    }))
    .route('PUT', '/rest/api/3/issue/:key', authed((req) => {
      const issue = lookup(req.params.key);
      if (!issue) return notFound;
      const fields = ((req.body as { fields?: Record<string, any> })?.fields ?? {}) as Record<string, any>;
      if (fields.priority !== undefined) {
        if (!priorityOn(issue.project)) return { status: 400, body: { errorMessages: [], errors: { priority: PRIORITY_NOT_SETTABLE } } };
        if (!priorities.includes(fields.priority?.name)) return { status: 400, body: { errorMessages: [], errors: { priority: 'Specify the Priority (name) in the string format' } } };
        issue.priority = fields.priority.name;
      }
      if (typeof fields.summary === 'string') issue.summary = fields.summary;
      return { status: 204 };
    }))
    .route('GET', '/rest/api/3/issue/:key/comment', authed((req) => {
      const issue = lookup(req.params.key);
      if (!issue) return notFound;
      const startAt = Math.max(Number(req.query.startAt ?? 0) || 0, 0);
      const maxResults = Math.min(Math.max(Number(req.query.maxResults ?? 5000) || 5000, 1), 5000);
      const ordered = req.query.orderBy === '-created' ? [...issue.comments].reverse() : issue.comments;
      return {
        status: 200,
        body: {
          startAt,
          maxResults,
          total: issue.comments.length,
          comments: ordered.slice(startAt, startAt + maxResults).map((c) => ({
            id: c.id,
            self: `${self(issue.id)}/comment/${c.id}`,
            author: apiUser,
            body: c.body,
            created: c.created,
            updated: c.created,
          })),
        },
      };
    }))
    .route('POST', '/rest/api/3/issue/:key/comment', authed((req) => {
      const issue = lookup(req.params.key);
      if (!issue) return notFound;
      const body = (req.body as { body?: unknown })?.body;
      if (!isAdf(body)) return { status: 400, body: { errorMessages: [], errors: { comment: 'Comment body can not be empty!' } } };
      const comment: SimComment = { id: String(seq.commentId++), body, created: new Date().toISOString() };
      issue.comments.push(comment);
      issue.updated = comment.created;
      void issueUpdated(issue, apiUser, { comment });
      return { status: 201, body: { id: comment.id, self: `${self(issue.id)}/comment/${comment.id}`, body, created: comment.created } };
    }))
    .route('GET', '/rest/api/3/issue/:key/transitions', authed((req) => {
      const issue = lookup(req.params.key);
      if (!issue) return notFound;
      return { status: 200, body: { expand: 'transitions', transitions: TRANSITIONS.filter((t) => t.to.id !== issue.status.id) } };
    }))
    .route('POST', '/rest/api/3/issue/:key/transitions', authed((req) => {
      const issue = lookup(req.params.key);
      if (!issue) return notFound;
      const b = (req.body ?? {}) as { transition?: { id?: string }; fields?: { resolution?: { name?: string } } };
      const t = TRANSITIONS.find((x) => x.id === String(b.transition?.id) && x.to.id !== issue.status.id);
      if (!t) {
        return { status: 400, body: { errorMessages: [`Transition id '${String(b.transition?.id)}' is not valid for this issue.`], errors: {} } };
      }
      void transition(issue, t.to, apiUser, b.fields?.resolution?.name);
      return { status: 204 };
    }))
    .route('POST', '/_admin/issues/:key/:action', async (req) => {
      const issue = lookup(req.params.key);
      if (!issue) return notFound;
      const to = PERSON_ACTIONS[req.params.action];
      const b = (req.body ?? {}) as { as?: unknown; resolution?: unknown };
      if (!to) return { status: 404, body: { error: `unknown action "${req.params.action}": close or reopen` } };
      if (typeof b.as !== 'string' || !b.as.trim()) return { status: 400, body: { error: 'say who does it: {"as": "<user name>"}' } };
      if (b.resolution !== undefined && typeof b.resolution !== 'string') return { status: 400, body: { error: 'resolution must be a string' } };
      // Already there: nothing changes, so Jira sends nothing.
      const sent = issue.status.id === to.id ? undefined : transition(issue, to, { accountId: accountIdOf(b.as.trim()), displayName: b.as.trim() }, b.resolution);
      const hook = sent && (await sent);
      return { status: 200, body: { key: issue.key, status: issue.status.name, resolution: issue.resolution ?? null, ...(hook ? { webhook: { url: hook.url, status: hook.status ?? null, ...(hook.error ? { error: hook.error } : {}) } } : {}) } };
    })
    .route('POST', '/rest/api/3/search/jql', authed((req) => {
      if (opts.legacySearchOnly) return { status: 404, body: { errorMessages: ['null for uri: /rest/api/3/search/jql'], errors: {} } };
      const b = (req.body ?? {}) as Record<string, unknown>;
      return search(b.jql, fieldList(b.fields), b.maxResults, b.nextPageToken, b.reconcileIssues ?? []);
    }))
    .route('GET', '/rest/api/3/search/jql', authed((req) => {
      if (opts.legacySearchOnly) return { status: 404, body: { errorMessages: ['null for uri: /rest/api/3/search/jql'], errors: {} } };
      const reconcile = req.query.reconcileIssues ? req.query.reconcileIssues.split(',') : [];
      return search(req.query.jql, fieldList(req.query.fields), req.query.maxResults, req.query.nextPageToken, reconcile);
    }))
    .route('GET', '/rest/api/3/issue/createmeta/:project/issuetypes', authed((req) => {
      if (!projects.has(req.params.project)) return { status: 404, body: { errorMessages: ['No project could be found with key \'' + req.params.project + '\'.'], errors: {} } };
      const types = issueTypes.map((name) => ({ id: issueTypeId(name), name, subtask: false, self: `${server.baseUrl}/rest/api/3/issuetype/${issueTypeId(name)}` }));
      return { status: 200, body: { issueTypes: types, maxResults: 50, startAt: 0, total: types.length } };
    }))
    .route('GET', '/rest/api/3/issue/createmeta/:project/issuetypes/:issueTypeId', authed((req) => {
      const type = issueTypes.find((name) => issueTypeId(name) === req.params.issueTypeId);
      if (!projects.has(req.params.project) || !type) return { status: 404, body: { errorMessages: ['Issue type not found in project.'], errors: {} } };
      const field = (fieldId: string, name: string, required: boolean) => ({ fieldId, key: fieldId, name, required, operations: ['set'], hasDefaultValue: false });
      const fields = [
        field('summary', 'Summary', true),
        field('issuetype', 'Issue Type', true),
        field('project', 'Project', true),
        field('description', 'Description', false),
        field('labels', 'Labels', false),
        ...(priorityOn(req.params.project) ? [{ ...field('priority', 'Priority', false), allowedValues: priorities.map((name, i) => ({ id: String(i + 1), name })) }] : []),
      ];
      return { status: 200, body: { fields, maxResults: 50, startAt: 0, total: fields.length } };
    }))
    .route('GET', '/rest/api/3/search', authed((req) => {
      if (!opts.legacySearchOnly) {
        return { status: 410, body: { errorMessages: ['The requested API has been removed. Please migrate to the /rest/api/3/search/jql API.'], errors: {} } };
      }
      const found = runJql(String(req.query.jql ?? ''));
      if (!Array.isArray(found)) return found;
      const startAt = Math.max(Number(req.query.startAt ?? 0) || 0, 0);
      const maxResults = Math.min(Math.max(Number(req.query.maxResults ?? 50) || 50, 1), 100);
      const fields = fieldList(req.query.fields);
      return {
        status: 200,
        body: { startAt, maxResults, total: found.length, issues: found.slice(startAt, startAt + maxResults).map((i) => view(i, fields)) },
      };
    }));

  const url = await server.start(opts.port ?? 0);
  return { server, url, issues, options, webhooks: outbound.deliveries, webhooksSettled: () => outbound.settled(), close: () => server.close(), ...jiraPersistence(issues, counters, seq) };
}

/** Atlassian account ids are opaque; a stable one per name keeps changelogs and webhooks consistent. */
function accountIdOf(name: string): string {
  return `712020:${createHash('sha256').update(name).digest('hex').slice(0, 32)}`;
}

function isAdf(v: unknown): boolean {
  return !!v && typeof v === 'object' && (v as { type?: unknown }).type === 'doc' && (v as { version?: unknown }).version === 1 && Array.isArray((v as { content?: unknown }).content);
}

/**
 * What survives a restart of the embedded default (simulators/persistence.ts): every issue with
 * its comments, status and resolution, the per-project key counters and the id sequences, so an
 * issue opened before a restart can be commented and closed after it and no key is given twice.
 */
export interface JiraSimulator {
  snapshot(): JiraSnapshot;
  restore(data: unknown): void;
}

const SnapshotStatus = z.object({
  id: z.string(),
  name: z.string(),
  statusCategory: z.object({ id: z.number(), key: z.enum(['new', 'indeterminate', 'done']), name: z.string() }),
});
// Loose: fields a newer simulator adds to issues and comments are kept as they are.
const SnapshotIssue = z.looseObject({
  id: z.string().regex(/^\d+$/),
  key: z.string().regex(/^[A-Z][A-Z0-9_]*-\d+$/),
  project: z.string(),
  summary: z.string(),
  description: z.unknown(),
  labels: z.array(z.string()),
  priority: z.string().optional(),
  issuetype: z.string(),
  status: SnapshotStatus,
  comments: z.array(z.looseObject({ id: z.string(), body: z.unknown(), created: z.string() })),
  created: z.string(),
  // Files written before the changelog existed have neither: the issue was last changed when created, with no history.
  updated: z.string().optional(),
  histories: z.array(z.looseObject({ id: z.string(), author: z.unknown(), created: z.string(), items: z.array(z.unknown()) })).optional(),
  resolution: z.string().optional(),
});
const JiraSnapshotSchema = z.object({
  issues: z.array(SnapshotIssue),
  counters: z.record(z.string(), z.number().int().nonnegative()),
  nextIssueId: z.number().int().positive(),
  nextCommentId: z.number().int().positive(),
});
export interface JiraSnapshot {
  issues: SimIssue[];
  counters: Record<string, number>;
  nextIssueId: number;
  nextCommentId: number;
}

function jiraPersistence(issues: Map<string, SimIssue>, counters: Map<string, number>, seq: { issueId: number; commentId: number }): Pick<JiraSimulator, 'snapshot' | 'restore'> {
  return {
    snapshot: () => ({ issues: [...issues.values()], counters: Object.fromEntries(counters), nextIssueId: seq.issueId, nextCommentId: seq.commentId }),
    restore(data) {
      const s = JiraSnapshotSchema.parse(data);
      issues.clear();
      counters.clear();
      for (const i of s.issues) {
        // The shared status objects, so that a restored issue is in the same workflow as a new one.
        const status = STATUSES.find((x) => x.id === i.status.id) ?? i.status;
        issues.set(i.key, { ...i, description: i.description ?? null, status, updated: i.updated ?? i.created, histories: i.histories ?? [] } as SimIssue);
      }
      // Never below what the issues show: a key or id is not given twice even from an edited file.
      const keyNumber = (key: string) => Number(key.slice(key.lastIndexOf('-') + 1));
      for (const [project, n] of Object.entries(s.counters)) counters.set(project, n);
      for (const i of issues.values()) counters.set(i.project, Math.max(counters.get(i.project) ?? 0, keyNumber(i.key)));
      seq.issueId = Math.max(s.nextIssueId, ...[...issues.values()].map((i) => Number(i.id) + 1));
      seq.commentId = Math.max(s.nextCommentId, ...[...issues.values()].flatMap((i) => i.comments.map((c) => Number(c.id) + 1)).filter(Number.isFinite));
    },
  };
}
