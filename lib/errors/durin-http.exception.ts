import { HttpException, HttpStatus } from '@nestjs/common';
import { DurinError, STORE_UNAVAILABLE_RESPONSE } from './durin.error';
import { TokenStoreUnavailableError } from './token-errors';

export { DURIN_RETRY_AFTER_SECONDS } from './durin.error';
export type { DurinErrorBody } from './durin.error';

/** The `code` of a 401 from the guard. */
export type AuthErrorCode = 'token_missing' | 'token_invalid' | 'token_expired' | 'user_inactive';

/**
 * The `realm` of every `WWW-Authenticate` challenge. Fixed: it only names the protection space to
 * the client and must not vary by failure (REQ-HDR-08).
 */
export const DURIN_AUTH_REALM = 'api';

const AUTH_MESSAGES: Record<AuthErrorCode, string> = {
  token_missing: 'Authentication credentials were not provided.',
  token_invalid: 'Invalid token.',
  token_expired: 'Token has expired.',
  user_inactive: 'User inactive or deleted.',
};

/**
 * An HTTP error of nestjs-durin whose message is meant for the client as it is (the guard's 401s,
 * the routes' 404s). The body is `{ statusCode, error, message, code }`.
 *
 * @example
 * throw new DurinHttpException(HttpStatus.NOT_FOUND, 'session_not_found', 'No such session.');
 */
export class DurinHttpException extends DurinError {
  constructor(
    status: number,
    code: string,
    message: string,
    headers: Readonly<Record<string, string>> = {},
    options?: { cause?: unknown; captureStackTrace?: boolean },
  ) {
    super(message, {
      status,
      code,
      publicMessage: message,
      headers,
      cause: options?.cause,
      captureStackTrace: options?.captureStackTrace,
    });
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
    super(
      HttpStatus.UNAUTHORIZED,
      code,
      message,
      { 'WWW-Authenticate': challenge },
      { captureStackTrace: false },
    );
  }
}

/**
 * The 503 (`auth_unavailable`, with `Retry-After`) of a token store that failed or timed out while
 * deciding about a credential; the same answer as {@link TokenStoreUnavailableError}, for code
 * that has no store error at hand. The cause is kept for logs and never rendered.
 */
export class DurinUnavailableException extends DurinHttpException {
  constructor(cause?: unknown) {
    const { status, code, publicMessage, headers } = STORE_UNAVAILABLE_RESPONSE;
    // The store's own error (the cause) keeps its trace; this wrapper's would repeat the guard's.
    super(status, code, publicMessage, headers, { cause, captureStackTrace: false });
  }
}

/**
 * The HTTP error for something thrown while authenticating or running a session route: a store
 * failure becomes a {@link DurinUnavailableException} (503, `Retry-After`), Nest's own HTTP
 * exceptions and every other error of nestjs-durin (each carries its status and `code`) pass
 * through; anything else is not ours to map (`undefined`).
 *
 * Since every `DurinError` is an `HttpException`, a login controller needs no mapping of its own:
 * an `UnknownClientError` or `SessionLimitExceededError` thrown from `generateHeaderToken` reaches
 * the client as 400 `unknown_client` or 403 `session_limit`.
 */
export function toDurinHttpException(error: unknown): HttpException | undefined {
  if (error instanceof TokenStoreUnavailableError) return new DurinUnavailableException(error);
  return error instanceof HttpException ? error : undefined;
}
