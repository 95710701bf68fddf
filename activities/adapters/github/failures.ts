import { ApplicationFailure } from '@temporalio/common';
import type { IacChangeFailure } from '../../interfaces';
import { GitError, redact } from '../git';
import { WorkdirBusyError } from '../git/lock';
import { TemplateError } from '../iac-templates';

/**
 * Maps the adapter's own errors onto the activity failure rules: a template or input problem
 * and a git authentication or missing repository are permanent; network trouble, lost push
 * races and a busy work tree are worth retrying. Every message is scrubbed of the token once
 * more on the way out, whatever produced it.
 */
export function toIacFailure(err: unknown, secrets: string[]): Error {
  if (err instanceof ApplicationFailure) {
    if (err.message && secrets.some((s) => s && err.message.includes(s))) {
      return ApplicationFailure.create({
        message: redact(err.message, secrets),
        type: err.type ?? undefined,
        nonRetryable: err.nonRetryable ?? undefined,
        nextRetryDelay: err.nextRetryDelay ?? undefined,
      });
    }
    return err;
  }
  if (err instanceof TemplateError) {
    return ApplicationFailure.create({ message: redact(err.message, secrets), type: `iac.Template.${err.code}`, nonRetryable: true });
  }
  if (err instanceof GitError) {
    const permanent = err.kind === 'auth' || err.kind === 'not_found';
    const type = { auth: 'git.Auth', not_found: 'git.NotFound', rejected: 'git.PushRejected', network: 'git.Unavailable', other: 'git.Failed' }[err.kind];
    return ApplicationFailure.create({ message: redact(err.message, secrets), type, nonRetryable: permanent });
  }
  if (err instanceof WorkdirBusyError) return ApplicationFailure.create({ message: err.message, type: 'iac.WorkdirBusy', nonRetryable: false });
  const message = redact(err instanceof Error ? err.message : String(err), secrets);
  return ApplicationFailure.create({ message: `iac: ${message}`, type: 'iac.Failed', nonRetryable: false });
}

export function invalidInput(message: string): ApplicationFailure {
  return ApplicationFailure.create({ message: `iac: ${message}`, type: 'iac.InvalidInput', nonRetryable: true });
}

/**
 * The change about to be committed is not the one the approver saw (its digest differs): the base
 * moved since the preview. Non-retryable, since a retry computes the same change; the step needs a
 * new preview and a new approval.
 */
export function changeMismatch(repository: string, files: string[], approved: string, current: string): ApplicationFailure {
  const shown = files.length > 10 ? [...files.slice(0, 10), `and ${files.length - 10} more`] : files;
  return ApplicationFailure.create({
    message: `the change to ${repository} is no longer the one approved (${shown.join(', ')}): the base moved; nothing was pushed`,
    type: 'ChangeMismatch' satisfies IacChangeFailure,
    nonRetryable: true,
    details: [{ repository, files, approved, current }],
  });
}
