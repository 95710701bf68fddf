/**
 * Sources own their findings. The authenticated channel a submission came through (an ingest
 * format with its own credential, or drw's native API) owns what it opens; only it, or a source
 * policies/access.yaml lets correlate with it, adds repeats to it or resolves it. A detection
 * cannot claim another channel by naming its deduplication key or source.
 */
import { NATIVE_SOURCE, type Correlation } from './auth/access';

/** The memo field naming the channel that opened a remediation (set at start, never changed). */
export const OWNER_MEMO = 'drwOwner';

const NATIVE_CHANNEL = 'api';
const INGEST = 'ingest:';

/** The channel of a submission, from who the routes say requested it (`ingest:<format>`, else the native API). */
export function channelOf(requestedBy: string): string {
  return requestedBy.startsWith(INGEST) ? requestedBy : NATIVE_CHANNEL;
}

/**
 * The one mapping between the source names of access.yaml (`submit:<source>`, `correlate`) and
 * the channels owner memos hold: `drw` is the native API, a format name its ingest route.
 */
export function channelOfSource(source: string): string {
  return source === NATIVE_SOURCE ? NATIVE_CHANNEL : `${INGEST}${source}`;
}

export function sourceOfChannel(channel: string): string {
  return channel.startsWith(INGEST) ? channel.slice(INGEST.length) : NATIVE_SOURCE;
}

/** Why a submission from channel `mine` may not join remediation `id`, opened by `owner` (undefined: it may). */
export function notOwnerReason(id: string, owner: string, mine: string, correlate: Correlation): string | undefined {
  const joiners = (correlate[sourceOfChannel(owner)] ?? []).map(channelOfSource);
  if (owner === mine || joiners.includes(mine)) return undefined;
  return `remediation ${id} was opened by ${owner}; only ${[owner, ...joiners].join(' or ')} may add repeats to it or resolve it (this came from ${mine}); correlate.${sourceOfChannel(owner)} in policies/access.yaml names the sources that may join it`;
}
