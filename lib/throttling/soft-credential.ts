import { extractCookieToken } from '../credentials/extract-cookie-token';
import { extractHeaderToken } from '../credentials/extract-header-token';
import { csrfFailure } from '../csrf/csrf';
import { DurinRequest, readAuthorizationHeader, readCookieHeader } from '../http/durin-request';
import { RequestCredential } from '../http/request-credential';
import { ResolvedDurinOptions } from '../options/resolved-options';

type Options = Pick<ResolvedDurinOptions, 'authHeaderPrefixes' | 'authCookieNames' | 'csrf'>;

/**
 * The credential `AuthGuard` would read (the header decides, else the first auth cookie), or
 * `undefined` when the guard would refuse it before any lookup: malformed, or a cookie on a
 * state-changing request without its CSRF proof. Used to count a request against its user before
 * the auth guard ran; a forged cross-site request must not spend its victim's budget.
 */
export function readCredentialSoftly(
  request: DurinRequest & { method?: unknown },
  options: Options,
): RequestCredential | undefined {
  const header = extractHeaderToken(readAuthorizationHeader(request), options.authHeaderPrefixes);
  if (header.kind === 'token') return { rawToken: header.token, source: 'header' };
  if (header.kind === 'malformed') return undefined;
  const cookie = extractCookieToken(readCookieHeader(request), options.authCookieNames);
  if (cookie.kind !== 'token') return undefined;
  if (csrfFailure(request, options.csrf, cookie.token) !== undefined) return undefined;
  return { rawToken: cookie.token, source: 'cookie' };
}
