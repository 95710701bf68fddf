/**
 * Size limits for a detection's free-form `details`. Details are recorded in Temporal history
 * with every start, repeat and state change, so they must stay small whatever a source sends:
 * native input over the limit is refused, tool formats and merged repeats drop their largest
 * values and say which under `detailsTruncated`.
 * This module must stay free of Node.js imports: the workflow bundle uses it.
 */

export type Details = Record<string, unknown>;

export const DEFAULT_MAX_DETAILS_BYTES = 16 * 1024;
/** Bounds for configuring the limit: below 4 KiB the marker itself may not fit; above 64 KiB history grows too fast. */
export const MIN_DETAILS_BYTES = 4 * 1024;
export const MAX_DETAILS_BYTES = 64 * 1024;

/** Lists which values were dropped to keep details within the limit. */
export const TRUNCATED_KEY = 'detailsTruncated';
const MARKER_NAMES = 8;
const MARKER_NAME_CHARS = 40;
const MORE = '…';

/** UTF-8 length of a well-formed string (what JSON.stringify returns), without TextEncoder. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Bytes of `value` serialized as JSON (0 for what JSON cannot hold, such as undefined). */
export function jsonBytes(value: unknown): number {
  const s = JSON.stringify(value) as string | undefined;
  return s === undefined ? 0 : utf8Length(s);
}

/** Why `details` is refused for native input, or undefined when within `maxBytes`. */
export function detailsSizeProblem(details: Details, maxBytes: number): string | undefined {
  const n = jsonBytes(details);
  return n <= maxBytes ? undefined : `${n} bytes of JSON, more than the ${maxBytes}-byte limit (link to large evidence instead of embedding it)`;
}

export interface CappedDetails {
  details: Details;
  /** True when values were dropped by this call. */
  truncated: boolean;
}

function markerNames(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/**
 * The names under `detailsTruncated`: sorted, clipped, at most MARKER_NAMES, and a final '…'
 * when more were dropped than listed. Kept small as it grows so each drop costs O(1) to measure.
 */
class DroppedNames {
  private names: string[] = [];
  private more = false;

  constructor(initial: string[]) {
    for (const n of initial) this.add(n);
  }

  add(name: string): void {
    if (name === MORE) return void (this.more = true);
    const n = name.slice(0, MARKER_NAME_CHARS);
    if (this.names.includes(n)) return;
    this.names.push(n);
    this.names.sort();
    if (this.names.length > MARKER_NAMES) {
      this.names.pop();
      this.more = true;
    }
  }

  get empty(): boolean {
    return this.names.length === 0 && !this.more;
  }

  list(): string[] {
    return this.more ? [...this.names, MORE] : [...this.names];
  }
}

/**
 * `details` within `capBytes` of JSON: the largest values are dropped first (ties: the last key
 * in sort order first) and named under `detailsTruncated`, which also keeps any names an earlier
 * truncation listed. Deterministic and pure, so the workflow can call it.
 */
export function capDetails(details: Details, capBytes: number, alreadyDropped: string[] = []): CappedDetails {
  const entries = Object.entries(details).filter(([k, v]) => k !== TRUNCATED_KEY && v !== undefined);
  const names = new DroppedNames([...alreadyDropped, ...markerNames(details[TRUNCATED_KEY])]);
  const size = new Map(entries.map(([k, v]) => [k, jsonBytes(k) + 1 + jsonBytes(v)]));
  const markerBytes = (n: number, mark: string[]) => (n > 0 ? 1 : 0) + jsonBytes(TRUNCATED_KEY) + 1 + jsonBytes(mark);
  // {} plus one comma between entries, plus the marker entry when there is one.
  const total = (n: number, sum: number) => 2 + sum + Math.max(0, n - 1) + (names.empty ? 0 : markerBytes(n, names.list()));
  let sum = [...size.values()].reduce((a, b) => a + b, 0);
  const keep = new Set(entries.map(([k]) => k));
  let truncated = false;
  if (total(keep.size, sum) > capBytes) {
    const order = [...entries].sort(([ka], [kb]) => size.get(kb)! - size.get(ka)! || (ka < kb ? 1 : ka > kb ? -1 : 0));
    for (const [k] of order) {
      if (total(keep.size, sum) <= capBytes) break;
      keep.delete(k);
      sum -= size.get(k)!;
      names.add(k);
      truncated = true;
    }
  }
  const out: Details = Object.fromEntries(entries.filter(([k]) => keep.has(k)));
  if (!names.empty) {
    // Only a limit below MIN_DETAILS_BYTES gets here with too little room: the list gives way to '…'.
    out[TRUNCATED_KEY] = total(keep.size, sum) <= capBytes ? names.list() : [MORE];
  }
  return { details: out, truncated };
}

/**
 * A remediation's details after a repeat: the repeat's values win (as before), and the result
 * never exceeds `capBytes` of JSON, however many repeats arrive or however large each is.
 */
export function mergeDetails(current: Details | undefined, incoming: Details | undefined, capBytes: number): CappedDetails {
  const earlier = [...markerNames(current?.[TRUNCATED_KEY]), ...markerNames(incoming?.[TRUNCATED_KEY])];
  return capDetails({ ...(current ?? {}), ...(incoming ?? {}) }, capBytes, earlier);
}
