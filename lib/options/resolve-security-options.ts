import { createHash, hkdfSync } from 'node:crypto';
import { DurinConfigurationError } from '../errors/durin-configuration.error';
import { DurinEventListener } from '../events/durin-event.interface';
import { DurinModuleOptions } from '../interfaces/durin-module-options.interface';
import { SessionLimitStrategy } from '../interfaces/security-options.interface';
import { describe } from './duration';
import { ResolvedCookieOptions } from './resolved-options';

/** The CSRF options after validation (see `DurinCsrfOptions`). */
export interface ResolvedCsrfOptions {
  /** Normalised origins (`new URL(o).origin`) allowed besides the request's own host; `null`: none. */
  allowedOrigins: string[] | null;
  /**
   * HMAC key of the CSRF tokens: derived from `csrf.secret`, else the library's fixed default key
   * (`DEFAULT_CSRF_KEY` in resolve-security-options.ts). Either way the same on every instance and after a restart.
   */
  key: Buffer;
  /** Lower-cased, as Node hands header names over. */
  headerName: string;
  /** The readable cookie's name, with `__Host-` when the auth cookie has it. */
  cookieName: string;
}

/** The options of issue 4 (rotation grace, session limits, events, CSRF) after validation. */
export interface ResolvedSecurityOptions {
  refreshReuseGraceMs: number;
  maxSessionsPerUser: number | null;
  sessionLimitStrategy: SessionLimitStrategy;
  onEvent: DurinEventListener | undefined;
  /** `false` when the CSRF defence is turned off. */
  csrf: ResolvedCsrfOptions | false;
}

export const SECURITY_OPTION_NAMES = [
  'refreshReuseGraceSeconds',
  'maxSessionsPerUser',
  'sessionLimitStrategy',
  'onEvent',
  'csrf',
] as const;

/**
 * A grace window is a window in which a stolen parent token is as good as the current one, so it
 * must stay short: it exists for tabs racing each other, which takes seconds, not minutes.
 */
const MAX_GRACE_SECONDS = 300;
const MAX_SESSIONS = 100_000;
const MIN_CSRF_SECRET_LENGTH = 32;
const CSRF_KEY_INFO = Buffer.from('nestjs-durin csrf v1', 'utf8');

/**
 * The CSRF key without `csrf.secret`: a public constant, on purpose. A per-process random key
 * broke every cookie session on a restart, a deploy or behind a load balancer (403 on logout and
 * refresh while GET kept working), and a constant gives up nothing the defence relies on:
 *
 * - The CSRF token is HMAC-SHA256(key, domain || access token). Its unforgeability comes from the
 *   input, a 256-bit random access token in an HttpOnly `__Host-` cookie that an attacking page
 *   can neither read nor set; without that token nobody can compute the value, key or no key.
 * - The function is one-way, so the token (readable by page scripts, sent in a header) reveals
 *   nothing about the access token it is derived from.
 * - A database reader holds SHA-256 or HMAC(pepper) hashes of the access token, a different
 *   function of it (other key, no domain prefix): they do not yield the CSRF token either.
 * - It stays bound to its session: another session's access token gives another value.
 *
 * A server secret (`csrf.secret`) only adds defence in depth (someone who somehow learns an access
 * token still could not compute its CSRF token), which is why it is optional. Derived from a label
 * rather than written out, so it is domain-separated from every other key of the library.
 */
const DEFAULT_CSRF_KEY = createHash('sha256')
  .update('nestjs-durin csrf v1 default key (public; see resolve-security-options.ts)')
  .digest();
const HEADER_NAME_PATTERN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;
const COOKIE_NAME_PATTERN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;

function resolveGrace(value: unknown): number {
  if (value === undefined) return 10_000;
  if (
    typeof value !== 'number' ||
    !Number.isSafeInteger(value) ||
    value < 0 ||
    value > MAX_GRACE_SECONDS
  ) {
    throw new DurinConfigurationError(
      'refreshReuseGraceSeconds',
      `must be a whole number of seconds from 0 (off) to ${MAX_GRACE_SECONDS} (got ${describe(value)})`,
    );
  }
  return value * 1000;
}

function resolveMaxSessions(value: unknown): number | null {
  if (value === undefined || value === null) return null;
  if (
    typeof value !== 'number' ||
    !Number.isSafeInteger(value) ||
    value < 1 ||
    value > MAX_SESSIONS
  ) {
    throw new DurinConfigurationError(
      'maxSessionsPerUser',
      `must be a whole number from 1 to ${MAX_SESSIONS}, or null for no limit (got ${describe(value)})`,
    );
  }
  return value;
}

function resolveStrategy(value: unknown): SessionLimitStrategy {
  if (value === undefined) return 'revoke_oldest';
  if (value !== 'revoke_oldest' && value !== 'refuse') {
    throw new DurinConfigurationError(
      'sessionLimitStrategy',
      `must be 'revoke_oldest' or 'refuse' (got ${describe(value)})`,
    );
  }
  return value;
}

