/**
 * One interface per kind of system the remediation workflow drives. The workflow only
 * knows these shapes; an in-process default and the vendor adapters (Jira, ServiceNow,
 * CrowdStrike, Defender, GitHub, Slack, ...) implement them.
 *
 * Rules every implementation follows:
 * - inputs carry what the step needs and nothing secret (credentials come from the
 *   environment of the worker that runs the adapter);
 * - `idempotencyKey` (the remediation's instance + step id) makes a retried or re-run call a no-op that
 *   returns the first call's result; where the vendor has no idempotency key, the adapter
 *   searches before it creates;
 * - a vendor 4xx is a non-retryable ApplicationFailure carrying the vendor's message; 429,
 *   5xx, resets and timeouts are thrown as retryable errors (429 with its Retry-After as the
 *   next retry delay).
 */
import type { ChangeType, PreviewedChange } from '../planner/types';
import type { Severity } from '../domain/detection';

export interface CallContext {
  /** `${workflowId}:${stepId}`: the same key for every attempt of the same planned call. */
  idempotencyKey: string;
  /** The remediation's workflow id, so vendor records can link back to it. */
  remediationId: string;
}

// ---------------------------------------------------------------------------------------------
// Ticketing (Jira Cloud, ServiceNow incidents)

export type TicketPriority = 'highest' | 'high' | 'medium' | 'low';

export interface OpenTicketInput extends CallContext {
  title: string;
  description: string;
  severity: Severity;
  priority: TicketPriority;
  labels: string[];
  assetId: string;
  /** Where to read the remediation (API or UI link), put in the ticket body. */
  link?: string;
}
export interface TicketRef {
  system: string;
  ticketId: string;
  url?: string;
  /** True when an existing ticket for this remediation was found instead of creating one. */
  existing?: boolean;
}
export interface UpdateTicketInput extends CallContext {
  ticketId: string;
  comment: string;
  priority?: TicketPriority;
}
export interface CloseTicketInput extends CallContext {
  ticketId: string;
  resolution: 'remediated' | 'resolved' | 'false_positive' | 'cancelled' | 'failed';
  comment: string;
}
export interface ReopenTicketInput extends CallContext {
  ticketId: string;
  /** Why drw reopens it: the evidence (the checks that failed after a person closed the ticket). */
  comment: string;
}
export interface TicketState {
  ticketId: string;
  status: string;
  closed: boolean;
  /** Who last changed the ticket, as the ticketing system names them, when it says. */
  updatedBy?: string;
  /** The resolution (Jira) or close code (ServiceNow) a person set, when closed. */
  resolution?: string;
}
export interface Ticketing {
  openTicket(input: OpenTicketInput): Promise<TicketRef>;
  updateTicket(input: UpdateTicketInput): Promise<void>;
  closeTicket(input: CloseTicketInput): Promise<void>;
  /** Back to an open state with a comment; reopening an open ticket only adds the comment. */
  reopenTicket(input: ReopenTicketInput): Promise<void>;
  getTicketState(input: { ticketId: string }): Promise<TicketState>;
}

// ---------------------------------------------------------------------------------------------
// CMDB (ServiceNow CMDB, file inventory)

export interface LookupAssetInput {
  assetId: string;
  /** Extra identifiers to try when the id is not a CI name: IP address, hostname, serial. */
  hints?: { ip?: string; hostname?: string; serial?: string };
}
export interface AssetFacts {
  found: boolean;
  ciId?: string;
  name?: string;
  environment?: string;
  criticality?: 'low' | 'medium' | 'high' | 'critical';
  internetFacing?: boolean;
  owner?: string;
  tags?: string[];
  /** Endpoint agent ids the endpoint adapters act on, when the CMDB knows them. */
  endpointIds?: { crowdstrike?: string; defender?: string };
  /** IaC repository that manages this asset, when known. */
  repository?: string;
}
export interface Cmdb {
  lookupAsset(input: LookupAssetInput): Promise<AssetFacts>;
}

// ---------------------------------------------------------------------------------------------
// IaC (real git + GitHub pull requests)

export type IacTemplate =
  /** Terraform: block every kind of public access on an S3 bucket. */
  | 's3_block_public_access'
  /** Terraform: remove 0.0.0.0/0 (and ::/0) ingress from a security group. */
  | 'sg_remove_open_ingress'
  /** Bump a vulnerable package in a manifest (package.json, requirements.txt, go.mod, ...). */
  | 'bump_package';

