export { createSecurityHubFindingSource, findingState } from './findings';
export { awsCredentialsIn, loadSecurityHubConfig, type SecurityHubConfig } from './config';
