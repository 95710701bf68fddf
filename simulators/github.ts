import { execFileSync } from 'node:child_process';
import { z } from 'zod';
import { Handler, SimRequest, SimResponse, SimulatorServer } from './base';

/**
 * GitHub REST simulator for the pull request calls drw makes: list (head/base/state filters,
 * per_page/page pagination with a Link header), create (GitHub's 422 bodies for duplicates,
 * missing fields, unknown heads and empty diffs), get one (with `merged`), bearer-token
 * checks, rate-limit headers on every answer and GitHub-style 403/429 rate limiting on demand,
 * and a "lost answer" mode where a pull request is created but the client never hears so.
 * When `repos` maps "owner/name" to a bare repository, heads and bases are checked against it.
 * Also Dependabot and code scanning alerts (GET /repos/{owner}/{repo}/dependabot/alerts/{n} and
 * /code-scanning/alerts/{n}), seeded by tests (`setAlert`) or the admin route
 * `PUT /_sim/repos/{owner}/{repo}/{dependabot|code-scanning}/alerts/{n}` ({state, dismissed_reason?}).
 */

export interface GitHubSimulatorOptions {
  token?: string;
  /** "owner/name" → path of a bare repository, to validate branches and compute heads. */
  repos?: Record<string, string>;
  htmlBase?: string;
}

export interface SimPull {
  id: number;
  number: number;
  repository: string;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  merged: boolean;
  merged_at: string | null;
  closed_at: string | null;
  created_at: string;
  updated_at: string;
  html_url: string;
  url: string;
  draft: boolean;
  user: { login: string };
  head: { ref: string; sha: string; label: string };
  base: { ref: string; sha: string; label: string };
}

export type AlertKind = 'dependabot' | 'code-scanning';
export type AlertState = 'open' | 'fixed' | 'dismissed' | 'auto_dismissed';
/** An alert as the REST API returns it: the documented fields the simulator sets, plus whatever the test seeded (e.g. a webhook sample's `alert`). */
export type SimAlert = Record<string, unknown> & { number: number; state: AlertState };

export interface RateLimitPlan {
  /** primary: x-ratelimit-remaining 0 + reset; secondary: retry-after. */
  kind?: 'primary' | 'secondary';
  status?: 403 | 429;
  resetInSeconds?: number;
  retryAfterSeconds?: number;
}

export interface GitHubSimulator {
  server: SimulatorServer;
  url: string;
  token: string;
  pulls(repository?: string): SimPull[];
  markMerged(repository: string, number: number): SimPull;
  closePull(repository: string, number: number): SimPull;
  /** Creates or changes an alert: its state (fixed, dismissed with a reason, …) and any other fields given. */
  setAlert(repository: string, kind: AlertKind, number: number, change: { state: AlertState; dismissed_reason?: string | null } & Record<string, unknown>): SimAlert;
  /** The next `count` authenticated requests are refused as rate limited. */
  rateLimitNext(count: number, plan?: RateLimitPlan): void;
  /** The next create succeeds, but its answer is lost: a 502 (default) or no answer within `hangMs`. */
  loseNextCreateAnswer(opts?: { status?: number; hangMs?: number }): void;
  close(): Promise<void>;
}

const DOCS = 'https://docs.github.com/rest';
const LIMIT = 5000;

