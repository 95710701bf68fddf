export { createWebhookNotify } from './notify';
export { loadWebhookConfig, type WebhookConfig } from './config';
export { signBody, verifySignature, SIGNATURE_HEADER, TIMESTAMP_HEADER, IDEMPOTENCY_HEADER } from './signature';
