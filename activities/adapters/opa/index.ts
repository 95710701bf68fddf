export { createOpaPolicyEngine } from './policy-engine';
export { loadOpaConfig, type OpaConfig } from './config';
