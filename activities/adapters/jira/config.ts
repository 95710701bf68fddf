import { z } from 'zod';
import type { TicketPriority } from '../../interfaces';
import { baseUrlProblem, parseEnv, pick, trimSlash } from './env';

export interface JiraConfig {
  baseUrl: string;
  email: string;
  apiToken: string;
  projectKey: string;
  issueType: string;
  /** Transition (or target status) name to close with; otherwise the first transition to a done-category status. */
  doneTransition?: string;
  /** Resolution to set on the closing transition, for workflows whose done screen requires one. */
  resolution?: string;
  /** Transition (or target status) name to reopen with; otherwise a transition out of the done category, preferring in-progress ones. */
  reopenTransition?: string;
  /** Jira priority names per drw priority; undefined when priorities must not be set (field not on the screen). */
  priorities?: Record<TicketPriority, string>;
  /**
   * How long the enhanced search may miss an issue just created (Atlassian gives no bound):
   * before creating again after an attempt that may have created, drw waits this long for
   * the search to show it.
   */
  searchLagMs: number;
  timeoutMs: number;
}

const VARS = [
  'JIRA_BASE_URL',
  'JIRA_EMAIL',
  'JIRA_API_TOKEN',
  'JIRA_PROJECT_KEY',
  'JIRA_ISSUE_TYPE',
  'JIRA_DONE_TRANSITION',
  'JIRA_RESOLUTION',
  'JIRA_REOPEN_TRANSITION',
  'JIRA_PRIORITY_NAMES',
  'JIRA_SEARCH_LAG_MS',
  'JIRA_TIMEOUT_MS',
] as const;
/** Any of these set means the operator meant to configure Jira, so the rest become mandatory. */
const TRIGGERS = ['JIRA_BASE_URL', 'JIRA_EMAIL', 'JIRA_API_TOKEN', 'JIRA_PROJECT_KEY'];

const required = z.string({ error: 'is required' }).min(1, { error: 'is required' });

const schema = z.object({
  JIRA_BASE_URL: required.refine((v) => !baseUrlProblem(v), { error: (i) => baseUrlProblem(String(i.input)) ?? 'invalid URL' }),
  JIRA_EMAIL: required.max(256),
  JIRA_API_TOKEN: required.max(1024),
  JIRA_PROJECT_KEY: required.regex(/^[A-Z][A-Z0-9_]{0,49}$/, { error: 'must be a project key like SEC' }),
  JIRA_ISSUE_TYPE: z.string().max(255).default('Task'),
  JIRA_DONE_TRANSITION: z.string().max(255).optional(),
  JIRA_RESOLUTION: z.string().max(255).optional(),
  JIRA_REOPEN_TRANSITION: z.string().max(255).optional(),
  JIRA_PRIORITY_NAMES: z
    .string()
    .default('Highest,High,Medium,Low')
    .refine((v) => v.toLowerCase() === 'none' || v.split(',').filter((s) => s.trim()).length === 4, {
      error: 'must be four comma-separated priority names (for highest,high,medium,low) or "none"',
    }),
  JIRA_SEARCH_LAG_MS: z.coerce.number().int().min(0).max(120_000).default(10_000),
  JIRA_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(15_000),
});

/** Jira Cloud settings from the environment; undefined when Jira is not configured at all. */
export function loadJiraConfig(env: NodeJS.ProcessEnv = process.env): JiraConfig | undefined {
  const vars = pick(env, VARS);
  if (!TRIGGERS.some((n) => vars[n] !== undefined)) return undefined;
  const v = parseEnv(schema, vars, 'Jira');
  const names = v.JIRA_PRIORITY_NAMES.split(',').map((s) => s.trim());
  return {
    baseUrl: trimSlash(v.JIRA_BASE_URL),
    email: v.JIRA_EMAIL,
    apiToken: v.JIRA_API_TOKEN,
    projectKey: v.JIRA_PROJECT_KEY,
    issueType: v.JIRA_ISSUE_TYPE,
    doneTransition: v.JIRA_DONE_TRANSITION,
    resolution: v.JIRA_RESOLUTION,
    reopenTransition: v.JIRA_REOPEN_TRANSITION,
    priorities:
      v.JIRA_PRIORITY_NAMES.toLowerCase() === 'none'
        ? undefined
        : { highest: names[0], high: names[1], medium: names[2], low: names[3] },
    searchLagMs: v.JIRA_SEARCH_LAG_MS,
    timeoutMs: v.JIRA_TIMEOUT_MS,
  };
}
