/**
 * Where sealed records live: a key → bytes store with one atomic primitive, create-if-absent,
 * which is what keeps the hash chain linear with many writers (audit/archive.ts).
 * Implementations: a local folder (store-local.ts) and S3-compatible object storage
 * (store-s3.ts, conditional PUT with If-None-Match: *).
 */
export interface ArchiveStore {
  /** Where it is, for messages ("/var/lib/drw/archive", "s3://bucket/prefix/"). */
  readonly location: string;
  /** The object's bytes, or undefined when there is none. */
  get(key: string): Promise<Buffer | undefined>;
  /**
   * Writes the object only if no object has that key, atomically: readers see all of it or
   * nothing, and of two concurrent writers exactly one gets true. `immutable` asks for
   * retention (object lock) where the store offers it.
   */
  create(key: string, body: Buffer, opts?: { immutable?: boolean }): Promise<boolean>;
  /** Writes or replaces the object (hints that may lag, never facts). */
  put(key: string, body: Buffer): Promise<void>;
  /** Keys under a prefix in ascending byte order, starting after `startAfter`. */
  list(prefix: string, startAfter?: string): AsyncIterable<string>;
}
