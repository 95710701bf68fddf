/**
 * How each plan action becomes activity calls. Workflow code: deterministic, no I/O of its
 * own; every side effect is an activity on the task queue of its kind of system.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { TicketPriority, VerifyCheck } from '../activities/interfaces';
import type { Action, PlanStep } from '../planner/types';
import type { ActivityKind, RemediationOptions } from './input';
import type { RemediationState } from './state';

export const KIND_OF: Record<Action, ActivityKind> = {
  'ticket.open': 'ticketing',
  'ticket.update': 'ticketing',
  'ticket.close': 'ticketing',
  'cmdb.lookup': 'cmdb',
  'endpoint.isolate': 'endpoint',
  'endpoint.release': 'endpoint',
  'iac.pull_request': 'iac',
  notify: 'notify',
  verify: 'verify',
  escalate: 'notify',
  'runbook.run': 'runbook',
};

export interface CallSpec {
  timeoutMs: number;
  retry: PlanStep['retry'];
  summary: string;
}

/** A proxy for one call, with the step's own timeout, retries and a summary for the UI. */
export function activitiesFor(kind: ActivityKind, opts: RemediationOptions, spec: CallSpec): Activities {
  return proxyActivities<Activities>({
    taskQueue: opts.taskQueues[kind],
    startToCloseTimeout: spec.timeoutMs,
    // A vendor outage should not fail a remediation that can wait; the SLA timer escalates it.
    scheduleToCloseTimeout: Math.max(spec.timeoutMs * spec.retry.maximumAttempts * 4, 10 * 60_000),
    retry: {
      maximumAttempts: spec.retry.maximumAttempts,
      initialInterval: spec.retry.initialIntervalMs,
      backoffCoefficient: spec.retry.backoffCoefficient,
      maximumInterval: spec.retry.maximumIntervalMs,
    },
    summary: spec.summary.slice(0, 200),
  });
}

export function callKey(s: RemediationState, stepId: string, suffix = ''): { idempotencyKey: string; remediationId: string } {
  return { idempotencyKey: `${s.id}:${stepId}${suffix}`, remediationId: s.id };
}

const PRIORITIES: TicketPriority[] = ['highest', 'high', 'medium', 'low'];
function priorityOf(v: unknown, fallback: TicketPriority): TicketPriority {
  return PRIORITIES.includes(v as TicketPriority) ? (v as TicketPriority) : fallback;
}

function str(v: unknown, fallback = ''): string {
  return typeof v === 'string' && v.length > 0 ? v : fallback;
}

export function ticketDescription(s: RemediationState, link?: string): string {
  const d = s.detection;
  const lines = [
    `${d.title}`,
    '',
    `Source: ${d.source}   Rule: ${d.rule}   Severity: ${s.facts.severity}   Risk: ${s.facts.riskScore}`,
    `Asset: ${s.facts.asset.id} (${s.facts.asset.type}${s.facts.asset.environment ? `, ${s.facts.asset.environment}` : ''}${s.facts.asset.internetFacing ? ', internet-facing' : ''})`,
    `Playbook: ${s.plan.playbook} (policy ${s.plan.policyVersion})`,
    s.slaDeadlineMs !== undefined ? `Exposure window ends: ${new Date(s.slaDeadlineMs).toISOString()}` : '',
    '',
    'Plan:',
    ...s.plan.steps.map((x) => `- [${x.status}] ${x.title}: ${x.reason.rule}`),
    link ? `\nRemediation: ${link}` : '',
  ];
  return lines.filter((l) => l !== undefined).join('\n');
}

export function linkFor(s: RemediationState, opts: RemediationOptions): string | undefined {
  return opts.linkBase ? `${opts.linkBase.replace(/\/$/, '')}/v1/remediations/${encodeURIComponent(s.id)}` : undefined;
}

/**
 * Runs one action and returns a small, secret-free result for the plan. Compensations go
 * through here too (with their own idempotency key suffix).
 */
