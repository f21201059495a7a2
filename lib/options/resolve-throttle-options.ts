import { DurinConfigurationError } from '../errors/durin-configuration.error';
import { parseThrottleRate, ThrottleRate } from '../throttling/throttle-rate';
import { describe } from './duration';

/** The `throttle` option after validation (see `DurinThrottleOptions`). */
export interface ResolvedThrottleOptions {
  /** Per (user, client) for clients without `throttleRate`; `null`: those are not limited. */
  defaultRate: ThrottleRate | null;
  /** Per client IP, anonymous requests on `@ThrottleAnonymous()` routes. */
  anonymousRate: ThrottleRate;
  /** `POST <routes.path>/refresh` per client IP; `null`: not limited. */
  refreshPerIp: ThrottleRate | null;
  /** `POST <routes.path>/refresh` per token family; `null`: not limited. */
  refreshPerFamily: ThrottleRate | null;
  /** `POST <routes.path>/login` per client IP; `null`: not limited. */
  loginPerIp: ThrottleRate | null;
  /** `POST <routes.path>/login` per username (case-folded); `null`: not limited. */
  loginPerUsername: ThrottleRate | null;
}

/**
 * Defaults. The refresh limits are far above what a client needs (one refresh per access-token
 * lifetime, a few more when tabs race) and far below a guessing or refresh-loop rate.
 */
export const THROTTLE_DEFAULTS = {
  anonymousRate: '60/m',
  refreshPerIp: '60/m',
  refreshPerFamily: '10/m',
  // A person mistypes a password a few times; a guesser needs thousands of tries.
  loginPerIp: '30/m',
  loginPerUsername: '10/m',
} as const;

/**
 * What the guard uses when the `throttle` option is not given: each client's own `throttleRate`
 * and nothing else (the refresh route stays unlimited: no storage is required then).
 */
export const CLIENT_RATES_ONLY: ResolvedThrottleOptions = {
  defaultRate: null,
  anonymousRate: rate(THROTTLE_DEFAULTS.anonymousRate, 'throttle.anonymousRate'),
  refreshPerIp: null,
  refreshPerFamily: null,
  loginPerIp: null,
  loginPerUsername: null,
};

const KNOWN = new Set(['defaultRate', 'anonymousRate', 'refresh', 'login']);
const KNOWN_REFRESH = new Set(['perIp', 'perFamily']);
const KNOWN_LOGIN = new Set(['perIp', 'perUsername']);

function rate(value: unknown, name: string): ThrottleRate {
  const parsed = parseThrottleRate(value);
  if (parsed === undefined) {
    throw new DurinConfigurationError(
      name,
      `must be a rate like '100/m' (<n>/<s|m|h|d>, n from 1) (got ${describe(value)})`,
    );
  }
  return parsed;
}

function optionalRate(value: unknown, name: string, fallback: string | null): ThrottleRate | null {
  if (value === undefined) return fallback === null ? null : rate(fallback, name);
  return value === null ? null : rate(value, name);
}

function plainObject(value: unknown, name: string, example: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new DurinConfigurationError(
      name,
      `must be false or an object like ${example} (got ${describe(value)})`,
    );
  }
  return value as Record<string, unknown>;
}

/** Validates the `throttle` option; `false` when it is off (not given, or `false`). */
export function resolveThrottleOptions(value: unknown): ResolvedThrottleOptions | false {
  if (value === undefined || value === false) return false;
  const given = plainObject(value, 'throttle', "{ defaultRate: '1000/h' }");
  for (const key of Object.keys(given)) {
    if (!KNOWN.has(key)) {
      throw new DurinConfigurationError(`throttle.${key}`, 'is not a throttle option');
    }
  }
  let refreshPerIp: ThrottleRate | null = null;
  let refreshPerFamily: ThrottleRate | null = null;
  if (given.refresh !== false) {
    const refresh =
      given.refresh === undefined
        ? {}
        : plainObject(given.refresh, 'throttle.refresh', "{ perIp: '60/m' }");
    for (const key of Object.keys(refresh)) {
      if (!KNOWN_REFRESH.has(key)) {
        throw new DurinConfigurationError(`throttle.refresh.${key}`, 'is not a refresh limit');
      }
    }
    refreshPerIp = optionalRate(
      refresh.perIp,
      'throttle.refresh.perIp',
      THROTTLE_DEFAULTS.refreshPerIp,
    );
    refreshPerFamily = optionalRate(
      refresh.perFamily,
      'throttle.refresh.perFamily',
      THROTTLE_DEFAULTS.refreshPerFamily,
    );
  }
  let loginPerIp: ThrottleRate | null = null;
  let loginPerUsername: ThrottleRate | null = null;
  if (given.login !== false) {
    const login =
      given.login === undefined
        ? {}
        : plainObject(given.login, 'throttle.login', "{ perUsername: '10/m' }");
    for (const key of Object.keys(login)) {
      if (!KNOWN_LOGIN.has(key)) {
        throw new DurinConfigurationError(`throttle.login.${key}`, 'is not a login limit');
      }
    }
    loginPerIp = optionalRate(login.perIp, 'throttle.login.perIp', THROTTLE_DEFAULTS.loginPerIp);
    loginPerUsername = optionalRate(
      login.perUsername,
      'throttle.login.perUsername',
      THROTTLE_DEFAULTS.loginPerUsername,
    );
  }
  return {
    defaultRate: optionalRate(given.defaultRate, 'throttle.defaultRate', null),
    anonymousRate: rate(
      given.anonymousRate === undefined ? THROTTLE_DEFAULTS.anonymousRate : given.anonymousRate,
      'throttle.anonymousRate',
    ),
    refreshPerIp,
    refreshPerFamily,
    loginPerIp,
    loginPerUsername,
  };
}
