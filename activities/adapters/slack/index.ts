export { createSlackNotify } from './notify';
export { loadSlackConfig, type SlackConfig } from './config';
export { buildSlackMessage } from './message';
export { createSlackApprovals, loadSlackBotConfig, type ApprovalRequestInput, type SlackApprovals, type SlackBotConfig } from './approvals';