export interface PullRequestInput extends CallContext {
  template: IacTemplate;
  /** Repository to change ("owner/name" for GitHub); the adapter's config maps it to a clone URL. */
  repository: string;
  /** Template parameters, e.g. { bucket } or { securityGroup } or { package, fixedVersion, manifestPath }. */
  params: Record<string, string>;
  title: string;
  /** Markdown: the finding, why, and a link to the remediation. */
  body: string;
  /**
   * The digest (ChangePreview.digest) of the change the approver approved. When the change about
   * to be committed on the base differs, nothing is pushed (ChangeMismatch, non-retryable).
   */
  expectChange?: string;
}
export interface PullRequestRef {
  repository: string;
  number: number;
  url: string;
  branch: string;
  /** The template found nothing to change (already fixed in code). */
  noChange?: boolean;
  existing?: boolean;
}
export interface PullRequestState {
  number: number;
  state: 'open' | 'closed' | 'merged';
}
/**
 * A preview creates nothing, so an idempotency key means nothing to it; the call context is
 * optional so a caller may pass the step's own.
 */
export interface PreviewChangeInput extends Partial<CallContext> {
  template: IacTemplate;
  repository: string;
  params: Record<string, string>;
}
/** The change a pull request step would make, computed on the current base and not pushed (planner/types.ts PreviewedChange). */
export interface ChangePreview extends PreviewedChange {
  repository: string;
}
/** Non-retryable failure type of openPullRequest when the change is no longer the one expectChange names. */
export type IacChangeFailure = 'ChangeMismatch';

export interface Iac {
  /** What openPullRequest would change now, without committing or pushing anything. */
  previewChange(input: PreviewChangeInput): Promise<ChangePreview>;
  openPullRequest(input: PullRequestInput): Promise<PullRequestRef>;
  getPullRequestState(input: { repository: string; number: number }): Promise<PullRequestState>;
}

// ---------------------------------------------------------------------------------------------
// Endpoint / EDR (CrowdStrike Falcon, Microsoft Defender for Endpoint)

export type ContainmentState = 'normal' | 'containment_pending' | 'contained' | 'lift_containment_pending' | 'unknown';

export interface EndpointActionInput extends CallContext {
  /** drw's asset id; the adapter resolves it to its device/machine id (or uses deviceId). */
  assetId: string;
  /**
   * The device to act on (resolveDevice's answer). The adapter still reads its hostname from
   * the EDR first and refuses (TargetMismatch, nothing done) when it is not the asset's.
   */
  deviceId?: string;
  /** The asset's hostname when its id is not one (from the CMDB, never from a detection). */
  hostname?: string;
  comment: string;
}
export interface EndpointActionResult {
  system: string;
  deviceId: string;
  actionId?: string;
  state: ContainmentState;
}
export type EndpointTarget = Pick<EndpointActionInput, 'assetId' | 'deviceId' | 'hostname'>;

/** A device id to check: a plain id, or the CMDB's endpointIds (each EDR takes its own entry). */
export type EndpointHint = string | NonNullable<AssetFacts['endpointIds']>;

export interface ResolveDeviceInput {
  assetId: string;
  /** The asset's hostname when its id is not one (from the CMDB). */
  hostname?: string;
  /** A device id believed to be the asset's (the CMDB's first): used only if the EDR confirms its hostname. */
  hint?: EndpointHint;
}
export interface ResolvedDevice {
  deviceId: string;
  /** The hostname the EDR reports for the device. */
  hostname: string;
  /** 'cmdb': the hinted id, confirmed by the EDR; 'edr': found by hostname in the EDR. */
  via: 'cmdb' | 'edr';
  /** The EDR that answered ("crowdstrike", "defender", "inprocess"). */
  vendor: string;
}

/**
 * Failure types shared by every EDR adapter, all non-retryable: the device is another host
 * (TargetMismatch), several devices carry the asset's hostname (TargetAmbiguous, details list
 * them), or none does (TargetNotFound).
 */
export type EndpointTargetFailure = 'TargetMismatch' | 'TargetAmbiguous' | 'TargetNotFound';

export interface Endpoint {
  /** The one device the EDR knows for an asset, checked against its hostname (nothing changes). */
  resolveDevice(input: ResolveDeviceInput): Promise<ResolvedDevice>;
  isolateHost(input: EndpointActionInput): Promise<EndpointActionResult>;
  releaseHost(input: EndpointActionInput): Promise<EndpointActionResult>;
  getContainment(input: EndpointTarget): Promise<EndpointActionResult>;
}

// ---------------------------------------------------------------------------------------------
// Notifications (Slack incoming webhook, signed generic webhook)

export interface NotifyInput extends CallContext {
  /** A channel name from configuration (e.g. "secops"), never a URL: URLs are secrets. */
  channel: string;
  severity: Severity;
  text: string;
  /** Structured facts for webhook consumers. */
  fields?: Record<string, string | number | boolean>;
}
export interface Notify {
  notify(input: NotifyInput): Promise<{ delivered: boolean; channel: string }>;
}

// ---------------------------------------------------------------------------------------------
// Runbook actions for infrastructure alerts (restart a service, scale, clear a disk, ...)

