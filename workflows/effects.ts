/**
 * Runs one plan action through its activity (remediation/routing.ts) and returns what
 * happened, for the driver to feed back to the core. Workflow code: deterministic, no I/O of
 * its own, no state changes: the outcome carries the ticket or CMDB record a step produced.
 */
import type { AssetFacts, TicketPriority, TicketRef } from '../activities/interfaces';
import type { PlanStep } from '../planner/types';
import { deviceIdFor, pullRequestRequest, userIdFor } from '../remediation/core';
import { ACTION_ROUTES } from '../remediation/routing';
import { CORE_STATE_VERSION, remediationRef, type RemediationState } from '../remediation/state';
import { activitiesFor } from './activities';
import type { RemediationOptions } from './input';

/** What a step needs to know about its remediation. */
export type StepContext = Pick<RemediationState, 'id' | 'detection' | 'facts' | 'plan' | 'ticket' | 'cmdb' | 'slaDeadlineMs'> & Partial<Pick<RemediationState, 'core' | 'targetProblem' | 'instance'>>;

export type RunnableStep = Pick<PlanStep, 'id' | 'action' | 'params' | 'timeoutMs' | 'retry' | 'title'> & Partial<Pick<PlanStep, 'target'>>;

export interface StepOutcome {
  /** Small and secret-free: it goes into the plan and the decision log. */
  result: Record<string, unknown>;
  ticket?: TicketRef;
  cmdb?: AssetFacts;
}

/** A step that cannot run for want of an input (not a vendor failure): the core marks it blocked. */
export class StepBlocked extends Error {}

function callKey(s: Pick<RemediationState, 'id' | 'instance'>, stepId: string, suffix = ''): { idempotencyKey: string; remediationId: string } {
  const ref = remediationRef(s);
  return { idempotencyKey: `${ref}:${stepId}${suffix}`, remediationId: ref };
}

