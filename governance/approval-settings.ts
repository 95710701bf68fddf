/**
 * How this API proves approvals to remediations: the key it signs with, whether unsigned
 * approvals may count (only the loopback default, and only when asked for), and whether a
 * decision must name the digest the approver saw.
 */
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../common/config';
import { isLoopbackHost } from '../activities/adapters/secure-url';
import type { ApprovalTrust } from '../remediation/state';
import { signingKeyFromFile, signingKeyFromPem, type SigningKey } from './signer';

export interface ApprovalSettings {
  signer: SigningKey;
  /** Where the key came from, for the start-up log (never the key). */
  keySource: string;
  /** What every new remediation is told to trust. */
  trust: ApprovalTrust;
  /** The loopback default without a login: a decision may omit the digest (the current one is signed). */
  loopbackDefault: boolean;
}

/** Where the embedded default keeps its key: the user's state directory, created on first start. */
export function defaultKeyFile(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state');
  return path.join(base, 'drw', 'approval-signing-key.pem');
}

/** The approval settings of the environment (validated with the rest of the configuration). */
export interface ApprovalEnv {
  /** DRW_APPROVAL_SIGNING_KEY: PKCS#8 PEM; several API instances share it. */
  signingKeyPem?: string;
  /** DRW_APPROVAL_SIGNING_KEY_FILE, else the user's state directory: created on first start. */
  signingKeyFile: string;
  /** DRW_UNSIGNED_APPROVALS=allow: unsigned approvals count too (the loopback default only). */
  unsigned: boolean;
}

export function approvalEnv(env: NodeJS.ProcessEnv, problems: string[]): ApprovalEnv {
  const u = env.DRW_UNSIGNED_APPROVALS;
  if (u !== undefined && u !== 'allow' && u !== 'deny') problems.push(`DRW_UNSIGNED_APPROVALS: "allow" or "deny" (got "${u.slice(0, 40)}")`);
  return {
    ...(env.DRW_APPROVAL_SIGNING_KEY ? { signingKeyPem: env.DRW_APPROVAL_SIGNING_KEY } : {}),
    signingKeyFile: env.DRW_APPROVAL_SIGNING_KEY_FILE || defaultKeyFile(env),
    unsigned: u === 'allow',
  };
}

export function loadApprovalSettings(a: ApprovalEnv, o: { apiHost: string; usersAuthenticated: boolean }): ApprovalSettings {
  const loopbackDefault = isLoopbackHost(o.apiHost) && !o.usersAuthenticated;
  if (a.unsigned && !loopbackDefault) {
    throw new ConfigError([
      'DRW_UNSIGNED_APPROVALS=allow: only for the loopback default without a login; with authentication or on a non-loopback address, approvals must be signed by the API',
    ]);
  }
  let signer: SigningKey;
  let keySource: string;
  try {
    if (a.signingKeyPem) {
      signer = signingKeyFromPem(a.signingKeyPem);
      keySource = 'DRW_APPROVAL_SIGNING_KEY';
    } else {
      const r = signingKeyFromFile(a.signingKeyFile);
      signer = r.key;
      keySource = `${a.signingKeyFile}${r.created ? ' (created)' : ''}`;
    }
  } catch (e) {
    throw new ConfigError([`DRW_APPROVAL_SIGNING_KEY${a.signingKeyPem ? '' : '_FILE'}: not a usable Ed25519 private key (PKCS#8 PEM): ${(e as Error).message}`]);
  }
  return { signer, keySource, loopbackDefault, trust: { keys: [signer.public], unsigned: a.unsigned, requireDigest: !loopbackDefault } };
}
