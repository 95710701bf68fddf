/**
 * The HTTP server's own settings, read by common/config.ts's loadConfig (problems name the
 * variable). Defaults suit one drw behind a load balancer; every limit can be raised.
 *
 *   DRW_API_REQUEST_TIMEOUT_MS     whole request, body included (60000)
 *   DRW_API_HEADERS_TIMEOUT_MS     until the request headers are in (10000; slow-loris)
 *   DRW_API_KEEP_ALIVE_TIMEOUT_MS  idle keep-alive connection (5000)
 *   DRW_API_MAX_CONNECTIONS        open connections at once; more are refused (512)
 *   DRW_API_RATE_LIMIT             requests per window per verified identity, else per IP; 0 off (600)
 *   DRW_API_RATE_LIMIT_WINDOW_MS   the rate limit's window (60000)
 *   DRW_API_ALLOWED_HOSTS          extra Host names accepted on a loopback bind (a local reverse proxy)
 *   DRW_ACCESS_POLICY              the access policy file (policies/access.yaml)
 *   DRW_UI_*, DRW_OIDC_*           the approval pages (api/ui/config.ts)
 *   DRW_SLACK_*                    approvals from Slack (api/slack/config.ts)
 */
import path from 'node:path';
import { z } from 'zod';
import { loadUiSettings, type UiSettings } from './ui/config';
import { loadSlackApprovals, type SlackApprovals } from './slack/config';

export interface ApiSettings {
  timeouts: { requestMs: number; headersMs: number; keepAliveMs: number };
  maxConnections: number;
  rateLimit: { max: number; windowMs: number };
  allowedHosts: string[];
  accessPolicy: string;
  /** The approval pages at /ui (api/ui). */
  ui: UiSettings;
  /** Approve/Deny from Slack (api/slack/config.ts), when its signing secret is set. */
  slack?: SlackApprovals;
}

const ms = (fallback: number) => z.coerce.number().int().min(1).max(3_600_000).default(fallback);
const schema = z.object({
  DRW_API_REQUEST_TIMEOUT_MS: ms(60_000),
  DRW_API_HEADERS_TIMEOUT_MS: ms(10_000),
  DRW_API_KEEP_ALIVE_TIMEOUT_MS: ms(5_000),
  DRW_API_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(1_000_000).default(512),
  DRW_API_RATE_LIMIT: z.coerce.number().int().min(0).default(600),
  DRW_API_RATE_LIMIT_WINDOW_MS: ms(60_000),
  DRW_API_ALLOWED_HOSTS: z.string().optional(),
  DRW_ACCESS_POLICY: z.string().min(1).optional(),
});

export function loadApiSettings(env: NodeJS.ProcessEnv, root: string, problems: string[]): ApiSettings {
  const r = schema.safeParse(Object.fromEntries(Object.keys(schema.shape).map((k) => [k, env[k] === '' ? undefined : env[k]])));
  if (!r.success) {
    for (const i of r.error.issues) problems.push(`${i.path.join('.')}: ${i.message}`);
    return loadApiSettings({}, root, []);
  }
  const e = r.data;
  return {
    timeouts: { requestMs: e.DRW_API_REQUEST_TIMEOUT_MS, headersMs: e.DRW_API_HEADERS_TIMEOUT_MS, keepAliveMs: e.DRW_API_KEEP_ALIVE_TIMEOUT_MS },
    maxConnections: e.DRW_API_MAX_CONNECTIONS,
    rateLimit: { max: e.DRW_API_RATE_LIMIT, windowMs: e.DRW_API_RATE_LIMIT_WINDOW_MS },
    allowedHosts: (e.DRW_API_ALLOWED_HOSTS ?? '').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean),
    accessPolicy: path.resolve(e.DRW_ACCESS_POLICY ?? path.join(root, 'policies', 'access.yaml')),
    ui: loadUiSettings(env, root, problems),
    slack: loadSlackApprovals(env, problems),
  };
}
