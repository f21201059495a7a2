import { AuthTokenEntity } from '../entities/auth-token.entity';
import { AbstractAuthToken } from '../entities/abstract-auth-token.entity';
import { DurinConfigurationError } from '../errors/durin-configuration.error';
import { DurinModuleOptions } from '../interfaces/durin-module-options.interface';
import { TOKEN_PREFIX_PATTERN } from '../tokens/token-format';
import { describe, parseDuration, parseNullableDuration } from './duration';
import { resolveCacheOptions } from './resolve-cache-options';
import { resolveKeptTokens } from './resolve-kept-tokens';
import { resolveCleanupOptions } from '../cleanup/resolve-cleanup-options';
import { resolveRefreshCookie } from './resolve-refresh-cookie';
import { resolveSecurityOptions, SECURITY_OPTION_NAMES } from './resolve-security-options';
import { resolveThrottleOptions } from './resolve-throttle-options';
import { resolveTokenTagOptions, TOKEN_TAG_OPTION_NAMES } from './resolve-token-tag';
import { ResolvedCookieOptions, ResolvedDurinOptions } from './resolved-options';

const KNOWN_OPTIONS = new Set<string>([
  'userEntity',
  'tokenEntity',
  'dataSource',
  'routes',
  'name',
  'userIdField',
  'isUserActive',
  'tokenTtl',
  'refreshTokenTtl',
  'autoRefresh',
  'batchStatements',
  'autoRefreshInterval',
  'autoRefreshMaxTtl',
  'enforceSingleLogin',
  'oneTokenPerClient',
  'enableAuthRestriction',
  'keepExpiredTokens',
  'cleanup',
  'strictContextAccess',
  'authHeaderPrefixes',
  'authCookieNames',
  'cookie',
  'tokenPrefix',
  'pepper',
  'postAuthHandler',
  'postAutoRefreshHandler',
  'apiAccessClientName',
  'apiAccessExcludeFromSessions',
  'apiAccessTokenTtl',
  'storeTimeout',
  'cache',
  'throttle',
  ...SECURITY_OPTION_NAMES,
  ...TOKEN_TAG_OPTION_NAMES,
]);

/** RFC 7230 `token`: what an auth scheme may consist of. */
const AUTH_SCHEME_PATTERN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}$/;
/** RFC 6265 cookie-name (a `token`), kept short. */
const COOKIE_NAME_PATTERN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;
/** Peppers shorter than this add little against an offline guess of the table. */
const MIN_PEPPER_LENGTH = 16;

/** Reads a value that a normal object would show, without treating `undefined` as set. */
function orDefault<T>(value: T | undefined, fallback: T): T {
  return value === undefined ? fallback : value;
}

function requireBoolean(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    throw new DurinConfigurationError(name, `must be true or false (got ${describe(value)})`);
  }
  return value;
}

function requireFunction<T>(value: unknown, name: string): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') {
    throw new DurinConfigurationError(name, `must be a function (got ${describe(value)})`);
  }
  return value as T;
}

function requireNonEmptyString(value: unknown, name: string, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value.length === 0) {
    throw new DurinConfigurationError(name, `must be a non-empty string (got ${describe(value)})`);
  }
  return value;
}

function requireStringList(
  value: unknown,
  name: string,
  fallback: string[],
  pattern: RegExp,
  what: string,
): string[] {
  if (value === undefined) return fallback;
  if (!Array.isArray(value) || value.length === 0) {
    throw new DurinConfigurationError(
      name,
      `must be a non-empty array of ${what}s (got ${describe(value)})`,
    );
  }
  for (const item of value) {
    if (typeof item !== 'string' || !pattern.test(item)) {
      throw new DurinConfigurationError(name, `${describe(item)} is not a valid ${what}`);
    }
  }
  return [...value];
}

type AuthCookieAttributes = Omit<ResolvedCookieOptions, 'refreshName' | 'refreshPath'>;

