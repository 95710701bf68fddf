import type { AxiosInstance } from 'axios';
import { ApplicationFailure } from '@temporalio/common';
import { createVendorClient } from '../http';
import type {
  CloseTicketInput,
  OpenTicketInput,
  ReopenTicketInput,
  TicketRef,
  TicketState,
  Ticketing,
  UpdateTicketInput,
} from '../../interfaces';
import type { JiraConfig } from './config';
import { containsMarker, doc, idempotencyMarker, linkParagraph, markerParagraph, paragraphs, type AdfNode } from './adf';
import { heartbeatIfActivity, sleepCancellable } from '../activity-context';
import { createScreenReader, type CreateScreen } from './create-meta';
import { CreateIntents } from './create-intents';
import { remediationLabel } from './label';

export { loadJiraConfig, type JiraConfig } from './config';
export { remediationLabel, remediationRefOfLabels } from './label';

const SYSTEM = 'jira';
/** Jira rejects longer summaries and descriptions with a 400. */
const SUMMARY_MAX = 255;
const DESCRIPTION_MAX = 30_000;
const COMMENT_PAGE = 100;
/** Stop scanning comments after this many; a remediation never writes that many. */
const COMMENT_SCAN_MAX = 2_000;

export interface JiraDeps {
  /** Replaces the HTTP client; it must convert errors the way `createVendorClient` does. */
  client?: AxiosInstance;
  heartbeat?: (details?: unknown) => void;
  now?: () => number;
}

/** How often a create that may have happened re-reads the search while waiting for it. */
const LAG_POLL_MS = 500;

interface JiraStatus {
  name?: string;
  statusCategory?: { key?: string };
}
interface JiraIssue {
  id: string;
  key: string;
  fields?: { status?: JiraStatus; description?: unknown; resolution?: { name?: string } | null };
  /** With expand=changelog: the recent histories, most recent first. */
  changelog?: { histories?: JiraHistory[] };
}
interface JiraUser {
  accountId?: string;
  displayName?: string;
  emailAddress?: string;
}
interface JiraHistory {
  author?: JiraUser;
  created?: string;
  items?: { field?: string; fieldId?: string }[];
}
interface JiraTransition {
  id: string;
  name?: string;
  to?: JiraStatus;
}

/** The HTTP client the adapter uses by default: basic auth with the API token, errors as Temporal failures. */
export function createJiraClient(config: JiraConfig): AxiosInstance {
  return createVendorClient({
    vendor: SYSTEM,
    baseURL: config.baseUrl,
    timeoutMs: config.timeoutMs,
    auth: { username: config.email, password: config.apiToken },
    headers: { 'Content-Type': 'application/json' },
  });
}

