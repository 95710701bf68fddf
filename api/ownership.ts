/**
 * Sources own their findings. The authenticated channel a submission came through (an ingest
 * format with its own credential, or drw's native API) owns what it opens; only it, or a source
 * policies/access.yaml lets correlate with it, adds repeats to it or resolves it. A detection
 * cannot claim another channel by naming its deduplication key or source.
 */
import { channelOf, channelOfSource, sourceOf } from '../domain/channel';
import type { Correlation } from './auth/access';

export { channelOf };

/** The memo field naming the channel that opened a remediation (set at start, never changed). */
export const OWNER_MEMO = 'drwOwner';

/** Why a submission from channel `mine` may not join remediation `id`, opened by `owner` (undefined: it may). */
export function notOwnerReason(id: string, owner: string, mine: string, correlate: Correlation): string | undefined {
  const joiners = (correlate[sourceOf(owner)] ?? []).map(channelOfSource);
  if (owner === mine || joiners.includes(mine)) return undefined;
  return `remediation ${id} was opened by ${owner}; only ${[owner, ...joiners].join(' or ')} may add repeats to it or resolve it (this came from ${mine}); correlate.${sourceOf(owner)} in policies/access.yaml names the sources that may join it`;
}
