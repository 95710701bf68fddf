import { inspect } from 'node:util';
import type { AxiosInstance } from 'axios';
import { ApplicationFailure } from '@temporalio/common';

export interface RetryOutcome<T> {
  result: T;
  attempts: number;
  errors: unknown[];
}

/**
 * Calls `fn` the way Temporal retries an activity: again after a retryable failure, never after
 * a non-retryable one. Delays honour nextRetryDelay but are capped so tests stay fast.
 */
export async function retryLoop<T>(
  fn: () => Promise<T>,
  opts: { maxAttempts?: number; delayMs?: number; capMs?: number } = {},
): Promise<RetryOutcome<T>> {
  const errors: unknown[] = [];
  const maxAttempts = opts.maxAttempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    try {
      return { result: await fn(), attempts: attempt, errors };
    } catch (err) {
      errors.push(err);
      if (err instanceof ApplicationFailure && err.nonRetryable) throw err;
      if (attempt >= maxAttempts) throw err;
      const hinted = err instanceof ApplicationFailure && typeof err.nextRetryDelay === 'number' ? err.nextRetryDelay : undefined;
      await sleep(Math.min(hinted ?? opts.delayMs ?? 10, opts.capMs ?? 2_000));
    }
  }
}

/**
 * Makes the client give up on its first `method` request to `url` after `ms`, the way a client
 * whose answer got lost does. Every other request keeps the client's own generous timeout, so a
 * loaded machine cannot turn the lookups around it into failures the test did not ask for.
 */
export function timeOutFirst(client: AxiosInstance, method: 'post', url: string, ms: number): void {
  let armed = true;
  client.interceptors.request.use((req) => {
    if (armed && req.method === method && req.url === url) {
      armed = false;
      req.timeout = ms;
    }
    return req;
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Resolves to the rejection of `p` (failing the test if it resolves). */
export async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

/** Everything a log line or Temporal failure could show of an error: message, stack, properties, cause. */
export function expectNoSecrets(err: unknown, secrets: string[]): void {
  const e = err as Error & { cause?: unknown };
  let json = '';
  try {
    json = JSON.stringify(err, Object.getOwnPropertyNames(err as object));
  } catch {
    json = '';
  }
  const dump = [String(err), e?.stack ?? '', inspect(err, { depth: 8, showHidden: true }), json, inspect(e?.cause, { depth: 8 })].join('\n');
  for (const s of secrets) expect(dump).not.toContain(s);
}

export function basicSecrets(user: string, secret: string): string[] {
  return [secret, Buffer.from(`${user}:${secret}`).toString('base64')];
}

/** A fresh remediation per test, so tests never see each other's tickets. */
let n = 0;
export function remediation(prefix = 'rem'): { remediationId: string; key: (step: string) => string } {
  const remediationId = `${prefix}-${process.pid}-${++n}-${Date.now().toString(36)}`;
  return { remediationId, key: (step) => `${remediationId}:${step}` };
}
