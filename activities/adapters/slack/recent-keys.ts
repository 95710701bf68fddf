/**
 * A bounded, insertion-ordered set: the oldest key is forgotten first. Enough to absorb the
 * retries of one activity, which come minutes apart at most.
 */
export class RecentKeys {
  private readonly keys = new Map<string, true>();

  constructor(private readonly capacity = 2_000) {}

  has(key: string): boolean {
    return this.keys.has(key);
  }

  add(key: string): void {
    this.keys.delete(key);
    this.keys.set(key, true);
    while (this.keys.size > this.capacity) this.keys.delete(this.keys.keys().next().value as string);
  }
}
