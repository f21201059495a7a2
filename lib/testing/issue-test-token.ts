import { INestApplicationContext } from '@nestjs/common';
import { AuthCookieService } from '../cookies/auth-cookie.service';
import {
  getAuthCookieServiceToken,
  getDurinOptionsToken,
  getTokenServiceToken,
} from '../durin-instance';
import { AbstractAuthToken } from '../entities/abstract-auth-token.entity';
import { AuthType } from '../interfaces/durin-module-options.interface';
import { GenerateTokenOptions, TokenSet } from '../interfaces/token-set.interface';
import { ResolvedDurinOptions } from '../options/resolved-options';
import { TokenService } from '../token.service';

/** Options of {@link issueTestToken}: those of `generateHeaderToken`, and where the token goes. */
export interface IssueTestTokenOptions extends GenerateTokenOptions {
  /** A header token (`Authorization`) or a cookie session; default `'header'`. */
  authType?: AuthType;
  /** The DurinModule instance (`DurinModule.forRoot({ name })`); default: the unnamed one. */
  name?: string;
}

/** A real token set, and the request headers that present it. */
export interface TestTokenSet<T extends AbstractAuthToken = AbstractAuthToken> extends TokenSet<T> {
  readonly authType: AuthType;
  /**
   * Headers for supertest's `.set()`: `authorization` for a header token; for a cookie session
   * the `cookie` header (the auth and CSRF cookies, as a browser sends them) and the CSRF header
   * a page's script adds, so state-changing requests pass the CSRF defence too.
   */
  readonly headers: Readonly<Record<string, string>>;
  /** The session's CSRF token (cookie sessions with the CSRF defence on); else `undefined`. */
  readonly csrfToken: string | undefined;
}

/**
 * Issues a real token for `user` through the app's `TokenService` and returns it with the
 * headers to send it: an e2e test logs in in one line, without a password or the login route.
 * The token is stored and checked like any other (the guard looks it up, revocation works).
 *
 * `app` is the running app or the compiled testing module; `user` a saved user entity.
 *
 * @example
 * const auth = await issueTestToken(app, user, { abilities: ['orders:read'] });
 * await request(app.getHttpServer()).get('/orders').set(auth.headers).expect(200);
 *
 * const browser = await issueTestToken(app, user, { authType: 'cookie' });
 * await request(app.getHttpServer()).post('/orders').set(browser.headers).send(order).expect(201);
 */
export async function issueTestToken<TUser extends object>(
  app: Pick<INestApplicationContext, 'get'>,
  user: TUser,
  options: IssueTestTokenOptions = {},
): Promise<TestTokenSet<AbstractAuthToken<TUser>>> {
  const { authType = 'header', name, ...generate } = options;
  // `strict: false`: the services live in DurinModule, not in the module `app` was built from.
  const tokens = app.get<TokenService<object, AbstractAuthToken<TUser>>>(
    getTokenServiceToken(name),
    { strict: false },
  );
  const durinOptions = app.get<ResolvedDurinOptions>(getDurinOptionsToken(name), {
    strict: false,
  });
  if (authType === 'header') {
    const set = await tokens.generateHeaderToken(user, generate);
    const scheme = capitalised(durinOptions.authHeaderPrefixes[0] ?? 'bearer');
    return {
      ...set,
      authType,
      headers: { authorization: `${scheme} ${set.accessToken}` },
      csrfToken: undefined,
    };
  }
  const cookies = app.get<AuthCookieService>(getAuthCookieServiceToken(name), { strict: false });
  const set = await tokens.generateCookieToken(user, generate);
  const csrfToken = cookies.csrfTokenFor(set.accessToken);
  const headers: Record<string, string> = { cookie: `${cookies.cookieName}=${set.accessToken}` };
  if (csrfToken !== undefined && durinOptions.csrf !== false) {
    headers.cookie += `; ${cookies.csrfCookieName}=${csrfToken}`;
    headers[durinOptions.csrf.headerName.toLowerCase()] = csrfToken;
  }
  return { ...set, authType, headers, csrfToken };
}

/** `bearer` → `Bearer`: schemes match case-insensitively, but logs read better in RFC 6750's case. */
function capitalised(scheme: string): string {
  return scheme.charAt(0).toUpperCase() + scheme.slice(1);
}
