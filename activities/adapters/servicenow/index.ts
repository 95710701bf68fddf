export { loadServiceNowConfig, type ServiceNowConfig, type ServiceNowAuth } from './config';
export { createServiceNowTicketing, correlationId } from './incident';
export { createServiceNowCmdb, type ServiceNowCmdb } from './cmdb';
