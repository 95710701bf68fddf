export { createSlackNotify } from './notify';
export { loadSlackConfig, type SlackConfig } from './config';
export { buildSlackMessage } from './message';
