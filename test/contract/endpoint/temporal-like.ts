import { ApplicationFailure } from '@temporalio/common';

/**
 * Calls `fn` again while it throws retryable failures, as Temporal's activity retry policy
 * would (without the backoff), and reports every failure seen on the way.
 */
export async function retryLikeTemporal<T>(fn: () => Promise<T>, maxAttempts = 5): Promise<{ result: T; failures: unknown[] }> {
  const failures: unknown[] = [];
  for (let attempt = 1; ; attempt++) {
    try {
      return { result: await fn(), failures };
    } catch (err) {
      failures.push(err);
      const nonRetryable = err instanceof ApplicationFailure && err.nonRetryable;
      if (nonRetryable || attempt >= maxAttempts) throw err;
    }
  }
}

/** Captures what `promise` rejects with (failing the test when it resolves). */
export async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ApplicationFailure);
    return err as ApplicationFailure;
  }
  throw new Error('expected a failure, got a result');
}

/** Everything about an error that could end up in a log or in workflow history. */
export function visibleText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const f = err as Error & { details?: unknown; type?: unknown; cause?: unknown };
  return [f.message, f.stack, JSON.stringify(f.details ?? null), String(f.type ?? ''), f.cause ? visibleText(f.cause) : ''].join('\n');
}

export function expectNoSecrets(errors: unknown[], secrets: string[]): void {
  expect(errors.length).toBeGreaterThan(0);
  for (const err of errors) {
    const text = visibleText(err);
    for (const s of secrets.filter(Boolean)) expect(text).not.toContain(s);
  }
}
