import { DurinConfigurationError } from '../errors/durin-configuration.error';
import { describe } from './duration';

/** RFC 6265 cookie-name (a `token`), kept short. */
const COOKIE_NAME_PATTERN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;

/** Used when the ready-made routes are not mounted: where most apps put their refresh route. */
export const DEFAULT_REFRESH_PATH = '/auth/refresh';

/** What the refresh cookie needs from the auth cookie's resolved attributes. */
interface AuthCookieBasis {
  name: string;
  secure: boolean;
  domain: string | undefined;
}

/** The refresh cookie's name and path after defaults and the prefix rules. */
export interface ResolvedRefreshCookie {
  refreshName: string;
  refreshPath: string;
}

function checkPath(path: string, option: string): string {
  // The same rule as `cookie.path`: anything else would end the attribute or the header early.
  if (!path.startsWith('/') || /[;,\s]/.test(path)) {
    throw new DurinConfigurationError(
      option,
      `must start with '/' and hold no ';', ',' or spaces (got ${describe(path)})`,
    );
  }
  return path;
}

/** `routes.path` as Nest mounts it (leading slash, no trailing or doubled ones), plus `/refresh`. */
function refreshPathOfRoutes(routesPath: string): string {
  return `/${[...routesPath.split('/').filter((part) => part !== ''), 'refresh'].join('/')}`;
}

/**
 * Resolves `cookie.refreshName` and `cookie.refreshPath`. The refresh cookie is scoped to the
 * refresh route so that the 7-day credential travels on that one request only, never on every
 * API call like the access cookie; and it gets `__Secure-` when secure, so a plain-HTTP response
 * cannot plant or overwrite it. `__Host-` (the access cookie's prefix) requires `Path=/`, which
 * would undo the scoping, so it is only accepted when the path is `/` anyway.
 */
export function resolveRefreshCookie(
  given: { refreshName?: unknown; refreshPath?: unknown },
  auth: AuthCookieBasis,
  authCookieNames: readonly string[],
  routesPath: string | undefined,
): ResolvedRefreshCookie {
  let refreshPath: string;
  if (given.refreshPath === undefined) {
    refreshPath =
      routesPath === undefined
        ? DEFAULT_REFRESH_PATH
        : checkPath(refreshPathOfRoutes(routesPath), 'routes.path');
  } else if (typeof given.refreshPath !== 'string') {
    throw new DurinConfigurationError(
      'cookie.refreshPath',
      `must be a string (got ${describe(given.refreshPath)})`,
    );
  } else {
    refreshPath = checkPath(given.refreshPath, 'cookie.refreshPath');
  }

  const name = given.refreshName ?? 'refresh';
  if (typeof name !== 'string' || !COOKIE_NAME_PATTERN.test(name)) {
    throw new DurinConfigurationError(
      'cookie.refreshName',
      `${describe(name)} is not a valid cookie name`,
    );
  }
  let refreshName = name;
  if (refreshName.startsWith('__Host-')) {
    if (!auth.secure || auth.domain !== undefined || refreshPath !== '/') {
      throw new DurinConfigurationError(
        'cookie.refreshName',
        "a '__Host-' cookie needs secure: true, no domain and refreshPath '/' (use '__Secure-')",
      );
    }
  } else if (refreshName.startsWith('__Secure-')) {
    if (!auth.secure) {
      throw new DurinConfigurationError(
        'cookie.refreshName',
        "a '__Secure-' cookie needs secure: true",
      );
    }
  } else if (auth.secure) {
    refreshName = `__Secure-${refreshName}`;
  }
  if (refreshName === auth.name || authCookieNames.includes(refreshName)) {
    throw new DurinConfigurationError(
      'cookie.refreshName',
      `must differ from the auth cookie names (got ${describe(refreshName)})`,
    );
  }
  return { refreshName, refreshPath };
}

/**
 * Whether a request to `url` would carry a cookie scoped to `refreshPath` (RFC 6265 §5.1.4 path
 * match). `false` on the refresh route means the cookie can never arrive there: a global prefix or
 * URI versioning the module could not see when it resolved the default path.
 */
export function isUnderRefreshPath(url: string, refreshPath: string): boolean {
  const path = url.split(/[?#]/, 1)[0];
  if (refreshPath === '/' || path === refreshPath) return true;
  return path.startsWith(refreshPath.endsWith('/') ? refreshPath : `${refreshPath}/`);
}
