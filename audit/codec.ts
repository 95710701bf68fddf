/**
 * The payload codec: AES-256-GCM over each whole payload (metadata and data), as
 * temporalio/samples-typescript's encryption sample does, with the key id in the outer
 * metadata so keys rotate without re-encrypting history. It encodes everything Temporal
 * passes through codecs: workflow inputs and results, signal and update arguments, activity
 * inputs and results, memo, failure details. Search attributes never go through codecs
 * (they stay readable and hold no secrets). Failure messages stay plain by the SDK's
 * default, so reports can still say why a step failed; adapters keep secrets out of them.
 */
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { KeyRing } from './keys';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
const KEY_ID_FIELD = 'encryption-key-id';

const utf8 = new TextEncoder();
const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? []).toString('utf8');

export function isEncrypted(p: Payload): boolean {
  return text(p.metadata?.encoding) === ENCRYPTED_ENCODING;
}

export class EncryptionCodec implements PayloadCodec {
  constructor(readonly keys: KeyRing) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      const { keyId, data } = this.keys.seal(temporal.api.common.v1.Payload.encode(p).finish());
      return { metadata: { encoding: utf8.encode(ENCRYPTED_ENCODING), [KEY_ID_FIELD]: utf8.encode(keyId) }, data };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      if (!isEncrypted(p)) return p;
      const keyId = text(p.metadata?.[KEY_ID_FIELD]);
      if (!keyId) throw new Error(`encrypted payload without ${KEY_ID_FIELD}`);
      const plain = this.keys.open(keyId, p.data ?? new Uint8Array());
      return temporal.api.common.v1.Payload.decode(plain) as Payload;
    });
  }
}
