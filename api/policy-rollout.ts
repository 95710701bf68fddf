/**
 * Policy rollout: the production trigger for `policyUpdated`. A new policy version is deployed to
 * the workers' (and this API's) policy folder; publishing it tells the open remediations of this
 * drw (its task queue), all or a selection (by playbook, by a canary percentage), to re-plan on
 * it. A worker that cannot load the announced version keeps the remediation on its current
 * policy and records why (the workflow's policy_update_failed).
 */
import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { PolicySet } from '../planner/policy-schema';
import { SA } from '../signals/search-attributes';
import { listAll, quote } from './routes/list';
import { ApiError } from './errors';

export interface PublishRequest {
  /** The version the caller validated (drw policy publish sends its folder's): it must be the one this API reads. */
  version?: string;
  /** Only remediations on these playbooks. */
  playbooks?: string[];
  /** Canary: this share of the selected remediations, 1-100 (the same ids stay in as it grows). */
  percent?: number;
  reason: string;
  by: string;
}

export interface PublishOutcome {
  version: string;
  /** Remediations told to re-plan on the version. */
  signalled: string[];
  /** Open remediations the selection matched that the canary left out. */
  heldBack: number;
}

/** A remediation's place in the canary order, 0-99: stable, so 10% then 50% keeps the first 10%. */
export function canaryBucket(id: string): number {
  return createHash('sha256').update(id).digest().readUInt32BE(0) % 100;
}

export async function publishPolicy(
  deps: { client: Client; taskQueue: string; policy: () => PolicySet; signal: (id: string, version: string, by: string, reason: string) => Promise<void> },
  req: PublishRequest,
): Promise<PublishOutcome> {
  const current = deps.policy();
  if (req.version !== undefined && req.version !== current.version) {
    throw new ApiError(409, `this drw reads policy ${current.version} from its policy folder, not ${req.version}: deploy the new version to the workers' and the API's folder first`, { type: 'PolicyVersionMismatch', current: current.version });
  }
  const known = new Set(current.playbooks.map((p) => p.id));
  const unknown = (req.playbooks ?? []).filter((p) => !known.has(p));
  if (unknown.length) throw new ApiError(400, `unknown playbook${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} in policy ${current.version}; playbooks: ${[...known].join(', ')}`, { type: 'InvalidInput' });
  const parts = [`WorkflowType = 'remediation'`, `ExecutionStatus = 'Running'`, `TaskQueue = ${quote('taskQueue', deps.taskQueue)}`, `${SA.policyVersion.name} != ${quote('version', current.version)}`];
  if (req.playbooks?.length) parts.push(`${SA.playbook.name} IN (${req.playbooks.map((p) => quote('playbooks', p)).join(', ')})`);
  const percent = req.percent ?? 100;
  const signalled: string[] = [];
  let heldBack = 0;
  for await (const r of listAll(deps.client, parts.join(' AND '))) {
    if (canaryBucket(r.id) >= percent) {
      heldBack++;
      continue;
    }
    try {
      await deps.signal(r.id, current.version, req.by, req.reason);
      signalled.push(r.id);
    } catch (e) {
      // Closed between the list and the signal: nothing left to re-plan.
      if (!(e instanceof ApiError && e.status === 404)) throw e;
    }
  }
  return { version: current.version, signalled, heldBack };
}
