import { sha256 } from '@noble/hashes/sha256';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';
import { canonicalJson } from './hash';
import { rememberByText } from './remember';
import type { PlanStep } from './types';

/**
 * What an approval of a step approves: everything that decides what the step does when it runs.
 * Not the approval rule itself (who may approve), nor status or notes.
 */
export function digestContent(step: Pick<PlanStep, 'action' | 'params' | 'disruptive' | 'timeoutMs' | 'retry' | 'compensation' | 'verify' | 'target'> & Partial<Pick<PlanStep, 'change'>>): unknown {
  return {
    action: step.action,
    params: step.params,
    target: step.target ?? null,
    disruptive: step.disruptive,
    timeoutMs: step.timeoutMs,
    retry: step.retry,
    compensation: step.compensation ?? null,
    verify: step.verify ?? null,
    // Under a change record (absent for steps without one, so their digests are what they were).
    change: step.change,
  };
}

/**
 * SHA-256 (hex) of a step's content in canonical JSON: the `digest` an approver sees and signs.
 * A maintained pure-JS SHA-256 (@noble/hashes): the same digest inside the workflow sandbox, the
 * API and the CLI.
 */
export function stepDigest(step: Parameters<typeof digestContent>[0]): string {
  return sha256Hex(canonicalJson(digestContent(step)));
}

export const DIGEST_PATTERN = /^[0-9a-f]{64}$/;

/** SHA-256 (hex) of a step's rendered parameters: which parameters a previewed change was made for. */
export function paramsDigest(params: Record<string, unknown>): string {
  return sha256Hex(canonicalJson(params));
}

const sha256Hex = rememberByText((text) => bytesToHex(sha256(utf8ToBytes(text))));
