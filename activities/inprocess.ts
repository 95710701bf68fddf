/**
 * In-process default systems: enough state to make the whole workflow run (and verify)
 * without any vendor. One instance per worker process; a restarted worker starts empty,
 * which the idempotent interfaces tolerate (a retry re-creates what was lost).
 */
import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { canonicalJson } from '../planner/hash';
import type {
  AssetFacts,
  ChangeControl,
  ChangeState,
  ChangeStateName,
  ChangeType,
  Cmdb,
  ContainmentState,
  Endpoint,
  EndpointTarget,
  Iac,
  IacChangeFailure,
  Identity,
  Notify,
  PullRequestRef,
  Runbook,
  TicketRef,
  Ticketing,
  TicketState,
} from './interfaces';
import { confirmTarget, type DeviceDirectory, resolveTarget, sameHost } from './adapters/edr-target';

export interface InProcessOptions {
  /** A pull request counts as merged this long after it was opened (the embedded demo merges by itself). */
  autoMergeAfterMs?: number;
  assets?: Record<string, Omit<AssetFacts, 'found'>>;
  /** Runbooks that fail, for tests. */
  failingRunbooks?: string[];
  /**
   * The fake EDR's devices. A hostname with none of these is one device whose id is the hostname
   * itself (so every host of the demo can be contained); the endpointIds of `assets` are devices too.
   */
  devices?: Array<{ deviceId: string; hostname: string }>;
  /**
   * Who approves every normal or emergency change as soon as it is opened. Unset (the default),
   * such a change waits for `decideChange`: the stand-in approves nothing by itself.
   */
  changeApprover?: string;
}

/** A change of the in-process stand-in, as `record.changes` keeps it. */
export interface InProcessChange {
  changeId: string;
  number: string;
  key: string;
  type: ChangeType;
  state: ChangeStateName;
  approval: ChangeState['approval'];
  approvedBy: string[];
  rejectedBy: string[];
  plannedStart?: string;
  plannedEnd?: string;
  closeCode?: string;
  notes: string[];
}

export interface InProcessSystems {
  ticketing: Ticketing;
  cmdb: Cmdb;
  iac: Iac;
  endpoint: Endpoint;
  notify: Notify;
  runbook: Runbook;
  identity: Identity;
  change: ChangeControl;
  /** A CAB member's decision on a change waiting for approval (tests, demos): what ServiceNow's approval would do. */
  decideChange(changeId: string, decision: 'approve' | 'reject', as: string): void;
  /** What happened, for tests and the demo log. */
  record: {
    tickets: Map<string, { id: string; key: string; title: string; status: string; comments: string[]; resolution?: string }>;
    containments: Map<string, ContainmentState>;
    isolateCalls: string[];
    pullRequests: Map<string, PullRequestRef & { openedAt: number }>;
    notifications: { channel: string; text: string; key: string }[];
    runbooks: string[];
    /** userId → whether it can sign in, and how many times its sessions were revoked. */
    accounts: Map<string, { enabled: boolean; revocations: number }>;
    /** changeId → change. */
    changes: Map<string, InProcessChange>;
  };
}