export interface RunbookInput extends CallContext {
  runbook: string;
  assetId: string;
  params: Record<string, string>;
}
/**
 * What a runbook run did. `runbook`, `ok` and `output` are what every implementation gives; an
 * orchestration system (AWX, Rundeck) adds where the job ran and how it ended.
 */
export interface RunbookResult {
  runbook: string;
  /** True only when the job finished successfully. */
  ok: boolean;
  /** A bounded summary of the job's output (its last lines). */
  output: string;
  /** "awx", "rundeck" or "inprocess". */
  system?: string;
  /** The job (AWX) or execution (Rundeck) id. */
  jobId?: string;
  /** The vendor's final status: successful/failed/error/canceled (AWX), succeeded/failed/aborted/timedout (Rundeck). */
  status?: string;
  /** The job's page for people. */
  url?: string;
  /** True when a job this step launched before (same idempotency key) was found instead of launching one. */
  existing?: boolean;
}
export interface Runbook {
  runRunbook(input: RunbookInput): Promise<RunbookResult>;
}

// ---------------------------------------------------------------------------------------------
// Identity (Okta, Microsoft Entra ID): contain a compromised account

export interface IdentityActionInput extends CallContext {
  /** The account: a login / user principal name, or the identity system's user id. */
  userId: string;
  /** Why, for the identity system's audit log where it keeps one. */
  reason: string;
}
export interface AccountState {
  system: string;
  /** The identity system's immutable user id. */
  userId: string;
  login?: string;
  /** False when the account cannot sign in (Okta SUSPENDED or DEPROVISIONED, Entra accountEnabled false). */
  enabled: boolean;
  /** The vendor's own status word (Okta: ACTIVE, SUSPENDED, ...; Entra: enabled/disabled). */
  status: string;
}
export interface IdentityActionResult extends AccountState {
  /**
   * True when this call found the account already in the wanted state and changed nothing. That
   * state may come from an earlier attempt of the same step whose answer was lost, or from a
   * person: it does not say who disabled the account (neither vendor records it per request).
   */
  existing?: boolean;
  /** For revokeSessions: when the identity system accepted the revocation (ISO time). */
  revokedAt?: string;
}
export interface Identity {
  /** Ends every sign-in session (and refresh token) of the account; repeating it is harmless. */
  revokeSessions(input: IdentityActionInput): Promise<IdentityActionResult>;
  /** Stops the account from signing in, reversibly (Okta suspend, Entra accountEnabled=false). */
  disableAccount(input: IdentityActionInput): Promise<IdentityActionResult>;
  /** Undoes disableAccount (the compensation on a false positive). */
  enableAccount(input: IdentityActionInput): Promise<IdentityActionResult>;
  getAccountState(input: { userId: string }): Promise<AccountState>;
}

// ---------------------------------------------------------------------------------------------
// Change control (ServiceNow Change Management): a change request around a disruptive step

export type { ChangeType };

export interface OpenChangeInput extends CallContext {
  /** normal: assessed and authorized by the CAB; standard: pre-approved template; emergency: emergency CAB only. */
  type: ChangeType;
  /** One line (ServiceNow keeps 160 characters). */
  shortDescription: string;
  /** The plan step: what will be done, to what, and why (the change's description and implementation plan). */
  description: string;
  /** The step's digest (what the approver approved), so the CAB sees exactly which change it authorizes. */
  digest: string;
  /** Where to read the remediation (API or UI link). */
  link?: string;
  /** The configuration item the step changes (CMDB sys_id and/or name, from lookupAsset). */
  ci?: { ciId?: string; name?: string };
  /** The window drw asks for; the CAB may schedule another (read it back with getChange). ISO times. */
  requestedWindow?: { start: string; end: string };
}
export interface ChangeRef {
  system: string;
  /** The change's immutable id (ServiceNow sys_id): what the other calls take. */
  changeId: string;
  /** For people: CHG0030001. */
  number: string;
  url?: string;
  /** True when this step's change already existed (an earlier attempt whose answer was lost, or a re-run). */
  existing?: boolean;
}
/** ServiceNow change_request.state: label and choice value. */
export type ChangeStateName = 'New' | 'Assess' | 'Authorize' | 'Scheduled' | 'Implement' | 'Review' | 'Closed' | 'Canceled';
export type ChangeApproval = 'requested' | 'approved' | 'rejected' | 'not requested';
export interface ChangeState {
  changeId: string;
  number: string;
  type?: ChangeType;
  /** The state's label and its choice value (-5 New .. 0 Review, 3 Closed, 4 Canceled); another label if the instance has custom states. */
  state: { label: string; value: number };
  /** Scheduled or Implement: the change may be carried out (inside its planned window). */
  implementable: boolean;
  approval: ChangeApproval;
  /** Who approved it in the change system (sysapproval_approver records with state approved), by name. */
  approvedBy?: string[];
  /** Who rejected it, by name. */
  rejectedBy?: string[];
  /** The window the change is scheduled for (ISO, UTC), when set. */
  plannedStart?: string;
  plannedEnd?: string;
  /** Closed or Canceled: nothing more will happen to it. */
  closed: boolean;
  /** close_code when closed ("successful", "successful_issues", "unsuccessful"). */
  closeCode?: string;
}
export interface ChangeIdInput {
  changeId: string;
}
export interface MarkImplementingInput extends CallContext, ChangeIdInput {}
export interface CloseChangeInput extends CallContext, ChangeIdInput {
  outcome: 'successful' | 'unsuccessful';
  /** What was done and how it ended (close_notes): the step's result, its verification. */
  notes: string;
}
export interface CancelChangeInput extends CallContext, ChangeIdInput {
  /** Why the change is withdrawn (e.g. a re-plan no longer needs the step). */
  reason: string;
}
/**
 * Failure types, all non-retryable: the change is not (or no longer) in a state that allows the
 * call (ChangeNotImplementable: markImplementing before Scheduled; ChangeNotClosable: closing a
 * change that was never implemented, or one already canceled).
 */
