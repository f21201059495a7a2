/** What a login does when the user already has `maxSessionsPerUser` live sessions. */
export type SessionLimitStrategy = 'revoke_oldest' | 'refuse';

/**
 * The CSRF defence of cookie-authenticated requests (REQ-CSRF-01..04). For every request whose
 * method is not GET, HEAD, OPTIONS or TRACE and that is authenticated by the auth cookie (the
 * ready-made `POST refresh` too, when the cookie is sent), the guard requires both:
 *
 * 1. an `Origin` naming the request's own `Host` or among `allowedOrigins`, or, without `Origin`,
 *    a `Sec-Fetch-Site` of `same-origin` or `none` (`cross-site` and `same-site` are refused;
 *    requests with neither header, i.e. not from a browser, go on to the token check);
 * 2. the CSRF token of the session in the `X-CSRF-Token` header: an HMAC-SHA256 of the session's
 *    access token (keyed with `secret` when set). `AuthCookieService.setAuthCookie` sets it as a
 *    readable (not HttpOnly) cookie next to the auth cookie and returns it, so a page script can
 *    send it back; another site can neither read the cookie nor compute the value (it has no
 *    access token to compute it from).
 *
 * A failure is a 403 `{ code: 'csrf_failed' }`, decided before the token is looked up, so nothing
 * is read or written. Requests with a token in the `Authorization` header need neither (a header
 * is never sent by the browser on its own). GraphQL over HTTP counts too: its POSTs, queries
 * included, need the header when authenticated by the cookie; WebSocket handshakes have no method
 * and are not checked here.
 */
export interface DurinCsrfOptions {
  /**
   * Further origins (`https://app.example.com`: scheme and host, port if not the default) allowed
   * to send cookie-authenticated state-changing requests, besides the request's own host (compared
   * with the `Host` header). Set it when the front end lives on another origin, or when a proxy
   * rewrites `Host`. Default: none.
   */
  allowedOrigins?: string[];
  /**
   * An optional server secret mixed into the CSRF tokens (at least 32 characters; the same value on
   * every instance, or tokens issued by one are refused by the others). Not needed for the
   * defence: without it a fixed built-in key is used, the tokens survive restarts and work across
   * instances with no configuration, and they stay unforgeable because they are derived from the
   * session's access token, which only the HttpOnly cookie holds. A secret adds defence in depth:
   * someone who learnt an access token could not compute its CSRF token either. Changing it
   * invalidates the CSRF tokens of live sessions until their next refresh (or a new login).
   */
  secret?: string;
  /** The request header that carries the token. Default `'X-CSRF-Token'`. */
  headerName?: string;
  /**
   * The readable cookie the token is set in. Default `'csrf'`, set as `__Host-csrf` when the auth
   * cookie uses the `__Host-` prefix.
   */
  cookieName?: string;
}