function resolveCookie(options: DurinModuleOptions, cookieNames: string[]): AuthCookieAttributes {
  const cookie = options.cookie;
  if (
    cookie !== undefined &&
    (cookie === null || typeof cookie !== 'object' || Array.isArray(cookie))
  ) {
    throw new DurinConfigurationError('cookie', `must be an object (got ${describe(cookie)})`);
  }
  const given = cookie ?? {};
  const secure = requireBoolean(given.secure, 'cookie.secure', true);
  const httpOnly = requireBoolean(given.httpOnly, 'cookie.httpOnly', true);
  const sameSite = orDefault(given.sameSite, 'lax');
  if (sameSite !== 'lax' && sameSite !== 'strict' && sameSite !== 'none') {
    throw new DurinConfigurationError(
      'cookie.sameSite',
      `must be 'lax', 'strict' or 'none' (got ${describe(sameSite)})`,
    );
  }
  if (sameSite === 'none' && !secure) {
    throw new DurinConfigurationError(
      'cookie.sameSite',
      "'none' requires secure: true (browsers drop it otherwise)",
    );
  }
  if (!secure && process.env.NODE_ENV === 'production') {
    // A token cookie without Secure leaks over plain HTTP (SECURITY-CHECKLIST REQ-CK-01).
    throw new DurinConfigurationError(
      'cookie.secure',
      'must not be false when NODE_ENV=production',
    );
  }
  const path = requireNonEmptyString(given.path, 'cookie.path', '/');
  if (!path.startsWith('/') || /[;\s]/.test(path)) {
    throw new DurinConfigurationError(
      'cookie.path',
      `must start with '/' and hold no ';' or spaces (got ${describe(path)})`,
    );
  }
  const domain =
    given.domain === undefined
      ? undefined
      : requireNonEmptyString(given.domain, 'cookie.domain', '');
  if (domain !== undefined && !/^\.?[A-Za-z0-9.-]+$/.test(domain)) {
    throw new DurinConfigurationError(
      'cookie.domain',
      `is not a host name (got ${describe(domain)})`,
    );
  }
  let name = requireNonEmptyString(given.name, 'cookie.name', cookieNames[0]);
  if (!COOKIE_NAME_PATTERN.test(name)) {
    throw new DurinConfigurationError(
      'cookie.name',
      `${describe(name)} is not a valid cookie name`,
    );
  }
  // `__Host-` makes the browser refuse the cookie unless it is Secure, host-only and Path=/, which
  // stops a sibling subdomain from planting or shadowing it (RFC 6265bis, REQ-CK-01).
  const hostPrefixAllowed = secure && domain === undefined && path === '/';
  if (hostPrefixAllowed && !name.startsWith('__Host-')) {
    name = `__Host-${name}`;
  }
  if (name.startsWith('__Host-') && !hostPrefixAllowed) {
    throw new DurinConfigurationError(
      'cookie.name',
      "a '__Host-' cookie needs secure: true, path '/' and no domain",
    );
  }
  return { name, secure, httpOnly, sameSite, path, domain };
}

/** `cookie.name` as configured (before the `__Host-` prefix), when it is a string. */
function givenCookieNameOf(options: DurinModuleOptions): string | undefined {
  const cookie: unknown = options.cookie;
  const name =
    typeof cookie === 'object' && cookie !== null ? (cookie as { name?: unknown }).name : undefined;
  return typeof name === 'string' ? name : undefined;
}

/**
 * The cookie names the guard reads. The configured name of the auth cookie is replaced by the
 * name it is really set under (`token` → `__Host-token`): a plain `token` cookie can be planted by
 * a sibling subdomain or over plain HTTP, which is what the prefix exists to rule out. The auth
 * cookie is always readable (put first when missing): setting a cookie the guard ignores is never
 * what anyone wants. Other names stay as given, e.g. to accept a legacy cookie during a migration.
 */
function readableCookieNames(
  configured: string[],
  givenName: string,
  resolvedName: string,
): string[] {
  const names = configured.map((name) => (name === givenName ? resolvedName : name));
  if (!names.includes(resolvedName)) names.unshift(resolvedName);
  return [...new Set(names)];
}

