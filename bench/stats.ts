/** Small, pure statistics for the benchmark (unit-tested in test/unit/bench). */
import { mulberry32 } from '../common/prng';

export interface Summary {
  n: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile (p in 0..100) of samples; NaN for none. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  if (p < 0 || p > 100) throw new RangeError(`percentile ${p} outside 0..100`);
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) return { n: 0, min: NaN, mean: NaN, p50: NaN, p90: NaN, p99: NaN, max: NaN };
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1];
  return {
    n: sorted.length,
    min: sorted[0],
    mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
    p50: at(50),
    p90: at(90),
    p99: at(99),
    max: sorted[sorted.length - 1],
  };
}

/** a / b, or null when it cannot be computed (no baseline). */
export function ratio(a: number, b: number): number | null {
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : null;
}

/** Rounds to `digits` significant digits, for results that should not pretend to more precision. */
export function round(n: number, digits = 3): number {
  if (!Number.isFinite(n) || n === 0) return n;
  const d = Math.ceil(Math.log10(Math.abs(n)));
  const f = 10 ** (digits - d);
  return Math.round(n * f) / f;
}

/** A run's repeats and order are reproducible from its seed. */
export const prng = mulberry32;

export function shuffle<T>(xs: T[], rnd: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/**
 * A burst of `total` detections over keys 0..unique-1 where `repeatShare` of them repeat a key
 * already in the burst: every key appears at least once, the repeats fall on random keys, and
 * the order is shuffled so a repeat can race its first occurrence.
 */
export function burstPlan(total: number, repeatShare: number, seed = 1): { unique: number; repeats: number; keys: number[] } {
  if (!Number.isInteger(total) || total < 1) throw new RangeError('total must be a positive integer');
  if (repeatShare < 0 || repeatShare >= 1) throw new RangeError('repeatShare must be in [0, 1)');
  const repeats = Math.round(total * repeatShare);
  const unique = total - repeats;
  const rnd = prng(seed);
  const keys: number[] = [];
  for (let k = 0; k < unique; k++) keys.push(k);
  for (let r = 0; r < repeats; r++) keys.push(Math.floor(rnd() * unique));
  return { unique, repeats, keys: shuffle(keys, rnd) };
}

/** Runs `task(i)` for i in 0..n-1 with at most `concurrency` in flight; resolves with the results in order. */
export async function pool<T>(n: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(n);
  let next = 0;
  const lane = async () => {
    for (;;) {
      const i = next++;
      if (i >= n) return;
      out[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, n)) }, lane));
  return out;
}
