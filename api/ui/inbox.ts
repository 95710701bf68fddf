/**
 * The approver's inbox: every step awaiting a decision the signed-in person may give, oldest
 * first, with the remediation's SLA time left. Visibility lists only the remediations with a step
 * the person's user or groups may decide (DrwApprovers), each with its steps awaiting approval (a
 * memo field): no workflow is queried. Runs begun before that are listed for everyone awaiting
 * approval, and their states read through the workflow's query, a bounded number at a time.
 */
import type { PlanStep } from '../../planner/types';
import type { RemediationView } from '../../signals';
import { approverKeys, type PendingRemediation, type UiBackend } from './backend';
import { whyNotDecide, type Person } from './decide-rule';

export interface InboxItem {
  remediation: Pick<RemediationView, 'id' | 'title' | 'severity' | 'riskScore' | 'asset' | 'slaDeadline' | 'slaBreached' | 'status'>;
  step: PlanStep;
  /** When the step started waiting: the plan that put it there, else the remediation's start. */
  since: string;
}

export interface Inbox {
  items: InboxItem[];
  /** Remediations awaiting someone's approval (up to INBOX_LIMIT). */
  pending: number;
  /** Where the next page starts (index into the pending remediations, oldest first), when more remain. */
  next?: number;
  /** More remediations await approval than one inbox reads. */
  truncated: boolean;
  /** Remediations whose state could not be read (closed meanwhile, a worker down). */
  unreadable: number;
}

/**
 * How many remediations awaiting approval one inbox lists from visibility, how many steps a page
 * shows, and how many states it queries at once. A page reads states oldest remediation first
 * until it has a page of steps for this person: a render costs a page of queries, not one per
 * open remediation.
 */
export const INBOX_LIMIT = 5000;
export const PAGE_STEPS = 50;
const CONCURRENCY = 16;

/** The last plan that added the step or moved it to awaiting approval. */
export function awaitingSince(v: RemediationView, stepId: string, fallback: string): string {
  for (let i = v.decisions.length - 1; i >= 0; i--) {
    const d = v.decisions[i] as { kind: string; at: string; diff?: { step: string; change: string; to?: string }[] };
    if (d.kind === 'plan' && d.diff?.some((e) => e.step === stepId && (e.change === 'added' || (e.change === 'status' && e.to === 'awaiting_approval') || e.change === 'params' || e.change === 'approval_lapsed'))) return d.at;
  }
  return fallback;
}

async function mapLimited<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]);
      }
    }),
  );
  return out;
}

export async function buildInbox(backend: UiBackend, who: Person, from = 0): Promise<Inbox> {
  // Without the permission to decide, nothing is this person's to decide: no state is read.
  if (!who.permissions.has('decide')) return { items: [], pending: 0, truncated: false, unreadable: 0 };
  // The oldest remediations up to the end of this page when the backend can find them by time (how many in all, too); else all of them.
  const window = backend.oldestPending ? await backend.oldestPending(approverKeys(who), Math.min(INBOX_LIMIT, from + PAGE_STEPS)) : undefined;
  const pending = (window?.items ?? (await backend.pending(INBOX_LIMIT + 1, approverKeys(who)))).sort((a, b) => a.startTime.localeCompare(b.startTime) || a.id.localeCompare(b.id));
  const total = window ? window.total : pending.length;
  const all = pending.slice(0, INBOX_LIMIT);
  let unreadable = 0;
  const items: InboxItem[] = [];
  let at = Math.max(0, Math.min(from, all.length));
  while (at < all.length && items.length < PAGE_STEPS) {
    // No more states than the page can still show (one step each, usually).
    const chunk = all.slice(at, at + Math.min(CONCURRENCY, PAGE_STEPS - items.length));
    at += chunk.length;
    for (const p of chunk) if (p.listed) items.push(...listedItems(p, who));
    const states = await mapLimited(chunk.filter((p) => !p.listed), CONCURRENCY, async (p: PendingRemediation) => {
      try {
        return { p, v: await backend.state(p.id) };
      } catch {
        unreadable++;
        return undefined;
      }
    });
    for (const s of states) {
      if (!s) continue;
      const { p, v } = s;
      for (const step of v.plan.steps) {
        if (step.status !== 'awaiting_approval' || whyNotDecide(who, step)) continue;
        items.push({
          remediation: { id: v.id, title: v.title, severity: v.severity, riskScore: v.riskScore, asset: v.asset, slaDeadline: v.slaDeadline, slaBreached: v.slaBreached, status: v.status },
          step,
          since: awaitingSince(v, step.id, p.startTime),
        });
      }
    }
  }
  items.sort((a, b) => a.since.localeCompare(b.since) || a.remediation.id.localeCompare(b.remediation.id));
  const listed = Math.min(total, INBOX_LIMIT);
  return { items, pending: listed, ...(at < listed ? { next: at } : {}), truncated: total > INBOX_LIMIT, unreadable };
}

