/**
 * What the approval pages read and do, over the API's own service: the remediations waiting for
 * someone's approval (Temporal visibility: DrwApprovers, and DrwPendingApproval for runs begun
 * before it), a remediation's state (the workflow's query) and run, and a decision, sent through
 * RemediationService.decide — the same digest-bound, signed path as
 * POST /v1/remediations/{id}/steps/{stepId}/approve.
 */
import type { Client } from '@temporalio/client';
import { normalizeIdentity } from '../../governance/identity';
import type { ApprovalDecisionInput, RemediationView } from '../../signals';
import type { Plan } from '../../planner/types';
import { SA } from '../../signals/search-attributes';
import { AWAITING_MEMO, type AwaitingMemo } from '../../workflows/memo';
import { buildListQuery, MAX_PAGE_SIZE, quote, toListItem, type RemediationListItem } from '../routes/list';
import type { RemediationService } from '../service';

export interface PendingRemediation {
  id: string;
  runId: string;
  startTime: string;
  /**
   * What the visibility list says of it, when its run publishes the steps awaiting approval
   * (AWAITING_MEMO): enough for the inbox without querying the workflow.
   */
  listed?: { awaiting: AwaitingMemo; attributes: RemediationListItem };
}

/** The DrwApprovers values that name a person: their user and each of their groups (normalized as the workflow writes them). */
export function approverKeys(who: { user: string; groups: string[] }): string[] {
  return [...new Set([`user:${normalizeIdentity(who.user)}`, ...who.groups.map((g) => `group:${normalizeIdentity(g)}`)])].sort();
}

/**
 * This drw's open remediations with a step `approvers` may decide; with runs begun before
 * DrwApprovers (no such attribute, DrwPendingApproval true), whose states the inbox reads to know.
 */
export function inboxQuery(approvers: string[], taskQueue?: string): string {
  const base = buildListQuery({ status: ['open'], ...(taskQueue ? { taskQueue } : {}) });
  const mine = approvers.length ? `${SA.approvers.name} IN (${approvers.map((k) => quote('approvers', k)).join(', ')}) OR ` : '';
  return `${base} AND (${mine}(${SA.pendingApproval.name} = true AND ${SA.approvers.name} IS NULL))`;
}

/** How many rows more than a page an inbox window may list (cheaper than an exact boundary). */
const WINDOW_SLACK = 50;

export interface UiBackend {
  /** Open remediations with a step awaiting the approval of one of `approvers` (approverKeys), or of anyone in runs that do not say (at most `limit`). */
  pending(limit: number, approvers: string[]): Promise<PendingRemediation[]>;
  /**
   * The same, but only (at least) the `oldest` oldest of them, and how many there are in all: what
   * one inbox page needs, without listing every open remediation.
   */
  oldestPending?(approvers: string[], oldest: number): Promise<{ items: PendingRemediation[]; total: number }>;
  state(id: string): Promise<RemediationView>;
  /** The current run of the remediation's workflow (for the Temporal Web UI link). */
  runId(id: string): Promise<string | undefined>;
  decide(id: string, kind: 'approve' | 'deny', body: ApprovalDecisionInput): Promise<Plan>;
}

/**
 * A start time before which at least `want` and at most `want + slack` of a query's `total`
 * remediations began, found with `countBefore` (visibility counts read no rows): SQL visibility
 * lists the newest first and has no ORDER BY, so an inbox finds its oldest page by time. `hint`: a
 * boundary found before and its count, tried first. Back from now in doubling steps until fewer
 * than `want` began before, then halving the gap.
 */
export async function startBoundary(countBefore: (at: number) => Promise<number>, o: { want: number; slack: number; total: number; now: number; hint?: [number, number] }): Promise<number> {
  const enough = (n: number) => n >= o.want && n <= o.want + o.slack;
  let [hi, hiCount] = [o.now + 1000, o.total];
  if (o.hint) {
    if (enough(o.hint[1])) return o.hint[0];
    if (o.hint[1] >= o.want) [hi, hiCount] = o.hint;
  }
  let lo = hi;
  for (let step = 60_000; !enough(hiCount); step *= 2) {
    lo = hi - step;
    const n = await countBefore(lo);
    if (n < o.want) break;
    [hi, hiCount] = [lo, n];
  }
  while (!enough(hiCount) && hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    const n = await countBefore(mid);
    if (n >= o.want) [hi, hiCount] = [mid, n];
    else lo = mid;
  }
  return hi;
}

