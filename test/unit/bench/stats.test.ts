import { burstPlan, percentile, pool, prng, ratio, round, shuffle, summarize } from '../../../bench/stats';

test('percentile is nearest-rank over unsorted samples', () => {
  const xs = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
  expect(percentile(xs, 50)).toBe(5);
  expect(percentile(xs, 90)).toBe(9);
  expect(percentile(xs, 99)).toBe(10);
  expect(percentile(xs, 0)).toBe(1);
  expect(percentile([], 50)).toBeNaN();
  expect(() => percentile(xs, 101)).toThrow(RangeError);
  expect(xs[0]).toBe(5); // the input is not sorted in place
});

test('summarize gives count, extremes, mean and percentiles', () => {
  const s = summarize(Array.from({ length: 100 }, (_, i) => i + 1));
  expect(s).toEqual({ n: 100, min: 1, mean: 50.5, p50: 50, p90: 90, p99: 99, max: 100 });
  expect(summarize([]).n).toBe(0);
});

test('ratio and round', () => {
  expect(ratio(7, 10)).toBeCloseTo(0.7);
  expect(ratio(1, 0)).toBeNull();
  expect(ratio(NaN, 1)).toBeNull();
  expect(round(1234.5678, 3)).toBe(1230);
  expect(round(0.00123456, 2)).toBe(0.0012);
});

test('burstPlan: every key at least once, the requested share of repeats, reproducible order', () => {
  const p = burstPlan(1000, 0.3, 7);
  expect(p.unique).toBe(700);
  expect(p.repeats).toBe(300);
  expect(p.keys).toHaveLength(1000);
  const counts = new Map<number, number>();
  for (const k of p.keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  expect(counts.size).toBe(700);
  expect([...counts.keys()].every((k) => k >= 0 && k < 700)).toBe(true);
  expect([...counts.values()].reduce((a, b) => a + b, 0) - counts.size).toBe(300);
  expect(burstPlan(1000, 0.3, 7).keys).toEqual(p.keys);
  expect(burstPlan(1000, 0.3, 8).keys).not.toEqual(p.keys);
  // Shuffled: the first occurrences are not all at the front.
  expect(p.keys.slice(0, 700).some((k, i) => p.keys.indexOf(k) !== i)).toBe(true);
  expect(() => burstPlan(0, 0.3)).toThrow(RangeError);
  expect(() => burstPlan(10, 1)).toThrow(RangeError);
});

test('shuffle keeps the elements; prng is deterministic', () => {
  const xs = Array.from({ length: 50 }, (_, i) => i);
  expect([...shuffle(xs, prng(1))].sort((a, b) => a - b)).toEqual(xs);
  const a = prng(3);
  const b = prng(3);
  expect([a(), a(), a()]).toEqual([b(), b(), b()]);
});

test('pool runs every task once, keeps result order, and never exceeds its concurrency', async () => {
  let inFlight = 0;
  let peak = 0;
  const out = await pool(40, 5, async (i) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    await new Promise((r) => setTimeout(r, (i * 7) % 5));
    inFlight--;
    return i * 2;
  });
  expect(out).toEqual(Array.from({ length: 40 }, (_, i) => i * 2));
  expect(peak).toBeLessThanOrEqual(5);
  expect(peak).toBeGreaterThan(1);
  expect(await pool(0, 5, async () => 1)).toEqual([]);
});
