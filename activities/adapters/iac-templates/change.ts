import { createHash } from 'node:crypto';
import type { FileChange } from './types';

/**
 * What identifies a template's change and how much of it a person is shown. The digest is
 * computed the same way by the preview an approver sees and by the pull request that must carry
 * exactly that change.
 */

/** SHA-256 hex over each changed path and its new content, sorted by path (code-unit order, not locale). */
export function changeDigest(changes: FileChange[]): string {
  const sorted = [...changes].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  // An array of [path, content] string pairs: JSON.stringify of it is already canonical and unambiguous.
  return createHash('sha256')
    .update(JSON.stringify(sorted.map((c) => [c.path, c.content])))
    .digest('hex');
}

/** How much diff a preview carries: it travels in workflow history and is read by people. */
export const MAX_DIFF_BYTES = 16 * 1024;

/**
 * The diff cut to at most `max` UTF-8 bytes, at the end of a line when there is one (a cut
 * never splits a character).
 */
export function boundedDiff(diff: string, max = MAX_DIFF_BYTES): { diff: string; truncated?: true } {
  const bytes = Buffer.from(diff, 'utf8');
  if (bytes.length <= max) return { diff };
  // Decoding a prefix may end in a partial character (U+FFFD); drop it.
  let cut = bytes.subarray(0, max).toString('utf8').replace(/\uFFFD$/, '');
  const nl = cut.lastIndexOf('\n');
  if (nl > 0) cut = cut.slice(0, nl + 1);
  return { diff: cut, truncated: true };
}

/** The first line of a template's summary, without the colon that introduced its details. */
export function oneLineSummary(summary: string): string {
  return (summary.trim().split('\n')[0] ?? '').trim().replace(/:$/, '');
}