/** The person's steps of a remediation as the visibility list gave them (its run's AWAITING_MEMO and search attributes). */
function listedItems(p: PendingRemediation, who: Person): InboxItem[] {
  const { awaiting, attributes: a } = p.listed!;
  const out: InboxItem[] = [];
  for (const x of awaiting.steps) {
    // What the row and the decide rule read of a step (status, approval rule, requester, target).
    const { since: _since, ...summary } = x;
    const step = { ...summary, status: 'awaiting_approval' } as unknown as PlanStep;
    if (whyNotDecide(who, step)) continue;
    out.push({
      remediation: { id: p.id, title: awaiting.title, severity: a.severity as RemediationView['severity'], riskScore: a.riskScore ?? 0, asset: { id: a.asset ?? '' } as RemediationView['asset'], slaDeadline: a.slaDeadline, slaBreached: false, status: (a.status ?? 'awaiting_approval') as RemediationView['status'] },
      step,
      since: x.since,
    });
  }
  return out;
}

/**
 * States (and the list of remediations awaiting approval) read for inboxes, shared for a few seconds: every open inbox refreshes itself, and
 * approvers looking at the same steps need not each query every workflow. Only the inbox reads
 * through it; a remediation's page and a decision always read the workflow itself.
 */
export class InboxStates {
  private readonly entries = new Map<string, { at: number; state: Promise<RemediationView> }>();
  /** By the approvers asked for: people with the same user and groups share one list. */
  private readonly lists = new Map<string, { at: number; list: Promise<unknown> }>();

  constructor(
    private readonly backend: UiBackend,
    private readonly ttlMs = 5000,
    private readonly now: () => number = Date.now,
    private readonly capacity = 10_000,
  ) {}

  /** The backend, with its state reads shared. */
  get reader(): UiBackend {
    const b = this.backend;
    return { ...b, pending: (limit, approvers) => this.pending(limit, approvers), ...(b.oldestPending ? { oldestPending: (approvers: string[], oldest: number) => this.oldest(approvers, oldest) } : {}), state: (id) => this.state(id) };
  }

  /** The backend's oldest pending, shared as the list is. */
  oldest(approvers: string[], oldest: number): Promise<{ items: PendingRemediation[]; total: number }> {
    return this.shared(`oldest\n${oldest}\n${approvers.join('\n')}`, () => this.backend.oldestPending!(approvers, oldest));
  }

  /** The visibility list of remediations awaiting approval, shared the same way (it is most of a render's cost). */
  pending(limit: number, approvers: string[]): Promise<PendingRemediation[]> {
    return this.shared(`${limit}\n${approvers.join('\n')}`, () => this.backend.pending(limit, approvers)).then((x) => [...x]);
  }

  private shared<T>(key: string, read: () => Promise<T>): Promise<T> {
    const t = this.now();
    const l = this.lists.get(key);
    if (l && t - l.at < this.ttlMs) return l.list as Promise<T>;
    if (this.lists.size >= 1000) for (const [k, v] of this.lists) if (t - v.at >= this.ttlMs) this.lists.delete(k);
    const list = read();
    this.lists.set(key, { at: t, list });
    list.catch(() => this.lists.get(key)?.list === list && this.lists.delete(key));
    return list;
  }

  state(id: string): Promise<RemediationView> {
    const t = this.now();
    const e = this.entries.get(id);
    if (e && t - e.at < this.ttlMs) return e.state;
    if (this.entries.size >= this.capacity) for (const [k, v] of this.entries) if (t - v.at >= this.ttlMs) this.entries.delete(k);
    const state = this.backend.state(id);
    this.entries.set(id, { at: t, state });
    // A failed read is not shared.
    state.catch(() => this.entries.get(id)?.state === state && this.entries.delete(id));
    return state;
  }

  /** After a decision here: the next inbox reads the remediation again. */
  forget(id: string): void {
    this.entries.delete(id);
    this.lists.clear();
  }
}
