/** The sealed audit archive, the payload codec and the codec server (issue 13). */
import type { AuditConfig } from './config';
import { Archive } from './archive';
import { LocalStore } from './store-local';
import { S3Store } from './store-s3';

export { Archive, type Appended, type RecordDraft, type StoredRecord } from './archive';
export { EncryptionCodec } from './codec';
export { codecOfClient, decodeJsonPayloads } from './payload-json';
export { readArchivedHistory } from './read';
export { verifyArchive, type VerifyResult } from './verify';
export { draftRecord, draftFromRun, fetchDecodedRun, RunOpenError } from './seal';

/** The configured archive (undefined when DRW_ARCHIVE=off), encrypted at rest with the codec keys when set. */
export function openArchive(cfg: AuditConfig): Archive | undefined {
  const loc = cfg.archive;
  if (loc.kind === 'off') return undefined;
  return new Archive(loc.kind === 'local' ? new LocalStore(loc.dir) : new S3Store(loc), cfg.keys);
}
