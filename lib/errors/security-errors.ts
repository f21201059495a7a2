import { HttpStatus } from '@nestjs/common';
import { DurinError } from './durin.error';

/**
 * A login was refused because the user already has `maxSessionsPerUser` live sessions and
 * `sessionLimitStrategy` is `'refuse'`. Nothing was written. Answered 403 `session_limit`.
 *
 * @example
 * try {
 *   return await tokens.generateHeaderToken(user);
 * } catch (error) {
 *   if (error instanceof SessionLimitExceededError) {
 *     // tell the user to log out somewhere else first
 *   }
 *   throw error;
 * }
 */
export class SessionLimitExceededError extends DurinError {
  constructor(
    /** The configured `maxSessionsPerUser`. */
    readonly limit: number,
  ) {
    super(`nestjs-durin: the user already has the maximum of ${limit} live sessions`, {
      status: HttpStatus.FORBIDDEN,
      code: 'session_limit',
      publicMessage: 'Too many active sessions: log out of another device first.',
    });
  }
}

/** Why a cookie-authenticated request failed the CSRF check (for logs; the response says less). */
export type CsrfFailureReason =
  'origin_mismatch' | 'origin_null' | 'cross_site' | 'token_missing' | 'token_mismatch';

/**
 * A state-changing request authenticated by the auth cookie failed the CSRF defence (its
 * `Origin`/`Sec-Fetch-Site` or its `X-CSRF-Token` header). Nothing was changed: the check runs
 * before the token is even looked up. Answered 403 `csrf_failed`, with one message for every
 * reason: which check failed is for the server log, not the client.
 */
export class CsrfValidationError extends DurinError {
  constructor(readonly reason: CsrfFailureReason) {
    super(`nestjs-durin: CSRF check failed (${reason})`, {
      status: HttpStatus.FORBIDDEN,
      code: 'csrf_failed',
      publicMessage:
        'CSRF check failed: the request is cross-site or its CSRF token is missing or wrong.',
      captureStackTrace: false,
    });
  }
}

/**
 * The request was authenticated, but through a client that the route does not admit
 * (`@AllowClients()` / `@DenyClients()`), or, under `@AllowClients()`, by a token issued without
 * a client. Answered 403 `client_forbidden`; the handler did not run.
 */
export class ClientForbiddenError extends DurinError {
  constructor(
    /** The token's client name; `null` for a token without a client (or no token at all). */
    readonly client: string | null,
  ) {
    super(
      `nestjs-durin: ${client === null ? 'a token without a client' : `the client '${client}'`} may not use this route`,
      {
        status: HttpStatus.FORBIDDEN,
        code: 'client_forbidden',
        publicMessage: 'This client may not use this route.',
        captureStackTrace: false,
      },
    );
  }
}
