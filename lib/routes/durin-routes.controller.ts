import {
  CanActivate,
  Controller,
  Delete,
  Get,
  Header,
  HttpCode,
  HttpStatus,
  Inject,
  Logger,
  NestInterceptor,
  Param,
  Post,
  Req,
  Res,
  Type,
  UseGuards,
  ControllerOptions,
  UseInterceptors,
} from '@nestjs/common';
import { DURIN_SESSIONS_ABILITY } from '../abilities/abilities';
import { apiKeyAbilitiesFromBody } from '../abilities/api-key-abilities';
import { takeRefreshAbilities } from '../abilities/refresh-abilities';
import { RequireAbilities } from '../abilities/require-abilities.decorator';
import { AuthGuard } from '../auth.guard';
import { AuthCookieService } from '../cookies/auth-cookie.service';
import { AuthToken } from '../decorators/auth-token.decorator';
import { Public } from '../decorators/public.decorator';
import {
  getAuthCookieServiceToken,
  getDurinOptionsToken,
  getRouteRateLimiterToken,
  getTokenServiceToken,
} from '../durin-instance';
import { DURIN_RESOLVED_OPTIONS } from '../durin.constants';
import { AbstractAuthToken } from '../entities/abstract-auth-token.entity';
import { DurinHttpException, DurinUnauthorizedException } from '../errors/durin-http.exception';
import { DurinRequest } from '../http/durin-request';
import { getRequestCredential } from '../http/request-credential';
import { SessionInfo } from '../interfaces/token-set.interface';
import { isUnderRefreshPath } from '../options/resolve-refresh-cookie';
import { ResolvedDurinOptions } from '../options/resolved-options';
import { TokenService } from '../token.service';
import { DurinErrorsInterceptor } from '../errors/durin-errors.interceptor';
import {
  DurinApiKeyCreatedResponse,
  DurinApiKeyResponse,
  DurinRenewResponse,
  DurinSessionResponse,
  DurinTokenPairResponse,
} from './durin-routes.responses';
import { documentDurinRoutes } from '../openapi/durin-routes.openapi';
import { RouteRateLimiter } from '../throttling/route-rate-limiter';
import { parseRefreshTokenBody } from './refresh-token.dto';
import { presentedRefresh } from './presented-refresh';

/** Session ids are random UUIDs; anything else cannot exist and is a 404 without a query. */
const SESSION_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function sessionNotFound(): DurinHttpException {
  return new DurinHttpException(HttpStatus.NOT_FOUND, 'session_not_found', 'No such session.');
}

function apiKeyNotFound(): DurinHttpException {
  return new DurinHttpException(HttpStatus.NOT_FOUND, 'api_key_not_found', 'No API key.');
}

/**
 * The ready-made session endpoints (login stays in the app, which alone knows its credentials,
 * unless it mounts the optional `DurinLoginController` with `routes.login`).
 * Mounted by `DurinModule.forRoot({ routes: { path } })` under `path`:
 *
 * | route | auth | success | failures |
 * | --- | --- | --- | --- |
 * | `POST refresh` `{ refreshToken, abilities? }`, or no body (or `{ abilities }`) with the refresh cookie | none | 200 new pair (cookie sessions: in the cookies; body has expiries + `csrfToken`) | 400 body, or no token at all; 400 `invalid_scope` abilities not held; 401 bad/expired/reused |
 * | `POST renew` | token | 200 `{ expiresAt }` (+ cookie) | 401 |
 * | `POST logout` | token | 204, ends this session (+ clears cookie) | 401 |
 * | `POST logoutall` | token | 204, ends every session of the user (+ clears cookie) | 401 |
 * | `GET sessions` | token | 200 list, no secrets | 401 |
 * | `DELETE sessions/:id` | token | 204 | 400 current session (use logout), 404 unknown/foreign/malformed id |
 * | `GET apiaccess` | token | 200 API key metadata (`expiresAt`: `apiAccessTokenTtl`) | 404 none |
 * | `POST apiaccess` `{ abilities? }` | token | 201 the key, shown once | 400 `api_key_exists`: one is live (one per user, also under races); 400 `invalid_scope` |
 * | `DELETE apiaccess` | token | 204 | 404 none |
 *
 * `logoutall`, `sessions`, `sessions/:id` and `apiaccess` need the ability `durin:sessions` (403
 * `insufficient_scope` otherwise); `renew` and `logout` work with any token.
 *
 * Sent with the auth cookie, every POST and DELETE here (`refresh` included) must pass the CSRF
 * defence (`csrf` option), else 403 `csrf_failed` with nothing changed. A refresh with the refresh
 * cookie needs the auth cookie and its CSRF token too, and both cookies must be of one session.
 *
 * A failing database is a 503 with `Retry-After` everywhere. The mounted controller carries the
 * {@link AuthGuard} itself (refresh is `@Public()`), so the routes work with or without a global
 * guard.
 */
