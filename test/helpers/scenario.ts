/**
 * Small helpers shared by the scenario tests (test/e2e): detections, polling the HTTP API
 * for a remediation's state, approvals, and side-effect counting around the in-process
 * systems. Everything goes through the real app (HTTP API or its Temporal client).
 */
import { randomUUID } from 'node:crypto';
import type { ActivityDeps } from '../../activities';
import type { InProcessSystems } from '../../activities/inprocess';
import { eventually, http, type Harness } from './harness';

/** What these helpers need of a drw: its API's base URL (a Harness, or an API run as its own process). */
export type ApiTarget = Pick<Harness, 'api'>;

/** Makes asset ids unique per test run, so files sharing one server never share a workflow id. */
export const RUN = randomUUID().slice(0, 6);

export function asset(name: string): string {
  return `${name}-${RUN}`;
}

export interface DetectionInput {
  source?: string;
  rule?: string;
  title?: string;
  severity?: 'critical' | 'high' | 'medium' | 'low' | 'info';
  category?: string;
  riskScore?: number;
  status?: 'open' | 'resolved';
  asset: { id: string; type?: string; environment?: string; internetFacing?: boolean; criticality?: 'low' | 'medium' | 'high' | 'critical' };
  details?: Record<string, unknown>;
  observedAt?: string;
}

export function detection(d: DetectionInput) {
  return {
    source: d.source ?? 'scanner',
    rule: d.rule ?? 'RULE-1',
    title: d.title ?? `${d.rule ?? 'RULE-1'} on ${d.asset.id}`,
    severity: d.severity ?? 'high',
    ...(d.category ? { category: d.category } : {}),
    ...(d.riskScore !== undefined ? { riskScore: d.riskScore } : {}),
    ...(d.status ? { status: d.status } : {}),
    ...(d.observedAt ? { observedAt: d.observedAt } : {}),
    asset: { type: 'host', ...d.asset },
    ...(d.details ? { details: d.details } : {}),
  };
}

/** POSTs a detection and returns the remediation id (asserting it started). */
export async function submit(h: ApiTarget, det: ReturnType<typeof detection>): Promise<string> {
  const r = await http('POST', `${h.api}/v1/detections`, det);
  if (r.status !== 202) throw new Error(`POST /v1/detections answered ${r.status}: ${JSON.stringify(r.body)}`);
  const first = r.body.remediations[0];
  if (first.outcome !== 'started') throw new Error(`expected a new remediation, got ${JSON.stringify(first)}`);
  return first.id as string;
}

export async function getState(h: ApiTarget, id: string): Promise<any | undefined> {
  const r = await http('GET', `${h.api}/v1/remediations/${id}`);
  return r.status === 200 ? r.body : undefined;
}

/** Polls the API until `pred` holds; the error names the last status seen. */
export async function waitFor(h: ApiTarget, id: string, pred: (s: any) => boolean, what: string, timeoutMs = 30_000): Promise<any> {
  let last: any;
  try {
    return await eventually(
      async () => {
        last = await getState(h, id);
        return last && pred(last) ? last : undefined;
      },
      what,
      timeoutMs,
    );
  } catch (e) {
    const steps = last?.plan?.steps?.map((s: any) => `${s.id}=${s.status}`).join(', ');
    throw new Error(`${(e as Error).message} (last status ${last?.status}; findings ${last?.findingCount}; risk ${last?.riskScore}; steps ${steps}; last decisions: ${JSON.stringify(last?.decisions?.slice(-4)?.map((d: any) => d.summary))})`);
  }
}

export const statusIs = (status: string) => (s: any) => s.status === status;

export function step(s: any, id: string): any {
  const st = s.plan.steps.find((x: any) => x.id === id);
  if (!st) throw new Error(`no step ${id} in plan: ${s.plan.steps.map((x: any) => x.id).join(', ')}`);
  return st;
}

export function stepStatuses(s: any): [string, string][] {
  return s.plan.steps.map((x: any) => [x.id, x.status]);
}

export function approve(h: ApiTarget, id: string, stepId: string, body: { approver: string; groups?: string[]; reason?: string; digest?: string }) {
  return http('POST', `${h.api}/v1/remediations/${id}/steps/${encodeURIComponent(stepId)}/approve`, { reason: 'ok', ...body });
}

export function deny(h: ApiTarget, id: string, stepId: string, body: { approver: string; groups?: string[]; reason?: string }) {
  return http('POST', `${h.api}/v1/remediations/${id}/steps/${encodeURIComponent(stepId)}/deny`, { reason: 'no', ...body });
}

export function operator(h: ApiTarget, id: string, action: 'pause' | 'resume' | 'cancel' | 'false-positive', by = 'oscar', reason = `${action} for the test`) {
  return http('POST', `${h.api}/v1/remediations/${id}/${action}`, { by, reason });
}

/** The in-process ticket opened for an asset (by title), and how many there are. */
export function ticketsFor(systems: InProcessSystems, assetId: string) {
  return [...systems.record.tickets.values()].filter((t) => t.title.includes(assetId));
}

/** Whether an idempotency key is one of remediation `id`'s (any of its instances: `<id>~<first run>:…`, or `<id>:…` before). */
export const keyOf = (id: string, key: string) => key.startsWith(`${id}:`) || key.startsWith(`${id}~`);
/** Whether a call context's remediationId (the remediation's instance) is remediation `id`'s. */
export const refOf = (id: string, ref: string) => ref === id || ref.startsWith(`${id}~`);

export function pullRequestsFor(systems: InProcessSystems, id: string) {
  return [...systems.record.pullRequests.entries()].filter(([key]) => keyOf(id, key)).map(([key, pr]) => ({ key, ...pr }));
}

export function notificationsFor(systems: InProcessSystems, id: string) {
  return systems.record.notifications.filter((n) => keyOf(id, n.key));
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Systems = Omit<ActivityDeps, 'policy'>;

/**
 * Wraps every method of every system so each call is counted (by "system.method") before it
 * reaches the real implementation; `before` may delay or fail a call. Counting at this level
 * sees repeated calls even when the system itself would absorb them idempotently.
 */
export function counting(
  systems: InProcessSystems,
  before?: (name: string, input: any) => Promise<void> | void,
): { systems: Systems; calls: Map<string, any[]>; count(name: string, pred?: (input: any) => boolean): number } {
  const calls = new Map<string, any[]>();
  const wrap = <T extends object>(kind: string, impl: T): T => {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(impl) as (keyof T & string)[]) {
      const fn = impl[key];
      if (typeof fn !== 'function') continue;
      out[key] = async (input: any) => {
        const name = `${kind}.${key}`;
        if (!calls.has(name)) calls.set(name, []);
        calls.get(name)!.push(input);
        if (before) await before(name, input);
        return (fn as (i: any) => Promise<unknown>).call(impl, input);
      };
    }
    return out as T;
  };
  return {
    systems: {
      ticketing: wrap('ticketing', systems.ticketing),
      cmdb: wrap('cmdb', systems.cmdb),
      iac: wrap('iac', systems.iac),
      endpoint: wrap('endpoint', systems.endpoint),
      notify: wrap('notify', systems.notify),
      runbook: wrap('runbook', systems.runbook),
      identity: wrap('identity', systems.identity),
      change: wrap('change', systems.change),
    },
    calls,
    count: (name, pred) => (calls.get(name) ?? []).filter((x) => (pred ? pred(x) : true)).length,
  };
}
