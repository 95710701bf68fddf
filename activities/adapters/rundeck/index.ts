export { createRundeckRunbook } from './runbook';
export { loadRundeckConfig, type RundeckConfig } from './config';
