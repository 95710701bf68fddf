/**
 * The archive in S3-compatible object storage. create() is one PUT with `If-None-Match: *`
 * (S3 conditional writes): a PUT is atomic, so a writer killed mid-upload leaves no object,
 * and of two writers exactly one gets 200, the other 412. With object lock configured,
 * records carry `x-amz-object-lock-mode` and `-retain-until-date` (the bucket must have been
 * created with object lock enabled).
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import type { ArchiveLocation } from './config';
import type { ArchiveStore } from './store';

type S3Location = Extract<ArchiveLocation, { kind: 's3' }>;

function status(e: unknown): number | undefined {
  return e instanceof S3ServiceException ? e.$metadata.httpStatusCode : (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

export class S3Store implements ArchiveStore {
  readonly location: string;
  private readonly s3: S3Client;

  constructor(
    private readonly loc: S3Location,
    client?: S3Client,
  ) {
    this.location = `s3://${loc.bucket}/${loc.prefix}`;
    this.s3 = client ?? new S3Client({ region: loc.region, forcePathStyle: loc.forcePathStyle, ...(loc.endpoint ? { endpoint: loc.endpoint } : {}) });
  }

  /** Closes the client's connections (when this store made the client). */
  close(): void {
    this.s3.destroy();
  }

  private key(k: string): string {
    return `${this.loc.prefix}${k}`;
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      const r = await this.s3.send(new GetObjectCommand({ Bucket: this.loc.bucket, Key: this.key(key) }));
      return Buffer.from(await r.Body!.transformToByteArray());
    } catch (e) {
      if (status(e) === 404 || (e as Error).name === 'NoSuchKey') return undefined;
      throw e;
    }
  }

  async create(key: string, body: Buffer, opts: { immutable?: boolean } = {}): Promise<boolean> {
    const lock = opts.immutable ? this.loc.objectLock : undefined;
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.loc.bucket,
          Key: this.key(key),
          Body: body,
          ContentType: 'application/json',
          IfNoneMatch: '*',
          ...(lock ? { ObjectLockMode: lock.mode, ObjectLockRetainUntilDate: new Date(Date.now() + lock.retentionMs) } : {}),
        }),
      );
      return true;
    } catch (e) {
      // 412: the key exists; 409: a concurrent conditional write to it is in flight (S3 asks to retry, and it will exist).
      if (status(e) === 412) return false;
      if (status(e) === 409) return (await this.get(key)) === undefined ? this.create(key, body, opts) : false;
      throw e;
    }
  }

  async put(key: string, body: Buffer): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.loc.bucket, Key: this.key(key), Body: body, ContentType: 'application/json' }));
  }

  async *list(prefix: string, startAfter?: string): AsyncIterable<string> {
    let token: string | undefined;
    do {
      const r = await this.s3.send(
        new ListObjectsV2Command({
          Bucket: this.loc.bucket,
          Prefix: this.key(prefix),
          ...(token ? { ContinuationToken: token } : startAfter !== undefined ? { StartAfter: this.key(startAfter) } : {}),
        }),
      );
      for (const o of r.Contents ?? []) if (o.Key) yield o.Key.slice(this.loc.prefix.length);
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
  }
}
