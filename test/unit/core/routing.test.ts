/**
 * The one routing table (remediation/routing.ts): every plan action has an activity on one kind
 * of system, and each kind's workers register exactly what is scheduled on their queue.
 */
import { createActivities } from '../../../activities';
import { createInProcessSystems } from '../../../activities/inprocess';
import { ACTIONS } from '../../../planner/types';
import { ACTION_ROUTES, ACTIVITIES_OF, ACTIVITY_KINDS } from '../../../remediation/routing';

const activities = createActivities({ ...createInProcessSystems(), policy: () => ({ version: 'v', playbooks: [] }) as never });

test('every plan action routes to an activity that its kind of system registers', () => {
  for (const action of ACTIONS) {
    const route = ACTION_ROUTES[action];
    expect([action, ACTIVITIES_OF[route.kind]]).toEqual([action, expect.arrayContaining([route.activity])]);
  }
});

test('each activity is served by exactly one kind of system, so a vendor rate limit holds on one queue', () => {
  const served = ACTIVITY_KINDS.flatMap((kind) => ACTIVITIES_OF[kind].map((name) => `${name}@${kind}`));
  const names = served.map((x) => x.split('@')[0]);
  expect(new Set(names).size).toBe(names.length);
});

test('every activity drw defines is scheduled through the table (none registered that nothing calls)', () => {
  const registered = new Set(ACTIVITY_KINDS.flatMap((kind) => ACTIVITIES_OF[kind]));
  expect(Object.keys(activities).sort()).toEqual([...registered].sort());
});
