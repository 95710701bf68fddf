import { Context } from '@temporalio/activity';

/** Heartbeats when running inside an activity; a no-op in tests and scripts. */
export function heartbeatIfActivity(details?: unknown): void {
  let ctx: Context;
  try {
    ctx = Context.current();
  } catch {
    return;
  }
  ctx.heartbeat(details);
}
