/**
 * The activities the remediation workflow calls, built from one implementation per kind
 * of system (`createActivities(deps)`, as in temporalio/samples-typescript). Which
 * implementation backs each kind (in-process, simulator, or the real vendor) is the
 * worker's configuration; the workflow never knows.
 */
import { ApplicationFailure } from '@temporalio/common';
import { playbooksFor, type FixedFacts } from '../planner/match';
import { compactPolicy } from '../planner/policy-wire';
import type { PolicySet } from '../planner/policy-schema';
import { checkSourceFinding, type FindingSources } from './finding-sources';
import type { SlackApprovals } from './adapters/slack';
import type { ApprovalSubject } from './adapters/slack/approval-message';
import type { PlanStep } from '../planner/types';
import type { CancelChangeInput, ChangeControl, ChangeIdInput, CloseChangeInput, Cmdb, Endpoint, EvaluatePolicyInput, Iac, Identity, IdentityActionInput, MarkImplementingInput, OpenChangeInput, Notify, PolicyDecision, PolicyEngine, Runbook, Ticketing, Verify, VerifyCheck, VerifyResult } from './interfaces';

export interface ActivityDeps {
  ticketing: Ticketing;
  cmdb: Cmdb;
  iac: Iac;
  endpoint: Endpoint;
  notify: Notify;
  runbook: Runbook;
  /** Okta, Entra ID or in-process; optional so older wirings keep working (its activities then refuse). */
  identity?: Identity;
  /** ServiceNow Change or in-process; optional so older wirings keep working (its activities then refuse). */
  change?: ChangeControl;
  /** OPA when OPA_URL is set (activities/adapters/opa): asked by playbooks' `opa:` questions. */
  policyEngine?: PolicyEngine;
  /** Generic checks (http); the others are answered through the systems above. */
  httpVerify?: Verify;
  /**
   * Kinds of system this process serves without a provider, with why (activities/registry.ts): planning
   * blocks their steps. Only kinds this process runs: a worker split by kind cannot speak for the others.
   */
  unprovided?: Record<string, string>;
  /** Sources re-queried by a `source_finding` check, by `ref.source` (activities/finding-sources.ts); none configured: "not verified". */
  findingSources?: FindingSources;
  /** Current policy set (reloaded by the caller when the files change). */
  policy: () => PolicySet;
  /** Approval requests in Slack (SLACK_BOT_TOKEN); none: they are not posted, and the activity says so. */
  approvalMessages?: SlackApprovals;
}

export interface ApprovalRequestCall {
  idempotencyKey: string;
  remediationId: string;
  remediation: ApprovalSubject;
  step: PlanStep;
  /** The remediation's page (/ui/remediations/{id}). */
  pageUrl?: string;
}

/** `configured: false`: no chat is configured on this worker; nothing was posted. */
export interface ApprovalRequestPosts {
  configured: boolean;
  /** Each message posted (or posted before for this key): its channel and ts. */
  posts: { channel: string; ts?: string }[];
}

export interface ApprovalOutcomeCall {
  idempotencyKey: string;
  remediationId: string;
  posts: { channel: string; ts: string }[];
  text: string;
}

