import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import type { RunbookResult } from '../interfaces';
import { heartbeatIfActivity, sleepCancellable } from './activity-context';

/**
 * How a runbook step drives a job in an orchestration system (AWX job templates, Rundeck jobs):
 * find the job this step launched before (its idempotency marker), otherwise launch one; poll
 * it until it finishes, heartbeating; then summarize its output. Neither vendor has an
 * idempotency key, so `find` is the "search before create", run right before `launch`.
 */
export interface JobDriver<J> {
  vendor: string;
  /** The job this step launched before, if any. */
  find(): Promise<J | undefined>;
  launch(): Promise<J>;
  read(job: J): Promise<J>;
  finished(job: J): boolean;
  /** The last lines of the job's output. */
  output(job: J): Promise<string>;
  result(job: J): Omit<RunbookResult, 'output' | 'existing'>;
  describe(job: J): string;
}

export interface JobWait {
  pollIntervalMs: number;
  /** How long one attempt waits for the job before asking Temporal to retry (which finds the same job). */
  waitMs: number;
}

export async function runJob<J>(d: JobDriver<J>, wait: JobWait): Promise<RunbookResult> {
  const found = await d.find();
  let job = found ?? (await d.launch());
  const started = Date.now();
  const deadline = Math.min(started + wait.waitMs, attemptDeadline() ?? Infinity);
  while (!d.finished(job)) {
    heartbeatIfActivity({ job: d.describe(job) });
    if (Date.now() >= deadline) {
      // Not a failure of the job: the next attempt finds it by its marker and keeps waiting.
      throw ApplicationFailure.create({
        message: `${d.vendor}: ${d.describe(job)} still running after waiting ${deadline - started} ms`,
        type: `${d.vendor}.JobStillRunning`,
        nonRetryable: false,
      });
    }
    await sleepCancellable(Math.min(wait.pollIntervalMs, Math.max(deadline - Date.now(), 0)));
    job = await d.read(job);
  }
  return { ...d.result(job), output: await d.output(job), existing: found !== undefined };
}

/**
 * Inside an activity: shortly before its start-to-close timeout, so the attempt ends with "still
 * running" in history (and the next attempt resumes waiting) rather than a bare timeout.
 */
function attemptDeadline(): number | undefined {
  let info: Context['info'];
  try {
    info = Context.current().info;
  } catch {
    return undefined;
  }
  if (!info.startToCloseTimeoutMs) return undefined;
  return info.currentAttemptScheduledTimestampMs + info.startToCloseTimeoutMs - Math.min(5_000, info.startToCloseTimeoutMs / 10);
}

const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

/** The last lines of `text` that fit in `maxChars`, without terminal colour codes. */
export function tailSummary(text: string, maxChars: number): string {
  const clean = text.replace(ANSI, '').replace(/\r\n?/g, '\n').trimEnd();
  if (clean.length <= maxChars) return clean;
  const tail = clean.slice(clean.length - maxChars + 2);
  const cut = tail.indexOf('\n');
  return `…\n${cut >= 0 && cut < tail.length - 1 ? tail.slice(cut + 1) : tail}`;
}

/** The marker every launched job carries in its variables / options, so a retry can find it. */
export const MARKER = 'drw_idempotency_key';

/** The step's parameters for the job: all but `runbook`, which names the job and is not one of its variables. */
export function stepParams(input: { params: Record<string, string> }): Record<string, string> {
  const { runbook: _runbook, ...params } = input.params;
  void _runbook;
  return params;
}

/** The variables drw passes to every job: the step's parameters plus where it comes from. */
export function jobVariables(input: { params: Record<string, string>; assetId: string; remediationId: string; idempotencyKey: string }): Record<string, string> {
  return { ...stepParams(input), drw_asset: input.assetId, drw_remediation: input.remediationId, [MARKER]: input.idempotencyKey };
}


/**
 * The runbook → job map (AWX_JOB_TEMPLATES, RUNDECK_JOBS): JSON `{"restart-service": <id>}`.
 * It is also the allowlist: a runbook not in it is refused, never guessed.
 */
export function runbookMapSchema<T extends z.ZodType>(id: T, example: string) {
  return z
    .string({ error: 'is required' })
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: `must be JSON like ${example}` });
        return z.NEVER;
      }
    })
    .pipe(z.record(z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'runbook names are letters, digits, ".", "_" and "-"'), id, { error: `must be a JSON object like ${example}` }));
}
