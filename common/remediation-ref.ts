/**
 * What vendor records name a remediation by: its instance `<workflow id>~<first run id, 12 chars>`
 * (remediation/state.ts remediationRef). A ticket's label or correlation id carries it, so a
 * vendor's webhook names the remediation and which of its id's remediations it is.
 */

/**
 * A remediation instance (domain/ids.ts ids, then the run). A bare id is not taken: hashed vendor
 * forms look like ids too, and runs begun before instances existed are followed by polling.
 */
export const INSTANCE_PATTERN = /^drw-[a-z0-9-]{1,100}~[a-z0-9-]{1,12}$/;

export interface InstanceRef {
  workflowId: string;
  /** The first 12 characters of the remediation's first run id. */
  firstRun: string;
}

export function parseInstance(ref: string): InstanceRef | undefined {
  if (!INSTANCE_PATTERN.test(ref)) return undefined;
  const [workflowId, firstRun] = ref.split('~');
  return { workflowId, firstRun };
}

/** The instance of the remediation whose run chain began with `firstRunId` (as the workflow computes it). */
export function instanceOf(workflowId: string, firstRunId: string): string {
  return `${workflowId}~${firstRunId.slice(0, 12)}`;
}