export function createJiraTicketing(config: JiraConfig, deps: JiraDeps = {}): Ticketing {
  const http = deps.client ?? createJiraClient(config);
  const beat = deps.heartbeat ?? heartbeatIfActivity;
  const now = deps.now ?? Date.now;
  const browseUrl = (key: string) => `${config.baseUrl}/browse/${encodeURIComponent(key)}`;
  const createScreen = createScreenReader(http, config.projectKey, config.issueType);
  const intents = new CreateIntents();

  /**
   * Enhanced search is eventually consistent: an issue created a moment ago can be missing for
   * a short while (see CreateIntents for how a retry avoids creating twice). The ORDER BY makes
   * calls converge on the oldest issue should two ever exist.
   */
  async function findByLabel(label: string): Promise<JiraIssue | undefined> {
    const jql = `project = "${config.projectKey}" AND labels = "${label}" ORDER BY created ASC`;
    const fields = ['status', 'description'];
    const reconcile = intents.reconcile(label);
    try {
      const { data } = await http.post('/rest/api/3/search/jql', { jql, fields, maxResults: 10, ...(reconcile.length ? { reconcileIssues: reconcile } : {}) });
      return firstIssue(data);
    } catch (err) {
      // Only sites without the enhanced search endpoint fall back; Cloud answers 410 on the old one.
      if (httpStatus(err) !== 404) throw err;
    }
    const { data } = await http.get('/rest/api/3/search', { params: { jql, fields: fields.join(','), maxResults: 10 } });
    return firstIssue(data);
  }

  /**
   * The search after a create that may have happened (its answer was lost): waits, bounded by
   * JIRA_SEARCH_LAG_MS from that create, for the search to show the issue before creating again.
   */
  async function findAfterLostCreate(label: string): Promise<JiraIssue | undefined> {
    let found = await findByLabel(label);
    const sentAt = intents.lastSent(label);
    if (found || sentAt === undefined) return found;
    const until = sentAt + config.searchLagMs;
    while (!found && now() < until) {
      // The intent, not progress: should this attempt time out, the next one still knows to wait.
      beat({ label, at: sentAt });
      await sleepCancellable(Math.min(LAG_POLL_MS, Math.max(until - now(), 0)));
      found = await findByLabel(label);
    }
    return found;
  }

  async function readIssue(key: string, fields: string, expand?: string): Promise<JiraIssue & { fields: { status: JiraStatus } }> {
    const { data } = await http.get(`/rest/api/3/issue/${encodeURIComponent(key)}`, { params: { fields, ...(expand ? { expand } : {}) } });
    const issue = data as JiraIssue | undefined;
    const status = issue?.fields?.status;
    if (!status || typeof status.name !== 'string') throw badResponse(`GET issue ${key} returned no status`);
    return { ...issue!, fields: { ...issue!.fields, status } };
  }

  async function statusOf(key: string): Promise<JiraStatus> {
    return (await readIssue(key, 'status')).fields.status;
  }

  async function transitionsOf(key: string): Promise<JiraTransition[]> {
    const { data } = await http.get(`/rest/api/3/issue/${encodeURIComponent(key)}/transitions`);
    return Array.isArray(data?.transitions) ? data.transitions : [];
  }

  async function hasComment(key: string, marker: string): Promise<boolean> {
    // Newest first: a retried call's earlier comment is the most recent one.
    for (let startAt = 0; startAt < COMMENT_SCAN_MAX; ) {
      const { data } = await http.get(`/rest/api/3/issue/${encodeURIComponent(key)}/comment`, {
        params: { startAt, maxResults: COMMENT_PAGE, orderBy: '-created' },
      });
      const comments: { body?: unknown }[] = Array.isArray(data?.comments) ? data.comments : [];
      if (comments.some((c) => containsMarker(c.body, marker))) return true;
      startAt += comments.length;
      if (comments.length === 0 || startAt >= Number(data?.total ?? 0)) return false;
      beat({ scannedComments: startAt });
    }
    return false;
  }

  async function commentOnce(key: string, text: string, idempotencyKey: string): Promise<void> {
    const marker = idempotencyMarker(idempotencyKey);
    if (await hasComment(key, marker)) return;
    await http.post(`/rest/api/3/issue/${encodeURIComponent(key)}/comment`, {
      body: doc(...paragraphs(text), markerParagraph(marker)),
    });
  }

  /** False when the edit screen has no Priority field (Jira's 400 names the field). */
  async function setPriority(key: string, name: string): Promise<boolean> {
    try {
      await http.put(`/rest/api/3/issue/${encodeURIComponent(key)}`, { fields: { priority: { name } } });
      return true;
    } catch (err) {
      if (isPriorityRefused(err)) return false;
      throw err;
    }
  }

  function pickDoneTransition(transitions: JiraTransition[]): JiraTransition | undefined {
    const wanted = config.doneTransition?.toLowerCase();
    if (wanted) return transitions.find((t) => t.name?.toLowerCase() === wanted || t.to?.name?.toLowerCase() === wanted);
    return transitions.find((t) => t.to?.statusCategory?.key === 'done');
  }

  /** Back to work: an in-progress status first (the work goes on), else any status outside done. */
  function pickReopenTransition(transitions: JiraTransition[]): JiraTransition | undefined {
    const wanted = config.reopenTransition?.toLowerCase();
    if (wanted) return transitions.find((t) => t.name?.toLowerCase() === wanted || t.to?.name?.toLowerCase() === wanted);
    const open = transitions.filter((t) => t.to?.statusCategory?.key !== undefined && t.to.statusCategory.key !== 'done');
    return open.find((t) => t.to?.statusCategory?.key === 'indeterminate') ?? open[0];
  }

  function noTransition(key: string, from: string, target: string, transitions: JiraTransition[], type: string): ApplicationFailure {
    return ApplicationFailure.create({
      message: `jira: ${key} has no transition from "${from}" to ${target} (available: ${transitions.map((t) => t.name).join(', ') || 'none'})`,
      type,
      nonRetryable: true,
    });
  }

  return {
    async openTicket(input: OpenTicketInput): Promise<TicketRef> {
      const label = remediationLabel(input.remediationId);
      const marker = idempotencyMarker(input.idempotencyKey);
      const found = await findAfterLostCreate(label);
      if (found) {
        // "existing" means another call created it; our own earlier attempt is the same result.
        const ours = containsMarker(found.fields?.description, marker);
        return { system: SYSTEM, ticketId: found.key, url: browseUrl(found.key), existing: !ours };
      }
      const priorityName = config.priorities?.[input.priority];
      const send = async (screen: CreateScreen) => {
        // Without Priority on the screen, the priority travels as a label and a line of the description.
        const priorityLabel = priorityName && !screen.priority ? [toLabel(`drw-priority-${input.priority}`)] : [];
        const fields: Record<string, unknown> = {
          project: { key: config.projectKey },
          issuetype: { id: screen.issueTypeId },
          summary: oneLine(input.title).slice(0, SUMMARY_MAX),
          description: description(input, marker, screen.priority ? undefined : priorityName),
          labels: unique([label, ...priorityLabel, ...input.labels.map(toLabel).filter(Boolean)]),
        };
        if (priorityName && screen.priority) fields.priority = { name: priorityName };
        const sentAt = now();
        // Recorded before sending: if the answer is lost, the retry knows a create may have happened.
        intents.markSent(label, sentAt);
        beat({ label, at: sentAt });
        return http.post('/rest/api/3/issue', { fields }).catch((err: unknown) => {
          if (err instanceof ApplicationFailure && err.nonRetryable) intents.forget(label);
          throw err;
        });
      };
      const screen = await createScreen();
      const { data } = await send(screen).catch(async (err: unknown) => {
        if (!(priorityName && screen.priority && isPriorityRefused(err))) throw err;
        // Priority left the screen since its metadata was read; Jira refused the whole create, so nothing exists yet.
        createScreen.forget();
        return send(await createScreen());
      });
      if (typeof data?.key !== 'string') throw badResponse('create issue answered without a key');
      if (typeof data.id === 'string') intents.markCreated(label, data.id);
      return { system: SYSTEM, ticketId: data.key, url: browseUrl(data.key), existing: false };
    },

    async updateTicket(input: UpdateTicketInput): Promise<void> {
      const key = checkKey(input.ticketId);
      const priorityName = input.priority ? config.priorities?.[input.priority] : undefined;
      let comment = input.comment;
      if (priorityName) {
        // Setting the same priority twice is harmless, so no marker is needed here.
        const set = (await createScreen()).priority && (await setPriority(key, priorityName));
        if (!set) comment = `${comment}\n\nPriority: ${priorityName}`;
      }
      await commentOnce(key, comment, input.idempotencyKey);
    },

    async closeTicket(input: CloseTicketInput): Promise<void> {
      const key = checkKey(input.ticketId);
      await commentOnce(key, `${input.comment}\n\nResolution: ${input.resolution}`, input.idempotencyKey);
      const status = await statusOf(key);
      if (status.statusCategory?.key === 'done') return;
      const transitions = await transitionsOf(key);
      const transition = pickDoneTransition(transitions);
      if (!transition) {
        throw noTransition(key, status.name ?? 'unknown', config.doneTransition ? `"${config.doneTransition}"` : 'a done-category status', transitions, 'jira.NoDoneTransition');
      }
      const body: Record<string, unknown> = { transition: { id: transition.id } };
      if (config.resolution) body.fields = { resolution: { name: config.resolution } };
      await http.post(`/rest/api/3/issue/${encodeURIComponent(key)}/transitions`, body);
    },

    async reopenTicket(input: ReopenTicketInput): Promise<void> {
      const key = checkKey(input.ticketId);
      // The comment first, as closeTicket does: a retry after the transition finds it and adds nothing.
      await commentOnce(key, input.comment, input.idempotencyKey);
      const status = await statusOf(key);
      if (status.statusCategory?.key !== 'done') return;
      const transitions = await transitionsOf(key);
      const transition = pickReopenTransition(transitions);
      if (!transition) {
        throw noTransition(key, status.name ?? 'unknown', config.reopenTransition ? `"${config.reopenTransition}"` : 'a status outside the done category', transitions, 'jira.NoReopenTransition');
      }
      await http.post(`/rest/api/3/issue/${encodeURIComponent(key)}/transitions`, { transition: { id: transition.id } });
    },

    async getTicketState(input: { ticketId: string }): Promise<TicketState> {
      const key = checkKey(input.ticketId);
      // The changelog comes most recent first with the issue: who changed it costs no extra call.
      const issue = await readIssue(key, 'status,resolution', 'changelog');
      const status = issue.fields.status;
      const histories = Array.isArray(issue.changelog?.histories) ? issue.changelog.histories : [];
      // Who moved it to where it is, rather than who last touched a label.
      const last = histories.find((h) => h.items?.some((i) => (i.fieldId ?? i.field) === 'status')) ?? histories[0];
      const updatedBy = personOf(last?.author);
      const resolution = issue.fields.resolution?.name;
      return {
        ticketId: key,
        status: status.name ?? 'unknown',
        closed: status.statusCategory?.key === 'done',
        ...(updatedBy ? { updatedBy } : {}),
        ...(typeof resolution === 'string' && resolution ? { resolution } : {}),
      };
    },
  };
}

