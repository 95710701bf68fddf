/**
 * The authenticated channel a detection came through, named as access.yaml names sources
 * (`submit:<source>`): an ingest format for an ingest credential, `drw` for the native API.
 * Workflow-safe (no Node imports): the planner decides which channels' risk scores count.
 */

/** The native API's source name (POST /v1/detections), as in `submit:drw`. */
export const NATIVE_SOURCE = 'drw';

/** The source name of the channel behind a remediation's `requestedBy` (`ingest:<format>`, else the native API). */
export function submitSourceOf(requestedBy: string): string {
  return requestedBy.startsWith('ingest:') ? requestedBy.slice('ingest:'.length) : NATIVE_SOURCE;
}