@UseInterceptors(DurinErrorsInterceptor)
export class DurinRoutesController {
  private refreshPathChecked = false;

  constructor(
    protected readonly tokens: TokenService,
    protected readonly authCookies: AuthCookieService,
    @Inject(DURIN_RESOLVED_OPTIONS) protected readonly options: ResolvedDurinOptions,
    protected readonly limiter: RouteRateLimiter,
  ) {}

  /**
   * Rotation: the refresh token is spent and a new pair returned. A header session sends
   * `{ refreshToken }` and gets the new pair in the body. A cookie session sends no body (or `{}`):
   * the refresh token comes from the refresh cookie, and the new tokens go into the cookies only;
   * the body holds the expiries and the new `csrfToken`.
   */
  @Public()
  @Post('refresh')
  @HttpCode(HttpStatus.OK)
  @Header('Cache-Control', 'no-store')
  async refresh(
    // The body is read from the request, past every pipe (see parseRefreshTokenBody): an app-wide
    // ValidationPipe would otherwise decide about it first, in its own way.
    @Req() request: DurinRequest & { body?: unknown },
    @Res({ passthrough: true }) response: object,
  ): Promise<DurinTokenPairResponse> {
    const throttle = this.options.throttle;
    // Every attempt counts, junk included: guessing is what the limit per IP is for (REQ-RL-01).
    // Nothing is counted with throttling off.
    await this.limiter.consumeByIp(
      request,
      response,
      'refresh-ip',
      throttle === false ? null : throttle.refreshPerIp,
    );
    const { rest, abilities } = takeRefreshAbilities(request.body); // abilities (issue 11)
    const body = parseRefreshTokenBody(rest);
    if (body === undefined) this.checkRefreshPath(request);
    const presented = presentedRefresh(request, body, this.options);
    const perFamily = throttle === false ? null : throttle.refreshPerFamily;
    // Per family, from any IP: the rotator names the family as soon as it has read the token,
    // before it writes anything, so this costs no query of its own.
    const tokens = await this.tokens.refreshToken(presented.refreshToken, {
      ...presented.options,
      abilities,
      ...(perFamily === null
        ? {}
        : {
            onFamily: (familyId: string) =>
              this.limiter.consume(response, 'refresh-family', familyId, perFamily),
          }),
    });
    if (tokens === null) {
      throw new DurinUnauthorizedException('token_invalid', 'Invalid or expired refresh token.');
    }
    const expiries = {
      accessTokenExpiresAt: tokens.accessTokenExpiresAt,
      refreshTokenExpiresAt: tokens.refreshTokenExpiresAt,
    };
    if (tokens.token.authType === 'cookie') {
      // Rotation changes the CSRF token (it is bound to the access token). It is in the body too:
      // a front end on another origin (`csrf.allowedOrigins`) cannot read our CSRF cookie.
      const csrfToken = this.authCookies.setAuthCookie(response, tokens);
      return csrfToken === undefined ? expiries : { ...expiries, csrfToken };
    }
    return { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, ...expiries };
  }

  /** durin's "refresh": the current token lives its full lifetime from now (capped). */
  @Post('renew')
  @HttpCode(HttpStatus.OK)
  async renew(
    @AuthToken() token: AbstractAuthToken,
    @Req() request: DurinRequest,
    @Res({ passthrough: true }) response: object,
  ): Promise<DurinRenewResponse> {
    if (token.accessTtlMs === null) {
      // Never expires: nothing to extend (and renewToken's `null` would read as "not live").
      return { expiresAt: null };
    }
    const expiresAt = await this.tokens.renewToken(token);
    if (expiresAt === null) {
      throw new DurinUnauthorizedException('token_invalid');
    }
    const credential = getRequestCredential(request);
    if (credential?.source === 'cookie') {
      this.authCookies.setAuthCookie(response, {
        accessToken: credential.rawToken,
        accessTokenExpiresAt: expiresAt,
        // Renewed with the access token: the cookie must keep living until then (setAuthCookie).
        refreshTokenExpiresAt: token.refreshExpiresAt,
      });
    }
    return { expiresAt };
  }

