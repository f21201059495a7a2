import { HttpStatus } from '@nestjs/common';
import { extractCookieToken } from '../credentials/extract-cookie-token';
import { assertCsrf } from '../csrf/csrf';
import { DurinHttpException, DurinUnauthorizedException } from '../errors/durin-http.exception';
import { CsrfValidationError } from '../errors/security-errors';
import { DurinRequest, readCookieHeader } from '../http/durin-request';
import { RefreshTokenOptions } from '../interfaces/token-set.interface';
import { ResolvedDurinOptions } from '../options/resolved-options';
import { RefreshTokenDto } from './refresh-token.dto';

/** The refresh token of a `POST refresh` and how `TokenService.refreshToken` must check it. */
export interface PresentedRefresh {
  refreshToken: string;
  options: RefreshTokenOptions;
}

type Options = Pick<ResolvedDurinOptions, 'csrf' | 'authCookieNames' | 'cookie'>;

/**
 * Where the refresh token of `POST <path>/refresh` comes from, after the CSRF checks that apply:
 * the parsed body (`undefined` when empty) for header sessions, else the refresh cookie.
 *
 * @throws CsrfValidationError (403 `csrf_failed`), DurinUnauthorizedException (401
 * `token_invalid`) or DurinHttpException (400 `invalid_request`), before anything is looked up.
 */
export function presentedRefresh(
  request: DurinRequest,
  body: RefreshTokenDto | undefined,
  options: Options,
): PresentedRefresh {
  return body === undefined ? fromCookie(request, options) : fromBody(request, body, options);
}

/**
 * A refresh token in the body is a header session's (under `enableAuthRestriction` a cookie
 * session's is refused: it would skip the pair binding below, and a cross-site form could post
 * one to plant another session's cookies). A request that also carries the auth cookie still
 * gets the guard's CSRF check (REQ-CSRF-03): a cross-site POST must not rotate anything.
 */
function fromBody(
  request: DurinRequest,
  body: RefreshTokenDto,
  options: Options,
): PresentedRefresh {
  if (options.csrf !== false) {
    const cookie = extractCookieToken(readCookieHeader(request), options.authCookieNames);
    // A cookie we cannot read (repeated, malformed) cannot prove anything.
    if (cookie.kind === 'malformed') {
      throw new CsrfValidationError('token_mismatch');
    }
    if (cookie.kind === 'token') {
      assertCsrf(request, options.csrf, cookie.token);
    }
  }
  return { refreshToken: body.refreshToken, options: { authType: 'header' } };
}

/**
 * A cookie session's refresh: the refresh token from the refresh cookie. The cookie rides along
 * on cross-site requests, so with the CSRF defence on the request must also carry the auth
 * cookie, pass the CSRF check of that access token, and the refresh token must belong to the
 * same session (checked by TokenService before it writes anything): a refresh cookie planted by a
 * sibling subdomain then cannot swap the browser into the planter's session.
 */
function fromCookie(request: DurinRequest, options: Options): PresentedRefresh {
  const cookies = readCookieHeader(request);
  const refresh = extractCookieToken(cookies, [options.cookie.refreshName]);
  if (refresh.kind === 'malformed') {
    throw new DurinUnauthorizedException('token_invalid', 'Invalid or expired refresh token.');
  }
  if (refresh.kind === 'none') {
    // Nothing to act on; a browser whose refresh cookie expired lost the auth cookie with it.
    throw new DurinHttpException(
      HttpStatus.BAD_REQUEST,
      'invalid_request',
      'No refresh token: send { "refreshToken": string }, or the refresh cookie.',
    );
  }
  if (options.csrf === false) {
    return { refreshToken: refresh.token, options: { authType: 'cookie' } };
  }
  const access = extractCookieToken(cookies, options.authCookieNames);
  if (access.kind !== 'token') {
    throw new CsrfValidationError(access.kind === 'none' ? 'token_missing' : 'token_mismatch');
  }
  assertCsrf(request, options.csrf, access.token);
  return {
    refreshToken: refresh.token,
    options: { authType: 'cookie', accessToken: access.token },
  };
}
