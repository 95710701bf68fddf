import type { PullRequestInput } from '../../interfaces';

/**
 * Commit and pull request texts. The template's summary is stored in the commit message, so
 * a retry that finds the branch already pushed can rebuild the same pull request body.
 */

const TRAILER_REMEDIATION = 'Drw-Remediation';
const TRAILER_KEY = 'Drw-Idempotency-Key';

function oneLine(text: string, max: number): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

export function prTitle(input: PullRequestInput): string {
  return oneLine(input.title, 250);
}

export function commitMessage(input: PullRequestInput, summary: string): string {
  return [prTitle(input), '', summary.trim(), '', `${TRAILER_REMEDIATION}: ${oneLine(input.remediationId, 200)}`, `${TRAILER_KEY}: ${oneLine(input.idempotencyKey, 200)}`].join('\n');
}

/** The summary stored by commitMessage, or undefined for a commit drw did not write. */
export function summaryFromCommit(message: string): string | undefined {
  const lines = message.replace(/\s+$/, '').split('\n');
  const trailerAt = lines.findIndex((l) => l.startsWith(`${TRAILER_REMEDIATION}: `));
  if (trailerAt < 2) return undefined;
  const summary = lines.slice(2, trailerAt).join('\n').trim();
  return summary || undefined;
}

/** GitHub refuses bodies over 65,536 characters; the footer must survive any truncation. */
const MAX_BODY = 60_000;

/** The caller's markdown, what changed, and a footer tying the PR to its remediation. */
export function prBody(input: PullRequestInput, summary: string | undefined): string {
  // `-->` would end the HTML comment early.
  const marker = input.idempotencyKey.replace(/-->/g, '--&gt;');
  let text = [input.body.trim(), ...(summary ? ['', '### Change', '', summary.trim()] : [])].join('\n');
  if (text.length > MAX_BODY) text = `${text.slice(0, MAX_BODY)}\n\n_(truncated)_`;
  return [
    text,
    '',
    '---',
    `_Opened by drw for remediation \`${oneLine(input.remediationId, 200)}\`._`,
    `<!-- drw:idempotency-key=${marker} -->`,
  ].join('\n');
}