export type ChangeFailure = 'ChangeNotImplementable' | 'ChangeNotClosable';

export interface ChangeControl {
  /** Opens the step's change and asks for its approval (standard: scheduled at once). Search before create. */
  openChange(input: OpenChangeInput): Promise<ChangeRef>;
  getChange(input: ChangeIdInput): Promise<ChangeState>;
  /** Scheduled → Implement, right before the step runs; a change already in Implement is left as it is. */
  markImplementing(input: MarkImplementingInput): Promise<ChangeState>;
  /** Through Review to Closed with close_code and close_notes; an already closed change is left as it is. */
  closeChange(input: CloseChangeInput): Promise<ChangeState>;
  /** Canceled, with the reason in its work notes; a closed or canceled change is left as it is. */
  cancelChange(input: CancelChangeInput): Promise<ChangeState>;
}

// ---------------------------------------------------------------------------------------------
// Policy engine (Open Policy Agent)

export interface EvaluatePolicyInput {
  /** The decision's path, slash-separated, e.g. "drw/containment/allow". */
  path: string;
  input: Record<string, unknown>;
}
export interface PolicyDecision {
  /** The decision document (true/false for an allow rule, any JSON value otherwise). */
  result: unknown;
  /** OPA's decision id when decision logging is on, to find the decision in OPA's log. */
  decisionId?: string;
  /** Which engine answered, e.g. "opa". */
  engine: string;
  /** Revision of each policy bundle the engine had loaded (OPA provenance), i.e. which policy decided. */
  revisions?: Record<string, string>;
}
export interface PolicyEngine {
  evaluate(input: EvaluatePolicyInput): Promise<PolicyDecision>;
}

// ---------------------------------------------------------------------------------------------
// Finding sources with an API (GitHub alerts, AWS Security Hub): re-queried to verify a fix

/** Where a finding lives at its source, read from the detection (ingest/source-ref.ts). */
export type SourceFindingRef =
  | { source: 'github'; repository: string; alertKind: 'dependabot' | 'code_scanning'; alertNumber: number }
  | { source: 'securityhub'; findingId: string; productArn: string; region?: string };
export interface SourceFindingState {
  /** "github", "securityhub". */
  system: string;
  /** True when the source says the finding is gone (alert fixed; Compliance PASSED, Workflow RESOLVED or record ARCHIVED). */
  gone: boolean;
  /** The source's own words, e.g. "fixed", "dismissed", "open", "Compliance FAILED, Workflow NEW". */
  status: string;
}
export interface FindingSource {
  getFindingState(input: { ref: SourceFindingRef }): Promise<SourceFindingState>;
}

// ---------------------------------------------------------------------------------------------
// Verification

export type VerifyCheck =
  | { kind: 'host_contained'; assetId: string; deviceId?: string; hostname?: string }
  | { kind: 'host_released'; assetId: string; deviceId?: string; hostname?: string }
  | { kind: 'pr_merged'; repository: string; number: number }
  | { kind: 'ticket_state'; ticketId: string; closed: boolean }
  | { kind: 'finding_resolved'; remediationId: string }
  /** The source re-queried: ok only when it says the finding is gone. */
  | { kind: 'source_finding'; ref: SourceFindingRef }
  | { kind: 'http'; url: string; expectStatus?: number; expectBodyIncludes?: string }
  | { kind: 'account_disabled'; userId: string }
  | { kind: 'account_enabled'; userId: string };

export interface VerifyResult {
  ok: boolean;
  detail: string;
}
export interface Verify {
  verify(input: { check: VerifyCheck }): Promise<VerifyResult>;
}
