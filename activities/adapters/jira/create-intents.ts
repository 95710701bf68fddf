import { previousHeartbeat } from '../activity-context';

/**
 * Remembers that a create for a remediation's label was sent, so that a later attempt does
 * not trust an empty search that may only be lagging: Jira's enhanced search is eventually
 * consistent and an issue created a moment ago can be missing. The memory is this process's
 * own plus the heartbeat of the activity's previous attempt (Temporal hands it to the retry on
 * any worker), and issues known to exist are passed to the search as `reconcileIssues`, which
 * Jira answers consistently.
 */
export interface CreateIntent {
  label: string;
  at: number;
}

export class CreateIntents {
  private readonly sent = new Map<string, number>();
  private readonly created = new Map<string, string>();

  constructor(private readonly capacity = 2_000) {}

  /** When a create for `label` was last sent by this process or the previous attempt, if ever. */
  lastSent(label: string): number | undefined {
    const beat = previousHeartbeat() as Partial<CreateIntent> | undefined;
    const fromBeat = beat && beat.label === label && typeof beat.at === 'number' ? beat.at : undefined;
    const mine = this.sent.get(label);
    return mine === undefined ? fromBeat : fromBeat === undefined ? mine : Math.max(mine, fromBeat);
  }

  markSent(label: string, at: number): void {
    remember(this.sent, label, at, this.capacity);
  }

  /** Jira refused the create outright (4xx): nothing was created, nothing to wait for. */
  forget(label: string): void {
    this.sent.delete(label);
  }

  markCreated(label: string, issueId: string): void {
    this.sent.delete(label);
    remember(this.created, label, issueId, this.capacity);
  }

  /** Issue ids Jira should reconcile into the search for `label` (at most one: ours). */
  reconcile(label: string): number[] {
    const id = Number(this.created.get(label));
    return Number.isInteger(id) && id > 0 ? [id] : [];
  }
}

function remember<V>(map: Map<string, V>, key: string, value: V, capacity: number): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > capacity) map.delete(map.keys().next().value as string);
}
