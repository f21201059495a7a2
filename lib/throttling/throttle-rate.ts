/**
 * A request budget as django-rest-durin writes it: `'<n>/<s|m|h|d>'` (`'100/m'`: 100 requests a
 * minute). The one parser of the format: the client registry validates `throttleRate` with it, the
 * module options use it, and the throttler guard reads each client's rate through it.
 */

/** `'<n>/<s|m|h|d>'`, n from 1 to 999 999 999. */
export const THROTTLE_RATE_PATTERN = /^([1-9]\d{0,8})\/([smhd])$/;

/** A parsed rate: `limit` requests per window of `ttlMs` milliseconds. */
export interface ThrottleRate {
  readonly limit: number;
  readonly ttlMs: number;
}

const PERIOD_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Rates seen so far: a handful of distinct strings (one per client), read on every throttled
 * request. Bounded anyway, since a client row is data an admin can change at will.
 */
const parsed = new Map<string, ThrottleRate>();
const MAX_REMEMBERED = 1000;

/** The rate of `value`, or `undefined` when it is not a `'<n>/<s|m|h|d>'` string. */
export function parseThrottleRate(value: unknown): ThrottleRate | undefined {
  if (typeof value !== 'string') return undefined;
  const known = parsed.get(value);
  if (known !== undefined) return known;
  const match = THROTTLE_RATE_PATTERN.exec(value);
  if (match === null) return undefined;
  const rate: ThrottleRate = Object.freeze({
    limit: Number(match[1]),
    ttlMs: PERIOD_MS[match[2]],
  });
  if (parsed.size >= MAX_REMEMBERED) parsed.clear();
  parsed.set(value, rate);
  return rate;
}
