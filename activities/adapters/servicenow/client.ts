import type { AxiosInstance } from 'axios';
import { ApplicationFailure } from '@temporalio/common';
import { createVendorClient } from '../http';
import type { ServiceNowConfig } from './config';

export const SYSTEM = 'servicenow';

export interface ServiceNowDeps {
  /** Replaces the HTTP client; it must convert errors the way `createVendorClient` does. */
  client?: AxiosInstance;
}

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

/** A non-retryable failure of this adapter, typed servicenow.<kind>. */
export function snFailure(message: string, type: string): ApplicationFailure {
  return ApplicationFailure.create({ message: `servicenow: ${message}`, type, nonRetryable: true });
}

/**
 * The sys_id of a group configured by sys_id or by name: a name is looked up once in
 * sys_user_group (a failed lookup is tried again on the next call).
 */
export function groupResolver(http: AxiosInstance, name: string | undefined): () => Promise<string | undefined> {
  let group: Promise<string | undefined> | undefined;
  const resolve = async (): Promise<string | undefined> => {
    if (!name || /^[0-9a-f]{32}$/.test(name)) return name;
    const q = queryValue(name);
    if (!q) throw snFailure(`assignment group name is not usable in a query`, 'servicenow.BadConfig');
    const { data } = await http.get('/api/now/table/sys_user_group', {
      params: { sysparm_query: `name=${q}`, sysparm_fields: 'sys_id', sysparm_limit: 1 },
    });
    const sysId = text(resultOf<Record<string, unknown>[]>(data, 'group lookup')[0]?.sys_id);
    if (!sysId) throw snFailure(`assignment group "${name}" not found`, 'servicenow.BadConfig');
    return sysId;
  };
  return () =>
    (group ??= resolve().catch((err: unknown) => {
      group = undefined;
      throw err;
    }));
}
