import { KeyedQueue } from '../../../common/keyed-queue';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('calls for one key run one at a time, in order; other keys run alongside; failures do not block the queue; nothing is kept', async () => {
  const q = new KeyedQueue();
  const log: string[] = [];
  let inA = 0;
  let mostInA = 0;
  const a = (i: number, fail = false) =>
    q.run('a', async () => {
      mostInA = Math.max(mostInA, ++inA);
      log.push(`a${i} start`);
      await tick(10);
      inA--;
      log.push(`a${i} end`);
      if (fail) throw new Error(`a${i} failed`);
      return i;
    });
  const b = q.run('b', async () => {
    log.push('b start');
    await tick(1);
    log.push('b end');
    return 'b';
  });
  const results = await Promise.allSettled([a(1), a(2, true), a(3), b]);
  expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([1, 'a2 failed', 3, 'b']);
  expect(mostInA).toBe(1);
  expect(log.filter((l) => l.startsWith('a'))).toEqual(['a1 start', 'a1 end', 'a2 start', 'a2 end', 'a3 start', 'a3 end']);
  // b did not wait for the a queue.
  expect(log.indexOf('b end')).toBeLessThan(log.indexOf('a1 end'));
  await tick(0);
  expect(q.size).toBe(0);
});
