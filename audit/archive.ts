/**
 * The sealed archive: a hash chain of records, one per closed run, written exactly once per
 * workflow id + run id, over any ArchiveStore.
 *
 * Layout (keys): records/<seq, 12 digits>.json (the chain; immutable), runs/<workflowId>/<runId>.json
 * (index: run → seq and digest), head.json (a hint: the last seq known to be indexed).
 *
 * Why the chain stays linear with concurrent writers: a record's key is its position, and
 * records are only written with create-if-absent, so two writers that both saw tail N race
 * for records/N+1 and exactly one wins; the loser re-reads and goes again. No lock, no lease
 * that a SIGKILLed writer could leave behind.
 *
 * Why each run is written once: a writer commits its record (one atomic create), then writes
 * the index, then advances the head hint. A writer killed between the commit and the index
 * leaves a record past the hint without an index; every writer reads the hint, then the
 * index, then every record past the hint, and so finds (and indexes) such a record instead
 * of appending a second one.
 */
import { RecordError, openBytes, parseRecordText, recordText, sealBytes, type SealedRecord } from './record';
import type { ArchiveStore } from './store';
import type { KeyRing } from './keys';

const RECORDS = 'records/';
const HEAD = 'head.json';
const MAX_ATTEMPTS = 100;

export type RecordDraft = Omit<SealedRecord, 'drwAuditRecord' | 'seq' | 'prev' | 'sealedAt'>;

export interface IndexEntry {
  seq: number;
  digest: string;
}

export interface Appended {
  seq: number;
  digest: string;
  /** False when the run was sealed already (by this or another writer). */
  created: boolean;
}

export interface StoredRecord {
  seq: number;
  key: string;
  record: SealedRecord;
  digest: string;
}

export function recordKey(seq: number): string {
  return `${RECORDS}${String(seq).padStart(12, '0')}.json`;
}

function indexKey(workflowId: string, runId: string): string {
  return `runs/${encodeURIComponent(workflowId)}/${encodeURIComponent(runId)}.json`;
}

function seqOf(key: string): number | undefined {
  const m = /^records\/(\d{12})\.json$/.exec(key);
  return m ? Number(m[1]) : undefined;
}

function parseJson<T>(b: Buffer | undefined): T | undefined {
  if (!b) return undefined;
  try {
    return JSON.parse(b.toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

export class Archive {
  constructor(
    readonly store: ArchiveStore,
    private readonly keys?: KeyRing,
  ) {}

  get location(): string {
    return this.store.location;
  }

  /** The record at seq, digest-checked (RecordError when it does not check), or undefined. */
  async read(seq: number): Promise<StoredRecord | undefined> {
    const key = recordKey(seq);
    const bytes = await this.store.get(key);
    if (!bytes) return undefined;
    return { seq, key, ...parseRecordText(openBytes(bytes, key, this.keys)) };
  }

  async find(workflowId: string, runId: string): Promise<IndexEntry | undefined> {
    return parseJson<IndexEntry>(await this.store.get(indexKey(workflowId, runId)));
  }

  /** The sealed record of one run, or undefined. */
  async get(workflowId: string, runId: string): Promise<StoredRecord | undefined> {
    const entry = await this.find(workflowId, runId);
    return entry ? this.read(entry.seq) : undefined;
  }

  /** Every sealed run of a workflow id (any order). */
  async runsOf(workflowId: string): Promise<StoredRecord[]> {
    const out: StoredRecord[] = [];
    for await (const k of this.store.list(`runs/${encodeURIComponent(workflowId)}/`)) {
      const entry = parseJson<IndexEntry>(await this.store.get(k));
      const r = entry ? await this.read(entry.seq) : undefined;
      if (r && r.record.workflowId === workflowId) out.push(r);
    }
    return out;
  }

  private async index(r: { seq: number; digest: string; record: Pick<SealedRecord, 'workflowId' | 'runId'> }): Promise<void> {
    await this.store.create(indexKey(r.record.workflowId, r.record.runId), Buffer.from(JSON.stringify({ seq: r.seq, digest: r.digest })));
  }

  /** The last committed record at or after the head hint. */
  private async tailFrom(head: IndexEntry | undefined, visit: (r: StoredRecord) => Promise<boolean>): Promise<{ tail?: IndexEntry; found?: StoredRecord }> {
    let tail = head;
    for (let seq = (head?.seq ?? -1) + 1; ; seq++) {
      const r = await this.read(seq);
      if (!r) return { tail };
      if (await visit(r)) return { found: r };
      tail = { seq, digest: r.digest };
    }
  }

  private async head(): Promise<IndexEntry | undefined> {
    const h = parseJson<IndexEntry>(await this.store.get(HEAD));
    if (!h || !Number.isInteger(h.seq) || h.seq < 0) return this.lastByListing();
    // A hint only: trust it if the record it names is there with that digest.
    const r = await this.read(h.seq).catch(() => undefined);
    return r && r.digest === h.digest ? h : this.lastByListing();
  }

  private async lastByListing(): Promise<IndexEntry | undefined> {
    let last: number | undefined;
    for await (const k of this.store.list(RECORDS)) last = seqOf(k) ?? last;
    if (last === undefined) return undefined;
    // Step back over the tail: records past the hint are indexed (or found) by tailFrom.
    return last > 0 ? { seq: last - 1, digest: (await this.read(last - 1))!.digest } : undefined;
  }

  /** Appends the run's record unless the run is sealed already; exactly once per workflow id + run id. */
  async append(draft: RecordDraft, now: () => Date = () => new Date()): Promise<Appended> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const head = await this.head();
      const existing = await this.find(draft.workflowId, draft.runId);
      if (existing) return { ...existing, created: false };
      const { tail, found } = await this.tailFrom(head, async (r) => {
        if (r.record.workflowId === draft.workflowId && r.record.runId === draft.runId) return true;
        await this.index(r); // repairs the index of a writer killed after its commit
        return false;
      });
      if (found) {
        await this.index(found);
        return { seq: found.seq, digest: found.digest, created: false };
      }
      const seq = (tail?.seq ?? -1) + 1;
      const record: SealedRecord = { drwAuditRecord: 1, seq, prev: tail?.digest ?? null, sealedAt: now().toISOString(), ...draft };
      const { text, digest } = recordText(record);
      const key = recordKey(seq);
      if (await this.store.create(key, sealBytes(text, key, this.keys), { immutable: true })) {
        await this.index({ seq, digest, record });
        await this.store.put(HEAD, Buffer.from(JSON.stringify({ seq, digest })));
        return { seq, digest, created: true };
      }
    }
    throw new Error(`archive ${this.location}: could not append after ${MAX_ATTEMPTS} attempts (too many concurrent writers)`);
  }

  /**
   * Every stored record key in chain order with its bytes opened and checked; damaged ones
   * come with their error instead of a record.
   */
  async *scan(): AsyncIterable<{ seq: number; key: string; stored?: StoredRecord; error?: string }> {
    for await (const key of this.store.list(RECORDS)) {
      const seq = seqOf(key);
      if (seq === undefined) {
        yield { seq: -1, key, error: 'not a record key' };
        continue;
      }
      try {
        const bytes = await this.store.get(key);
        if (!bytes) continue;
        yield { seq, key, stored: { seq, key, ...parseRecordText(openBytes(bytes, key, this.keys)) } };
      } catch (e) {
        if (!(e instanceof RecordError)) throw e;
        yield { seq, key, error: e.message };
      }
    }
  }
}
