export { createCrowdStrikeEndpoint } from './endpoint';
export { loadCrowdStrikeConfig, type CrowdStrikeConfig } from './config';
