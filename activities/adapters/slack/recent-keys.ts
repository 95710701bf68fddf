/**
 * A bounded, insertion-ordered map: the oldest key is forgotten first. Enough to absorb the
 * retries of one activity, which come minutes apart at most. The value is what the first call
 * answered (a message's ts), for a retry to answer the same.
 */
export class RecentKeys<V = true> {
  private readonly keys = new Map<string, V>();

  constructor(private readonly capacity = 2_000) {}

  has(key: string): boolean {
    return this.keys.has(key);
  }

  get(key: string): V | undefined {
    return this.keys.get(key);
  }

  add(key: string, ...value: V extends true ? [] : [V]): void {
    this.keys.delete(key);
    this.keys.set(key, (value.length ? value[0] : true) as V);
    while (this.keys.size > this.capacity) this.keys.delete(this.keys.keys().next().value as string);
  }
}
