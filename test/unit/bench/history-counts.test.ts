import { temporal } from '@temporalio/proto';
import { activityCalls, historyBytes, meanVisibilityWrites, visibilityWrites, type History } from '../../../bench/history-counts';

const T = temporal.api.enums.v1.EventType;

const history = (types: (temporal.api.enums.v1.EventType | string)[]): History => ({
  events: types.map((eventType) => ({ eventType: eventType as temporal.api.enums.v1.EventType })),
});

test('counts search-attribute upserts and memo writes apart from the other events', () => {
  const h = history([
    T.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
    T.EVENT_TYPE_MARKER_RECORDED,
    T.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
    T.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
    T.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
    T.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED,
    T.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
    T.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
  ]);
  expect(visibilityWrites(h)).toEqual({ searchAttributes: 2, memo: 1 });
  expect(activityCalls(h)).toBe(2);
});

test('reads histories whose event types are named (fetched as JSON) as well as numbered', () => {
  const h = history(['EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES', 'EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED', 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED']);
  expect(visibilityWrites(h)).toEqual({ searchAttributes: 1, memo: 1 });
  expect(activityCalls(h)).toBe(1);
});

test('averages the writes over histories, and gives zero for none', () => {
  const a = history([T.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES, T.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED]);
  const b = history([T.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES, T.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES, T.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES]);
  expect(meanVisibilityWrites([a, b])).toEqual({ searchAttributes: 2, memo: 0.5 });
  expect(meanVisibilityWrites([])).toEqual({ searchAttributes: 0, memo: 0 });
});

test('measures a history by its encoded size', () => {
  const small = history([T.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED]);
  const larger = history([T.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, T.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED]);
  expect(historyBytes(small)).toBe(temporal.api.history.v1.History.encode(small).finish().length);
  expect(historyBytes(larger)).toBeGreaterThan(historyBytes(small));
});
