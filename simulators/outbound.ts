/**
 * Calls a vendor simulator makes on its own (Jira's webhooks, a ServiceNow business rule's REST
 * message): one JSON POST each, recorded with its answer, never retried, never awaited by the
 * request that caused it (the vendors send them after the change is committed).
 */

export interface OutboundDelivery {
  /** What the vendor calls the event, e.g. "jira:issue_updated". */
  event: string;
  url: string;
  body: unknown;
  /** The receiver's HTTP status; absent when the call failed. */
  status?: number;
  /** Why the call failed (connection refused, timeout). */
  error?: string;
  at: number;
}

export class OutboundCalls {
  readonly deliveries: OutboundDelivery[] = [];
  private readonly pending = new Set<Promise<OutboundDelivery>>();

  constructor(private readonly timeoutMs = 10_000) {}

  /** POSTs `rawBody` (JSON) to `url`; resolves with the recorded delivery, never rejects. */
  post(event: string, url: string, rawBody: string, headers: Record<string, string>): Promise<OutboundDelivery> {
    const delivery: OutboundDelivery = { event, url, body: JSON.parse(rawBody), at: Date.now() };
    const done = fetch(url, { method: 'POST', body: rawBody, headers: { 'Content-Type': 'application/json', ...headers }, signal: AbortSignal.timeout(this.timeoutMs) })
      .then(async (res) => {
        await res.arrayBuffer().catch(() => undefined);
        delivery.status = res.status;
      })
      .catch((e: unknown) => {
        delivery.error = (e as Error).message;
      })
      .then(() => {
        this.deliveries.push(delivery);
        this.pending.delete(done);
        return delivery;
      });
    this.pending.add(done);
    return done;
  }

  /** Resolves once every call made so far has its answer (tests wait on it). */
  async settled(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }
}
