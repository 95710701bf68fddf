/**
 * Verifies an archive: every record's digest, the chain (positions without gaps, each
 * record naming its predecessor's digest), each history against the digest in its
 * metadata and report, and, while Temporal still has the run, the record against it.
 * Stops at the first broken link and says which record and why.
 */
import type { Client } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { NotFoundError } from '../report/fetch';
import { runFromJson } from '../report/history';
import type { Archive } from './archive';
import { fetchDecodedRun } from './seal';

export interface VerifyResult {
  ok: boolean;
  records: number;
  /** Records whose run Temporal still has and whose history matched. */
  matchedTemporal: number;
  /** Records whose run Temporal no longer has (retention, deletion): checked by the chain alone. */
  goneFromTemporal: number;
  head?: { seq: number; digest: string };
  broken?: { seq: number; key: string; reason: string };
}

export async function verifyArchive(archive: Archive, opts: { client?: Client; codec?: PayloadCodec; progress?: (msg: string) => void } = {}): Promise<VerifyResult> {
  const res: VerifyResult = { ok: true, records: 0, matchedTemporal: 0, goneFromTemporal: 0 };
  const fail = (seq: number, key: string, reason: string) => ({ ...res, ok: false, broken: { seq, key, reason } });
  let prev: string | null = null;
  let expected = 0;
  for await (const item of archive.scan()) {
    if (item.seq !== expected) return fail(expected, item.key, item.seq < 0 ? `unexpected object ${item.key} among the records` : `record ${expected} is missing (next is ${item.seq})`);
    if (item.error || !item.stored) return fail(item.seq, item.key, item.error ?? 'unreadable');
    const { record, digest } = item.stored;
    if (record.seq !== item.seq) return fail(item.seq, item.key, `the record says it is number ${record.seq}`);
    if (record.prev !== prev) return fail(item.seq, item.key, `its previous digest ${record.prev ?? 'null'} is not record ${item.seq - 1}'s digest ${prev ?? '(none)'}`);
    const historySha = runFromJson(record.history, record.runId).sha256;
    if (historySha !== record.metadata.historySha256) return fail(item.seq, item.key, `its history hashes to ${historySha}, its metadata says ${record.metadata.historySha256}`);
    if (record.report.history.sha256 !== historySha) return fail(item.seq, item.key, `its report was built from history ${record.report.history.sha256}, not the one archived`);
    if (opts.client) {
      try {
        const live = await fetchDecodedRun(opts.client, opts.codec, record.workflowId, record.runId);
        if (live.sha256 !== historySha) return fail(item.seq, item.key, `Temporal's history of run ${record.runId} hashes to ${live.sha256}, the record to ${historySha}`);
        res.matchedTemporal++;
      } catch (e) {
        if (!(e instanceof NotFoundError)) throw e;
        res.goneFromTemporal++;
      }
    }
    res.records++;
    res.head = { seq: item.seq, digest };
    prev = digest;
    expected++;
    if (res.records % 100 === 0) opts.progress?.(`verified ${res.records} records`);
  }
  return res;
}
