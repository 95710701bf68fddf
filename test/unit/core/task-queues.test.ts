/** Which task queue each kind of system's activities go to, with and without names in the input. */
import { loadConfig } from '../../../common/config';
import { ACTIVITY_KINDS, taskQueueOf } from '../../../workflows/input';

test('an input without queue names routes each kind exactly where the default configuration serves it', () => {
  const cfg = loadConfig({ DRW_TASK_QUEUE: 'drw-x' });
  for (const kind of ACTIVITY_KINDS) expect(taskQueueOf({}, kind, cfg.taskQueue)).toBe(cfg.activityQueues[kind]);
});

test('a named queue wins over the derived name; the others stay derived', () => {
  const opts = { taskQueues: { ticketing: 'jira-eu' } };
  expect(taskQueueOf(opts, 'ticketing', 'drw-x')).toBe('jira-eu');
  expect(taskQueueOf(opts, 'endpoint', 'drw-x')).toBe('drw-x-endpoint');
});
