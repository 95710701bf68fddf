/**
 * The sealed archive in S3-compatible object storage, against a real S3 server (versitygw on
 * loopback): the same behaviours as the local folder, plus object-lock retention on records
 * and the S3 settings read from DRW_ARCHIVE.
 */
import { GetObjectRetentionCommand, S3Client } from '@aws-sdk/client-s3';
import { Archive, recordKey } from '../../../audit/archive';
import { loadAuditConfig } from '../../../audit/config';
import { openArchive } from '../../../audit';
import { S3Store } from '../../../audit/store-s3';
import { verifyArchive } from '../../../audit/verify';
import { archiveBehaviours, draftOf } from '../../helpers/archive-suite';
import { startVersitygw, type S3Server } from '../../helpers/versitygw';

// The SDK warns once that its releases after January 2027 need Node 22; drw pins a release that runs on 20.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

let s3: S3Server;
let n = 0;
const stores: S3Store[] = [];

beforeAll(async () => {
  s3 = await startVersitygw();
}, 900_000);
afterAll(async () => {
  for (const s of stores) s.close();
  await s3?.stop();
});

function storeIn(bucket: string, prefix = 'drw/', objectLock?: { mode: 'GOVERNANCE' | 'COMPLIANCE'; retentionMs: number }): S3Store {
  const store = new S3Store({ kind: 's3', bucket, prefix, endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, ...(objectLock ? { objectLock } : {}) }, new S3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: s3.credentials }));
  stores.push(store);
  return store;
}

archiveBehaviours(async () => storeIn(await s3.bucket(`drw-suite-${++n}`)));

test('with object lock configured, each sealed record carries its retention and the head hint stays writable', async () => {
  const bucket = await s3.bucket('drw-locked', true);
  const archive = new Archive(storeIn(bucket, 'audit/', { mode: 'GOVERNANCE', retentionMs: 7 * 86_400_000 }));
  const before = Date.now();
  await archive.append(draftOf());
  await archive.append(draftOf());
  const r = await s3.client.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: `audit/${recordKey(1)}` }));
  expect(r.Retention?.Mode).toBe('GOVERNANCE');
  const until = r.Retention!.RetainUntilDate!.getTime();
  expect(until).toBeGreaterThanOrEqual(before + 7 * 86_400_000 - 1000);
  expect(until).toBeLessThan(Date.now() + 7 * 86_400_000 + 1000);
  await expect(s3.client.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: 'audit/head.json' }))).rejects.toThrow();
  expect(await verifyArchive(archive)).toMatchObject({ ok: true, records: 2 });
});

test('DRW_ARCHIVE=s3://bucket/prefix with an endpoint opens the archive there, with the credentials from the AWS environment', async () => {
  const bucket = await s3.bucket('drw-from-env');
  const problems: string[] = [];
  const saved = { ...process.env };
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey });
  try {
    const cfg = loadAuditConfig({ DRW_ARCHIVE: `s3://${bucket}/team/drw`, DRW_ARCHIVE_S3_ENDPOINT: s3.endpoint }, '/nowhere', 'http://127.0.0.1:8233', problems);
    expect(problems).toEqual([]);
    expect(cfg.archive).toMatchObject({ kind: 's3', bucket, prefix: 'team/drw/', forcePathStyle: true });
    const archive = openArchive(cfg)!;
    stores.push(archive.store as S3Store);
    expect(archive.location).toBe(`s3://${bucket}/team/drw/`);
    const d = draftOf();
    expect(await archive.append(d)).toMatchObject({ seq: 0, created: true });
    expect((await archive.get(d.workflowId, d.runId))?.record.runId).toBe(d.runId);
  } finally {
    for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) if (saved[k] === undefined) delete process.env[k];
  }
});

test('object lock without a retention is refused at start, naming the variable', () => {
  const problems: string[] = [];
  loadAuditConfig({ DRW_ARCHIVE: 's3://drw-audit/x', DRW_ARCHIVE_OBJECT_LOCK: 'COMPLIANCE' }, '/nowhere', 'http://127.0.0.1:8233', problems);
  expect(problems).toEqual([expect.stringMatching(/^DRW_ARCHIVE_RETENTION: required with DRW_ARCHIVE_OBJECT_LOCK/)]);
});
