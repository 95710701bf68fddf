import type { AxiosInstance } from 'axios';
import { ApplicationFailure } from '@temporalio/common';
import { createVendorClient } from '../http';
import type { ServiceNowConfig } from './config';

export const SYSTEM = 'servicenow';

export function createServiceNowClient(config: ServiceNowConfig): AxiosInstance {
  const auth = config.auth;
  return createVendorClient({
    vendor: SYSTEM,
    baseURL: config.instanceUrl,
    timeoutMs: config.timeoutMs,
    headers: {
      'Content-Type': 'application/json',
      ...(auth.kind === 'bearer' ? { Authorization: `Bearer ${auth.token}` } : {}),
    },
    auth: auth.kind === 'basic' ? { username: auth.username, password: auth.password } : undefined,
  });
}

/**
 * Values spliced into an encoded query. A caret would start a new condition ("^ORsys_id!=x"),
 * so anything carrying one (or a newline) is refused instead of escaped: detections are
 * attacker-influenced, and a widened query could match the wrong CI or incident.
 */
export function queryValue(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (!v || v.length > 255 || /[\^\r\n]/.test(v)) return undefined;
  return v;
}

/** Table API answers `{ result: ... }`; anything else is a proxy or login page, not ServiceNow. */
export function resultOf<T>(data: unknown, what: string): T {
  if (data && typeof data === 'object' && 'result' in data) return (data as { result: T }).result;
  throw ApplicationFailure.create({ message: `servicenow: ${what} answered without a result`, type: 'servicenow.BadResponse', nonRetryable: true });
}

/** Field values as strings whether the API returned raw values, display values or reference objects. */
export function text(field: unknown): string | undefined {
  if (field == null) return undefined;
  if (typeof field === 'string') return field || undefined;
  if (typeof field === 'number' || typeof field === 'boolean') return String(field);
  if (typeof field === 'object') {
    const f = field as { display_value?: unknown; value?: unknown };
    return text(f.display_value ?? f.value);
  }
  return undefined;
}

/** The raw value of a field requested with sysparm_display_value=all. */
export function rawValue(field: unknown): string | undefined {
  if (field && typeof field === 'object' && 'value' in field) return text((field as { value: unknown }).value);
  return text(field);
}
