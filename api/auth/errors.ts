/**
 * Refusals from authentication. A 401 always carries a `WWW-Authenticate` challenge
 * (RFC 9110 §11.6.1, RFC 6750 §3); the server adds `headers` to the response.
 */
import { ApiError } from '../errors';

/** Text safe inside a quoted-string of a challenge: no quotes, backslashes or control characters. */
function quoted(s: string): string {
  return s.replace(/["\\\u0000-\u001f\u007f]/g, ' ').slice(0, 300);
}

export type BearerError = 'invalid_request' | 'invalid_token';

export function bearerChallenge(realm: string, error?: BearerError, description?: string): string {
  return `Bearer realm="${quoted(realm)}"${error ? `, error="${error}"` : ''}${description ? `, error_description="${quoted(description)}"` : ''}`;
}

export class AuthError extends ApiError {
  readonly headers: Record<string, string>;

  constructor(message: string, challenge: string) {
    super(401, message);
    this.headers = { 'WWW-Authenticate': challenge };
  }
}

export function forbidden(message: string): ApiError {
  return new ApiError(403, message);
}
