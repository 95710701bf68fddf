/**
 * What the approval pages read and do, over the API's own service: the remediations waiting for
 * someone's approval (Temporal visibility, DrwPendingApproval), a remediation's state (the
 * workflow's query) and run, and a decision, sent through RemediationService.decide — the same
 * digest-bound, signed path as POST /v1/remediations/{id}/steps/{stepId}/approve.
 */
import type { Client } from '@temporalio/client';
import type { ApprovalDecisionInput, RemediationView } from '../../signals';
import type { Plan } from '../../planner/types';
import { buildListQuery, listAll } from '../routes/list';
import type { RemediationService } from '../service';

export interface PendingRemediation {
  id: string;
  runId: string;
  startTime: string;
}

export interface UiBackend {
  /** Open remediations with a step awaiting approval (at most `limit`). */
  pending(limit: number): Promise<PendingRemediation[]>;
  state(id: string): Promise<RemediationView>;
  /** The current run of the remediation's workflow (for the Temporal Web UI link). */
  runId(id: string): Promise<string | undefined>;
  decide(id: string, kind: 'approve' | 'deny', body: ApprovalDecisionInput): Promise<Plan>;
}

/** `taskQueue`: this drw's workflow task queue; other deployments' remediations in the namespace are not its to show (nor to query). */
export function serviceBackend(service: RemediationService, client: Client, taskQueue?: string): UiBackend {
  return {
    async pending(limit) {
      const out: PendingRemediation[] = [];
      // SQL visibility (the embedded default) has no ORDER BY: the inbox sorts what it reads.
      for await (const r of listAll(client, buildListQuery({ status: ['open'], pendingApproval: true, ...(taskQueue ? { taskQueue } : {}) }))) {
        out.push({ id: r.id, runId: r.runId, startTime: r.startTime });
        if (out.length >= limit) break;
      }
      return out;
    },
    state: (id) => service.state(id),
    async runId(id) {
      try {
        return (await service.handle(id).describe()).runId;
      } catch {
        return undefined;
      }
    },
    decide: (id, kind, body) => service.decide(id, kind, body),
  };
}
