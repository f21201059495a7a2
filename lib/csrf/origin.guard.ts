import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { DURIN_RESOLVED_OPTIONS } from '../durin.constants';
import { CsrfValidationError } from '../errors/security-errors';
import { DurinRequest } from '../http/durin-request';
import { getDurinRequest } from '../http/execution-context';
import { ResolvedDurinOptions } from '../options/resolved-options';
import { isUnsafeMethod, originFailure } from './csrf';

/**
 * Refuses a state-changing request that a browser says comes from another site: the `Origin` /
 * `Sec-Fetch-Site` half of the CSRF defence, for public routes that have no session to bind a CSRF
 * token to yet. Put it on a cookie login: without it, a cross-site form can log the victim's
 * browser into the attacker's account (login CSRF), and what the victim then types lands there.
 *
 * The rules are those of the guard's CSRF check: an `Origin` naming the request's own host or one
 * of `csrf.allowedOrigins` passes, `null` and foreign origins do not; without `Origin`, a
 * `Sec-Fetch-Site` of `cross-site` or `same-site` is refused; a request with neither header is
 * not from a browser and passes. Safe methods (GET, HEAD, OPTIONS) always pass. A refusal is
 * 403 `csrf_failed`, before the handler runs. It applies even with `csrf: false`, since putting it
 * on a route is an explicit choice.
 *
 * @example
 * @Public()
 * @UseGuards(OriginGuard)
 * @Post('login/cookie')
 * loginWithCookie(@Body() body: LoginDto) {}
 */
@Injectable()
export class OriginGuard implements CanActivate {
  private readonly allowedOrigins: string[] | null;

  constructor(@Inject(DURIN_RESOLVED_OPTIONS) options: ResolvedDurinOptions) {
    this.allowedOrigins = options.csrf === false ? null : options.csrf.allowedOrigins;
  }

  canActivate(context: ExecutionContext): boolean {
    const request: DurinRequest & { method?: unknown } = getDurinRequest(context);
    if (!isUnsafeMethod(request.method)) return true;
    const failure = originFailure(request.headers ?? {}, { allowedOrigins: this.allowedOrigins });
    if (failure !== undefined) {
      throw new CsrfValidationError(failure);
    }
    return true;
  }
}
