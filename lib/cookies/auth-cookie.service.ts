import { Inject, Injectable } from '@nestjs/common';
import { serialize } from 'cookie';
import { csrfTokenFor } from '../csrf/csrf';
import { DURIN_CLOCK, DURIN_RESOLVED_OPTIONS } from '../durin.constants';
import { putSetCookie } from '../http/response-headers';
import { Clock } from '../interfaces/clock.interface';
import { TokenSet } from '../interfaces/token-set.interface';
import { ResolvedCsrfOptions } from '../options/resolve-security-options';
import { ResolvedCookieOptions, ResolvedDurinOptions } from '../options/resolved-options';

/**
 * User agents cap a cookie's lifetime at 400 days (RFC 6265bis §5.6.2); a token that never
 * expires gets that, and a longer remaining life is cut to it rather than silently by the browser.
 */
const MAX_COOKIE_AGE_SECONDS = 400 * 24 * 60 * 60;

/**
 * What {@link AuthCookieService.setAuthCookie} needs: a `TokenSet` fits, and so does an access token
 * alone with its expiry (renewing or sliding the access cookie: pass the session's
 * `refreshTokenExpiresAt` too when it has a refresh token, so the cookie keeps living as long).
 */
type CookieTokens = Pick<TokenSet, 'accessToken' | 'accessTokenExpiresAt'> &
  Partial<Pick<TokenSet, 'refreshToken' | 'refreshTokenExpiresAt'>>;

/**
 * When the auth and CSRF cookies stop being useful: the later of the access and refresh expiries
 * (`null`, never, wins). Without a refresh expiry, the access token's.
 */
function sessionEnd(tokens: CookieTokens): Date | null {
  const access = tokens.accessTokenExpiresAt;
  const refresh = tokens.refreshTokenExpiresAt;
  if (refresh === undefined || refresh === null) return access;
  if (access === null) return null;
  return refresh.getTime() > access.getTime() ? refresh : access;
}

/**
 * Sets and clears the cookies of a cookie session on an Express response or a Fastify reply (with
 * or without `@fastify/cookie`). Values are serialized with the `cookie` package and written as raw
 * `Set-Cookie` headers, so both platforms send byte-identical attributes. Three cookies:
 *
 * - the auth cookie (`__Host-token`): the access token; HttpOnly, `Path=cookie.path`;
 * - the CSRF cookie (`__Host-csrf`, unless `csrf: false`): the session's CSRF token, readable by
 *   page scripts, which send it back in the `X-CSRF-Token` header on state-changing requests;
 * - the refresh cookie (`__Secure-refresh`, when the token set has a refresh token): the refresh
 *   token; always HttpOnly and only sent to `cookie.refreshPath`, so it never reaches scripts
 *   and never rides along on ordinary requests.
 *
 * All are `Secure`, `SameSite` and `Domain` as configured.
 *
 * @example
 * @Post('login/cookie')
 * async login(@Body() body: LoginDto, @Res({ passthrough: true }) response: object) {
 *   const tokens = await this.tokenService.generateCookieToken(user);
 *   const csrfToken = this.authCookies.setAuthCookie(response, tokens);
 *   // No token in the body: the cookies hold them.
 *   return { csrfToken, refreshTokenExpiresAt: tokens.refreshTokenExpiresAt };
 * }
 */
@Injectable()
export class AuthCookieService {
  private readonly cookie: ResolvedCookieOptions;
  private readonly csrf: ResolvedCsrfOptions | false;

  constructor(
    @Inject(DURIN_RESOLVED_OPTIONS) options: ResolvedDurinOptions,
    @Inject(DURIN_CLOCK) private readonly clock: Clock,
  ) {
    this.cookie = options.cookie;
    this.csrf = options.csrf;
  }

  /** The readable CSRF cookie's name (e.g. `__Host-csrf`); `undefined` with `csrf: false`. */
  get csrfCookieName(): string | undefined {
    return this.csrf === false ? undefined : this.csrf.cookieName;
  }

  /**
   * The CSRF token that cookie-authenticated state-changing requests of the session with this
   * access token must send in the `X-CSRF-Token` header; `undefined` with `csrf: false`.
   */
  csrfTokenFor(accessToken: string): string | undefined {
    return this.csrf === false ? undefined : csrfTokenFor(this.csrf, accessToken);
  }

  /** The cookie's name as sent to browsers (e.g. `__Host-token`). */
  get cookieName(): string {
    return this.cookie.name;
  }