export async function startGitHubSimulator(opts: GitHubSimulatorOptions = {}): Promise<GitHubSimulator> {
  const token = opts.token ?? 'sim-github-token';
  const htmlBase = (opts.htmlBase ?? 'https://github.sim').replace(/\/$/, '');
  const server = new SimulatorServer('github');
  const pulls: SimPull[] = [];
  const seq = { pull: 1 };
  const alerts = new Map<string, SimAlert>();
  let used = 0;
  const resetAt = () => Math.floor(Date.now() / 1000) + 3600;
  let rateLimited: { count: number; plan: RateLimitPlan } = { count: 0, plan: {} };
  let loseCreate: { status?: number; hangMs?: number } | undefined;
  const timers = new Set<NodeJS.Timeout>();

  const rateHeaders = (): Record<string, string> => ({
    'x-ratelimit-limit': String(LIMIT),
    'x-ratelimit-remaining': String(Math.max(LIMIT - used, 0)),
    'x-ratelimit-used': String(used),
    'x-ratelimit-reset': String(resetAt()),
    'x-ratelimit-resource': 'core',
  });

  /** Authentication, then rate limiting, then the handler; every answer carries rate headers. */
  const api = (handler: Handler): Handler => async (req) => {
    const auth = String(req.headers.authorization ?? '');
    const m = /^(?:Bearer|token) (.+)$/.exec(auth);
    if (!m || m[1] !== token) return { status: 401, body: { message: 'Bad credentials', documentation_url: DOCS, status: '401' } };
    used++;
    if (rateLimited.count > 0) {
      rateLimited.count--;
      return rateLimitAnswer(rateLimited.plan);
    }
    const res = await handler(req);
    return { ...res, headers: { ...rateHeaders(), ...(res.headers ?? {}) } };
  };

  const rateLimitAnswer = (plan: RateLimitPlan): SimResponse => {
    const status = plan.status ?? 403;
    if ((plan.kind ?? 'primary') === 'primary') {
      return {
        status,
        headers: {
          ...rateHeaders(),
          'x-ratelimit-remaining': '0',
          'x-ratelimit-used': String(LIMIT),
          'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + (plan.resetInSeconds ?? 60)),
        },
        body: { message: 'API rate limit exceeded for user ID 1.', documentation_url: `${DOCS}/overview/rate-limits-for-the-rest-api`, status: String(status) },
      };
    }
    return {
      status,
      headers: { ...rateHeaders(), 'retry-after': String(plan.retryAfterSeconds ?? 30) },
      body: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.', documentation_url: DOCS, status: String(status) },
    };
  };

  const repoOf = (req: SimRequest) => `${req.params.owner}/${req.params.repo}`;
  const git = (repository: string, args: string[]): string | undefined => {
    const dir = opts.repos?.[repository];
    if (!dir) return undefined;
    try {
      return execFileSync('git', args, { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    } catch {
      return '';
    }
  };
  const sha = (repository: string, ref: string) => git(repository, ['rev-parse', '--verify', '--quiet', `refs/heads/${ref}^{commit}`]);

  const view = (p: SimPull, full: boolean) => {
    const { repository: _r, merged, ...rest } = p;
    void _r;
    return full ? { ...rest, merged, mergeable: p.state === 'open' ? true : null } : rest;
  };
  const find = (repository: string, number: number) => pulls.find((p) => p.repository === repository && p.number === number);
  const validation = (errors: object[]): SimResponse => ({
    status: 422,
    body: { message: 'Validation Failed', errors, documentation_url: `${DOCS}/pulls/pulls#create-a-pull-request`, status: '422' },
  });

  server.route(
    'GET',
    '/repos/:owner/:repo/pulls',
    api((req): SimResponse => {
      const repository = repoOf(req);
      const state = req.query.state ?? 'open';
      let list = pulls.filter((p) => p.repository === repository && (state === 'all' || p.state === state));
      const head = req.query.head;
      // Like GitHub, a head filter without "owner:" is ignored rather than rejected.
      if (head && head.includes(':')) {
        const [owner, ref] = [head.slice(0, head.indexOf(':')), head.slice(head.indexOf(':') + 1)];
        list = owner === req.params.owner ? list.filter((p) => p.head.ref === ref) : [];
      }
      if (req.query.base) list = list.filter((p) => p.base.ref === req.query.base);
      list = [...list].sort((a, b) => (req.query.direction === 'asc' ? a.number - b.number : b.number - a.number));
      const perPage = Math.min(Math.max(Number(req.query.per_page) || 30, 1), 100);
      const page = Math.max(Number(req.query.page) || 1, 1);
      const last = Math.max(Math.ceil(list.length / perPage), 1);
      const link = (n: number, rel: string) => {
        const q = new URLSearchParams({ ...req.query, per_page: String(perPage), page: String(n) });
        return `<${server.baseUrl}${req.path}?${q}>; rel="${rel}"`;
      };
      const links = [
        ...(page < last ? [link(page + 1, 'next'), link(last, 'last')] : []),
        ...(page > 1 ? [link(1, 'first'), link(page - 1, 'prev')] : []),
      ];
      return {
        status: 200,
        headers: links.length ? { Link: links.join(', ') } : undefined,
        body: list.slice((page - 1) * perPage, page * perPage).map((p) => view(p, false)),
      };
    }),
  );

  server.route(
    'POST',
    '/repos/:owner/:repo/pulls',
    api(async (req): Promise<SimResponse> => {
      const repository = repoOf(req);
      const b = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
      const missing = ['title', 'head', 'base'].filter((f) => typeof b[f] !== 'string' || (b[f] as string).trim() === '');
      if (missing.length) return validation(missing.map((field) => ({ resource: 'PullRequest', code: 'missing_field', field })));
      const rawHead = b.head as string;
      const head = rawHead.includes(':') ? rawHead.slice(rawHead.indexOf(':') + 1) : rawHead;
      const base = b.base as string;
      let headSha = 'f'.repeat(40);
      let baseSha = 'e'.repeat(40);
      if (opts.repos?.[repository]) {
        const hs = sha(repository, head);
        const bs = sha(repository, base);
        if (!hs) return validation([{ resource: 'PullRequest', field: 'head', code: 'invalid' }]);
        if (!bs) return validation([{ resource: 'PullRequest', field: 'base', code: 'invalid' }]);
        headSha = hs;
        baseSha = bs;
        if (git(repository, ['rev-list', '--count', `${bs}..${hs}`]) === '0') {
          return validation([{ resource: 'PullRequest', code: 'custom', message: `No commits between ${base} and ${head}` }]);
        }
      } else if (head === base) {
        return validation([{ resource: 'PullRequest', code: 'custom', message: `No commits between ${base} and ${head}` }]);
      }
      // A merged pull request put its head's commits into the base (markMerged does not move the base here): the same head again has nothing to merge.
      if (pulls.some((p) => p.repository === repository && p.merged && p.head.ref === head && p.head.sha === headSha && p.base.ref === base)) {
        return validation([{ resource: 'PullRequest', code: 'custom', message: `No commits between ${base} and ${head}` }]);
      }
      if (pulls.some((p) => p.repository === repository && p.state === 'open' && p.head.ref === head && p.base.ref === base)) {
        return validation([{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${req.params.owner}:${head}.` }]);
      }
      const number = seq.pull++;
      const now = new Date().toISOString();
      const pull: SimPull = {
        id: 1_000_000 + number,
        number,
        repository,
        title: b.title as string,
        body: typeof b.body === 'string' ? b.body : null,
        state: 'open',
        merged: false,
        merged_at: null,
        closed_at: null,
        created_at: now,
        updated_at: now,
        html_url: `${htmlBase}/${repository}/pull/${number}`,
        url: `${server.baseUrl}/repos/${repository}/pulls/${number}`,
        draft: b.draft === true,
        user: { login: 'drw-bot' },
        head: { ref: head, sha: headSha, label: `${req.params.owner}:${head}` },
        base: { ref: base, sha: baseSha, label: `${req.params.owner}:${base}` },
      };
      pulls.push(pull);
      if (loseCreate) {
        const lost = loseCreate;
        loseCreate = undefined;
        if (lost.hangMs) {
          await new Promise<void>((resolve) => {
            const t = setTimeout(() => (timers.delete(t), resolve()), lost.hangMs);
            timers.add(t);
          });
        }
        return { status: lost.status ?? 502, body: { message: 'Server Error' } };
      }
      return { status: 201, headers: { Location: pull.url }, body: view(pull, true) };
    }),
  );

  server.route(
    'GET',
    '/repos/:owner/:repo/pulls/:number',
    api((req): SimResponse => {
      const p = find(repoOf(req), Number(req.params.number));
      if (!p) return { status: 404, body: { message: 'Not Found', documentation_url: `${DOCS}/pulls/pulls#get-a-pull-request`, status: '404' } };
      return { status: 200, body: view(p, true) };
    }),
  );

  const ALERT_STATES: Record<AlertKind, AlertState[]> = { dependabot: ['open', 'fixed', 'dismissed', 'auto_dismissed'], 'code-scanning': ['open', 'fixed', 'dismissed'] };
  const setAlert = (repository: string, kind: AlertKind, number: number, change: { state: AlertState; dismissed_reason?: string | null } & Record<string, unknown>): SimAlert => {
    if (!ALERT_STATES[kind]?.includes(change.state)) throw new Error(`a ${kind} alert cannot be ${String(change.state)}`);
    const key = `${repository}|${kind}|${number}`;
    const now = new Date().toISOString();
    const before = alerts.get(key);
    const page = kind === 'dependabot' ? 'security/dependabot' : 'security/code-scanning';
    const alert: SimAlert = {
      created_at: now,
      dismissed_by: null,
      dismissed_comment: null,
      ...before,
      ...change,
      number,
      url: `${server.baseUrl}/repos/${repository}/${kind}/alerts/${number}`,
      html_url: `${htmlBase}/${repository}/${page}/${number}`,
      updated_at: now,
      fixed_at: change.state === 'fixed' ? now : null,
      dismissed_at: change.state === 'dismissed' ? now : null,
      dismissed_reason: change.state === 'dismissed' ? (change.dismissed_reason ?? 'tolerable_risk') : null,
      ...(kind === 'dependabot' ? { auto_dismissed_at: change.state === 'auto_dismissed' ? now : null } : {}),
    };
    alerts.set(key, alert);
    return alert;
  };
  for (const kind of ['dependabot', 'code-scanning'] as const) {
    server.route(
      'GET',
      `/repos/:owner/:repo/${kind}/alerts/:number`,
      api((req): SimResponse => {
        const alert = alerts.get(`${repoOf(req)}|${kind}|${Number(req.params.number)}`);
        const doc = `${DOCS}/${kind === 'dependabot' ? 'dependabot/alerts#get-a-dependabot-alert' : 'code-scanning/code-scanning#get-a-code-scanning-alert'}`;
        if (!alert) return { status: 404, body: { message: 'Not Found', documentation_url: doc, status: '404' } };
        return { status: 200, body: alert };
      }),
    );
  }
  server.route('PUT', '/_sim/repos/:owner/:repo/:kind/alerts/:number', (req): SimResponse => {
    const b = (req.body && typeof req.body === 'object' ? req.body : {}) as { state?: AlertState; dismissed_reason?: string };
    const number = Number(req.params.number);
    if (!Number.isInteger(number) || number < 1) return { status: 422, body: { message: 'the alert number must be a positive integer' } };
    try {
      return { status: 200, body: setAlert(repoOf(req), req.params.kind as AlertKind, number, { state: b.state as AlertState, dismissed_reason: b.dismissed_reason }) };
    } catch (e) {
      return { status: 422, body: { message: (e as Error).message } };
    }
  });

  const url = await server.start();
  const must = (repository: string, number: number) => {
    const p = find(repository, number);
    if (!p) throw new Error(`no pull request ${repository}#${number}`);
    return p;
  };
  return {
    server,
    url,
    token,
    ...gitHubPersistence(server, pulls, seq, alerts),
    pulls: (repository) => pulls.filter((p) => !repository || p.repository === repository),
    markMerged(repository, number) {
      const p = must(repository, number);
      const now = new Date().toISOString();
      Object.assign(p, { state: 'closed', merged: true, merged_at: now, closed_at: now, updated_at: now });
      return p;
    },
    closePull(repository, number) {
      const p = must(repository, number);
      const now = new Date().toISOString();
      Object.assign(p, { state: 'closed', closed_at: now, updated_at: now });
      return p;
    },
    setAlert,
    rateLimitNext(count, plan = {}) {
      rateLimited = { count, plan };
    },
    loseNextCreateAnswer(o = {}) {
      loseCreate = o;
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await server.close();
    },
  };
}

/**
 * What survives a restart of the embedded default (simulators/persistence.ts): every pull request
 * with its number, state and merge, and the next number, so a merged pull request stays merged
 * and no number is given twice. The branches live in the bare repositories, which are on disk.
 */
export interface GitHubSimulator {
  snapshot(): GitHubSnapshot;
  restore(data: unknown): void;
}

export interface GitHubSnapshot {
  pulls: SimPull[];
  nextNumber: number;
  alerts?: [string, SimAlert][];
}

const SnapshotRef = z.object({ ref: z.string(), sha: z.string(), label: z.string() });
// Loose: fields a newer simulator adds to pull requests are kept as they are.
const SnapshotPull = z.looseObject({
  id: z.number().int(),
  number: z.number().int().positive(),
  repository: z.string().regex(/^[^/\s]+\/[^/\s]+$/),
  title: z.string(),
  body: z.string().nullable(),
  state: z.enum(['open', 'closed']),
  merged: z.boolean(),
  merged_at: z.string().nullable(),
  closed_at: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  html_url: z.string(),
  url: z.string(),
  draft: z.boolean(),
  user: z.object({ login: z.string() }),
  head: SnapshotRef,
  base: SnapshotRef,
});
const GitHubSnapshotSchema = z.object({ pulls: z.array(SnapshotPull), nextNumber: z.number().int().positive(), alerts: z.array(z.tuple([z.string(), z.looseObject({ number: z.number().int() })])).optional() });

function gitHubPersistence(server: SimulatorServer, pulls: SimPull[], seq: { pull: number }, alerts: Map<string, SimAlert>): Pick<GitHubSimulator, 'snapshot' | 'restore'> {
  return {
    snapshot: () => ({ pulls: [...pulls], nextNumber: seq.pull, alerts: [...alerts.entries()] }),
    restore(data) {
      const s = GitHubSnapshotSchema.parse(data);
      alerts.clear();
      for (const [k, a] of s.alerts ?? []) alerts.set(k, a as SimAlert);
      // The API address is this run's (the port changes with each start).
      pulls.splice(0, pulls.length, ...s.pulls.map((p) => ({ ...p, url: `${server.baseUrl}/repos/${p.repository}/pulls/${p.number}` }) as SimPull));
      // Never below what the pull requests show, even from an edited file.
      seq.pull = Math.max(s.nextNumber, ...pulls.map((p) => p.number + 1));
    },
  };
}
