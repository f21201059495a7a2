import { HttpStatus } from '@nestjs/common';
import { DurinError } from './durin.error';

/**
 * Too many requests: a rate limit of `DurinThrottlerGuard` (a client's `throttleRate`, the
 * `throttle` defaults, or one of the app's own throttlers behind that guard) or of the refresh
 * route was exceeded. Answered 429 `rate_limited` with `Retry-After` (seconds until the block
 * ends); nothing was done.
 */
export class RateLimitedError extends DurinError {
  constructor(
    /** Seconds until the request may be retried (the `Retry-After` header), at least 1. */
    readonly retryAfterSeconds: number,
    /** Which limit was hit (`'durin'`, `'refresh-ip'`, an app throttler's name), for logs. */
    readonly limitName: string,
    /** The message of the body; default: a fixed one. */
    publicMessage = 'Too many requests: retry later.',
  ) {
    const retryAfter = Math.max(1, Math.ceil(retryAfterSeconds));
    super(`nestjs-durin: rate limit '${limitName}' exceeded; retry in ${retryAfter}s`, {
      status: HttpStatus.TOO_MANY_REQUESTS,
      code: 'rate_limited',
      publicMessage,
      headers: { 'Retry-After': String(retryAfter) },
      captureStackTrace: false,
    });
    this.retryAfterSeconds = retryAfter;
  }
}
