/**
 * The authenticated channel a detection came through, and the source names access.yaml and
 * facts.yaml use for it (`submit:<source>`, `correlate`, `trustedRiskSources`): an ingest format
 * for an ingest credential, `drw` for the native API. Workflow-safe (no Node imports): the
 * planner decides from it which risk scores count.
 */

/** The native API's source name (POST /v1/detections), as in `submit:drw`. */
export const NATIVE_SOURCE = 'drw';
const NATIVE_CHANNEL = 'api';
const INGEST = 'ingest:';

/** The channel of a submission, from who the routes say requested it (`ingest:<format>`, else the native API). */
export function channelOf(requestedBy: string): string {
  return requestedBy.startsWith(INGEST) ? requestedBy : NATIVE_CHANNEL;
}

/** The channel of a source name: `drw` is the native API, a format name its ingest route. */
export function channelOfSource(source: string): string {
  return source === NATIVE_SOURCE ? NATIVE_CHANNEL : `${INGEST}${source}`;
}

/** The source name of a channel, or of the `requestedBy` of a remediation. */
export function sourceOf(channelOrRequester: string): string {
  return channelOrRequester.startsWith(INGEST) ? channelOrRequester.slice(INGEST.length) : NATIVE_SOURCE;
}
