/**
 * Static public keys that verify person tokens, from configuration (PEM, JWK, JWKS); an identity
 * provider's JWKS URL is jose's (jwt.ts). A key is bound to the one algorithm it can serve
 * (RSA ≥ 2048 bits → RS256, EC P-256 → ES256), so a token cannot pick a weaker use of it.
 */
import { createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';

export type AsymmetricAlg = 'RS256' | 'ES256';

export interface VerificationKey {
  key: KeyObject;
  alg: AsymmetricAlg;
  /** JWK `kid`; absent for PEM keys, which then serve tokens with any (or no) kid. */
  kid?: string;
  /** Where it came from, for messages: "DRW_JWT_PUBLIC_KEYS[1]", "JWKS key kid=abc". */
  source: string;
}

const MIN_RSA_BITS = 2048;

/** The algorithm a public key can verify, or a reason it cannot be used. */
function algFor(key: KeyObject): AsymmetricAlg | string {
  if (key.type !== 'public') return 'not a public key';
  if (key.asymmetricKeyType === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    return bits >= MIN_RSA_BITS ? 'RS256' : `RSA key of ${bits} bits (at least ${MIN_RSA_BITS} needed)`;
  }
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    return curve === 'prime256v1' ? 'ES256' : `EC key on ${curve ?? 'an unknown curve'} (only P-256/ES256 is accepted)`;
  }
  return `${key.asymmetricKeyType ?? 'unknown'} keys are not accepted (RSA for RS256 or EC P-256 for ES256)`;
}

function bind(key: KeyObject, source: string, kid?: string, declaredAlg?: unknown): VerificationKey {
  const alg = algFor(key);
  if (alg !== 'RS256' && alg !== 'ES256') throw new Error(`${source}: ${alg}`);
  if (declaredAlg !== undefined && declaredAlg !== alg) throw new Error(`${source}: declares alg ${String(declaredAlg)} but is a key for ${alg}`);
  return { key, alg, kid, source };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * One JWK. Private JWKs are refused in configuration (`forConfig`) because a private key
 * there is a leak waiting to happen; from a JWKS document the public part is used.
 */
export function keyFromJwk(jwk: unknown, source: string, forConfig: boolean): VerificationKey {
  if (!isObject(jwk)) throw new Error(`${source}: a JWK must be a JSON object`);
  if (jwk.kty === 'oct') throw new Error(`${source}: symmetric (kty "oct") keys are not public keys; use DRW_JWT_HS256_SECRET for HS256`);
  if (jwk.kty !== 'RSA' && jwk.kty !== 'EC') throw new Error(`${source}: kty ${JSON.stringify(jwk.kty)} is not accepted (RSA or EC)`);
  if (forConfig && 'd' in jwk) throw new Error(`${source}: is a private key; configure only the public key`);
  if (jwk.use !== undefined && jwk.use !== 'sig') throw new Error(`${source}: "use" is ${JSON.stringify(jwk.use)}, not "sig"`);
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) throw new Error(`${source}: key_ops does not include "verify"`);
  if (jwk.kid !== undefined && typeof jwk.kid !== 'string') throw new Error(`${source}: kid must be a string`);
  const { kty, n, e, crv, x, y } = jwk as Record<string, string>;
  let key: KeyObject;
  try {
    key = createPublicKey({ key: kty === 'RSA' ? { kty, n, e } : { kty, crv, x, y }, format: 'jwk' });
  } catch (err) {
    throw new Error(`${source}: not a valid ${kty} JWK (${(err as Error).message})`);
  }
  return bind(key, source, jwk.kid as string | undefined, jwk.alg);
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/**
 * `DRW_JWT_PUBLIC_KEYS`: one or more PEM blocks (PUBLIC KEY, RSA PUBLIC KEY, CERTIFICATE),
 * a JWK, a JWKS (`{"keys":[...]}`) or a JSON array of JWKs. Throws with the position of the bad key.
 */
export function parsePublicKeys(text: string, name = 'DRW_JWT_PUBLIC_KEYS'): VerificationKey[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    let doc: unknown;
    try {
      doc = JSON.parse(trimmed);
    } catch (e) {
      throw new Error(`${name}: not valid JSON: ${(e as Error).message}`);
    }
    const list = Array.isArray(doc) ? doc : isObject(doc) && Array.isArray(doc.keys) ? doc.keys : [doc];
    if (list.length === 0) throw new Error(`${name}: holds no key`);
    return list.map((jwk, i) => keyFromJwk(jwk, `${name}[${i}]`, true));
  }
  const blocks = trimmed.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) throw new Error(`${name}: expected PEM public keys, a JWK or a JWKS`);
  return blocks.map((block, i) => {
    const source = `${name}[${i}]`;
    const label = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(block)![1];
    if (/PRIVATE/.test(label)) throw new Error(`${source}: is a private key (${label}); configure only the public key`);
    let key: KeyObject;
    try {
      key = label === 'CERTIFICATE' ? new X509Certificate(block).publicKey : createPublicKey(block);
    } catch (e) {
      throw new Error(`${source}: cannot read the ${label}: ${(e as Error).message}`);
    }
    return bind(key, source);
  });
}