export async function runAction(
  s: RemediationState,
  opts: RemediationOptions,
  step: Pick<PlanStep, 'id' | 'action' | 'params' | 'timeoutMs' | 'retry' | 'title'>,
  suffix = '',
): Promise<Record<string, unknown>> {
  const p = step.params;
  const acts = activitiesFor(KIND_OF[step.action], opts, { timeoutMs: step.timeoutMs, retry: step.retry, summary: `${step.id}${suffix}: ${step.title}` });
  const key = callKey(s, step.id, suffix);
  const asset = s.facts.asset;
  switch (step.action) {
    case 'ticket.open': {
      if (s.ticket) {
        // One remediation, one ticket: a second "open" (new playbook, re-plan) becomes an update.
        await acts.updateTicket({ ...key, ticketId: s.ticket.ticketId, comment: `drw: plan v${s.plan.version} (${s.plan.playbook}) also asks for this ticket; keeping ${s.ticket.ticketId}.` });
        return { ticketId: s.ticket.ticketId, reused: true };
      }
      const ref = await acts.openTicket({
        ...key,
        title: `[drw] ${s.detection.title}`.slice(0, 250),
        description: ticketDescription(s, linkFor(s, opts)),
        severity: s.facts.severity,
        priority: priorityOf(p.priority, s.facts.severity === 'critical' ? 'highest' : 'high'),
        labels: ['drw', ...(Array.isArray(p.labels) ? p.labels.map(String) : [])],
        assetId: asset.id,
        link: linkFor(s, opts),
      });
      s.ticket = ref;
      return { system: ref.system, ticketId: ref.ticketId, ...(ref.url ? { url: ref.url } : {}), ...(ref.existing ? { existing: true } : {}) };
    }
    case 'ticket.update': {
      if (!s.ticket) return { skipped: 'no ticket yet' };
      await acts.updateTicket({ ...key, ticketId: s.ticket.ticketId, comment: str(p.comment, `drw: update from plan v${s.plan.version}`), priority: p.priority ? priorityOf(p.priority, 'medium') : undefined });
      return { ticketId: s.ticket.ticketId };
    }
    case 'ticket.close': {
      if (!s.ticket) return { skipped: 'no ticket' };
      await acts.closeTicket({ ...key, ticketId: s.ticket.ticketId, resolution: 'remediated', comment: str(p.comment, 'drw: remediated') });
      return { ticketId: s.ticket.ticketId, closed: true };
    }
    case 'cmdb.lookup': {
      const facts = await acts.lookupAsset({ assetId: asset.id });
      s.cmdb = facts;
      return { found: facts.found, ...(facts.ciId ? { ciId: facts.ciId } : {}) };
    }
    case 'endpoint.isolate':
    case 'endpoint.release': {
      const input = { ...key, assetId: asset.id, deviceId: deviceIdFor(s), comment: str(p.comment, `drw ${s.id}`) };
      const r = step.action === 'endpoint.isolate' ? await acts.isolateHost(input) : await acts.releaseHost(input);
      return { system: r.system, deviceId: r.deviceId, state: r.state, ...(r.actionId ? { actionId: r.actionId } : {}) };
    }
    case 'iac.pull_request': {
      const params = Object.fromEntries(Object.entries(p).filter(([k, v]) => k !== 'template' && k !== 'repository' && v !== '' && v !== undefined).map(([k, v]) => [k, String(v)]));
      const repository = str(p.repository, s.cmdb?.repository ?? '');
      if (!repository) return { skipped: 'no repository known for this asset (details.repository or CMDB)' };
      const r = await acts.openPullRequest({
        ...key,
        template: p.template as never,
        repository,
        params,
        title: `drw: ${s.detection.title}`.slice(0, 200),
        body: prBody(s, step, linkFor(s, opts)),
      });
      return { repository: r.repository, number: r.number, url: r.url, branch: r.branch, ...(r.noChange ? { noChange: true } : {}), ...(r.existing ? { existing: true } : {}) };
    }
    case 'notify':
    case 'escalate': {
      const r = await acts.notify({
        ...key,
        channel: str(p.channel, 'secops'),
        severity: s.facts.severity,
        text: `${step.action === 'escalate' ? '[escalation] ' : ''}${str(p.text, s.detection.title)}`,
        fields: { remediation: s.id, asset: asset.id, risk: s.facts.riskScore, status: 'in progress' },
      });
      if (step.action === 'escalate' && s.ticket) {
        // The ticket update goes to the ticketing workers: the notify queue's workers only serve notify.
        const ticketing = activitiesFor('ticketing', opts, { timeoutMs: step.timeoutMs, retry: step.retry, summary: `${step.id}${suffix}: ticket update` });
        await ticketing.updateTicket({ ...key, ticketId: s.ticket.ticketId, comment: `drw escalation: ${str(p.text, 'escalated')}`, priority: 'highest' });
      }
      return { channel: r.channel, delivered: r.delivered };
    }
    case 'runbook.run': {
      const params = Object.fromEntries(Object.entries(p).map(([k, v]) => [k, String(v ?? '')]));
      const r = await acts.runRunbook({ ...key, runbook: str(p.runbook, 'restart-service'), assetId: asset.id, params });
      if (!r.ok) throw new Error(`runbook ${r.runbook} failed: ${r.output.slice(0, 300)}`);
      return { runbook: r.runbook, ok: r.ok, output: r.output.slice(0, 500) };
    }
    case 'verify':
      throw new Error('verify steps are run by the verification loop');
  }
}

