import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { isHttpsOrLoopback, isLoopbackHost } from '../secure-url';

/**
 * Configuration of the GitHub IaC adapter, from the worker's environment. The adapter is
 * "configured" when DRW_IAC_REPOS is set: that map is also the allowlist of repositories drw
 * may push branches to, whatever repository a workflow asks for.
 */

export interface RepoTarget {
  /** Clone URL (https, ssh, file:// or an absolute path for tests). */
  url: string;
  /** Branch pull requests target. */
  base: string;
}

export interface GitHubIacConfig {
  apiUrl: string;
  token: string;
  repos: Record<string, RepoTarget>;
  workdir: string;
  author: { name: string; email: string };
  gitTimeoutMs: number;
  apiTimeoutMs: number;
}

export const REPOSITORY_RE = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;
const BRANCH_RE = /^(?!\/|.*\/\/|.*\.\.|.*\.lock$|.*[\s~^:?*[\\]|.*\/$)[\x21-\x7e]+$/;

function cloneUrlProblem(url: string): string | undefined {
  if (/^https?:\/\//i.test(url)) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return 'is not a valid URL';
    }
    // Never echo the URL itself here: if it carries credentials, they are a secret.
    if (u.username || u.password) return 'must not contain credentials (the token comes from GITHUB_TOKEN)';
    const loopback = isLoopbackHost(u.hostname);
    if (u.protocol === 'http:' && !loopback) return 'must use https (plain http only for localhost)';
    return undefined;
  }
  if (/^file:\/\//.test(url) || path.isAbsolute(url) || /^ssh:\/\//.test(url) || /^[\w.-]+@[\w.-]+:[^/]/.test(url)) return undefined;
  return 'must be an https, ssh or file URL, or an absolute path';
}

const repoTarget = z.union([z.string().min(1), z.object({ url: z.string().min(1), base: z.string().min(1).optional() }).strict()]);

/** The REST API's address and token, shared by the IaC adapter and the alerts reader. */
const apiFields = (tokenRequired: string) => ({
  GITHUB_API_URL: z.url({ protocol: /^https?$/ }).default('https://api.github.com'),
  GITHUB_TOKEN: z
    .string({ error: tokenRequired })
    .min(1, tokenRequired)
    // It ends up in an HTTP header: a newline in it would inject headers.
    .regex(/^[\x21-\x7e]+$/, 'must be a single token without spaces or newlines'),
  GITHUB_TIMEOUT_MS: z.coerce.number().int().min(1000).max(300_000).default(15_000),
});

const schema = z.object({
  ...apiFields('is required when DRW_IAC_REPOS is set'),
  DRW_IAC_REPOS: z.string(),
  DRW_IAC_BASE_BRANCH: z.string().regex(BRANCH_RE, 'is not a valid branch name').default('main'),
  DRW_IAC_WORKDIR: z.string().min(1).default(path.join(os.tmpdir(), 'drw-iac')),
  DRW_GIT_AUTHOR_NAME: z.string().min(1).max(100).default('drw'),
  DRW_GIT_AUTHOR_EMAIL: z.email().default('drw@users.noreply.github.com'),
  DRW_GIT_TIMEOUT_MS: z.coerce.number().int().min(1000).max(3_600_000).default(120_000),
});

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function parse<S extends z.ZodObject>(s: S, env: NodeJS.ProcessEnv): z.infer<S> {
  const input = Object.fromEntries(Object.entries(env).filter(([k, v]) => k in s.shape && v !== undefined && v !== ''));
  const parsed = s.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`${String(issue.path[0] ?? 'configuration')} ${issue.message}`);
  }
  return parsed.data;
}

/** The REST API settings alone, for reading alerts (activities/adapters/github/alerts.ts). */
export interface GitHubApiConfig {
  apiUrl: string;
  token: string;
  apiTimeoutMs: number;
}

const alertsSchema = z.object({
  ...apiFields('is required'),
  // The token rides in a header: plain http only to a loopback simulator.
  GITHUB_API_URL: apiFields('').GITHUB_API_URL.refine(isHttpsOrLoopback, 'must use https (plain http only for localhost)'),
});

/** undefined when GITHUB_TOKEN is unset (no GitHub API on this worker); throws a ConfigError naming the variable when invalid. */
export function loadGitHubApiConfig(env: NodeJS.ProcessEnv = process.env): GitHubApiConfig | undefined {
  if (!env.GITHUB_TOKEN || env.GITHUB_TOKEN.trim() === '') return undefined;
  const e = parse(alertsSchema, env);
  return { apiUrl: e.GITHUB_API_URL.replace(/\/+$/, ''), token: e.GITHUB_TOKEN, apiTimeoutMs: e.GITHUB_TIMEOUT_MS };
}

/** undefined when DRW_IAC_REPOS is unset; throws a ConfigError naming the variable when invalid. */
export function loadGitHubIacConfig(env: NodeJS.ProcessEnv = process.env): GitHubIacConfig | undefined {
  if (!env.DRW_IAC_REPOS || env.DRW_IAC_REPOS.trim() === '') return undefined;
  const e = parse(schema, env);
  let raw: unknown;
  try {
    raw = JSON.parse(e.DRW_IAC_REPOS);
  } catch {
    throw new ConfigError('DRW_IAC_REPOS must be a JSON object mapping "owner/name" to a clone URL');
  }
  const map = z.record(z.string(), repoTarget).safeParse(raw);
  if (!map.success) throw new ConfigError('DRW_IAC_REPOS must be a JSON object mapping "owner/name" to a clone URL or {"url","base"}');
  const repos: Record<string, RepoTarget> = {};
  for (const [name, target] of Object.entries(map.data)) {
    if (!REPOSITORY_RE.test(name)) throw new ConfigError(`DRW_IAC_REPOS: "${name}" is not an "owner/name" repository`);
    const t = typeof target === 'string' ? { url: target } : target;
    const problem = cloneUrlProblem(t.url);
    if (problem) throw new ConfigError(`DRW_IAC_REPOS["${name}"]: the clone URL ${problem}`);
    const base = t.base ?? e.DRW_IAC_BASE_BRANCH;
    if (!BRANCH_RE.test(base)) throw new ConfigError(`DRW_IAC_REPOS["${name}"]: base "${base}" is not a valid branch name`);
    repos[name] = { url: t.url, base };
  }
  if (Object.keys(repos).length === 0) throw new ConfigError('DRW_IAC_REPOS maps no repository');
  return {
    apiUrl: e.GITHUB_API_URL.replace(/\/+$/, ''),
    token: e.GITHUB_TOKEN,
    repos,
    workdir: path.resolve(e.DRW_IAC_WORKDIR),
    author: { name: e.DRW_GIT_AUTHOR_NAME, email: e.DRW_GIT_AUTHOR_EMAIL },
    gitTimeoutMs: e.DRW_GIT_TIMEOUT_MS,
    apiTimeoutMs: e.GITHUB_TIMEOUT_MS,
  };
}