export function createActivities(deps: ActivityDeps) {
  const identity = (): Identity => deps.identity ?? refuse('identity', 'no identity system is configured on this worker (DRW_IDENTITY, see README, Integrations)');
  return {
    ...createChangeActivities(deps),
    /** With `for`, only the playbooks this remediation can ever use (planner/match.ts playbooksFor). */
    /** `unprovided` (only when some kind this process serves has no provider): what planning blocks, with why. */
    /** `compact` (workflows that expand it, planner/policy-wire.ts): each step's defaults left out of what the history records. */
    async loadPolicy(input: { expectVersion?: string; for?: FixedFacts; compact?: boolean }): Promise<PolicySet & { unprovided?: Record<string, string> }> {
      const p = deps.policy();
      if (input.expectVersion && input.expectVersion !== p.version) {
        // This worker has not picked up the announced policy yet; another attempt (or worker) will.
        throw ApplicationFailure.retryable(`policy ${input.expectVersion} announced but this worker has ${p.version}`, 'PolicyVersionMismatch');
      }
      const chosen = input.for ? playbooksFor(p, input.for) : p;
      const policy = input.compact ? compactPolicy(chosen) : chosen;
      return deps.unprovided && Object.keys(deps.unprovided).length ? { ...policy, unprovided: deps.unprovided } : policy;
    },
    lookupAsset: deps.cmdb.lookupAsset.bind(deps.cmdb),
    openTicket: deps.ticketing.openTicket.bind(deps.ticketing),
    updateTicket: deps.ticketing.updateTicket.bind(deps.ticketing),
    closeTicket: deps.ticketing.closeTicket.bind(deps.ticketing),
    getTicketState: deps.ticketing.getTicketState.bind(deps.ticketing),
    reopenTicket: deps.ticketing.reopenTicket.bind(deps.ticketing),
    /** Before approval: the change a pull request step would make (nothing is pushed). */
    previewChange: deps.iac.previewChange.bind(deps.iac),
    openPullRequest: deps.iac.openPullRequest.bind(deps.iac),
    resolveDevice: deps.endpoint.resolveDevice.bind(deps.endpoint),
    isolateHost: deps.endpoint.isolateHost.bind(deps.endpoint),
    releaseHost: deps.endpoint.releaseHost.bind(deps.endpoint),
    notify: deps.notify.notify.bind(deps.notify),
    /** A step awaiting approval, asked for in each of its groups' channels; one key, one message per channel. */
    async postApprovalRequest(input: ApprovalRequestCall): Promise<ApprovalRequestPosts> {
      const slack = deps.approvalMessages;
      if (!slack) return { configured: false, posts: [] };
      const posts: ApprovalRequestPosts['posts'] = [];
      for (const channel of slack.channelsFor(input.step)) {
        const r = await slack.postApprovalRequest({ ...input, channel, pageUrl: input.pageUrl ?? '' });
        posts.push({ channel: r.channel, ...(r.ts ? { ts: r.ts } : {}) });
      }
      return { configured: true, posts };
    },
    /** The posted requests replaced with the step's outcome. */
    async updateApprovalRequest(input: ApprovalOutcomeCall): Promise<{ configured: boolean; updated: number }> {
      const slack = deps.approvalMessages;
      if (!slack) return { configured: false, updated: 0 };
      for (const p of input.posts) await slack.updateApprovalRequest({ idempotencyKey: input.idempotencyKey, remediationId: input.remediationId, channel: p.channel, ts: p.ts, text: input.text });
      return { configured: true, updated: input.posts.length };
    },
    runRunbook: deps.runbook.runRunbook.bind(deps.runbook),
    /** A playbook's question to the policy engine; without one configured, no answer (the planner fails closed). */
    evaluatePolicy: async (input: EvaluatePolicyInput): Promise<PolicyDecision> =>
      deps.policyEngine ? deps.policyEngine.evaluate(input) : refuse('policyEngine', 'no policy engine is configured on this worker (set OPA_URL, see README, Integrations)'),
    identityRevokeSessions: async (input: IdentityActionInput) => identity().revokeSessions(input),
    identityDisable: async (input: IdentityActionInput) => identity().disableAccount(input),
    identityEnable: async (input: IdentityActionInput) => identity().enableAccount(input),
    async verify(input: { check: VerifyCheck }): Promise<VerifyResult> {
      const c = input.check;
      switch (c.kind) {
        case 'host_contained':
        case 'host_released': {
          const r = await deps.endpoint.getContainment({ assetId: c.assetId, deviceId: c.deviceId, hostname: c.hostname });
          const want = c.kind === 'host_contained' ? 'contained' : 'normal';
          return { ok: r.state === want, detail: `${r.system} reports ${r.deviceId} ${r.state}` };
        }
        case 'pr_merged': {
          const r = await deps.iac.getPullRequestState({ repository: c.repository, number: c.number });
          return { ok: r.state === 'merged', detail: `${c.repository}#${c.number} is ${r.state}` };
        }
        case 'ticket_state': {
          const r = await deps.ticketing.getTicketState({ ticketId: c.ticketId });
          return { ok: r.closed === c.closed, detail: `ticket ${c.ticketId} is ${r.status}` };
        }
        case 'http':
          if (!deps.httpVerify) return { ok: false, detail: 'no HTTP checker configured' };
          return deps.httpVerify.verify({ check: c });
        case 'account_disabled':
        case 'account_enabled': {
          const r = await identity().getAccountState({ userId: c.userId });
          return { ok: r.enabled === (c.kind === 'account_enabled'), detail: `${r.system} reports ${r.login ?? r.userId} ${r.status}` };
        }
        case 'finding_resolved':
          return { ok: false, detail: 'finding_resolved is decided by the workflow from the findingResolved signal' };
        case 'source_finding':
          return checkSourceFinding(deps.findingSources, c.ref);
      }
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;

/**
 * Change control around a step: open it (and ask for approval), read it until implementable,
 * start it, close it with the outcome, or cancel it. Kept apart from createActivities until the
 * routing table (remediation/routing.ts) gives them a `change` queue: spread it into
 * createActivities's answer in the same change that adds the routes.
 */
export function createChangeActivities(deps: Pick<ActivityDeps, 'change'>) {
  const change = (): ChangeControl => deps.change ?? refuse('change', 'no change-management system is configured on this worker (DRW_CHANGE, see README, Integrations)');
  return {
    openChange: async (input: OpenChangeInput) => change().openChange(input),
    getChange: async (input: ChangeIdInput) => change().getChange(input),
    markChangeImplementing: async (input: MarkImplementingInput) => change().markImplementing(input),
    closeChange: async (input: CloseChangeInput) => change().closeChange(input),
    cancelChange: async (input: CancelChangeInput) => change().cancelChange(input),
  };
}
export type ChangeActivities = ReturnType<typeof createChangeActivities>;

/** A kind of system this worker has none of: its activities fail at once, with the reason, never silently. */
function refuse(kind: string, message: string): never {
  throw ApplicationFailure.create({ message, type: `${kind}.NotConfigured`, nonRetryable: true });
}
