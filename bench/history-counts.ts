/**
 * What the benchmark counts in a recorded history: its encoded size, its activity calls, and the
 * writes to its visibility record (phase (a) compares them between drw and the baseline).
 */
import { temporal } from '@temporalio/proto';

export type History = temporal.api.history.v1.IHistory;

const EventType = temporal.api.enums.v1.EventType;

/** Search-attribute upserts and memo writes of one history, or their means over several. */
export interface VisibilityWrites {
  searchAttributes: number;
  memo: number;
}

/** Encoded size of a whole history (what the server stores and a replay decodes). */
export function historyBytes(h: History): number {
  return temporal.api.history.v1.History.encode(h).finish().length;
}

/** Events of one type; a history fetched as JSON names its types instead of numbering them. */
function eventsOfType(h: History, type: temporal.api.enums.v1.EventType): number {
  const name = EventType[type];
  return (h.events ?? []).filter((e) => e.eventType === type || (e.eventType as unknown) === name).length;
}

export function activityCalls(h: History): number {
  return eventsOfType(h, EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED);
}

/**
 * What a run wrote to its visibility record after its start: each search-attribute upsert
 * (the run's own, and the TemporalChangeVersion one the SDK adds with a patch marker) and each
 * memo write is one more update of the record on the server; the start and the close write it too.
 */
export function visibilityWrites(h: History): VisibilityWrites {
  return { searchAttributes: eventsOfType(h, EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES), memo: eventsOfType(h, EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED) };
}

export function meanVisibilityWrites(hs: History[]): VisibilityWrites {
  const all = hs.map(visibilityWrites);
  const mean = (k: keyof VisibilityWrites) => all.reduce((a, w) => a + w[k], 0) / Math.max(1, all.length);
  return { searchAttributes: mean('searchAttributes'), memo: mean('memo') };
}