  /** Ends the session the request was made with (its refresh token included). */
  @Post('logout')
  @HttpCode(HttpStatus.NO_CONTENT)
  async logout(
    @AuthToken() token: AbstractAuthToken,
    @Req() request: DurinRequest,
    @Res({ passthrough: true }) response: object,
  ): Promise<void> {
    await this.tokens.revokeToken(token);
    this.clearCookieOf(token, request, response);
  }

  /** Ends every session of the user, on every device. */
  @RequireAbilities(DURIN_SESSIONS_ABILITY)
  @Post('logoutall')
  @HttpCode(HttpStatus.NO_CONTENT)
  async logoutAll(
    @AuthToken() token: AbstractAuthToken,
    @Req() request: DurinRequest,
    @Res({ passthrough: true }) response: object,
  ): Promise<void> {
    await this.tokens.revokeAllUserTokens(token.user);
    this.clearCookieOf(token, request, response);
  }

  /** The user's live sessions, newest first. */
  @RequireAbilities(DURIN_SESSIONS_ABILITY)
  @Get('sessions')
  async sessions(@AuthToken() token: AbstractAuthToken): Promise<DurinSessionResponse[]> {
    const sessions = await this.tokens.listUserTokens(token.user);
    return sessions
      .filter((session) => !(this.options.apiAccessExcludeFromSessions && this.isApiKey(session)))
      .map((session) => ({
        id: session.id,
        client: session.client,
        context: session.context,
        createdAt: session.createdAt,
        lastUsedAt: session.lastUsedAt,
        expiresAt: session.expiresAt,
        abilities: session.abilities,
        isCurrent: session.id === token.id,
      }));
  }

  /** Ends another session of the same user (a lost phone); the current one goes through logout. */
  @RequireAbilities(DURIN_SESSIONS_ABILITY)
  @Delete('sessions/:id')
  @HttpCode(HttpStatus.NO_CONTENT)
  async endSession(@Param('id') id: string, @AuthToken() token: AbstractAuthToken): Promise<void> {
    if (!SESSION_ID_PATTERN.test(id)) {
      throw sessionNotFound();
    }
    if (id === token.id) {
      throw new DurinHttpException(
        HttpStatus.BAD_REQUEST,
        'session_current',
        'This is the current session: use logout to end it.',
      );
    }
    // Another user's id is "not found" too: telling them apart would confirm that it exists.
    if (!(await this.tokens.revokeUserSession(token.user, id))) {
      throw sessionNotFound();
    }
  }

  /** The personal API key's metadata. */
  @RequireAbilities(DURIN_SESSIONS_ABILITY)
  @Get('apiaccess')
  async getApiKey(@AuthToken() token: AbstractAuthToken): Promise<DurinApiKeyResponse> {
    const key = await this.findApiKey(token);
    if (key === undefined) {
      throw apiKeyNotFound();
    }
    return this.apiKeyMetadata(key);
  }

  /**
   * Creates the personal API key through `TokenService.createApiKey`: a header token under the
   * client `apiAccessClientName`, living `apiAccessTokenTtl`, without a refresh token (a key is
   * one long-lived credential, not a session to rotate). One live key per user, also when
   * requests race: the losers get 400 `api_key_exists`. The body `{ abilities }` names what the
   * key may do, among the caller's own abilities and never `*`; without it the key holds
   * `DURIN_API_KEY_DEFAULT_ABILITIES` (none).
   */
  @RequireAbilities(DURIN_SESSIONS_ABILITY)
  @Post('apiaccess')
  @HttpCode(HttpStatus.CREATED)
  async createApiKey(
    @AuthToken() token: AbstractAuthToken,
    // Read past every pipe, as the refresh body is (see parseRefreshTokenBody).
    @Req() request: DurinRequest & { body?: unknown },
  ): Promise<DurinApiKeyCreatedResponse> {
    const abilities = apiKeyAbilitiesFromBody(request.body, token.abilities);
    // A live key already: ApiKeyExistsError, answered 400 `api_key_exists` by itself.
    const tokens = await this.tokens.createApiKey(token.user, { abilities });
    return {
      id: tokens.token.id,
      client: this.options.apiAccessClientName,
      createdAt: tokens.token.createdAt,
      lastUsedAt: tokens.token.lastUsedAt,
      expiresAt: tokens.accessTokenExpiresAt,
      abilities,
      token: tokens.accessToken,
    };
  }

