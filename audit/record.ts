/**
 * One sealed record per closed run: the run's full history JSON (payloads decoded), the
 * audit report report/build.ts builds from it, and metadata, linked into a hash chain.
 *
 * Stored text: `JSON.stringify(record)` with `,"digest":"<sha256>"` inserted before the
 * final `}`; the digest is the SHA-256 of the text without that field, so an auditor checks
 * it on the bytes, without re-serialising JSON:
 *   body = text[: text.rindex(',"digest":')] + '}'  →  sha256(body) == digest
 * With codec keys configured the text is stored encrypted (AES-256-GCM, the object key as
 * additional data, so a record cannot be moved to another position unnoticed).
 */
import { z } from 'zod';
import type { RemediationReport } from '../report/build';
import type { HistoryJson } from '../report/history';
import { sha256 } from '../report/history-json';
import type { KeyRing } from './keys';

export const RECORD_FORMAT = 1;

export interface RecordMetadata {
  remediationId: string;
  runId: string;
  playbook?: string;
  policyVersion?: string;
  outcome: { workflow: string; status?: string; resolution?: string };
  startedAt?: string;
  closedAt?: string;
  /** SHA-256 of the run's history JSON (canonical text, payloads decoded): what `drw history export` writes without a codec. */
  historySha256: string;
  events: number;
  continuedFrom?: string;
}

export interface SealedRecord {
  drwAuditRecord: typeof RECORD_FORMAT;
  /** Position in the archive's chain, from 0. */
  seq: number;
  /** Digest of the record at seq - 1 (null for the first). */
  prev: string | null;
  sealedAt: string;
  workflowId: string;
  runId: string;
  metadata: RecordMetadata;
  history: HistoryJson;
  report: RemediationReport;
}

const DIGEST_TAIL = /,"digest":"([0-9a-f]{64})"\}$/;

export function recordText(record: SealedRecord): { text: string; digest: string } {
  const body = JSON.stringify(record);
  const digest = sha256(body);
  return { text: `${body.slice(0, -1)},"digest":"${digest}"}`, digest };
}

export class RecordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecordError';
  }
}

const recordShape = z.object({
  drwAuditRecord: z.literal(RECORD_FORMAT),
  seq: z.number().int().min(0),
  prev: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
  sealedAt: z.string(),
  workflowId: z.string().min(1),
  runId: z.string().min(1),
  metadata: z.object({ remediationId: z.string(), runId: z.string(), historySha256: z.string().regex(/^[0-9a-f]{64}$/), events: z.number() }).passthrough(),
  history: z.object({ events: z.array(z.unknown()).min(1) }).passthrough(),
  report: z.object({ history: z.object({ sha256: z.string() }).passthrough() }).passthrough(),
  digest: z.string(),
});

/** Checks the stored text's digest and shape; throws RecordError saying what is wrong. */
export function parseRecordText(text: string): { record: SealedRecord; digest: string } {
  const m = DIGEST_TAIL.exec(text);
  if (!m) throw new RecordError('no digest at the end of the record');
  const body = `${text.slice(0, m.index)}}`;
  const digest = m[1];
  if (sha256(body) !== digest) throw new RecordError(`digest mismatch: the record's bytes hash to ${sha256(body)}, it says ${digest}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new RecordError(`not JSON: ${(e as Error).message}`);
  }
  const parsed = recordShape.safeParse(value);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new RecordError(`not a sealed record: ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  const { digest: _d, ...record } = value as SealedRecord & { digest: string };
  return { record: record as SealedRecord, digest };
}

// ---- encryption at rest ----

const envelopeShape = z.object({ drwEncrypted: z.literal(1), alg: z.literal('AES-256-GCM'), keyId: z.string().min(1), data: z.string() });

export function sealBytes(text: string, key: string, keys: KeyRing | undefined): Buffer {
  if (!keys) return Buffer.from(text, 'utf8');
  const { keyId, data } = keys.seal(Buffer.from(text, 'utf8'), Buffer.from(key, 'utf8'));
  return Buffer.from(JSON.stringify({ drwEncrypted: 1, alg: 'AES-256-GCM', keyId, data: data.toString('base64') }), 'utf8');
}

/** The record text from stored bytes: decrypted when encrypted (failing if altered or the key is missing). */
export function openBytes(bytes: Buffer, key: string, keys: KeyRing | undefined): string {
  const text = bytes.toString('utf8');
  if (!text.startsWith('{"drwEncrypted"')) return text;
  let env;
  try {
    env = envelopeShape.parse(JSON.parse(text));
  } catch {
    throw new RecordError('damaged encryption envelope');
  }
  if (!keys) throw new RecordError(`the record is encrypted with key "${env.keyId}": set DRW_CODEC_KEYS`);
  try {
    return keys.open(env.keyId, Buffer.from(env.data, 'base64'), Buffer.from(key, 'utf8')).toString('utf8');
  } catch (e) {
    throw new RecordError((e as Error).message);
  }
}
