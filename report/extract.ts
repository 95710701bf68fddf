/**
 * What a remediation's history says, in order: the start input, every signal and update
 * with its payload, every activity with its step, timers, search attribute upserts, how
 * each run closed, and the workflow's own decision log placed at the workflow task that
 * wrote it. The report and the policy what-if are both built from this.
 */
import type { AssetFacts } from '../activities/interfaces';
import type { PolicySet } from '../planner/policy-schema';
import type { RemediationResult } from '../signals';
import type { RemediationInput } from '../workflows/input';
import { described, type Decision, type DescribedDecision } from '../remediation/events';
import { isCoreState } from '../remediation/state';
import { typedLegacyDecision, type DecisionEntry as LegacyDecision } from '../workflows/legacy/state';
import { CORE_PATCH, DECISIONS_MEMO, PLANNING_CHECKS_MARKERS } from '../workflows/memo';
import { expandPolicy } from '../planner/policy-wire';
import {
  attributesOf,
  decodePayload,
  durationMs,
  eventIdOf,
  eventTimeIso,
  eventTimeMs,
  failureMessage,
  firstPayload,
  kindOf,
  searchAttributeValues,
  str,
  summaryOf,
  type HistoryEventJson,
  type RunHistory,
} from './history';

/** Sortable place in a chain: run, event id, then sub-order inside a workflow task. */
export interface Position {
  run: number;
  eventId: number;
  sub: number;
  seq: number;
}

export function comparePositions(a: Position, b: Position): number {
  return a.run - b.run || a.eventId - b.eventId || a.sub - b.sub || a.seq - b.seq;
}

export interface SignalRecord {
  pos: Position;
  at: string;
  name: string;
  payload: unknown;
  identity?: string;
}

export interface UpdateRecord {
  pos: Position;
  at: string;
  name: string;
  updateId?: string;
  payload: unknown;
  identity?: string;
  outcome: 'accepted' | 'completed' | 'failed' | 'rejected';
  result?: unknown;
  failure?: { message: string; type?: string };
  completedAt?: string;
}

export interface ActivityRecord {
  pos: Position;
  run: number;
  scheduledEventId: number;
  activityId?: string;
  type: string;
  taskQueue?: string;
  summary?: string;
  /** The plan step this call belongs to, from the summary "<stepId>: <title>". */
  stepId?: string;
  title?: string;
  compensation: boolean;
  input: unknown;
  scheduledAt: string;
  startedAt?: string;
  attempt?: number;
  closedAt?: string;
  closedPos?: Position;
  outcome: 'scheduled' | 'started' | 'completed' | 'failed' | 'timed_out' | 'cancelled';
  result?: unknown;
  failure?: { message: string; type?: string; nonRetryable?: boolean };
  retryState?: string;
}

export interface TimerRecord {
  pos: Position;
  run: number;
  timerId: string;
  summary?: string;
  startedAt: string;
  durationMs?: number;
  outcome: 'started' | 'fired' | 'cancelled';
  closedAt?: string;
}

export interface UpsertRecord {
  pos: Position;
  at: string;
  values: Record<string, unknown>;
}

export type PositionedDecision = DescribedDecision & { pos: Position };

export interface RunClose {
  eventId?: number;
  kind: 'running' | 'completed' | 'failed' | 'terminated' | 'canceled' | 'timed_out' | 'continued_as_new';
  at?: string;
  result?: RemediationResult;
  failure?: { message: string; type?: string };
  reason?: string;
  newRunId?: string;
}

export interface RunSummary {
  runId: string;
  sha256: string;
  events: number;
  startedAt?: string;
  closedAt?: string;
  close: RunClose;
  continuedFrom?: string;
  firstExecutionRunId?: string;
  taskQueue?: string;
}

export type DecisionsSource = 'history' | 'result' | 'carried' | 'query' | 'none';

