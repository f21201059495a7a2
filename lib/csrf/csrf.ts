import { createHmac } from 'node:crypto';
import { CsrfFailureReason, CsrfValidationError } from '../errors/security-errors';
import { ResolvedCsrfOptions } from '../options/resolve-security-options';
import { constantTimeEqual } from '../tokens/constant-time';

/**
 * The CSRF defence of cookie-authenticated requests (REQ-CSRF-01..04): pure functions, used by the
 * guard, the ready-made refresh route and `AuthCookieService`. See `DurinCsrfOptions` for the rules.
 */

/** Methods that must not change state (RFC 9110 §9.2.1); every other method is checked. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

const TOKEN_DOMAIN = 'nestjs-durin csrf v1\0';

type HeaderBag = Record<string, string | string[] | undefined>;

interface RequestLike {
  method?: unknown;
  headers?: HeaderBag;
}

/**
 * The CSRF token of the session whose access token is `rawAccessToken`: HMAC-SHA256 under the CSRF
 * key, base64url. It is bound to that one session (another session's token never matches,
 * REQ-CSRF-04), cannot be computed without the access token (which page scripts and other sites
 * never see: it is in an HttpOnly cookie), and reveals nothing about it. The key need not be
 * secret for that; see `DEFAULT_CSRF_KEY` in resolve-security-options.ts for why. It is derived
 * from the access token rather than stored, so it is checked before any database access, works on
 * every instance and after restarts, and changes with every rotation.
 */
export function csrfTokenFor(options: ResolvedCsrfOptions, rawAccessToken: string): string {
  return createHmac('sha256', options.key)
    .update(TOKEN_DOMAIN)
    .update(rawAccessToken)
    .digest('base64url');
}

/** Whether the CSRF defence applies to a request with this method (not GET/HEAD/OPTIONS/TRACE). */
export function isUnsafeMethod(method: unknown): boolean {
  // No method at all (a WebSocket handshake object) is not an HTTP request that could be forged
  // by a form or fetch, and the upgrade itself is a GET.
  return typeof method === 'string' && !SAFE_METHODS.has(method.toUpperCase());
}

function single(value: string | string[] | undefined): string | undefined {
  // A repeated field is not a value we can trust to mean one thing.
  if (Array.isArray(value)) return value.length === 1 ? value[0] : undefined;
  return value;
}

function normalisedHostHeader(host: string, scheme: string): string {
  const lower = host.trim().toLowerCase();
  // `URL.host` leaves out the scheme's default port; a Host header may carry it.
  const defaultPort = scheme === 'https:' ? ':443' : scheme === 'http:' ? ':80' : undefined;
  return defaultPort !== undefined && lower.endsWith(defaultPort)
    ? lower.slice(0, -defaultPort.length)
    : lower;
}

/**
 * Checks where the request comes from. With `Origin`: it must be one of `allowedOrigins` or name
 * the host the request was sent to (the `Host` header; the scheme is not compared, because behind
 * a TLS-terminating proxy the app cannot know it, and the `__Host-` cookie is Secure anyway).
 * Without `Origin`: `Sec-Fetch-Site` must not be `cross-site` or `same-site` (a sibling subdomain
 * is another site's code). Neither header: not a browser request; the token check alone decides.
 */
export function originFailure(
  headers: HeaderBag,
  options: Pick<ResolvedCsrfOptions, 'allowedOrigins'>,
): CsrfFailureReason | undefined {
  const fetchSite = single(headers['sec-fetch-site'])?.trim().toLowerCase();
  const origin = single(headers.origin)?.trim();
  if (origin === undefined || origin === '') {
    return fetchSite === 'cross-site' || fetchSite === 'same-site' ? 'cross_site' : undefined;
  }
  if (origin === 'null') {
    // Sandboxed frames, `data:` pages and cross-origin redirects: never a page of ours.
    return 'origin_null';
  }
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return 'origin_mismatch';
  }
  if (options.allowedOrigins?.includes(url.origin)) {
    // A listed front end on another origin: the browser marks its requests cross-site or
    // same-site, which is exactly what listing it allows.
    return undefined;
  }
  // Otherwise only our own host. A browser never sends a same-origin Origin on a request it marks
  // cross-site: contradicting headers are not ours.
  if (fetchSite === 'cross-site' || fetchSite === 'same-site') {
    return 'cross_site';
  }
  const host = single(headers.host);
  if (host === undefined || normalisedHostHeader(host, url.protocol) !== url.host.toLowerCase()) {
    return 'origin_mismatch';
  }
  return undefined;
}

/**
 * Why a request authenticated by the auth cookie `rawCookieToken` fails the CSRF defence, or
 * `undefined` when it passes (or needs none: a safe method, or CSRF turned off).
 */
export function csrfFailure(
  request: RequestLike,
  options: ResolvedCsrfOptions | false,
  rawCookieToken: string,
): CsrfFailureReason | undefined {
  if (options === false || !isUnsafeMethod(request.method)) return undefined;
  const headers = request.headers ?? {};
  const origin = originFailure(headers, options);
  if (origin !== undefined) return origin;
  const sent = single(headers[options.headerName]);
  if (sent === undefined || sent === '') return 'token_missing';
  return constantTimeEqual(sent, csrfTokenFor(options, rawCookieToken))
    ? undefined
    : 'token_mismatch';
}

/** {@link csrfFailure}, throwing a {@link CsrfValidationError} (HTTP 403 `csrf_failed`). */
export function assertCsrf(
  request: RequestLike,
  options: ResolvedCsrfOptions | false,
  rawCookieToken: string,
): void {
  const failure = csrfFailure(request, options, rawCookieToken);
  if (failure !== undefined) {
    throw new CsrfValidationError(failure);
  }
}
