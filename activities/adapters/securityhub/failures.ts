import { ApplicationFailure } from '@temporalio/common';
import { retryAfterMs } from '../http';

/**
 * Security Hub's errors (as the AWS SDK raises them) in the rules of activities/adapters/http.ts:
 * throttling retryable after a delay, 5xx and network trouble retryable, other 4xx (access
 * denied, invalid input, an unrecognized key) non-retryable with AWS's own message. The SDK's own
 * retries are off: Temporal owns every retry.
 */

const THROTTLING = new Set(['LimitExceededException', 'ThrottlingException', 'TooManyRequestsException', 'ThrottledException', 'RequestLimitExceeded']);
/** Security Hub documents no Retry-After; its GetFindings quota refills every second. */
const THROTTLE_DELAY_MS = 1000;

interface SdkError {
  name?: string;
  message?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number; requestId?: string };
  $response?: { headers?: Record<string, string> };
  $retryable?: { throttling?: boolean };
}

export function toSecurityHubFailure(err: unknown, operation: string): Error {
  if (err instanceof ApplicationFailure) return err;
  const e = (err ?? {}) as SdkError;
  const name = e.name ?? 'Error';
  const status = e.$metadata?.httpStatusCode;
  const text = (e.message ?? '').split(/\r?\n/)[0].slice(0, 500);
  if (name === 'CredentialsProviderError') {
    return ApplicationFailure.create({
      message: `securityhub: no AWS credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE or a role): ${text}`,
      type: 'securityhub.NoCredentials',
      nonRetryable: true,
    });
  }
  if (status === undefined) {
    // Timeouts, refused connections, resets: no answer from AWS.
    return ApplicationFailure.retryable(`securityhub: ${operation} failed: ${name} ${text}`.trim(), 'securityhub.Unavailable');
  }
  const message = `securityhub: ${operation} answered ${status} ${name}${text && text !== name ? `: ${text}` : ''}`;
  const details = [{ status, errorType: name, requestId: e.$metadata?.requestId }];
  if (status === 429 || THROTTLING.has(name) || e.$retryable?.throttling) {
    const delay = retryAfterMs(e.$response?.headers?.['retry-after']) ?? THROTTLE_DELAY_MS;
    return ApplicationFailure.create({ message, type: 'securityhub.RateLimited', nonRetryable: false, nextRetryDelay: delay, details });
  }
  if (status >= 500 || status === 408 || e.$fault === 'server') {
    return ApplicationFailure.create({ message, type: 'securityhub.ServerError', nonRetryable: false, details });
  }
  return ApplicationFailure.create({ message, type: 'securityhub.ClientError', nonRetryable: true, details });
}
