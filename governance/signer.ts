/**
 * The API's side of signed approvals: the Ed25519 key it signs with (node:crypto) and the
 * compact JWS it sends with an approve or deny. The public half goes into every remediation's
 * input, where governance/assertion.ts verifies it.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ASSERTION_TYPE, base64urlEncode, type ApprovalClaims, type ApprovalKey } from './assertion';

export interface SigningKey {
  key: KeyObject;
  public: ApprovalKey;
}

/** From a PKCS#8 PEM Ed25519 private key. */
export function signingKeyFromPem(pem: string): SigningKey {
  const key = createPrivateKey({ key: pem, format: 'pem' });
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`an Ed25519 private key is needed, not ${key.asymmetricKeyType}`);
  const jwk = createPublicKey(key).export({ format: 'jwk' }) as { x: string };
  const raw = Buffer.from(jwk.x, 'base64url');
  return { key, public: { kid: createHash('sha256').update(raw).digest('hex').slice(0, 16), publicKey: jwk.x } };
}

/**
 * The key in `file`, created (mode 0600) on first use: the embedded default and single-instance
 * deployments keep approvals verifiable across restarts without configuring anything.
 */
export function signingKeyFromFile(file: string): { key: SigningKey; created: boolean } {
  if (existsSync(file)) return { key: signingKeyFromPem(readFileSync(file, 'utf8')), created: false };
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, pem, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  // A hard link fails if the file exists: two processes starting at once end up with the same key.
  let created = true;
  try {
    linkSync(tmp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    created = false;
  } finally {
    unlinkSync(tmp);
  }
  return { key: signingKeyFromPem(readFileSync(file, 'utf8')), created };
}

export function signAssertion(k: SigningKey, claims: ApprovalClaims): string {
  const header = base64urlEncode(Buffer.from(JSON.stringify({ alg: 'EdDSA', typ: ASSERTION_TYPE, kid: k.public.kid })));
  const payload = base64urlEncode(Buffer.from(JSON.stringify(claims)));
  const signature = sign(null, Buffer.from(`${header}.${payload}`), k.key);
  return `${header}.${payload}.${base64urlEncode(signature)}`;
}
