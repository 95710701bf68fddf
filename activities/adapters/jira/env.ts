import type { z } from 'zod';
import { isLoopbackHost } from '../secure-url';

/**
 * Env parsing for the ticketing and CMDB adapters (Jira, ServiceNow). Messages name the
 * variable and never echo its value: a mistyped token must not end up in a worker's crash log.
 */
export function parseEnv<S extends z.ZodType>(schema: S, vars: Record<string, string | undefined>, prefix: string): z.infer<S> {
  const result = schema.safeParse(vars);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${String(i.path[0] ?? prefix)}: ${i.message}`);
  throw new Error(`invalid ${prefix} configuration: ${problems.join('; ')}`);
}

/** Empty strings count as unset, as `FOO= node ...` is how people blank a variable. */
export function pick(env: NodeJS.ProcessEnv, names: readonly string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const n of names) {
    const v = env[n]?.trim();
    out[n] = v ? v : undefined;
  }
  return out;
}

/**
 * Vendor base URLs: https, or http only to a loopback host (simulators). Credentials in the URL
 * are refused because axios would carry them into error objects.
 */
export function baseUrlProblem(value: string): string | undefined {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return 'must be an absolute URL';
  }
  if (u.username || u.password) return 'must not contain credentials';
  if (u.search || u.hash) return 'must not contain a query or fragment';
  const loopback = isLoopbackHost(u.hostname);
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopback)) return 'must use https';
  return undefined;
}

export function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
