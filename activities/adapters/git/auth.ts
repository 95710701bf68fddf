/**
 * HTTPS authentication for git without ever writing the token anywhere: it travels as an
 * `http.<origin>.extraHeader` set through git's GIT_CONFIG_COUNT/KEY/VALUE environment
 * variables. That has the effect of `git -c` but keeps the token out of the command line
 * (readable by every local user in /proc/<pid>/cmdline), out of the remote URL and out of
 * .git/config. The header is scoped to the remote's origin so no other host receives it,
 * and credential helpers are switched off so nothing gets cached on the worker.
 */

export interface GitAuth {
  /** Environment variables to add to remote git commands. */
  env: Record<string, string>;
  /** Strings to scrub from any error text. */
  secrets: string[];
}

const NONE: GitAuth = { env: {}, secrets: [] };

/** Whether a clone URL is HTTP(S), the only kind the token is sent to. */
export function isHttpUrl(url: string): boolean {
  return /^https?:\/\//i.test(url);
}

export function gitAuth(remoteUrl: string, token: string | undefined, base: NodeJS.ProcessEnv = process.env): GitAuth {
  if (!token || !isHttpUrl(remoteUrl)) return NONE;
  const u = new URL(remoteUrl);
  const origin = `${u.protocol}//${u.host}/`;
  // GitHub accepts any user name with a token as the password; x-access-token is its convention.
  const basic = Buffer.from(`x-access-token:${token}`, 'utf8').toString('base64');
  const entries: [string, string][] = [
    [`http.${origin}.extraHeader`, `Authorization: Basic ${basic}`],
    ['credential.helper', ''],
  ];
  const start = Number.parseInt(base.GIT_CONFIG_COUNT ?? '0', 10) || 0;
  const env: Record<string, string> = { GIT_CONFIG_COUNT: String(start + entries.length) };
  entries.forEach(([k, v], i) => {
    env[`GIT_CONFIG_KEY_${start + i}`] = k;
    env[`GIT_CONFIG_VALUE_${start + i}`] = v;
  });
  return { env, secrets: [token, basic] };
}
