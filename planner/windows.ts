/**
 * Change windows. Pure: "now" is an argument, so the workflow passes its deterministic
 * clock and `drw plan --dry-run` passes the wall clock.
 */
import type { Playbook } from './policy-schema';

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

function secondsOf(hhmmss: string): number {
  const [h, m, s] = hhmmss.split(':').map(Number);
  return h * 3600 + m * 60 + (s ?? 0);
}

type Cw = NonNullable<Playbook['changeWindow']>;

/** True when `nowMs` is inside one of the windows. A window whose end is before its start crosses midnight. */
export function inChangeWindow(cw: Cw, nowMs: number): boolean {
  return nextWindowOpen(cw, nowMs) === nowMs;
}

/** The first instant at or after `nowMs` that lies in a window (searches 8 days ahead). */
export function nextWindowOpen(cw: Cw, nowMs: number): number | undefined {
  const offsetMs = cw.utcOffsetMinutes * 60_000;
  const local = nowMs + offsetMs;
  const dayStart = Math.floor(local / 86_400_000) * 86_400_000;
  let best: number | undefined;
  for (let d = -1; d <= 8; d++) {
    const base = dayStart + d * 86_400_000;
    const weekday = DAYS[new Date(base).getUTCDay()];
    for (const w of cw.windows) {
      if (!w.days.includes(weekday)) continue;
      const start = base + secondsOf(w.start) * 1000;
      let end = base + secondsOf(w.end) * 1000;
      if (end <= start) end += 86_400_000;
      let candidate: number | undefined;
      if (local >= start && local < end) candidate = local;
      else if (start > local) candidate = start;
      if (candidate !== undefined && (best === undefined || candidate < best)) best = candidate;
    }
  }
  return best === undefined ? undefined : best - offsetMs;
}
