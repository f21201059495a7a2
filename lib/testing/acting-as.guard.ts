import { CanActivate, ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { assertAbilities, routeAbilityRequirements } from '../abilities/route-abilities';
import { assertClientPermitted } from '../clients/client-permissions';
import { DURIN_PUBLIC_KEY } from '../durin.constants';
import { AbstractAuthToken } from '../entities/abstract-auth-token.entity';
import { AuthTokenEntity } from '../entities/auth-token.entity';
import { DurinError } from '../errors/durin.error';
import { DurinUnauthorizedException } from '../errors/durin-http.exception';
import { getDurinRequest, getDurinResponse } from '../http/execution-context';
import { setResponseHeaders } from '../http/response-headers';
import { createTestAuthToken, TestAuthTokenOptions } from './test-auth-token';

/**
 * A stand-in for `AuthGuard` in tests without a database: every request is authenticated as one
 * user, or (see {@link actingAsAnonymous}) as nobody. What the real guard decides after the
 * lookup is decided here by the same code: `@Public()` routes skip it, `@AllowClients()` /
 * `@DenyClients()` answer 403 `client_forbidden`, `@RequireAbilities()` / `@RequireAnyAbility()`
 * answer 403 `insufficient_scope`, and a request without a user is a 401 `token_missing` with
 * its `WWW-Authenticate` challenge. What needs a store is not done: no token is looked up (nor its
 * expiry or revocation checked), no CSRF check (no cookie is read), no sliding expiry, no
 * `postAuthHandler`.
 *
 * Get one from {@link actingAs} or {@link actingAsAnonymous}.
 */
export class ActingAsGuard<
  TUser extends object = object,
  T extends AbstractAuthToken = AbstractAuthToken,
> implements CanActivate {
  // Only reads decorator metadata, which needs no module: the guard works as a plain value.
  private readonly reflector = new Reflector();

  /**
   * @param user the user every request is authenticated as; `undefined`: none (401)
   * @param token the token attached with it (the same object on every request)
   */
  constructor(
    readonly user: TUser | undefined,
    readonly token: T | undefined,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const isPublic = this.reflector.getAllAndOverride<boolean | undefined>(DURIN_PUBLIC_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic === true) return true;
    const request = getDurinRequest(context);
    try {
      if (this.user === undefined || this.token === undefined) {
        throw new DurinUnauthorizedException('token_missing');
      }
      request.user = this.user;
      request.authToken = this.token;
      assertClientPermitted(this.reflector, context, this.token);
      const requirements = routeAbilityRequirements(this.reflector, context);
      if (requirements.length > 0) assertAbilities(this.token.abilities, requirements);
      return true;
    } catch (error) {
      // As the real guard: the challenge headers go on the response before Nest renders the body.
      const response = getDurinResponse(context);
      if (error instanceof DurinError && response !== undefined) {
        setResponseHeaders(response, error.headers);
      }
      throw error;
    }
  }
}

/**
 * A guard that authenticates every request as `user`, with an in-memory token (see
 * {@link createTestAuthToken} for the options): `Sanctum::actingAs` / DRF's `force_authenticate`
 * for Nest. Use it in place of `AuthGuard` in a testing module; the token is `guard.token`.
 *
 * @example
 * const moduleRef = await Test.createTestingModule({
 *   controllers: [OrdersController],
 *   providers: [OrdersService],
 * })
 *   .overrideGuard(AuthGuard)
 *   .useValue(actingAs(user, { abilities: ['orders:read'], client: 'web' }))
 *   .compile();
 */
export function actingAs<
  TUser extends object,
  T extends AbstractAuthToken = AuthTokenEntity<TUser>,
>(user: TUser, options: TestAuthTokenOptions<T> = {}): ActingAsGuard<TUser, T> {
  return new ActingAsGuard<TUser, T>(user, createTestAuthToken<TUser, T>(user, options));
}

/**
 * A guard that lets no one in: every route not marked `@Public()` answers 401 `token_missing`, as
 * the real guard answers a request without a credential.
 *
 * @example
 * .overrideGuard(AuthGuard).useValue(actingAsAnonymous())
 */
export function actingAsAnonymous(): ActingAsGuard<never, never> {
  return new ActingAsGuard<never, never>(undefined, undefined);
}
