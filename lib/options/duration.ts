import { DurinConfigurationError } from '../errors/durin-configuration.error';

/**
 * A length of time: whole seconds as a number, or a string such as `'30s'`, `'15m'`, `'10h'`, `'7d'`.
 *
 * Any `string` type-checks, because durations usually come from configuration
 * (`config.get<string>('TOKEN_TTL')`); the value is still validated at start-up, where a bad one
 * stops the app with an error naming the option. `string & {}` keeps editors suggesting the form.
 */
export type Duration = number | `${number}${'s' | 'm' | 'h' | 'd'}` | (string & {});

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
const DURATION_PATTERN = /^(\d{1,9})([smhd])$/;
/**
 * 100 years. Longer values (up to '999999999d' passes the pattern) would put expiries beyond what a
 * `Date` can hold, so every login would fail; `null` is the way to say "never".
 */
const MAX_DURATION_MS = 36_500 * 86_400 * 1000;

/**
 * Converts a {@link Duration} to milliseconds, or returns `undefined` when it is not a valid
 * duration. Strings are strict (no spaces, no decimals, one unit) so a typo fails at start-up
 * instead of silently meaning something else.
 */
export function tryParseDuration(value: unknown): number | undefined {
  let milliseconds: number;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) {
      return undefined;
    }
    milliseconds = value * 1000;
  } else {
    const match = typeof value === 'string' ? DURATION_PATTERN.exec(value) : null;
    if (!match) {
      return undefined;
    }
    milliseconds = Number(match[1]) * UNIT_SECONDS[match[2]] * 1000;
  }
  return milliseconds <= MAX_DURATION_MS ? milliseconds : undefined;
}

/** Like {@link tryParseDuration} but throws a {@link DurinConfigurationError} naming `name`. */
export function parseDuration(value: unknown, name: string): number {
  const parsed = tryParseDuration(value);
  if (parsed === undefined) {
    throw new DurinConfigurationError(
      name,
      `must be a whole number of seconds >= 0 or a string like '30s', '15m', '10h', '7d', at most 100 years (got ${describe(value)})`,
    );
  }
  return parsed;
}

/** `null` passes through as "never"; anything else must be a valid duration. */
export function parseNullableDuration(value: unknown, name: string): number | null {
  return value === null ? null : parseDuration(value, name);
}

export function describe(value: unknown): string {
  if (typeof value === 'string') {
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  }
  if (typeof value === 'function') {
    return 'a function';
  }
  if (Array.isArray(value)) {
    return 'an array';
  }
  return value === null ? 'null' : typeof value === 'object' ? 'an object' : String(value);
}
