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
 * Sets and clears the auth cookie on an Express response or a Fastify reply (with or without
 * `@fastify/cookie`). The value is serialized with the `cookie` package and written as a raw
 * `Set-Cookie` header, so both platforms send byte-identical attributes: the resolved name (with
 * `__Host-` when allowed), `Path`, `HttpOnly`, `Secure`, `SameSite`, `Domain` only if configured,
 * and `Max-Age` from the access token's expiry.
 *
 * The cookie carries only the access token; the refresh token is handed to the client in the body
 * and sent back to `POST /refresh`, so it never rides along on every request.
 *
 * Unless `csrf: false`, a second, readable (not HttpOnly) cookie with the session's CSRF token is
 * set and cleared alongside, with the same attributes and lifetime; `setAuthCookie` also returns
 * that token. Page scripts send it back in the `X-CSRF-Token` header on state-changing requests.
 *
 * @example
 * @Post('login/cookie')
 * async login(@Body() body: LoginDto, @Res({ passthrough: true }) response: object) {
 *   const tokens = await this.tokenService.generateCookieToken(user);
 *   const csrfToken = this.authCookies.setAuthCookie(response, tokens);
 *   return { refreshToken: tokens.refreshToken, csrfToken };
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

  /**
   * Puts the access token of `tokens` in the auth cookie, living as long as the token, and the
   * session's CSRF token in the readable CSRF cookie. Returns the CSRF token (to hand to the page
   * in the login response too), or `undefined` with `csrf: false`.
   *
   * @throws TypeError when `response` is neither an Express response nor a Fastify reply, or its
   * headers were already sent.
   */
  setAuthCookie(
    response: object,
    tokens: Pick<TokenSet, 'accessToken' | 'accessTokenExpiresAt'>,
  ): string | undefined {
    this.write(response, this.cookie.name, this.serializeAuthCookie(tokens));
    if (this.csrf === false) return undefined;
    const csrfToken = csrfTokenFor(this.csrf, tokens.accessToken);
    const maxAge = this.maxAgeSeconds(tokens.accessTokenExpiresAt);
    const { cookieName } = this.csrf;
    this.write(response, cookieName, this.serialize(csrfToken, maxAge, cookieName, false));
    return csrfToken;
  }

  /**
   * Tells the browser to drop the auth cookie: same name, path and attributes, empty value and
   * `Max-Age=0` (a cookie is only replaced when name, domain and path match, REQ-CK-02).
   *
   * @throws TypeError like {@link setAuthCookie}.
   */
  clearAuthCookie(response: object): void {
    this.write(response, this.cookie.name, this.serialize('', 0));
    if (this.csrf !== false) {
      const { cookieName } = this.csrf;
      this.write(response, cookieName, this.serialize('', 0, cookieName, false));
    }
  }

  /** The `Set-Cookie` value {@link setAuthCookie} would send, e.g. for a custom response. */
  serializeAuthCookie(tokens: Pick<TokenSet, 'accessToken' | 'accessTokenExpiresAt'>): string {
    return this.serialize(tokens.accessToken, this.maxAgeSeconds(tokens.accessTokenExpiresAt));
  }

  private maxAgeSeconds(expiresAt: Date | null): number {
    if (expiresAt === null) return MAX_COOKIE_AGE_SECONDS;
    // Rounded down: the cookie must not outlive the token it carries.
    const seconds = Math.floor((expiresAt.getTime() - this.clock.now()) / 1000);
    return Math.min(Math.max(seconds, 0), MAX_COOKIE_AGE_SECONDS);
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
