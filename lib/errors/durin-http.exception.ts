import { HttpException, HttpStatus } from '@nestjs/common';
import { CsrfValidationError, SessionLimitExceededError } from './security-errors';
import { TokenStoreUnavailableError } from './token-errors';

/** The `code` of a 401 from the guard. */
export type AuthErrorCode = 'token_missing' | 'token_invalid' | 'token_expired' | 'user_inactive';

/** The JSON body of every error nestjs-durin answers with. */
export interface DurinErrorBody {
  statusCode: number;
  error: string;
  message: string;
  code: string;
}

/**
 * The `realm` of every `WWW-Authenticate` challenge. Fixed: it only names the protection space to
 * the client and must not vary by failure (REQ-HDR-08).
 */
export const DURIN_AUTH_REALM = 'api';

/**
 * How long a client should wait before retrying after a 503 (`Retry-After`, seconds): long enough
 * for a database fail-over or restart to be noticed, short enough not to log people out in effect.
 */
export const DURIN_RETRY_AFTER_SECONDS = 5;

const AUTH_MESSAGES: Record<AuthErrorCode, string> = {
  token_missing: 'Authentication credentials were not provided.',
  token_invalid: 'Invalid token.',
  token_expired: 'Token has expired.',
  user_inactive: 'User inactive or deleted.',
};

const REASON_PHRASES: Partial<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  503: 'Service Unavailable',
};

/**
 * Base of the HTTP errors nestjs-durin throws. The body is `{ statusCode, error, message, code }`,
 * rendered as is by Nest's default exception filter on Express and Fastify. Response headers the
 * error needs (`WWW-Authenticate`, `Retry-After`) are in {@link headers}: the guard and the
 * ready-made routes put them on the response before throwing, and a custom exception filter (or
 * a GraphQL/WebSocket layer, which has no HTTP response at hand) can read them from here.
 *
 * @example
 * throw new DurinHttpException(HttpStatus.NOT_FOUND, 'session_not_found', 'No such session.');
 */
export class DurinHttpException extends HttpException {
  constructor(
    status: number,
    /** Stable, machine-readable reason, e.g. `'token_expired'`. */
    readonly code: string,
    message: string,
    /** Headers that belong to this response. */
    readonly headers: Readonly<Record<string, string>> = {},
    options?: { cause?: unknown },
  ) {
    const body: DurinErrorBody = {
      statusCode: status,
      error: REASON_PHRASES[status] ?? 'Error',
      message,
      code,
    };
    super(body, status, options);
  }
}

/**
 * A 401 from the guard, with its RFC 6750 challenge: `Bearer realm="api"` when no credential was
 * sent, plus `error="invalid_token"` when one was sent and refused (§3, §3.1).
 *
 * `token_expired` is told apart from `token_invalid` only for a token whose hash was found, i.e.
 * to a client that holds the real token; a guessed or forged one is always `token_invalid`.
 */
export class DurinUnauthorizedException extends DurinHttpException {
  constructor(
    override readonly code: AuthErrorCode,
    message: string = AUTH_MESSAGES[code],
  ) {
    const challenge =
      code === 'token_missing'
        ? `Bearer realm="${DURIN_AUTH_REALM}"`
        : `Bearer realm="${DURIN_AUTH_REALM}", error="invalid_token"`;
    super(HttpStatus.UNAUTHORIZED, code, message, { 'WWW-Authenticate': challenge });
  }
}

/**
 * A 503 (`code: 'auth_unavailable'`, with `Retry-After`) for a token store that failed or timed
 * out while deciding about a credential. Failing closed with 503 rather than 401 matters: a 401
 * makes clients throw away credentials that are fine (REQ-FAIL-01). The cause is kept for logs
 * and never rendered.
 */
export class DurinUnavailableException extends DurinHttpException {
  constructor(cause?: unknown) {
    super(
      HttpStatus.SERVICE_UNAVAILABLE,
      'auth_unavailable',
      'Authentication is temporarily unavailable. Please retry later.',
      { 'Retry-After': String(DURIN_RETRY_AFTER_SECONDS) },
      { cause },
    );
  }
}

/**
 * The HTTP error for something thrown while authenticating or running a session route: nest's own
 * HTTP exceptions pass through, a store failure becomes a 503, a failed CSRF check
 * (`csrf_failed`) and a refused login over `maxSessionsPerUser` (`session_limit`) a 403, anything
 * else is not ours to map (`undefined`). Use it in your own login route to answer
 * `SessionLimitExceededError` the same way.
 *
 * @example
 * try {
 *   return await this.tokens.generateHeaderToken(user);
 * } catch (error) {
 *   throw toDurinHttpException(error) ?? error;
 * }
 */
export function toDurinHttpException(error: unknown): HttpException | undefined {
  if (error instanceof HttpException) return error;
  if (error instanceof TokenStoreUnavailableError) return new DurinUnavailableException(error);
  if (error instanceof CsrfValidationError) {
    // One message for every reason: which check failed is for the server log, not the client.
    return new DurinHttpException(
      HttpStatus.FORBIDDEN,
      'csrf_failed',
      'CSRF check failed: the request is cross-site or its CSRF token is missing or wrong.',
    );
  }
  if (error instanceof SessionLimitExceededError) {
    return new DurinHttpException(
      HttpStatus.FORBIDDEN,
      'session_limit',
      'Too many active sessions: log out of another device first.',
    );
  }
  return undefined;
}