export function createInProcessSystems(options: InProcessOptions = {}): InProcessSystems {
  const record: InProcessSystems['record'] = {
    tickets: new Map(),
    containments: new Map(),
    isolateCalls: [],
    pullRequests: new Map(),
    notifications: [],
    runbooks: [],
    accounts: new Map(),
    changes: new Map(),
  };
  const byKey = new Map<string, string>();
  const seenKeys = new Set<string>();
  let ticketSeq = 0;
  let prSeq = 0;

  const ticketing: Ticketing = {
    async openTicket(input): Promise<TicketRef> {
      const existing = byKey.get(input.remediationId);
      if (existing) return { system: 'inprocess', ticketId: existing, existing: true };
      const id = `DRW-${++ticketSeq}`;
      byKey.set(input.remediationId, id);
      record.tickets.set(id, { id, key: input.idempotencyKey, title: input.title, status: 'open', comments: [] });
      return { system: 'inprocess', ticketId: id };
    },
    async updateTicket(input) {
      const t = record.tickets.get(input.ticketId);
      if (!t || seenKeys.has(`u:${input.idempotencyKey}`)) return;
      seenKeys.add(`u:${input.idempotencyKey}`);
      t.comments.push(input.comment);
    },
    async closeTicket(input) {
      const t = record.tickets.get(input.ticketId);
      if (!t) return;
      t.status = `closed:${input.resolution}`;
      t.resolution = input.resolution;
      t.comments.push(input.comment);
    },
    async reopenTicket(input) {
      const t = record.tickets.get(input.ticketId);
      if (!t) return;
      if (!seenKeys.has(`r:${input.idempotencyKey}`)) {
        seenKeys.add(`r:${input.idempotencyKey}`);
        t.comments.push(input.comment);
      }
      t.status = 'open';
      delete t.resolution;
    },
    async getTicketState({ ticketId }): Promise<TicketState> {
      const t = record.tickets.get(ticketId);
      const closed = Boolean(t?.status.startsWith('closed'));
      // Only drw changes these tickets: nobody else can have closed or reopened one.
      return { ticketId, status: t?.status ?? 'unknown', closed, ...(t ? { updatedBy: 'drw' } : {}), ...(closed && t?.resolution ? { resolution: t.resolution } : {}) };
    },
  };

  const cmdb: Cmdb = {
    async lookupAsset({ assetId }) {
      const a = options.assets?.[assetId];
      return a ? { found: true, ...a } : { found: false };
    },
  };

  // No repository here: "the change" is the template and its parameters, and nothing claims a file.
  const inProcessChange = (template: string, params: Record<string, string> = {}) => ({
    digest: createHash('sha256').update(canonicalJson({ template, params })).digest('hex'),
    named: `template ${template}${Object.keys(params).length ? ` with ${Object.keys(params).sort().map((k) => `${k}=${params[k]}`).join(', ')}` : ''}`,
  });
  const iac: Iac = {
    async previewChange({ repository, template, params }) {
      const change = inProcessChange(template, params);
      return {
        repository,
        base: 'inprocess',
        baseCommit: 'inprocess',
        files: [],
        diff: '',
        summary: `in-process IaC (no repository): ${change.named} for ${repository}; no file is read or changed, the pull request is simulated`,
        digest: change.digest,
      };
    },
    async openPullRequest(input) {
      const existing = record.pullRequests.get(input.idempotencyKey);
      if (existing) return { ...existing, existing: true };
      const change = inProcessChange(input.template, input.params);
      if (input.expectChange !== undefined && input.expectChange !== change.digest) {
        throw ApplicationFailure.create({
          message: `the change to ${input.repository} is no longer the one approved (in-process IaC, ${change.named}); nothing was opened`,
          type: 'ChangeMismatch' satisfies IacChangeFailure,
          nonRetryable: true,
        });
      }
      const ref = {
        repository: input.repository,
        number: ++prSeq,
        url: `inprocess://${input.repository}/pull/${prSeq}`,
        branch: `drw/${input.template}/${prSeq}`,
        openedAt: Date.now(),
      };
      record.pullRequests.set(input.idempotencyKey, ref);
      return ref;
    },
    async getPullRequestState({ number }) {
      const pr = [...record.pullRequests.values()].find((p) => p.number === number);
      const merged = pr !== undefined && Date.now() - pr.openedAt >= (options.autoMergeAfterMs ?? 0);
      return { number, state: merged ? 'merged' : 'open' };
    },
  };

  // The same target checks as the vendor adapters (edr-target.ts), over the fake EDR's devices.
  const devices = new Map<string, string>();
  for (const [assetId, a] of Object.entries(options.assets ?? {})) {
    for (const id of Object.values(a.endpointIds ?? {})) if (id) devices.set(id, a.name ?? assetId);
  }
  for (const d of options.devices ?? []) devices.set(d.deviceId, d.hostname);
  const named = (hostname: string) => [...devices].filter(([, h]) => sameHost(hostname, h)).map(([deviceId, h]) => ({ deviceId, hostname: h, record: null }));
  const directory: DeviceDirectory<null> = {
    vendor: 'inprocess',
    validId: (id) => id.length > 0 && id.length <= 255,
    validHostname: (name) => name.length > 0 && name.length <= 255,
    async byId(id) {
      const hostname = devices.get(id);
      if (hostname !== undefined) return { deviceId: id, hostname, record: null };
      return named(id).length ? undefined : { deviceId: id, hostname: id, record: null };
    },
    async byHostname(name) {
      const found = named(name);
      return found.length ? found : [{ deviceId: name, hostname: name, record: null }];
    },
  };
  const confirmedTarget = async (input: EndpointTarget): Promise<string> => (await confirmTarget(directory, input)).deviceId;
  const endpoint: Endpoint = {
    // The fake stands in for whichever EDR the CMDB's endpointIds were recorded for.
    resolveDevice: async (input) =>
      (await resolveTarget(directory, { ...input, hint: input.hint && typeof input.hint === 'object' ? (input.hint.crowdstrike ?? input.hint.defender) : input.hint })).resolved,
    async isolateHost(input) {
      const deviceId = await confirmedTarget(input);
      if (record.containments.get(input.assetId) !== 'contained') record.isolateCalls.push(input.assetId);
      record.containments.set(input.assetId, 'contained');
      return { system: 'inprocess', deviceId, state: 'contained' };
    },
    async releaseHost(input) {
      const deviceId = await confirmedTarget(input);
      record.containments.set(input.assetId, 'normal');
      return { system: 'inprocess', deviceId, state: 'normal' };
    },
    async getContainment(input) {
      const deviceId = await confirmedTarget(input);
      return { system: 'inprocess', deviceId, state: record.containments.get(input.assetId) ?? 'normal' };
    },
  };

  const notify: Notify = {
    async notify(input) {
      if (!seenKeys.has(`n:${input.idempotencyKey}`)) {
        seenKeys.add(`n:${input.idempotencyKey}`);
        record.notifications.push({ channel: input.channel, text: input.text, key: input.idempotencyKey });
      }
      return { delivered: true, channel: input.channel };
    },
  };

  const runbook: Runbook = {
    async runRunbook(input) {
      record.runbooks.push(`${input.runbook}@${input.assetId}`);
      const ok = !(options.failingRunbooks ?? []).includes(input.runbook);
      return { runbook: input.runbook, ok, output: ok ? `ran ${input.runbook} on ${input.assetId}` : `${input.runbook} exited 1`, system: 'inprocess', status: ok ? 'succeeded' : 'failed' };
    },
  };

  // Every account exists and starts enabled: the in-process default has no directory to ask.
  const account = (userId: string) => {
    if (!record.accounts.has(userId)) record.accounts.set(userId, { enabled: true, revocations: 0 });
    return record.accounts.get(userId)!;
  };
  const accountState = (userId: string) => {
    const enabled = account(userId).enabled;
    return { system: 'inprocess', userId, login: userId, enabled, status: enabled ? 'enabled' : 'disabled' };
  };
  const setEnabled = (userId: string, enabled: boolean) => {
    const existing = account(userId).enabled === enabled;
    account(userId).enabled = enabled;
    return { ...accountState(userId), existing };
  };
  const identity: Identity = {
    async revokeSessions({ userId }) {
      account(userId).revocations++;
      return { ...accountState(userId), revokedAt: new Date().toISOString() };
    },
    disableAccount: async ({ userId }) => setEnabled(userId, false),
    enableAccount: async ({ userId }) => setEnabled(userId, true),
    getAccountState: async ({ userId }) => accountState(userId),
  };

  const { change, decideChange } = inProcessChangeControl(record.changes, options.changeApprover);
  return { ticketing, cmdb, iac, endpoint, notify, runbook, identity, change, decideChange, record };
}

