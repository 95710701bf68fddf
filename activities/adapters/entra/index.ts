export { createEntraIdentity } from './identity';
export { loadEntraConfig, type EntraConfig } from './config';