export interface Extracted {
  workflowId: string;
  workflowType?: string;
  runs: RunSummary[];
  /** The first run's input (with `carried` when the chain here starts after a continue-as-new). */
  input?: RemediationInput;
  /** State carried into the first run here, when earlier runs are not part of it. */
  carried?: CarriedState;
  startedAt?: string;
  close: RunClose;
  signals: SignalRecord[];
  updates: UpdateRecord[];
  activities: ActivityRecord[];
  timers: TimerRecord[];
  upserts: UpsertRecord[];
  workflowTaskFailures: { pos: Position; at: string; message: string }[];
  decisions: PositionedDecision[];
  decisionsSource: DecisionsSource[];
  decisionsDropped: number;
  policies: { pos: Position; at: string; policy: PolicySet }[];
  cmdb: { pos: Position; at: string; facts: AssetFacts }[];
  /** The remediation began with the planning checks (the planning-checks marker, or a carried state with them). */
  planningChecks: boolean;
  warnings: string[];
}

/** The parts of the workflow state continue-as-new carries that the report and what-if read. */
export interface CarriedState {
  id: string;
  dedupeKey: string;
  requestedBy: string;
  detection: RemediationInput['detection'];
  facts: import('../planner/types').Facts;
  policy?: PolicySet;
  plan: import('../planner/types').Plan;
  approvals: import('../planner/types').ApprovalRecord[];
  escalations: import('../planner/types').EscalationTrigger[];
  verificationFailures: number;
  cancelled?: unknown;
  falsePositive?: unknown;
  resolvedAtSource?: unknown;
  decisions: (Decision | LegacyDecision)[];
  decisionsDropped: number;
  /** The decision log's last seq when the state was carried over. */
  seq?: number;
  slaDeadlineMs?: number;
  slaBreached: boolean;
  runs: number;
}

const STEP_SUMMARY = /^([a-z0-9][a-z0-9_-]*(?:\.[a-z0-9_-]+)+)(:compensate)?: (.*)$/s;

function stepOfSummary(summary: string | undefined): { stepId: string; compensation: boolean; title: string } | undefined {
  const m = summary ? STEP_SUMMARY.exec(summary) : null;
  return m ? { stepId: m[1], compensation: Boolean(m[2]), title: m[3] } : undefined;
}

function workflowTaskFailure(a: Record<string, any>): string {
  const cause = String(a.cause ?? '').replace(/^WORKFLOW_TASK_FAILED_CAUSE_/, '');
  const msg = failureMessage(a.failure).message;
  if (/UNHANDLED_COMMAND/.test(cause) || /UnhandledCommand/.test(msg)) return 'UnhandledCommand: new events arrived while the task completed; the worker retried it (normal around continue-as-new)';
  return [cause, msg].filter(Boolean).join(': ') || 'workflow task failed';
}

function floorMs(iso: string | undefined): number | undefined {
  if (!iso) return undefined;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : undefined;
}

/**
 * Extracts everything from the runs of one chain (oldest first). `queried` are decisions
 * read through the `decisions` query, for a remediation still running.
 */