function normaliseOrigin(value: unknown): string {
  if (typeof value !== 'string') {
    throw new DurinConfigurationError(
      'csrf.allowedOrigins',
      `${describe(value)} is not an origin string`,
    );
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new DurinConfigurationError('csrf.allowedOrigins', `${describe(value)} is not a URL`);
  }
  // An origin is scheme://host[:port] and nothing else: a path or query here is a mistake that
  // would otherwise silently never match.
  const bare = value.endsWith('/') ? value.slice(0, -1) : value;
  if (
    (url.protocol !== 'https:' && url.protocol !== 'http:') ||
    url.origin === 'null' ||
    url.origin.toLowerCase() !== bare.toLowerCase()
  ) {
    throw new DurinConfigurationError(
      'csrf.allowedOrigins',
      `${describe(value)} must be an http(s) origin like 'https://app.example.com' (no path, no wildcard)`,
    );
  }
  return url.origin;
}

function resolveCsrf(value: unknown, cookie: ResolvedCookieOptions): ResolvedCsrfOptions | false {
  if (value === false) return false;
  if (
    value !== undefined &&
    (value === null || typeof value !== 'object' || Array.isArray(value))
  ) {
    throw new DurinConfigurationError(
      'csrf',
      `must be an object or false (got ${describe(value)})`,
    );
  }
  const given = (value ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!['allowedOrigins', 'secret', 'headerName', 'cookieName'].includes(key)) {
      throw new DurinConfigurationError(`csrf.${key}`, 'is not a csrf option');
    }
  }
  let allowedOrigins: string[] | null = null;
  if (given.allowedOrigins !== undefined) {
    if (!Array.isArray(given.allowedOrigins) || given.allowedOrigins.length === 0) {
      throw new DurinConfigurationError(
        'csrf.allowedOrigins',
        `must be a non-empty array of origins (got ${describe(given.allowedOrigins)})`,
      );
    }
    allowedOrigins = [...new Set(given.allowedOrigins.map(normaliseOrigin))];
  }
  // A copy: the resolved options are handed to user code, which must not be able to alter the
  // key of every other module in the process.
  let key = Buffer.from(DEFAULT_CSRF_KEY);
  if (given.secret !== undefined) {
    if (typeof given.secret !== 'string' || given.secret.length < MIN_CSRF_SECRET_LENGTH) {
      throw new DurinConfigurationError(
        'csrf.secret',
        `must be a string of at least ${MIN_CSRF_SECRET_LENGTH} characters`,
      );
    }
    // A dedicated key, so the same secret reused elsewhere (a pepper, a session secret) never
    // yields values that are valid here.
    key = Buffer.from(
      hkdfSync('sha256', Buffer.from(given.secret, 'utf8'), 'nestjs-durin', CSRF_KEY_INFO, 32),
    );
  }
  const headerName: unknown = given.headerName ?? 'X-CSRF-Token';
  if (typeof headerName !== 'string' || !HEADER_NAME_PATTERN.test(headerName)) {
    throw new DurinConfigurationError(
      'csrf.headerName',
      `must be a header name (got ${describe(headerName)})`,
    );
  }
  const givenCookieName: unknown = given.cookieName ?? 'csrf';
  if (typeof givenCookieName !== 'string' || !COOKIE_NAME_PATTERN.test(givenCookieName)) {
    throw new DurinConfigurationError(
      'csrf.cookieName',
      `must be a cookie name (got ${describe(givenCookieName)})`,
    );
  }
  let cookieName = givenCookieName;
  // Same rules as the auth cookie it travels with: pinned to this host when that one is.
  const hostPrefixed = cookie.name.startsWith('__Host-');
  if (hostPrefixed && !cookieName.startsWith('__Host-')) {
    cookieName = `__Host-${cookieName}`;
  }
  if (!hostPrefixed && cookieName.startsWith('__Host-')) {
    throw new DurinConfigurationError(
      'csrf.cookieName',
      "a '__Host-' cookie needs the auth cookie to be secure, on path '/' and without a domain",
    );
  }
  if (cookieName === cookie.name || cookieName === cookie.refreshName) {
    throw new DurinConfigurationError(
      'csrf.cookieName',
      'must differ from the auth and refresh cookie names',
    );
  }
  return {
    allowedOrigins,
    key,
    headerName: headerName.toLowerCase(),
    cookieName,
  };
}

/**
 * Validates `refreshReuseGraceSeconds`, `maxSessionsPerUser`, `sessionLimitStrategy`, `onEvent`
 * and `csrf`; throws a {@link DurinConfigurationError} naming the first bad one.
 */
export function resolveSecurityOptions(
  options: DurinModuleOptions,
  cookie: ResolvedCookieOptions,
): ResolvedSecurityOptions {
  const onEvent = options.onEvent;
  if (onEvent !== undefined && typeof onEvent !== 'function') {
    throw new DurinConfigurationError('onEvent', `must be a function (got ${describe(onEvent)})`);
  }
  return {
    refreshReuseGraceMs: resolveGrace(options.refreshReuseGraceSeconds),
    maxSessionsPerUser: resolveMaxSessions(options.maxSessionsPerUser),
    sessionLimitStrategy: resolveStrategy(options.sessionLimitStrategy),
    onEvent,
    csrf: resolveCsrf(options.csrf, cookie),
  };
}
