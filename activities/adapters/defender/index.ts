export { createDefenderEndpoint } from './endpoint';
export { loadDefenderConfig, type DefenderConfig } from './config';
