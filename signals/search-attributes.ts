import { defineSearchAttributeKey } from '@temporalio/common';

/** drw's custom search attributes; temporal-dev.sh registers the same list. */
export const SA = {
  status: defineSearchAttributeKey('DrwStatus', 'KEYWORD'),
  severity: defineSearchAttributeKey('DrwSeverity', 'KEYWORD'),
  riskScore: defineSearchAttributeKey('DrwRiskScore', 'DOUBLE'),
  asset: defineSearchAttributeKey('DrwAsset', 'KEYWORD'),
  source: defineSearchAttributeKey('DrwSource', 'KEYWORD'),
  dedupeKey: defineSearchAttributeKey('DrwDedupeKey', 'KEYWORD'),
  pendingApproval: defineSearchAttributeKey('DrwPendingApproval', 'BOOL'),
  policyVersion: defineSearchAttributeKey('DrwPolicyVersion', 'KEYWORD'),
  playbook: defineSearchAttributeKey('DrwPlaybook', 'KEYWORD'),
  slaDeadline: defineSearchAttributeKey('DrwSlaDeadline', 'DATETIME'),
  /** Who may decide the steps awaiting approval: `group:<name>`, `user:<name>` (normalized); what the inbox filters on. */
  approvers: defineSearchAttributeKey('DrwApprovers', 'KEYWORD_LIST'),
} as const;

/** Temporal CLI type names, as `--search-attribute Name=Type` wants them. */
export const CLI_TYPE: Record<string, string> = { KEYWORD: 'Keyword', DOUBLE: 'Double', BOOL: 'Bool', DATETIME: 'Datetime', INT: 'Int', TEXT: 'Text', KEYWORD_LIST: 'KeywordList' };
