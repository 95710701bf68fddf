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

/** Details being trimmed, with each entry's share of the JSON so a drop costs no re-serialization. */
class Trim {
  readonly values = new Map<string, unknown>();
  private readonly size = new Map<string, number>();
  private sum = 0;
  readonly names: DroppedNames;
  truncated = false;

  constructor(details: Details, earlier: string[]) {
    this.names = new DroppedNames([...earlier, ...markerNames(details[TRUNCATED_KEY])]);
    for (const [k, v] of Object.entries(details)) if (k !== TRUNCATED_KEY) this.set(k, v);
  }

  set(k: string, v: unknown): void {
    this.sum -= this.size.get(k) ?? 0;
    this.values.delete(k);
    this.size.delete(k);
    if (v === undefined) return;
    const n = jsonBytes(k) + 1 + jsonBytes(v);
    this.values.set(k, v);
    this.size.set(k, n);
    this.sum += n;
  }

  bytesOf(k: string): number {
    return this.size.get(k) ?? 0;
  }

  /** Drops `k`'s value (or puts back `previous`) and names it under the marker. */
  drop(k: string, previous?: unknown): void {
    this.set(k, previous);
    this.names.add(k);
    this.truncated = true;
  }

  /** {} plus one comma between entries, plus the marker entry when there is one. */
  total(marker = this.names.empty ? undefined : this.names.list()): number {
    const n = this.values.size;
    const base = 2 + this.sum + Math.max(0, n - 1);
    return marker ? base + (n > 0 ? 1 : 0) + jsonBytes(TRUNCATED_KEY) + 1 + jsonBytes(marker) : base;
  }

  /** Largest first; ties: the last key in sort order first, so the result never depends on key order. */
  largestFirst(keys: Iterable<string>): string[] {
    return [...keys].sort((a, b) => this.bytesOf(b) - this.bytesOf(a) || (a < b ? 1 : a > b ? -1 : 0));
  }

  result(capBytes: number): CappedDetails {
    for (const k of this.largestFirst(this.values.keys())) {
      if (this.total() <= capBytes) break;
      this.drop(k);
    }
    const out: Details = Object.fromEntries(this.values);
    if (!this.names.empty) {
      // Only a limit below MIN_DETAILS_BYTES leaves too little room for the list: it gives way to '…'.
      out[TRUNCATED_KEY] = this.total() <= capBytes ? this.names.list() : [MORE];
    }
    return { details: out, truncated: this.truncated };
  }
}

/**
 * `details` within `capBytes` of JSON: the largest values are dropped first and named under
 * `detailsTruncated`, which also keeps any names an earlier truncation listed.
 */
export function capDetails(details: Details, capBytes: number): CappedDetails {
  return new Trim(details, []).result(capBytes);
}

/**
 * A remediation's details after a repeat, never more than `capBytes` of JSON however many
 * repeats arrive or however large each is. The repeat's values win when they fit (as before);
 * otherwise its largest values are dropped first, an existing key keeping the value it had,
 * so a flood of new keys cannot push out the facts the remediation was planned on. Pure and
 * deterministic: the workflow calls it on every repeat.
 */
export function mergeDetails(current: Details | undefined, incoming: Details | undefined, capBytes: number): CappedDetails {
  const cur = current ?? {};
  const inc = incoming ?? {};
  const trim = new Trim({ ...cur, ...inc }, [...markerNames(cur[TRUNCATED_KEY]), ...markerNames(inc[TRUNCATED_KEY])]);
  const has = (k: string) => Object.prototype.hasOwnProperty.call(cur, k);
  for (const k of trim.largestFirst(Object.keys(inc).filter((k) => k !== TRUNCATED_KEY && trim.values.has(k)))) {
    if (trim.total() <= capBytes) break;
    trim.drop(k, has(k) ? cur[k] : undefined);
  }
  return trim.result(capBytes);
}
