export { loadServiceNowConfig, type ServiceNowConfig, type ServiceNowAuth } from './config';
export { createServiceNowTicketing } from './incident';
export { correlationId, remediationRefOfCorrelation } from './correlation';
export { createServiceNowCmdb, type ServiceNowCmdb } from './cmdb';
