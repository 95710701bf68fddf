export { createAwxRunbook } from './runbook';
export { loadAwxConfig, type AwxConfig } from './config';
