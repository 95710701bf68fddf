/**
 * Activity proxies for the remediation workflow: each call goes to the task queue of its kind of
 * system (remediation/routing.ts) with the step's own timeout, retries and a summary for the UI.
 */
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { RetrySpec } from '../planner/types';
import type { ActivityKind } from '../remediation/routing';
import { taskQueueOf, type RemediationOptions } from './input';

export interface CallSpec {
  timeoutMs: number;
  retry: RetrySpec;
  summary: string;
}

/** Retries for drw's own calls (policy, enrichment, ticket bookkeeping). */
export const CORE_CALL: RetrySpec = { maximumAttempts: 10, initialIntervalMs: 1000, backoffCoefficient: 2, maximumIntervalMs: 30_000 };

export function activitiesFor(kind: ActivityKind, opts: RemediationOptions, spec: CallSpec): Activities {
  return proxyActivities<Activities>({
    taskQueue: taskQueueOf(opts, kind, workflowInfo().taskQueue),
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

/** The vendor's message: ActivityFailure wraps the ApplicationFailure that carries it. */
export function failureMessage(e: unknown): string {
  let err = e as { message?: string; cause?: unknown };
  while (err?.cause && typeof err.cause === 'object') err = err.cause as typeof err;
  return String(err?.message ?? e).slice(0, 500);
}

/** The ApplicationFailure type at the bottom of an activity failure (`NoProvider`, `TargetMismatch`, ...). */
export function failureType(e: unknown): string | undefined {
  let err = e as { type?: unknown; cause?: unknown };
  while (err?.cause && typeof err.cause === 'object') err = err.cause as typeof err;
  return typeof err?.type === 'string' ? err.type : undefined;
}
