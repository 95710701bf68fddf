export { createSlackNotify } from './notify';
export { loadSlackConfig, type SlackConfig } from './config';
export { buildSlackMessage } from './message';
export { approvalChannels, createSlackApprovals, loadSlackBotConfig, type ApprovalOutcomeInput, type ApprovalRequestInput, type SlackApprovals, type SlackBotConfig } from './approvals';
