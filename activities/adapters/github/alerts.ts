import type { AxiosInstance } from 'axios';
import { z } from 'zod';
import { parseSourceFindingRef } from '../../../ingest/source-ref';
import type { FindingSource, SourceFindingRef, SourceFindingState } from '../../interfaces';
import { nonRetryable } from '../http';
import { createGitHubClient } from './client';
import type { GitHubApiConfig } from './config';

/**
 * Re-reads a Dependabot or code scanning alert (GET /repos/{owner}/{repo}/dependabot/alerts/{n},
 * /code-scanning/alerts/{n}) to tell whether the fix took. Only `fixed` is gone: GitHub sets it
 * when the vulnerable dependency or the flagged code is no longer there. `dismissed` (and
 * Dependabot's `auto_dismissed`) is a person or a triage rule choosing to stop looking, not a fix.
 */

type GitHubRef = Extract<SourceFindingRef, { source: 'github' }>;

// Only the fields read here; both alert schemas in GitHub's OpenAPI description have them.
const alertSchema = z.object({
  state: z.enum(['open', 'fixed', 'dismissed', 'auto_dismissed']).nullable(),
  dismissed_reason: z.string().nullable().optional(),
  html_url: z.string().optional(),
});

const PATHS: Record<GitHubRef['alertKind'], string> = { dependabot: 'dependabot', code_scanning: 'code-scanning' };

export function alertPath(ref: GitHubRef): string {
  const [owner, repo] = ref.repository.split('/');
  return `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/${PATHS[ref.alertKind]}/alerts/${ref.alertNumber}`;
}

/** GitHub's answer in drw's terms; the status is GitHub's word for it, with why it is not a fix where it is not. */
export function alertState(alert: z.infer<typeof alertSchema>): SourceFindingState {
  switch (alert.state) {
    case 'fixed':
      return { system: 'github', gone: true, status: 'fixed' };
    case 'dismissed':
      return { system: 'github', gone: false, status: `dismissed${alert.dismissed_reason ? ` as ${alert.dismissed_reason}` : ''}: a person dismissed it, which is not a fix` };
    case 'auto_dismissed':
      return { system: 'github', gone: false, status: 'auto_dismissed: a triage rule dismissed it, which is not a fix' };
    default:
      return { system: 'github', gone: false, status: alert.state ?? 'no state' };
  }
}

export function createGitHubFindingSource(config: GitHubApiConfig, http: AxiosInstance = createGitHubClient({ apiUrl: config.apiUrl, token: config.token, timeoutMs: config.apiTimeoutMs })): FindingSource {
  return {
    async getFindingState(input) {
      const { ref, problem } = parseSourceFindingRef(input?.ref);
      if (!ref || ref.source !== 'github') throw nonRetryable('github', `not a GitHub alert reference: ${problem ?? `source is ${ref?.source}`}`, 'InvalidInput');
      // A missing alert is an answer (deleted repository, alerts turned off): not gone, and said so.
      const res = await http.get<unknown>(alertPath(ref), { validateStatus: (s) => (s >= 200 && s < 300) || s === 404 });
      if (res.status === 404) {
        return { system: 'github', gone: false, status: 'not found (GitHub answered 404): unknown, so not gone' };
      }
      const alert = alertSchema.safeParse(res.data);
      if (!alert.success) {
        throw nonRetryable('github', `GET ${alertPath(ref)}: unexpected answer (${alert.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')})`, 'UnexpectedAnswer');
      }
      return alertState(alert.data);
    },
  };
}
