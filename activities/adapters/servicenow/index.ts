export { loadServiceNowConfig, type ServiceNowConfig, type ServiceNowAuth } from './config';
export { createServiceNowTicketing } from './incident';
export { correlationId, remediationRefOfCorrelation } from './correlation';
export { createServiceNowCmdb, type ServiceNowCmdb } from './cmdb';
export { CLOSED_STATES, INCIDENT_STATES } from './incident-states';
export { createServiceNowChange } from './change';
export { CHANGE_STATE } from './change-states';
export { createServiceNowClient, type ServiceNowDeps } from './client';