  /** The refresh cookie's name as sent to browsers (e.g. `__Secure-refresh`). */
  get refreshCookieName(): string {
    return this.cookie.refreshName;
  }

  /**
   * Puts the access token of `tokens` in the auth cookie, the session's CSRF token in the readable
   * CSRF cookie and, when `tokens` has one, the refresh token in the refresh cookie. Returns the
   * CSRF token (to hand to the page in the login response too), or `undefined` with `csrf: false`.
   *
   * The refresh cookie lives as long as the refresh token. The auth and CSRF cookies live as long
   * as the session can still be refreshed (the later of the two expiries): a cookie refresh needs
   * the access token and its CSRF token to bind the refresh token to the session, so they must
   * not vanish when the access token expires. That grants nothing: an expired access token in the
   * cookie is still refused (401 `token_expired`).
   *
   * @throws TypeError when `response` is neither an Express response nor a Fastify reply, or its
   * headers were already sent.
   */
  setAuthCookie(response: object, tokens: CookieTokens): string | undefined {
    this.write(response, this.cookie.name, this.serializeAuthCookie(tokens));
    let csrfToken: string | undefined;
    if (this.csrf !== false) {
      csrfToken = csrfTokenFor(this.csrf, tokens.accessToken);
      const { cookieName } = this.csrf;
      const maxAge = this.maxAgeSeconds(sessionEnd(tokens));
      this.write(response, cookieName, this.serialize(csrfToken, maxAge, cookieName, false));
    }
    if (typeof tokens.refreshToken === 'string') {
      const maxAge = this.maxAgeSeconds(tokens.refreshTokenExpiresAt ?? null);
      this.write(
        response,
        this.cookie.refreshName,
        this.serializeRefresh(tokens.refreshToken, maxAge),
      );
    }
    return csrfToken;
  }

  /**
   * Tells the browser to drop the auth, CSRF and refresh cookies: same name, path and attributes,
   * empty value and `Max-Age=0` (a cookie is only replaced when name, domain and path match,
   * REQ-CK-02). The refresh cookie is cleared from any route: `Set-Cookie` is not path-scoped.
   *
   * @throws TypeError like {@link setAuthCookie}.
   */
  clearAuthCookie(response: object): void {
    this.write(response, this.cookie.name, this.serialize('', 0));
    if (this.csrf !== false) {
      const { cookieName } = this.csrf;
      this.write(response, cookieName, this.serialize('', 0, cookieName, false));
    }
    this.write(response, this.cookie.refreshName, this.serializeRefresh('', 0));
  }

  /** The auth cookie's `Set-Cookie` value {@link setAuthCookie} would send, e.g. for a custom response. */
  serializeAuthCookie(tokens: CookieTokens): string {
    return this.serialize(tokens.accessToken, this.maxAgeSeconds(sessionEnd(tokens)));
  }

  private maxAgeSeconds(expiresAt: Date | null): number {
    if (expiresAt === null) return MAX_COOKIE_AGE_SECONDS;
    // Rounded down: a cookie must not outlive the expiry it was given (the refresh token's for the
    // refresh cookie, the session's, see setAuthCookie, for the other two).
    const seconds = Math.floor((expiresAt.getTime() - this.clock.now()) / 1000);
    return Math.min(Math.max(seconds, 0), MAX_COOKIE_AGE_SECONDS);
  }

  private serializeRefresh(value: string, maxAge: number): string {
    // Always HttpOnly, whatever `cookie.httpOnly` says: no page ever needs the refresh token.
    return serialize(this.cookie.refreshName, value, {
      maxAge,
      path: this.cookie.refreshPath,
      domain: this.cookie.domain,
      httpOnly: true,
      secure: this.cookie.secure,
      sameSite: this.cookie.sameSite,
    });
  }

  private serialize(
    value: string,
    maxAge: number,
    name: string = this.cookie.name,
    // The CSRF cookie must be readable by the page's scripts; it is worthless to another site.
    httpOnly: boolean = this.cookie.httpOnly,
  ): string {
    return serialize(name, value, {
      maxAge,
      path: this.cookie.path,
      domain: this.cookie.domain,
      httpOnly,
      secure: this.cookie.secure,
      sameSite: this.cookie.sameSite,
    });
  }

  private write(response: object, name: string, serialized: string): void {
    if (!putSetCookie(response, name, serialized)) {
      throw new TypeError(
        'nestjs-durin: cannot set the auth cookie: expected an Express response or a Fastify reply whose headers were not sent yet',
      );
    }
  }
}