function resolvePeppers(value: unknown): string[] {
  if (value === undefined) return [];
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) {
    throw new DurinConfigurationError(
      'pepper',
      `must be a string or a non-empty array of strings (got ${describe(value)})`,
    );
  }
  for (const pepper of list) {
    if (typeof pepper !== 'string' || pepper.length < MIN_PEPPER_LENGTH) {
      throw new DurinConfigurationError(
        'pepper',
        `each pepper must be a string of at least ${MIN_PEPPER_LENGTH} characters`,
      );
    }
  }
  return [...list];
}

function isUserActiveByDefault(user: object): boolean {
  return (user as { isActive?: unknown }).isActive !== false;
}

/**
 * Validates the options and fills in the defaults. Called once at start-up; throws a
 * {@link DurinConfigurationError} naming the first bad option.
 */
export function resolveDurinOptions(options: DurinModuleOptions): ResolvedDurinOptions {
  if (options === null || typeof options !== 'object') {
    throw new DurinConfigurationError('options', `must be an object (got ${describe(options)})`);
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) {
      throw new DurinConfigurationError(key, 'is not a nestjs-durin option');
    }
  }
  if (typeof options.userEntity !== 'function') {
    throw new DurinConfigurationError(
      'userEntity',
      `is required: the app's TypeORM user entity class (got ${describe(options.userEntity)})`,
    );
  }
  const tokenEntity = orDefault(options.tokenEntity, AuthTokenEntity);
  if (typeof tokenEntity !== 'function' || !(tokenEntity.prototype instanceof AbstractAuthToken)) {
    throw new DurinConfigurationError(
      'tokenEntity',
      'must be an entity class extending AbstractAuthToken',
    );
  }
  if (
    options.dataSource !== undefined &&
    (typeof options.dataSource !== 'string' || options.dataSource === '')
  ) {
    throw new DurinConfigurationError(
      'dataSource',
      `must be a data source name (got ${describe(options.dataSource)})`,
    );
  }
  if (
    options.routes !== undefined &&
    (typeof options.routes !== 'object' ||
      options.routes === null ||
      typeof options.routes.path !== 'string')
  ) {
    throw new DurinConfigurationError('routes', "must be an object like { path: 'auth' }");
  }

  const tokenTtlMs = parseNullableDuration(orDefault(options.tokenTtl, '10h'), 'tokenTtl');
  const refreshTokenTtlMs = parseNullableDuration(
    orDefault(options.refreshTokenTtl, '7d'),
    'refreshTokenTtl',
  );
  if (tokenTtlMs === 0) {
    throw new DurinConfigurationError(
      'tokenTtl',
      'must be greater than 0 (use null for no expiry)',
    );
  }
  if (refreshTokenTtlMs !== null && (tokenTtlMs === null || refreshTokenTtlMs <= tokenTtlMs)) {
    throw new DurinConfigurationError(
      'refreshTokenTtl',
      'must be greater than tokenTtl (or null to disable refresh tokens)',
    );
  }
  const autoRefreshMaxTtlMs = parseNullableDuration(
    orDefault(options.autoRefreshMaxTtl, '7d'),
    'autoRefreshMaxTtl',
  );
  if (autoRefreshMaxTtlMs === 0) {
    throw new DurinConfigurationError(
      'autoRefreshMaxTtl',
      'must be greater than 0 (use null for no cap)',
    );
  }
  const givenCookieName = givenCookieNameOf(options);
  const configuredCookieNames = requireStringList(
    options.authCookieNames,
    'authCookieNames',
    [givenCookieName ?? 'token'],
    COOKIE_NAME_PATTERN,
    'cookie name',
  );
  const authCookie = resolveCookie(options, configuredCookieNames);
  const authCookieNames = readableCookieNames(
    configuredCookieNames,
    givenCookieName ?? configuredCookieNames[0],
    authCookie.name,
  );
  const cookie: ResolvedCookieOptions = {
    ...authCookie,
    ...resolveRefreshCookie(
      options.cookie ?? {},
      authCookie,
      authCookieNames,
      options.routes?.path,
    ),
  };
  const tokenPrefix = requireNonEmptyString(options.tokenPrefix, 'tokenPrefix', 'durin');
  if (!TOKEN_PREFIX_PATTERN.test(tokenPrefix)) {
    throw new DurinConfigurationError(
      'tokenPrefix',
      `must be 1-16 lower-case letters or digits (got ${describe(tokenPrefix)})`,
    );
  }
  const apiAccessTokenTtlMs = parseNullableDuration(
    orDefault(options.apiAccessTokenTtl, '90d'),
    'apiAccessTokenTtl',
  );
  if (apiAccessTokenTtlMs === 0) {
    throw new DurinConfigurationError(
      'apiAccessTokenTtl',
      'must be greater than 0 (use null for keys that never expire)',
    );
  }
  const storeTimeoutMs = parseDuration(orDefault(options.storeTimeout, '5s'), 'storeTimeout');
  if (storeTimeoutMs === 0) {
    throw new DurinConfigurationError('storeTimeout', 'must be greater than 0');
  }

  return {
    userEntity: options.userEntity,
    tokenEntity,
    dataSource: options.dataSource,
    routes: options.routes ? { path: options.routes.path } : undefined,
    userIdField: requireNonEmptyString(options.userIdField, 'userIdField', 'id'),
    isUserActive: requireFunction(options.isUserActive, 'isUserActive') ?? isUserActiveByDefault,
    tokenTtlMs,
    refreshTokenTtlMs,
    autoRefresh: requireBoolean(options.autoRefresh, 'autoRefresh', false),
    batchStatements: requireBoolean(options.batchStatements, 'batchStatements', true),
    autoRefreshIntervalMs: parseDuration(
      orDefault(options.autoRefreshInterval, '1m'),
      'autoRefreshInterval',
    ),
    autoRefreshMaxTtlMs,
    enforceSingleLogin: requireBoolean(options.enforceSingleLogin, 'enforceSingleLogin', false),
    oneTokenPerClient: requireBoolean(options.oneTokenPerClient, 'oneTokenPerClient', false),
    enableAuthRestriction: requireBoolean(
      options.enableAuthRestriction,
      'enableAuthRestriction',
      true,
    ),
    ...resolveKeptTokens(options.keepExpiredTokens),
    cleanup: resolveCleanupOptions(options.cleanup),
    strictContextAccess: requireBoolean(options.strictContextAccess, 'strictContextAccess', false),
    authHeaderPrefixes: requireStringList(
      options.authHeaderPrefixes,
      'authHeaderPrefixes',
      ['Bearer', 'Token'],
      AUTH_SCHEME_PATTERN,
      'auth scheme',
    ).map((prefix) => prefix.toLowerCase()),
    authCookieNames,
    cookie,
    tokenPrefix,
    peppers: resolvePeppers(options.pepper),
    postAuthHandler: requireFunction(options.postAuthHandler, 'postAuthHandler'),
    postAutoRefreshHandler: requireFunction(
      options.postAutoRefreshHandler,
      'postAutoRefreshHandler',
    ),
    apiAccessClientName: requireNonEmptyString(
      options.apiAccessClientName,
      'apiAccessClientName',
      'api',
    ),
    apiAccessExcludeFromSessions: requireBoolean(
      options.apiAccessExcludeFromSessions,
      'apiAccessExcludeFromSessions',
      true,
    ),
    apiAccessTokenTtlMs,
    apiAccessTokenTtlConfigured: options.apiAccessTokenTtl !== undefined,
    storeTimeoutMs,
    cache: resolveCacheOptions(options.cache),
    throttle: resolveThrottleOptions(options.throttle),
    ...resolveSecurityOptions(options, cookie),
    ...resolveTokenTagOptions(options),
  };
}
