/**
 * A request budget `'<n>/<s|m|h|d>'`: `'100/m'` is 100 requests a minute, `'5000/d'` 5000 a day.
 * Any `string` type-checks (rates usually come from configuration); it is validated at start-up.
 */
export type DurinThrottleRate = `${number}/${'s' | 'm' | 'h' | 'd'}` | (string & {});

/**
 * Limits of the ready-made `POST <routes.path>/refresh` (SECURITY-CHECKLIST REQ-RL-01). Both are
 * counted before the refresh token is checked, so guessing and refresh storms are bounded alike.
 */
export interface DurinRefreshThrottleOptions {
  /** Refresh requests per client IP, valid or not. Default `'60/m'`; `null`: not limited. */
  perIp?: DurinThrottleRate | null;
  /**
   * Refreshes per token family (one login and its rotations), from any IP. Default `'10/m'`;
   * `null`: not limited.
   */
  perFamily?: DurinThrottleRate | null;
}

/**
 * Limits of the optional `POST <routes.path>/login` (`routes.login`): per IP before the body is
 * read, per username before any lookup or password hash, so neither guessing one account from
 * many addresses nor many accounts from one address goes unbounded.
 */
export interface DurinLoginThrottleOptions {
  /** Login attempts per client IP, valid or not. Default `'30/m'`; `null`: not limited. */
  perIp?: DurinThrottleRate | null;
  /**
   * Login attempts per username (compared case-insensitively), from any IP. Default `'10/m'`;
   * `null`: not limited.
   */
  perUsername?: DurinThrottleRate | null;
}

/**
 * Rate limits per user and client, as django-rest-durin's `UserClientRateThrottle`, on
 * `@nestjs/throttler` (an optional peer, needed once this option is set or `DurinThrottlerGuard`
 * is used). The app supplies `ThrottlerModule.forRoot()` (and with it the storage, e.g. Redis for
 * several instances) and registers `DurinThrottlerGuard`; see the README's "Rate limits".
 *
 * @example
 * DurinModule.forRoot({
 *   userEntity: User,
 *   throttle: { defaultRate: '1000/h', anonymousRate: '30/m', refresh: { perIp: '20/m' } },
 * });
 */
export interface DurinThrottleOptions {
  /**
   * The budget per (user, client) for tokens whose client has no `throttleRate` (and tokens
   * without a client): durin's `user_per_client` scope. Default: none, those are not limited.
   */
  defaultRate?: DurinThrottleRate | null;
  /**
   * The budget per client IP for requests without a valid token, on routes marked
   * `@ThrottleAnonymous()` only. Default `'60/m'`.
   */
  anonymousRate?: DurinThrottleRate;
  /** Limits of `POST <routes.path>/refresh`; `false` turns them off. Defaults above. */
  refresh?: DurinRefreshThrottleOptions | false;
  /** Limits of the login route (`routes.login`); `false` turns them off. Defaults above. */
  login?: DurinLoginThrottleOptions | false;
}
