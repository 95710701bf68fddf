/**
 * Polls `check` until it answers a value (anything but undefined). Thrown errors count as "not
 * yet" and the last one is quoted when the time runs out, with what was awaited and, if given,
 * `describe()` of the state at that moment.
 */
export async function pollUntil<T>(check: () => Promise<T | undefined>, o: { what: string; timeoutMs: number; everyMs?: number; describe?: () => string }): Promise<T> {
  const end = Date.now() + o.timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) {
      throw new Error(`timed out after ${o.timeoutMs} ms waiting for ${o.what}${last ? `: ${(last as Error).message}` : ''}${o.describe ? ` (${o.describe()})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, o.everyMs ?? 250));
  }
}
