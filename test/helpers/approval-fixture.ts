/**
 * A remediation as the workflow's state query answers it, with one IaC step awaiting a
 * cloud-owners approval (a previewed change with its diff): for the tests of the approval pages
 * and of Slack approvals, which answer from it instead of Temporal.
 */
import type { PlanStep } from '../../planner/types';
import type { RemediationView } from '../../signals';

export const ID = 'drw-ui-test-0001';
export const STEP = 'cloud-misconfiguration.fix-bucket';
export const D1 = 'a'.repeat(64);
export const D2 = 'b'.repeat(64);

export function fixStep(digest: string, bucket = 'acme-logs'): PlanStep {
  return {
    id: STEP,
    action: 'iac.pull_request',
    title: 'Block public access on the bucket',
    params: { template: 's3_block_public_access', repository: 'acme/infra', bucket },
    status: 'awaiting_approval',
    reason: { playbook: 'cloud-misconfiguration', section: 'steps', rule: 'details.bucket', facts: { 'details.bucket': bucket } },
    fingerprint: 'f',
    digest,
    target: {
      kind: 'repository',
      id: 'acme/infra',
      name: 'terraform/s3.tf',
      via: 'policy',
      change: { base: 'main', baseCommit: 'c0ffee0123456789', files: ['terraform/s3.tf'], diff: `--- a/terraform/s3.tf\n+++ b/terraform/s3.tf\n@@ -1 +1,2 @@\n resource "aws_s3_bucket" "${bucket}" {}\n+block_public_acls = true\n`, digest: 'c'.repeat(64) },
    },
    approval: { users: [], groups: ['cloud-owners'], quorum: 1, allowRequester: false, onExpiry: 'escalate', approvedBy: [] },
    disruptive: false,
    timeoutMs: 60_000,
    retry: { maximumAttempts: 3, initialIntervalMs: 1000, backoffCoefficient: 2, maximumIntervalMs: 10_000 },
    requestedBy: 'api:asff',
  };
}

export function view(step: PlanStep): RemediationView {
  return {
    id: ID,
    status: 'awaiting_approval',
    severity: 'high',
    riskScore: 70,
    asset: { id: 'acme-logs', type: 'bucket', environment: 'production' },
    facts: { environment: { value: 'production', from: 'cmdb', why: 'the CMDB record', cmdb: 'production' } },
    source: 'asff',
    rule: 'S3.8',
    title: 'Public bucket <acme-logs>',
    dedupeKey: 'k',
    findingCount: 1,
    slaDeadline: new Date(Date.now() + 3 * 3_600_000).toISOString(),
    slaBreached: false,
    paused: false,
    ticket: { system: 'jira', ticketId: 'SEC-7', url: 'https://jira.example.com/browse/SEC-7' },
    plan: { version: 2, policyVersion: 'p1', playbook: 'cloud-misconfiguration', steps: [step] },
    approvals: [],
    decisions: [{ seq: 3, at: '2026-11-30T10:00:00.000Z', kind: 'plan', planVersion: 2, policyVersion: 'p1', playbook: 'cloud-misconfiguration', selection: 's', trigger: 'detection', diff: [{ step: STEP, change: 'added' }], summary: 'plan v2' }],
    decisionsDropped: 0,
  } as RemediationView;
}