export function deviceIdFor(s: RemediationState): string | undefined {
  const d = s.detection.details ?? {};
  const fromDetection = d.crowdstrikeDeviceId ?? d.defenderMachineId ?? d.deviceId;
  if (typeof fromDetection === 'string') return fromDetection;
  return s.cmdb?.endpointIds?.crowdstrike ?? s.cmdb?.endpointIds?.defender;
}

function prBody(s: RemediationState, step: Pick<PlanStep, 'id'>, link?: string): string {
  const d = s.detection;
  return [
    `## ${d.title}`,
    '',
    `drw opened this pull request to remediate a **${s.facts.severity}** finding (risk ${s.facts.riskScore}).`,
    '',
    `| | |`,
    `|---|---|`,
    `| Source | ${d.source} |`,
    `| Rule | ${d.rule} |`,
    `| Asset | ${s.facts.asset.id} |`,
    `| Playbook | ${s.plan.playbook} (step \`${step.id}\`, policy ${s.plan.policyVersion}) |`,
    s.ticket ? `| Ticket | ${s.ticket.url ?? s.ticket.ticketId} |` : '',
    link ? `| Remediation | ${link} |` : `| Remediation | ${s.id} |`,
  ]
    .filter(Boolean)
    .join('\n');
}

/** Turns the verify step's check names into concrete checks from what earlier steps did. */
export function checksFor(s: RemediationState, step: PlanStep): { checks: VerifyCheck[]; internal: string[]; vacuous: string[] } {
  const names: unknown[] = Array.isArray(step.params.checks) ? step.params.checks : [];
  const checks: VerifyCheck[] = [];
  const internal: string[] = [];
  const vacuous: string[] = [];
  const done = (action: string) => s.plan.steps.filter((x) => x.action === action && x.status === 'done');
  for (const raw of names) {
    const name = typeof raw === 'string' ? raw : typeof raw === 'object' && raw && 'kind' in raw ? String((raw as { kind: unknown }).kind) : '';
    switch (name) {
      case 'pr_merged': {
        const prs = done('iac.pull_request').filter((x) => typeof x.result?.number === 'number' && !x.result?.noChange);
        if (prs.length === 0) vacuous.push('pr_merged: no pull request was opened');
        for (const pr of prs) checks.push({ kind: 'pr_merged', repository: String(pr.result!.repository), number: Number(pr.result!.number) });
        break;
      }
      case 'host_contained':
        if (done('endpoint.isolate').length === 0) vacuous.push('host_contained: the host was not contained');
        else checks.push({ kind: 'host_contained', assetId: s.facts.asset.id, deviceId: deviceIdFor(s) });
        break;
      case 'host_released':
        checks.push({ kind: 'host_released', assetId: s.facts.asset.id, deviceId: deviceIdFor(s) });
        break;
      case 'ticket_closed':
        if (s.ticket) checks.push({ kind: 'ticket_state', ticketId: s.ticket.ticketId, closed: true });
        else vacuous.push('ticket_closed: no ticket');
        break;
      case 'finding_resolved':
        internal.push('finding_resolved');
        break;
      case 'http': {
        const r = raw as { url?: string; expectStatus?: number; expectBodyIncludes?: string };
        if (r.url) checks.push({ kind: 'http', url: r.url, expectStatus: r.expectStatus, expectBodyIncludes: r.expectBodyIncludes });
        break;
      }
      default:
        vacuous.push(`unknown check ${JSON.stringify(raw)}`);
    }
  }
  return { checks, internal, vacuous };
}
