import { DurinError } from './durin.error';

/**
 * A login was refused because the user already has `maxSessionsPerUser` live sessions and
 * `sessionLimitStrategy` is `'refuse'`. Nothing was written. The HTTP layer answers 403 with
 * `code: 'session_limit'`.
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
    super(`nestjs-durin: the user already has the maximum of ${limit} live sessions`);
  }
}

/** Why a cookie-authenticated request failed the CSRF check (for logs; the response says less). */
export type CsrfFailureReason =
  'origin_mismatch' | 'origin_null' | 'cross_site' | 'token_missing' | 'token_mismatch';

/**
 * A state-changing request authenticated by the auth cookie failed the CSRF defence (its
 * `Origin`/`Sec-Fetch-Site` or its `X-CSRF-Token` header). Nothing was changed: the check runs
 * before the token is even looked up. The HTTP layer answers 403 with `code: 'csrf_failed'`.
 */
export class CsrfValidationError extends DurinError {
  constructor(readonly reason: CsrfFailureReason) {
    super(`nestjs-durin: CSRF check failed (${reason})`);
  }
}