/** A Jira user as people know them: display name, else e-mail, else account id. */
function personOf(user: JiraUser | undefined): string | undefined {
  const name = user?.displayName ?? user?.emailAddress ?? user?.accountId;
  return typeof name === 'string' && name.trim() ? name.trim().slice(0, 200) : undefined;
}

function description(input: OpenTicketInput, marker: string, priority: string | undefined): ReturnType<typeof doc> {
  const facts = [`Asset: ${input.assetId}`, `Severity: ${input.severity}`, ...(priority ? [`Priority: ${priority}`] : []), `Remediation: ${input.remediationId}`].join('\n');
  const body: AdfNode[] = [...paragraphs(input.description.slice(0, DESCRIPTION_MAX)), ...paragraphs(facts)];
  if (input.link) body.push(linkParagraph('Remediation details', input.link));
  body.push(markerParagraph(marker));
  return doc(...body);
}

function firstIssue(data: unknown): JiraIssue | undefined {
  const issues = (data as { issues?: unknown })?.issues;
  if (!Array.isArray(issues)) throw badResponse('search answered without an issues array');
  const first = issues[0] as JiraIssue | undefined;
  return first && typeof first.key === 'string' ? first : undefined;
}

/** Keys reach URL paths, so anything but an issue key or numeric id is refused outright. */
function checkKey(ticketId: string): string {
  if (/^[A-Za-z][A-Za-z0-9_]*-\d+$/.test(ticketId) || /^\d+$/.test(ticketId)) return ticketId;
  throw ApplicationFailure.create({ message: `jira: "${ticketId.slice(0, 80)}" is not an issue key`, type: 'jira.BadInput', nonRetryable: true });
}

/** Jira labels cannot contain spaces. */
function toLabel(label: string): string {
  return label.trim().replace(/\s+/g, '_').slice(0, 255);
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').trim();
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** Jira's 400 for a Priority field that is not on the screen. */
function isPriorityRefused(err: unknown): boolean {
  return httpStatus(err) === 400 && err instanceof ApplicationFailure && /priority: Field 'priority' cannot be set/.test(err.message);
}

function httpStatus(err: unknown): number | undefined {
  if (!(err instanceof ApplicationFailure)) return undefined;
  const d = err.details?.[0] as { status?: unknown } | undefined;
  return typeof d?.status === 'number' ? d.status : undefined;
}

function badResponse(what: string): ApplicationFailure {
  return ApplicationFailure.create({ message: `jira: ${what}`, type: 'jira.BadResponse', nonRetryable: true });
}