const CHANGE_VALUES: Record<ChangeStateName, number> = { New: -5, Assess: -4, Authorize: -3, Scheduled: -2, Implement: -1, Review: 0, Closed: 3, Canceled: 4 };

/**
 * Change control without a change system: the same states as ServiceNow's model, one stage of
 * approval (Authorize) for normal and emergency changes, decided by `decideChange` or by
 * `changeApprover`; standard changes are pre-approved and Scheduled at once.
 */
function inProcessChangeControl(changes: Map<string, InProcessChange>, approver: string | undefined): Pick<InProcessSystems, 'change' | 'decideChange'> {
  let seq = 0;
  const byKey = new Map<string, string>();
  const get = (changeId: string): InProcessChange => {
    const c = changes.get(changeId);
    if (!c) throw ApplicationFailure.create({ message: `inprocess: change ${changeId} not found`, type: 'inprocess.NotFound', nonRetryable: true });
    return c;
  };
  const view = (c: InProcessChange): ChangeState => ({
    changeId: c.changeId,
    number: c.number,
    type: c.type,
    state: { label: c.state, value: CHANGE_VALUES[c.state] },
    implementable: c.state === 'Scheduled' || c.state === 'Implement',
    approval: c.approval,
    ...(c.approvedBy.length ? { approvedBy: [...c.approvedBy] } : {}),
    ...(c.rejectedBy.length ? { rejectedBy: [...c.rejectedBy] } : {}),
    ...(c.plannedStart ? { plannedStart: c.plannedStart, plannedEnd: c.plannedEnd } : {}),
    closed: c.state === 'Closed' || c.state === 'Canceled',
    ...(c.closeCode ? { closeCode: c.closeCode } : {}),
  });
  const refuse = (c: InProcessChange, type: 'ChangeNotImplementable' | 'ChangeNotClosable', why: string) =>
    ApplicationFailure.create({ message: `inprocess: change ${c.number} is ${c.state}: ${why}`, type, nonRetryable: true });
  const decideChange = (changeId: string, decision: 'approve' | 'reject', as: string) => {
    const c = get(changeId);
    if (c.state !== 'Authorize') throw new Error(`change ${c.number} is ${c.state}: no approval is requested`);
    if (decision === 'approve') Object.assign(c, { state: 'Scheduled', approval: 'approved', approvedBy: [...c.approvedBy, as] });
    else Object.assign(c, { state: 'New', approval: 'rejected', rejectedBy: [...c.rejectedBy, as] });
  };
  const change: ChangeControl = {
    async openChange(input) {
      const known = byKey.get(input.idempotencyKey);
      if (known && changes.get(known)?.state !== 'Canceled') return { system: 'inprocess', changeId: known, number: changes.get(known)!.number, existing: true };
      const c: InProcessChange = {
        changeId: `inprocess-chg-${++seq}`,
        number: `CHG${String(seq).padStart(7, '0')}`,
        key: input.idempotencyKey,
        type: input.type,
        state: input.type === 'standard' ? 'Scheduled' : 'Authorize',
        approval: input.type === 'standard' ? 'approved' : 'requested',
        approvedBy: [],
        rejectedBy: [],
        plannedStart: input.requestedWindow?.start,
        plannedEnd: input.requestedWindow?.end,
        notes: [input.description],
      };
      changes.set(c.changeId, c);
      byKey.set(input.idempotencyKey, c.changeId);
      if (approver && c.state === 'Authorize') decideChange(c.changeId, 'approve', approver);
      return { system: 'inprocess', changeId: c.changeId, number: c.number, existing: false };
    },
    getChange: async ({ changeId }) => view(get(changeId)),
    async markImplementing({ changeId }) {
      const c = get(changeId);
      if (c.state === 'Scheduled') c.state = 'Implement';
      if (c.state !== 'Implement') throw refuse(c, 'ChangeNotImplementable', 'not Scheduled');
      return view(c);
    },
    async closeChange({ changeId, outcome, notes }) {
      const c = get(changeId);
      if (c.state === 'Closed') return view(c);
      if (!['Scheduled', 'Implement', 'Review'].includes(c.state)) throw refuse(c, 'ChangeNotClosable', 'it was never authorized or is canceled');
      Object.assign(c, { state: 'Closed', closeCode: outcome, notes: [...c.notes, notes] });
      return view(c);
    },
    async cancelChange({ changeId, reason }) {
      const c = get(changeId);
      if (c.state !== 'Closed' && c.state !== 'Canceled') Object.assign(c, { state: 'Canceled', notes: [...c.notes, reason] });
      return view(c);
    },
  };
  return { change, decideChange };
}
