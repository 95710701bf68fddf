export { createOktaIdentity } from './identity';
export { loadOktaConfig, type OktaConfig } from './config';
