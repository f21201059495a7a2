import { CanActivate, ExecutionContext, Inject, Injectable, Type } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { assertAbilities } from './abilities/route-abilities';
import { AuthCookieService } from './cookies/auth-cookie.service';
import { assertPolicyAdmits } from './clients/client-permissions';
import { extractCookieToken } from './credentials/extract-cookie-token';
import { assertCsrf } from './csrf/csrf';
import { extractHeaderToken } from './credentials/extract-header-token';
import {
  getAuthCookieServiceToken,
  getDurinOptionsToken,
  getTokenServiceToken,
  isNamedInstance,
} from './durin-instance';
import { DURIN_RESOLVED_OPTIONS } from './durin.constants';
import { AbstractAuthToken } from './entities/abstract-auth-token.entity';
import { DurinError } from './errors/durin.error';
import {
  AuthErrorCode,
  DurinUnauthorizedException,
  toDurinHttpException,
} from './errors/durin-http.exception';
import { DurinRequest, readAuthorizationHeader, readCookieHeader } from './http/durin-request';
import { getDurinRequest, getDurinResponse } from './http/execution-context';
import { RequestCredential, rememberCredential, wasAcceptedBy } from './http/request-credential';
import { canWriteHeaders, setResponseHeaders } from './http/response-headers';
import { RouteRules, RouteRulesMemo } from './http/route-rules';
import { AuthType } from './interfaces/durin-module-options.interface';
import { ResolvedDurinOptions } from './options/resolved-options';
import { TokenService } from './token.service';

/** What {@link AuthGuard.handleRequest} is given: the outcome of reading and checking the credential. */
export type DurinAuthResult =
  | {
      readonly ok: true;
      readonly user: object;
      readonly token: AbstractAuthToken;
      /** Where the credential came from. */
      readonly source: AuthType;
      /** The token's expiry slid on this request (`autoRefresh`). */
      readonly autoRefreshed: boolean;
    }
  | {
      readonly ok: false;
      readonly code: AuthErrorCode;
      /** Where the refused credential came from; `undefined` for `token_missing`. */
      readonly source: AuthType | undefined;
    };

/**
 * The classes `AuthGuard.for(name)` made, per guard class and name. Only a cache of classes that
 * depend on nothing but their name: no configuration is kept here.
 */
const boundGuards = new WeakMap<typeof AuthGuard, Map<string, Type<AuthGuard>>>();