  /** Revokes the personal API key. */
  @RequireAbilities(DURIN_SESSIONS_ABILITY)
  @Delete('apiaccess')
  @HttpCode(HttpStatus.NO_CONTENT)
  async deleteApiKey(@AuthToken() token: AbstractAuthToken): Promise<void> {
    const key = await this.findApiKey(token);
    if (key === undefined || !(await this.tokens.revokeUserSession(token.user, key.id))) {
      throw apiKeyNotFound();
    }
  }

  private isApiKey(session: SessionInfo): boolean {
    return session.client === this.options.apiAccessClientName && session.authType === 'header';
  }

  private async findApiKey(token: AbstractAuthToken): Promise<SessionInfo | undefined> {
    const sessions = await this.tokens.listUserTokens(token.user);
    return sessions.find((session) => this.isApiKey(session));
  }

  private apiKeyMetadata(key: SessionInfo): DurinApiKeyResponse {
    return {
      id: key.id,
      client: this.options.apiAccessClientName,
      createdAt: key.createdAt,
      lastUsedAt: key.lastUsedAt,
      expiresAt: key.expiresAt,
      abilities: key.abilities,
    };
  }

  /** Says once, in the log, why no browser will ever send the refresh cookie here. */
  private checkRefreshPath(request: DurinRequest & { originalUrl?: unknown; url?: unknown }): void {
    if (this.refreshPathChecked) return;
    this.refreshPathChecked = true;
    // Express rewrites `url` under a mounted router; `originalUrl` is what the browser asked for.
    const url = request.originalUrl ?? request.url;
    const { refreshPath } = this.options.cookie;
    if (typeof url === 'string' && !isUnderRefreshPath(url, refreshPath)) {
      new Logger('DurinModule').warn(
        `The refresh route answered ${url.split('?')[0]}, but the refresh cookie is scoped to ` +
          `${refreshPath}: browsers will not send it. Set cookie.refreshPath to the route's full path.`,
      );
    }
  }

  /** The browser holds a cookie for cookie tokens; it must go with the session (REQ-CK-02). */
  private clearCookieOf(token: AbstractAuthToken, request: DurinRequest, response: object): void {
    if (token.authType === 'cookie' || getRequestCredential(request)?.source === 'cookie') {
      this.authCookies.clearAuthCookie(response);
    }
  }
}

/** How {@link createDurinRoutesController} mounts the routes. */
export interface DurinRoutesMount {
  path: string;
  /** The DurinModule instance whose services and guard the routes use; default: the unnamed. */
  name?: string;
  version?: ControllerOptions['version'];
  guards?: ReadonlyArray<Type<CanActivate> | CanActivate>;
  interceptors?: ReadonlyArray<Type<NestInterceptor> | NestInterceptor>;
}

/**
 * The routes controller mounted at `path`. A subclass per call, so two modules (or two test apps)
 * with different paths never share route metadata. The durin guard comes first, so the app's own
 * guards already see `request.user`; the app's interceptors run inside the library's error
 * mapping.
 */
export function createDurinRoutesController(mount: DurinRoutesMount): Type<DurinRoutesController> {
  const name = mount.name;
  class MountedDurinRoutesController extends DurinRoutesController {
    // The instance's own tokens: for the default instance they are the classes themselves.
    constructor(
      @Inject(getTokenServiceToken(name)) tokens: TokenService,
      @Inject(getAuthCookieServiceToken(name)) authCookies: AuthCookieService,
      @Inject(getDurinOptionsToken(name)) options: ResolvedDurinOptions,
      @Inject(getRouteRateLimiterToken(name)) limiter: RouteRateLimiter,
    ) {
      super(tokens, authCookies, options, limiter);
    }
  }
  Controller({ path: mount.path, version: mount.version })(MountedDurinRoutesController);
  UseGuards(AuthGuard.for(name), ...(mount.guards ?? []))(MountedDurinRoutesController);
  if (mount.interceptors !== undefined && mount.interceptors.length > 0) {
    UseInterceptors(...mount.interceptors)(MountedDurinRoutesController);
  }
  documentDurinRoutes(DurinRoutesController, MountedDurinRoutesController);
  return MountedDurinRoutesController;
}