export function extract(runs: RunHistory[], opts: { queried?: DescribedDecision[]; workflowId?: string } = {}): Extracted {
  const warnings: string[] = [];
  const signals: SignalRecord[] = [];
  const updates: UpdateRecord[] = [];
  const activities: ActivityRecord[] = [];
  const timers: TimerRecord[] = [];
  const upserts: UpsertRecord[] = [];
  const wtFailures: Extracted['workflowTaskFailures'] = [];
  const policies: Extracted['policies'] = [];
  const cmdb: Extracted['cmdb'] = [];
  const summaries: RunSummary[] = [];
  const wftStarts: { pos: Position; t: number }[] = [];
  const decisionSets: { source: DecisionsSource; entries: DescribedDecision[]; dropped: number }[] = [];
  /** Decisions written to the memo as they were made, at the event that wrote them. */
  const written: PositionedDecision[] = [];
  let input: RemediationInput | undefined;
  let workflowType: string | undefined;
  let workflowId = opts.workflowId ?? runs.find((r) => r.workflowId)?.workflowId;
  let close: RunClose = { kind: 'running' };
  let planningChecks = false;

  runs.forEach((run, ri) => {
    const byScheduled = new Map<number, ActivityRecord>();
    const byTimer = new Map<string, TimerRecord>();
    const byUpdate = new Map<string, UpdateRecord>();
    const summary: RunSummary = { runId: run.runId, sha256: run.sha256, events: run.events.length, close: { kind: 'running' } };
    // A run of the remediation core writes typed decisions; a pre-core run wrote sentences.
    let typed = false;
    const typedLog = (entries: unknown[]): DescribedDecision[] => entries.map((d) => (typed ? described(d as Decision) : typedLegacyDecision(d as LegacyDecision)));
    const pos = (e: HistoryEventJson, sub = 0): Position => ({ run: ri, eventId: eventIdOf(e), sub, seq: 0 });
    for (const e of run.events) {
      const a = attributesOf(e);
      const at = eventTimeIso(e) ?? '';
      switch (kindOf(e)) {
        case 'workflowExecutionStarted': {
          summary.startedAt = at;
          summary.continuedFrom = str(a.continuedExecutionRunId);
          summary.firstExecutionRunId = str(a.firstExecutionRunId);
          summary.taskQueue = str(a.taskQueue?.name);
          workflowType ??= str(a.workflowType?.name);
          workflowId ??= str(a.workflowId);
          const value = firstPayload(a.input) as RemediationInput | undefined;
          if (ri === 0) input = value;
          const carried = value?.carried as CarriedState | undefined;
          typed = isCoreState(carried);
          if (ri === 0 && typed && (carried as { factProvenance?: unknown }).factProvenance === true) planningChecks = true;
          if (carried && Array.isArray(carried.decisions)) decisionSets.push({ source: 'carried', entries: typedLog(carried.decisions), dropped: carried.decisionsDropped ?? 0 });
          break;
        }
        case 'workflowTaskStarted': {
          const t = eventTimeMs(e);
          if (t !== undefined) wftStarts.push({ pos: pos(e), t });
          break;
        }
        case 'markerRecorded':
          {
            const patch = (firstPayload(a.details?.['patch-data']) as { id?: unknown } | undefined)?.id;
            // A run with the planning checks (or a later rule, which implies them) is a core run: it records that marker instead of the core's.
            const checks = typeof patch === 'string' && PLANNING_CHECKS_MARKERS.includes(patch);
            if (patch === CORE_PATCH || checks) typed = true;
            if (checks && ri === 0) planningChecks = true;
          }
          break;
        case 'workflowPropertiesModified': {
          const field = a.upsertedMemo?.fields?.[DECISIONS_MEMO];
          const log = field ? decodePayload(field) : undefined;
          if (Array.isArray(log)) log.forEach((d: Decision, i) => written.push({ ...described(d), pos: { ...pos(e), sub: 1, seq: i } }));
          break;
        }
        case 'workflowTaskFailed':
          wtFailures.push({ pos: pos(e), at, message: workflowTaskFailure(a) });
          break;
        case 'workflowExecutionSignaled':
          signals.push({ pos: pos(e), at, name: String(a.signalName ?? ''), payload: firstPayload(a.input), identity: str(a.identity) });
          break;
        case 'workflowExecutionUpdateAccepted': {
          const req = a.acceptedRequest ?? {};
          // The handler ran in the workflow task after the sequencing event, before the ones it caused.
          const seqId = Number(a.acceptedRequestSequencingEventId ?? eventIdOf(e));
          const u: UpdateRecord = {
            pos: { run: ri, eventId: seqId, sub: 0.5, seq: 0 },
            at,
            name: String(req.input?.name ?? ''),
            updateId: str(req.meta?.updateId) ?? str(a.protocolInstanceId),
            payload: firstPayload(req.input?.args),
            identity: str(req.meta?.identity),
            outcome: 'accepted',
          };
          updates.push(u);
          if (u.updateId) byUpdate.set(u.updateId, u);
          break;
        }
        case 'workflowExecutionUpdateCompleted': {
          const u = byUpdate.get(String(a.meta?.updateId ?? ''));
          if (!u) break;
          u.completedAt = at;
          if (a.outcome?.failure) {
            u.outcome = 'failed';
            u.failure = failureMessage(a.outcome.failure);
          } else {
            u.outcome = 'completed';
            u.result = firstPayload(a.outcome?.success);
          }
          break;
        }
        case 'workflowExecutionUpdateRejected': {
          const req = a.rejectedRequest ?? {};
          updates.push({ pos: pos(e), at, name: String(req.input?.name ?? ''), updateId: str(req.meta?.updateId), payload: firstPayload(req.input?.args), identity: str(req.meta?.identity), outcome: 'rejected', failure: failureMessage(a.failure) });
          break;
        }
        case 'activityTaskScheduled': {
          const s = summaryOf(e);
          const step = stepOfSummary(s);
          const rec: ActivityRecord = {
            pos: pos(e),
            run: ri,
            scheduledEventId: eventIdOf(e),
            activityId: str(a.activityId),
            type: String(a.activityType?.name ?? ''),
            taskQueue: str(a.taskQueue?.name),
            summary: s,
            ...(step ? { stepId: step.stepId, title: step.title } : {}),
            compensation: Boolean(step?.compensation),
            input: firstPayload(a.input),
            scheduledAt: at,
            outcome: 'scheduled',
          };
          activities.push(rec);
          byScheduled.set(rec.scheduledEventId, rec);
          break;
        }
        case 'activityTaskStarted': {
          const rec = byScheduled.get(Number(a.scheduledEventId));
          if (rec) {
            rec.startedAt = at;
            rec.attempt = Number(a.attempt ?? 1);
            rec.outcome = 'started';
          }
          break;
        }
        case 'activityTaskCompleted':
        case 'activityTaskFailed':
        case 'activityTaskTimedOut':
        case 'activityTaskCanceled': {
          const rec = byScheduled.get(Number(a.scheduledEventId));
          if (!rec) break;
          const k = kindOf(e);
          rec.closedAt = at;
          rec.closedPos = pos(e);
          rec.outcome = k === 'activityTaskCompleted' ? 'completed' : k === 'activityTaskFailed' ? 'failed' : k === 'activityTaskTimedOut' ? 'timed_out' : 'cancelled';
          if (k === 'activityTaskCompleted') rec.result = firstPayload(a.result);
          if (a.failure) rec.failure = failureMessage(a.failure);
          if (a.retryState) rec.retryState = String(a.retryState).replace(/^RETRY_STATE_/, '').toLowerCase();
          if (k === 'activityTaskCompleted' && rec.type === 'loadPolicy' && rec.result && typeof rec.result === 'object') {
            policies.push({ pos: rec.closedPos, at, policy: expandPolicy(rec.result as PolicySet) });
          }
          if (k === 'activityTaskCompleted' && rec.type === 'lookupAsset' && rec.result && typeof rec.result === 'object') {
            cmdb.push({ pos: rec.closedPos, at, facts: rec.result as AssetFacts });
          }
          break;
        }
        case 'timerStarted': {
          const t: TimerRecord = { pos: pos(e), run: ri, timerId: String(a.timerId ?? ''), summary: summaryOf(e), startedAt: at, durationMs: durationMs(a.startToFireTimeout), outcome: 'started' };
          timers.push(t);
          byTimer.set(t.timerId, t);
          break;
        }
        case 'timerFired':
        case 'timerCanceled': {
          const t = byTimer.get(String(a.timerId ?? ''));
          if (t) {
            t.outcome = kindOf(e) === 'timerFired' ? 'fired' : 'cancelled';
            t.closedAt = at;
          }
          break;
        }
        case 'upsertWorkflowSearchAttributes':
          upserts.push({ pos: pos(e), at, values: searchAttributeValues(a.searchAttributes?.indexedFields) });
          break;
        case 'workflowExecutionCompleted': {
          const result = firstPayload(a.result) as RemediationResult | undefined;
          summary.close = { eventId: eventIdOf(e), kind: 'completed', at, ...(result ? { result } : {}) };
          if (result && Array.isArray(result.decisions)) decisionSets.push({ source: 'result', entries: typedLog(result.decisions), dropped: result.decisionsDropped ?? 0 });
          break;
        }
        case 'workflowExecutionFailed':
          summary.close = { eventId: eventIdOf(e), kind: 'failed', at, failure: failureMessage(a.failure) };
          break;
        case 'workflowExecutionTerminated':
          summary.close = { eventId: eventIdOf(e), kind: 'terminated', at, reason: str(a.reason) ?? 'terminated', ...(str(a.identity) ? { failure: { message: `by ${a.identity}` } } : {}) };
          break;
        case 'workflowExecutionCanceled':
          summary.close = { eventId: eventIdOf(e), kind: 'canceled', at };
          break;
        case 'workflowExecutionTimedOut':
          summary.close = { eventId: eventIdOf(e), kind: 'timed_out', at };
          break;
        case 'workflowExecutionContinuedAsNew':
          summary.close = { eventId: eventIdOf(e), kind: 'continued_as_new', at, newRunId: str(a.newExecutionRunId) };
          break;
        default:
          break;
      }
    }
    summary.closedAt = summary.close.at;
    summaries.push(summary);
    close = summary.close;
  });

  for (let i = 1; i < summaries.length; i++) {
    if (summaries[i].continuedFrom && summaries[i].continuedFrom !== summaries[i - 1].runId) {
      warnings.push(`run ${summaries[i].runId} continued from ${summaries[i].continuedFrom}, not from ${summaries[i - 1].runId}: the runs given are not one chain`);
    }
  }
  if (summaries[0]?.continuedFrom) {
    warnings.push(`the history starts at run ${summaries[0].runId}, continued from ${summaries[0].continuedFrom}; earlier runs are not included (export with --chain for all of them)`);
  }

  if (opts.queried?.length) decisionSets.push({ source: 'query', entries: opts.queried, dropped: 0 });
  // The decision log: every copy (carried into each run, the result, a query), merged by seq.
  const bySeq = new Map<number, DescribedDecision>();
  if (written.length) decisionSets.unshift({ source: 'history', entries: written, dropped: 0 });
  const writtenAt = new Map(written.map((d) => [d.seq, d.pos]));
  let dropped = 0;
  for (const set of decisionSets) {
    for (const d of set.entries) if (typeof d?.seq === 'number' && !bySeq.has(d.seq)) bySeq.set(d.seq, d);
    dropped = Math.max(dropped, set.dropped);
  }
  const seqs = [...bySeq.keys()].sort((a, b) => a - b);
  const missingBefore = seqs.length ? seqs[0] - 1 : 0;
  if (missingBefore > 0) warnings.push(`the first ${missingBefore} decision log entries are no longer in the log (it keeps the newest ones); the history events still cover them`);
  if (seqs.length === 0 && close.kind === 'running') warnings.push('no decision log in this history yet (the remediation is still running); plans and reasons come from the decisions query only when the report is built from the server');

  // Each decision happened in the workflow task whose start time is its timestamp.
  wftStarts.sort((a, b) => comparePositions(a.pos, b.pos));
  /** The last workflow task started at or before `t`: when a decision stamped `t` was made. */
  const taskAt = (t: number): Position | undefined => {
    let anchor: Position | undefined;
    for (const w of wftStarts) {
      if (Math.floor(w.t) <= t) anchor = w.pos;
      else break;
    }
    return anchor;
  };
  /** The last workflow task started before position `p` (the one whose completion wrote an event at `p`). */
  const taskBefore = (p: Position): Position => {
    let anchor = p;
    for (const w of wftStarts) {
      if (comparePositions(w.pos, p) < 0) anchor = w.pos;
      else break;
    }
    return anchor;
  };
  let previous: Position = { run: 0, eventId: 0, sub: 0, seq: 0 };
  const decisions: PositionedDecision[] = seqs.map((seq) => {
    const d = bySeq.get(seq)!;
    const at = writtenAt.get(seq);
    const made = taskAt(floorMs(d.at) ?? 0);
    // A decision written later than it was made (a step's start waits for the next write) goes where it
    // was made; workflow time and event times differ by milliseconds, so never before the decision before it.
    const base = at && !(made && comparePositions(made, taskBefore(at)) < 0) ? at : { ...(made ?? previous), sub: 1 };
    const pos = comparePositions(base, previous) < 0 ? { ...previous, seq } : { ...base, seq };
    previous = pos;
    return { ...d, pos };
  });

  const first = input;
  return {
    workflowId: workflowId ?? (first?.carried as CarriedState | undefined)?.id ?? 'unknown',
    workflowType,
    runs: summaries,
    input: first,
    carried: first?.carried as CarriedState | undefined,
    startedAt: summaries[0]?.startedAt,
    close,
    signals,
    updates,
    activities,
    timers,
    upserts,
    workflowTaskFailures: wtFailures,
    decisions,
    decisionsSource: [...new Set(decisionSets.map((s) => s.source))].length ? [...new Set(decisionSets.map((s) => s.source))] : ['none'],
    decisionsDropped: dropped,
    policies,
    cmdb,
    planningChecks,
    warnings,
  };
}
