import { ApplicationFailure } from '@temporalio/common';

/**
 * Incoming-webhook URLs (Slack, generic webhooks) are credentials: whoever has one can post.
 * A failure to reach one is rebuilt around the channel name, keeping its retry semantics,
 * with the URL, its path and query taken out of the message.
 */
export function failureWithoutUrl(vendor: string, err: unknown, channel: string, url: string): Error {
  const original = err instanceof Error ? err.message : String(err);
  const reason = scrubUrl(original.replace(new RegExp(`^${vendor}:\\s*`), '').replace(/^POST\s*(\S*\s+)?(?=answered |failed)/, ''), url);
  const message = `${vendor}: channel "${channel}" ${reason}`;
  if (err instanceof ApplicationFailure) {
    return ApplicationFailure.create({
      message,
      type: err.type ?? `${vendor}.Error`,
      nonRetryable: err.nonRetryable ?? false,
      nextRetryDelay: err.nextRetryDelay ?? undefined,
      details: err.details ?? undefined,
    });
  }
  return ApplicationFailure.retryable(message, `${vendor}.Unavailable`);
}

export function scrubUrl(text: string, url: string): string {
  let out = text.split(url).join('[webhook]');
  try {
    const { pathname, search } = new URL(url);
    for (const part of [pathname + search, pathname]) if (part.length > 1) out = out.split(part).join('[webhook]');
  } catch {
    // The config loaders only admit valid URLs.
  }
  return out;
}