/** `taskQueue`: this drw's workflow task queue; other deployments' remediations in the namespace are not its to show (nor to query). */
export function serviceBackend(service: RemediationService, client: Client, taskQueue?: string): UiBackend {
  /** The list for `query`, up to `limit`, each with what its run publishes for the inbox. */
  async function list(query: string, limit: number): Promise<PendingRemediation[]> {
    const out: PendingRemediation[] = [];
    const { executionInfoFromRaw } = await import('@temporalio/client/lib/helpers');
    // SQL visibility (the embedded default) has no ORDER BY: the inbox sorts what it reads.
    let token: Uint8Array | undefined;
    do {
      const res = await client.workflowService.listWorkflowExecutions({ namespace: client.options.namespace, query, pageSize: MAX_PAGE_SIZE, nextPageToken: token ?? Buffer.alloc(0) });
      for (const raw of res.executions ?? []) {
        // Only the inbox's memo field is decoded (the decisions are not needed, and may be large).
        const field = raw.memo?.fields?.[AWAITING_MEMO];
        raw.memo = field ? { fields: { [AWAITING_MEMO]: field } } : null;
        let info;
        try {
          info = await executionInfoFromRaw(raw, client.options.loadedDataConverter, raw, client.options.namespace);
        } catch {
          // Not readable here (a codec key this process lacks): the inbox reads the state instead.
          raw.memo = null;
          info = await executionInfoFromRaw(raw, client.options.loadedDataConverter, raw, client.options.namespace);
        }
        const attributes = toListItem(info);
        const awaiting = info.memo?.[AWAITING_MEMO] as AwaitingMemo | undefined;
        out.push({ id: attributes.id, runId: attributes.runId, startTime: attributes.startTime, ...(awaiting && Array.isArray(awaiting.steps) ? { listed: { awaiting, attributes } } : {}) });
        if (out.length >= limit) return out;
      }
      token = res.nextPageToken?.length ? res.nextPageToken : undefined;
    } while (token);
    return out;
  }

  const count = async (query: string) => Number((await client.workflowService.countWorkflowExecutions({ namespace: client.options.namespace, query })).count ?? 0);
  const before = (query: string, at: number) => `${query} AND StartTime < '${new Date(at).toISOString()}'`;
  /** The last boundary found per query: between two renders it rarely moves far. */
  const hints = new Map<string, number>();

  return {
    pending: (limit, approvers) => list(inboxQuery(approvers, taskQueue), limit),
    async oldestPending(approvers, oldest) {
      const query = inboxQuery(approvers, taskQueue);
      const hint = hints.get(query);
      // How many in all, and how many began before the last boundary (counts read no rows).
      const [total, atHint] = await Promise.all([count(query), hint === undefined ? undefined : count(before(query, hint))]);
      // A few more than asked for is cheaper to list than to find the exact boundary.
      if (total <= oldest + WINDOW_SLACK) return { items: await list(query, total + WINDOW_SLACK), total };
      const at = await startBoundary((t) => count(before(query, t)), { want: oldest, slack: WINDOW_SLACK, total, now: Date.now(), ...(hint !== undefined && atHint !== undefined ? { hint: [hint, atHint] as [number, number] } : {}) });
      if (hints.size >= 1000) hints.clear();
      hints.set(query, at);
      // Not truncated: visibility lists the newest first, and the oldest are the ones wanted.
      return { items: await list(before(query, at), total), total };
    },
    state: (id) => service.state(id),
    async runId(id) {
      try {
        return (await service.handle(id).describe()).runId;
      } catch {
        return undefined;
      }
    },
    decide: (id, kind, body) => service.decide(id, kind, body),
  };
}