/**
 * Authenticates a request by its durin token and sets `request.user` and `request.authToken`.
 *
 * The credential is read in a fixed order: an `Authorization` header with one of
 * `authHeaderPrefixes` alone decides (a bad one is a 401 even when a good cookie is also sent,
 * REQ-TYP-03); without one, the first of `authCookieNames` present decides. A header with another
 * scheme (`Basic …`) is not ours and is ignored. Malformed input is refused without a database
 * query. Under `enableAuthRestriction` a token only works where it was issued for.
 *
 * Failures are a 401 `{ statusCode, error, message, code }` with `WWW-Authenticate`; a failing
 * token store is a 503 with `Retry-After` (never a 401, 500 or 200). A state-changing request
 * (not GET/HEAD/OPTIONS/TRACE) authenticated by the cookie must also pass the CSRF defence
 * (`csrf` option): else a 403 `code: 'csrf_failed'`, before the token is looked up. A route marked
 * `@AllowClients()` / `@DenyClients()` then refuses other clients' tokens with a 403
 * `code: 'client_forbidden'`.
 *
 * Override points, as in `@nestjs/passport`: {@link getRequest} / {@link getResponse} (the
 * defaults read HTTP, GraphQL and WebSocket contexts) and {@link handleRequest}.
 *
 * @example
 * // per controller or route
 * @UseGuards(AuthGuard)
 * @Controller('orders')
 * export class OrdersController {}
 *
 * // or for the whole app, with @Public() on the open routes
 * providers: [{ provide: APP_GUARD, useClass: AuthGuard }]
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    protected readonly reflector: Reflector,
    protected readonly tokenService: TokenService,
    protected readonly authCookies: AuthCookieService,
    @Inject(DURIN_RESOLVED_OPTIONS) protected readonly options: ResolvedDurinOptions,
  ) {
    this.routeRules = new RouteRulesMemo(reflector);
  }

  /** The decorators of each route, read once (they cannot change after the classes exist). */
  private readonly routeRules: RouteRulesMemo;

  /**
   * This guard bound to the DurinModule instance `name` (`DurinModule.forRoot({ name })`): a
   * subclass that injects that instance's services, so it accepts that instance's tokens only.
   * Without a name (or `'default'`) it is the guard itself. The same class for the same name, so
   * Nest keeps one guard per module however often it is asked for.
   *
   * @example
   * @UseGuards(DurinAuthGuard.for('admin'))
   * @Controller('admin')
   * export class AdminController {}
   */
  static for(this: typeof AuthGuard, name?: string): Type<AuthGuard> {
    if (!isNamedInstance(name)) return this;
    let byName = boundGuards.get(this);
    if (byName === undefined) {
      byName = new Map();
      boundGuards.set(this, byName);
    }
    const known = byName.get(name);
    if (known !== undefined) return known;
    @Injectable()
    class InstanceAuthGuard extends this {
      constructor(
        reflector: Reflector,
        @Inject(getTokenServiceToken(name)) tokenService: TokenService,
        @Inject(getAuthCookieServiceToken(name)) authCookies: AuthCookieService,
        @Inject(getDurinOptionsToken(name)) options: ResolvedDurinOptions,
      ) {
        super(reflector, tokenService, authCookies, options);
      }
    }
    // Nest names the class in its errors ("can't resolve dependencies of …").
    Object.defineProperty(InstanceAuthGuard, 'name', { value: `${this.name}(${name})` });
    byName.set(name, InstanceAuthGuard);
    return InstanceAuthGuard;
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const rules = this.routeRules.of(context);
    if (rules.isPublic) {
      return true;
    }
    const request = this.getRequest(context);
    if (context.getType() === 'http' && wasAcceptedBy(request, this.tokenService)) {
      // Already authenticated in this request (a global guard and a route guard both apply):
      // once is enough, and a second lookup would only cost a query. HTTP only: a WebSocket
      // handshake (or a GraphQL subscription's upgrade request) outlives the message, and every
      // message must be checked again or a revoked token would keep working on an open socket.
      // The client policy and the abilities are checked again all the same: they cost no query,
      // and the guard that accepted the request first may be a subclass (or an app's guard, or one
      // with its own handleRequest) that never checked them for this route.
      assertPolicyAdmits(rules.clients, request.authToken);
      this.checkAbilities(rules, request, this.getResponse(context));
      return true;
    }
    const response = this.getResponse(context);
    if (context.getType() === 'ws') {
      // A socket's handshake is one object for all its messages: what an earlier message set must
      // not outlive a refusal of this one (a revoked token would still be there for @AuthToken()).
      request.user = undefined;
      request.authToken = undefined;
    }
    try {
      // One await on the way to the token service: every async layer costs a promise per request.
      const read = this.readCredential(request);
      let result: DurinAuthResult;
      let rawToken: string | undefined;
      if ('ok' in read) {
        result = read;
      } else {
        rawToken = read.rawToken;
        // Under enableAuthRestriction, TokenService refuses a token used outside its auth type.
        const outcome = await this.tokenService.authenticate(rawToken, read.source);
        result = outcome.ok
          ? {
              ok: true,
              user: outcome.user,
              token: outcome.token,
              source: read.source,
              autoRefreshed: outcome.autoRefreshed,
            }
          : { ok: false, code: outcome.reason, source: read.source };
      }
      this.handleRequest(result, request);
      assertPolicyAdmits(rules.clients, request.authToken);
      if (result.ok && rawToken !== undefined) {
        rememberCredential(request, rawToken, result.source, this.tokenService);
        if (result.autoRefreshed && result.source === 'cookie') {
          this.refreshCookie(response, rawToken, result.token);
        }
      }
      this.checkAbilities(rules, request, response);
      return true;
    } catch (error) {
      const httpError = toDurinHttpException(error) ?? error;
      if (httpError instanceof DurinError && response !== undefined) {
        // Nest's exception filter renders the body only; the challenge headers must already be on
        // the response it replies with (Express and Fastify keep headers set before the reply).
        setResponseHeaders(response, httpError.headers);
      }
      throw httpError;
    }
  }

  /**
   * The request to read the credential from and to set `user` / `authToken` on. Override it for
   * transports the default does not know.
   */
  protected getRequest(context: ExecutionContext): DurinRequest {
    return getDurinRequest(context);
  }

  /** Where `WWW-Authenticate`, `Retry-After` and a refreshed cookie go; `undefined` if nowhere. */
  protected getResponse(context: ExecutionContext): unknown {
    return getDurinResponse(context);
  }

  /**
   * Decides from the result: the default sets `request.user` and `request.authToken` on success
   * and throws a {@link DurinUnauthorizedException} otherwise. Override it to, say, let requests
   * without any credential through as anonymous (`code === 'token_missing'`); returning without
   * throwing lets the request in. A failing token store never gets here: it is always a 503.
   */
  protected handleRequest(result: DurinAuthResult, request: DurinRequest): void {
    if (!result.ok) {
      throw new DurinUnauthorizedException(result.code);
    }
    request.user = result.user;
    request.authToken = result.token;
  }

  /**
   * The credential to check (header first, then cookie), or the refusal when there is none or it
   * is malformed. Synchronous: a failed CSRF check throws here, before any lookup.
   */
  private readCredential(request: DurinRequest): RequestCredential | DurinAuthResult {
    const header = extractHeaderToken(
      readAuthorizationHeader(request),
      this.options.authHeaderPrefixes,
    );
    if (header.kind === 'malformed') {
      return { ok: false, code: 'token_invalid', source: 'header' };
    }
    if (header.kind === 'token') {
      return { rawToken: header.token, source: 'header' };
    }
    const cookie = extractCookieToken(readCookieHeader(request), this.options.authCookieNames);
    if (cookie.kind === 'malformed') {
      return { ok: false, code: 'token_invalid', source: 'cookie' };
    }
    if (cookie.kind === 'token') {
      // A cookie rides along on cross-site requests, so state-changing ones must prove they come
      // from our pages (REQ-CSRF-01). Checked before the lookup: a forged request changes
      // nothing, not even `lastUsedAt`, and costs no query. Header tokens need no such proof.
      assertCsrf(request, this.options.csrf, cookie.token);
      return { rawToken: cookie.token, source: 'cookie' };
    }
    return { ok: false, code: 'token_missing', source: undefined };
  }

  // --- abilities (issue 11) ---
  /**
   * The route's `@RequireAbilities` / `@RequireAnyAbility`, against the token just attached: no
   * query, the abilities came with the token. A request let through without a token (an
   * overridden `handleRequest`) cannot hold any, so such a route answers it as unauthenticated.
   */
  private checkAbilities(rules: RouteRules, request: DurinRequest, response: unknown): void {
    const requirements = rules.abilities;
    if (requirements.length === 0) return;
    try {
      const token = request.authToken as AbstractAuthToken | undefined;
      if (token === undefined) throw new DurinUnauthorizedException('token_missing');
      assertAbilities(token.abilities, requirements);
    } catch (error) {
      if (error instanceof DurinError && response !== undefined) {
        setResponseHeaders(response, error.headers);
      }
      throw error;
    }
  }
  // --- end abilities ---

  /** After a slide, the browser's cookie must live as long as the token again. */
  private refreshCookie(response: unknown, rawToken: string, token: AbstractAuthToken): void {
    // No HTTP response here (GraphQL without `res`): the slide is stored, only the cookie waits.
    if (typeof response !== 'object' || response === null || !canWriteHeaders(response)) return;
    this.authCookies.setAuthCookie(response, {
      accessToken: rawToken,
      accessTokenExpiresAt: token.expiresAt,
      // The cookie lives as long as the session can be refreshed (see setAuthCookie).
      refreshTokenExpiresAt: token.refreshExpiresAt,
    });
  }
}

/**
 * {@link AuthGuard} under a name that cannot clash with `@nestjs/passport`'s `AuthGuard`, so an
 * app using both needs no import alias. The same class: either name works everywhere.
 *
 * @example
 * import { AuthGuard } from '@nestjs/passport';
 * import { DurinAuthGuard } from 'nestjs-durin';
 *
 * @UseGuards(DurinAuthGuard)
 * @Controller('orders')
 * export class OrdersController {}
 */
export const DurinAuthGuard = AuthGuard;
/** The instance type of {@link DurinAuthGuard}. */
export type DurinAuthGuard = AuthGuard;
