import type { AxiosInstance } from 'axios';
import { ApplicationFailure } from '@temporalio/common';
import { vendorMessage } from '../http';

/** The slice of GitHub's pull request API drw uses. */

export interface GitHubPull {
  number: number;
  html_url: string;
  state: 'open' | 'closed';
  merged?: boolean;
  merged_at?: string | null;
  head: { ref: string };
  base?: { ref: string };
}

export type CreateOutcome = { kind: 'created'; pull: GitHubPull } | { kind: 'exists' } | { kind: 'no_commits' };

interface ValidationError {
  message?: string;
  errors?: { resource?: string; field?: string; code?: string; message?: string }[];
}

export class GitHubPulls {
  constructor(private readonly http: AxiosInstance) {}

  private path(repository: string, suffix = ''): string {
    const [owner, name] = repository.split('/');
    return `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(name)}/pulls${suffix}`;
  }

  /**
   * The pull request whose head is `branch` in the repository itself, open or not (newest
   * first, open preferred). GitHub silently ignores a malformed `head` filter and lists every
   * pull request, hence the check on head.ref.
   */
  async findByHead(repository: string, branch: string): Promise<GitHubPull | undefined> {
    const owner = repository.split('/')[0];
    const res = await this.http.get<GitHubPull[]>(this.path(repository), {
      params: { head: `${owner}:${branch}`, state: 'all', per_page: 100 },
    });
    const mine = (Array.isArray(res.data) ? res.data : []).filter((p) => p.head?.ref === branch);
    mine.sort((a, b) => Number(b.state === 'open') - Number(a.state === 'open') || b.number - a.number);
    return mine[0];
  }

  async create(repository: string, input: { title: string; head: string; base: string; body: string }): Promise<CreateOutcome> {
    const res = await this.http.post<GitHubPull | ValidationError>(this.path(repository), input, {
      // 422 is an answer here, not an error: it says whether a PR already exists.
      validateStatus: (s) => (s >= 200 && s < 300) || s === 422,
    });
    if (res.status !== 422) return { kind: 'created', pull: res.data as GitHubPull };
    const body = res.data as ValidationError;
    const messages = (body.errors ?? []).map((e) => e.message ?? '').join(' ');
    if (/already exists/i.test(messages)) return { kind: 'exists' };
    if (/no commits between/i.test(messages)) return { kind: 'no_commits' };
    const text = vendorMessage(body);
    // Right after a push GitHub can briefly not know the branch yet.
    if ((body.errors ?? []).some((e) => e.field === 'head' && e.code === 'invalid')) {
      throw ApplicationFailure.create({ message: `github: head branch ${input.head} not visible yet: ${text}`, type: 'github.HeadNotReady', nonRetryable: false, nextRetryDelay: 2000 });
    }
    throw ApplicationFailure.create({ message: `github: POST ${this.path(repository)} answered 422: ${text}`, type: 'github.ClientError', nonRetryable: true, details: [{ status: 422 }] });
  }

  async get(repository: string, number: number): Promise<GitHubPull> {
    return (await this.http.get<GitHubPull>(this.path(repository, `/${number}`))).data;
  }
}
