import { CustomDecorator, SetMetadata } from '@nestjs/common';
import { DURIN_THROTTLE_ANONYMOUS_KEY } from '../durin.constants';

/**
 * Counts requests without a valid token on this route (or every route of a controller) too: per
 * client IP, against `throttle.anonymousRate`, by {@link DurinThrottlerGuard}. Without it,
 * anonymous requests are left to the app's own throttlers (and to the auth guard's 401). The IP
 * is `@nestjs/throttler`'s tracker (`req.ip` by default): behind a proxy, set Express's
 * `trust proxy` or Fastify's `trustProxy` so it is the client's, not the proxy's.
 *
 * @example
 * @Public()
 * @ThrottleAnonymous()
 * @Post('password-reset')
 * requestReset() {}
 */
export const ThrottleAnonymous = (): CustomDecorator<string> =>
  SetMetadata(DURIN_THROTTLE_ANONYMOUS_KEY, true);