/** Runs a step (or, with suffix ":compensate", its compensation). */
export async function runStep(s: StepContext, opts: RemediationOptions, step: RunnableStep, suffix = ''): Promise<StepOutcome> {
  const p = step.params;
  const acts = activitiesFor(ACTION_ROUTES[step.action].kind, opts, { timeoutMs: step.timeoutMs, retry: step.retry, summary: `${step.id}${suffix}: ${step.title}` });
  const key = callKey(s, step.id, suffix);
  const asset = s.facts.asset;
  switch (step.action) {
    case 'ticket.open': {
      if (s.ticket) {
        // One remediation, one ticket: a second "open" (new playbook, re-plan) becomes an update.
        await acts.updateTicket({ ...key, ticketId: s.ticket.ticketId, comment: `drw: plan v${s.plan.version} (${s.plan.playbook}) also asks for this ticket; keeping ${s.ticket.ticketId}.` });
        return { result: { ticketId: s.ticket.ticketId, reused: true } };
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
      return { ticket: ref, result: { system: ref.system, ticketId: ref.ticketId, ...(ref.url ? { url: ref.url } : {}), ...(ref.existing ? { existing: true } : {}) } };
    }
    case 'ticket.update': {
      if (!s.ticket) return { result: { skipped: 'no ticket yet' } };
      await acts.updateTicket({ ...key, ticketId: s.ticket.ticketId, comment: str(p.comment, `drw: update from plan v${s.plan.version}`), priority: p.priority ? priorityOf(p.priority, 'medium') : undefined });
      return { result: { ticketId: s.ticket.ticketId } };
    }
    case 'ticket.close': {
      if (!s.ticket) return { result: { skipped: 'no ticket' } };
      await acts.closeTicket({ ...key, ticketId: s.ticket.ticketId, resolution: 'remediated', comment: str(p.comment, 'drw: remediated') });
      return { result: { ticketId: s.ticket.ticketId, closed: true } };
    }
    case 'cmdb.lookup': {
      const facts = await acts.lookupAsset({ assetId: asset.id });
      return { cmdb: facts, result: { found: facts.found, ...(facts.ciId ? { ciId: facts.ciId } : {}) } };
    }
    case 'endpoint.isolate':
    case 'endpoint.release': {
      // The device resolved and checked at planning; runs begun before that (the pre-core workflow) act as they began.
      if (!step.target && s.core === CORE_STATE_VERSION) throw new StepBlocked(`no verified device for ${asset.id}: ${s.targetProblem ?? 'none was resolved when the plan was made'}`);
      const input = { ...key, assetId: asset.id, deviceId: step.target?.id ?? deviceIdFor(s), ...(s.cmdb?.name ? { hostname: s.cmdb.name } : {}), comment: str(p.comment, `drw ${s.id}`) };
      const r = step.action === 'endpoint.isolate' ? await acts.isolateHost(input) : await acts.releaseHost(input);
      return { result: { system: r.system, deviceId: r.deviceId, state: r.state, ...(r.actionId ? { actionId: r.actionId } : {}) } };
    }
    case 'iac.pull_request': {
      const request = pullRequestRequest(s, step);
      if ('blocked' in request) throw new StepBlocked(request.blocked);
      const r = await acts.openPullRequest({
        ...key,
        template: request.template as never,
        repository: request.repository,
        params: request.params,
        // The change its approvers saw: the adapter pushes nothing else.
        ...(step.target?.change ? { expectChange: step.target.change.digest } : {}),
        title: `drw: ${s.detection.title}`.slice(0, 200),
        body: prBody(s, step, linkFor(s, opts)),
      });
      return { result: { repository: r.repository, number: r.number, url: r.url, branch: r.branch, ...(r.noChange ? { noChange: true } : {}), ...(r.existing ? { existing: true } : {}) } };
    }
    case 'notify':
    case 'escalate': {
      const r = await acts.notify({
        ...key,
        channel: str(p.channel, 'secops'),
        severity: s.facts.severity,
        text: `${step.action === 'escalate' ? '[escalation] ' : ''}${str(p.text, s.detection.title)}`,
        // The remediation's page (a browser is sent to /ui, where sign-in still applies): the link grants nothing.
        fields: { remediation: s.id, asset: asset.id, risk: s.facts.riskScore, status: 'in progress', ...(linkFor(s, opts) ? { page: linkFor(s, opts)! } : {}) },
      });
      if (step.action === 'escalate' && s.ticket) {
        // The ticket update goes to the ticketing workers: the notify queue's workers only serve notify.
        const ticketing = activitiesFor('ticketing', opts, { timeoutMs: step.timeoutMs, retry: step.retry, summary: `${step.id}${suffix}: ticket update` });
        await ticketing.updateTicket({ ...key, ticketId: s.ticket.ticketId, comment: `drw escalation: ${str(p.text, 'escalated')}`, priority: 'highest' });
      }
      return { result: { channel: r.channel, delivered: r.delivered } };
    }
    case 'runbook.run': {
      const params = Object.fromEntries(Object.entries(p).map(([k, v]) => [k, String(v ?? '')]));
      const r = await acts.runRunbook({ ...key, runbook: str(p.runbook, 'restart-service'), assetId: asset.id, params });
      if (!r.ok) throw new Error(`runbook ${r.runbook} failed: ${r.output.slice(0, 300)}`);
      return { result: { runbook: r.runbook, ok: r.ok, output: r.output.slice(0, 500) } };
    }
    case 'identity.revoke_sessions':
    case 'identity.disable':
    case 'identity.enable': {
      const input = { ...key, userId: userIdFor(s, p), reason: str(p.reason, `drw ${s.id}: ${step.title}`) };
      const r =
        step.action === 'identity.revoke_sessions' ? await acts.identityRevokeSessions(input) : step.action === 'identity.disable' ? await acts.identityDisable(input) : await acts.identityEnable(input);
      return { result: { system: r.system, userId: r.userId, status: r.status, enabled: r.enabled, ...(r.existing ? { existing: true } : {}), ...(r.revokedAt ? { revokedAt: r.revokedAt } : {}) } };
    }
    case 'verify':
      throw new Error('verify steps are run by the verification loop');
  }
}

const PRIORITIES: TicketPriority[] = ['highest', 'high', 'medium', 'low'];
function priorityOf(v: unknown, fallback: TicketPriority): TicketPriority {
  return PRIORITIES.includes(v as TicketPriority) ? (v as TicketPriority) : fallback;
}

function str(v: unknown, fallback = ''): string {
  return typeof v === 'string' && v.length > 0 ? v : fallback;
}

function linkFor(s: Pick<RemediationState, 'id'>, opts: RemediationOptions): string | undefined {
  return opts.linkBase ? `${opts.linkBase.replace(/\/$/, '')}/v1/remediations/${encodeURIComponent(s.id)}` : undefined;
}

function ticketDescription(s: StepContext, link?: string): string {
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
  return lines.join('\n');
}

function prBody(s: StepContext, step: Pick<PlanStep, 'id'>, link?: string): string {
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
