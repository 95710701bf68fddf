import { Context } from '@temporalio/activity';

/**
 * Adapters also run outside activities (contract tests, the CLI); `Context.current()` throws
 * there, so heartbeats become no-ops and sleeps plain timers.
 */
function currentContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

export function heartbeatIfActivity(details?: unknown): void {
  currentContext()?.heartbeat(details);
}

/** Inside an activity the sleep rejects on cancellation, so a cancelled poll stops at once. */
export function sleepCancellable(ms: number): Promise<void> {
  const ctx = currentContext();
  if (ctx) return ctx.sleep(ms);
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** What the previous attempt of this activity last heartbeated (undefined on a first attempt or outside activities). */
export function previousHeartbeat(): unknown {
  return currentContext()?.info.heartbeatDetails;
}
