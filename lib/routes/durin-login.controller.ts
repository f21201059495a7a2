import {
  Controller,
  ControllerOptions,
  Header,
  HttpCode,
  HttpStatus,
  Inject,
  Injectable,
  NestInterceptor,
  OnModuleInit,
  Post,
  Req,
  Res,
  Type,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { AuthCookieService } from '../cookies/auth-cookie.service';
import { OriginGuard } from '../csrf/origin.guard';
import { Public } from '../decorators/public.decorator';
import {
  getAuthCookieServiceToken,
  getDurinOptionsToken,
  getRouteRateLimiterToken,
  getTokenServiceToken,
  isNamedInstance,
} from '../durin-instance';
import { DurinConfigurationError } from '../errors/durin-configuration.error';
import { DurinErrorsInterceptor } from '../errors/durin-errors.interceptor';
import { InvalidCredentialsError } from '../errors/login-errors';
import { UnknownClientError } from '../errors/token-errors';
import { DurinRequest } from '../http/durin-request';
import {
  DurinLoginOptions,
  DurinUserValidator,
  DurinValidateUser,
} from '../interfaces/login-options.interface';
import { ResolvedDurinOptions } from '../options/resolved-options';
import { documentDurinLogin } from '../openapi/durin-routes.openapi';
import { RouteRateLimiter } from '../throttling/route-rate-limiter';
import { TokenService } from '../token.service';
import { DurinLoginResponse } from './durin-routes.responses';
import { LoginBody, parseLoginBody } from './login-body';

/**
 * `POST <path>/login` (django-rest-durin's LoginView), mounted by `routes: { path, login }` or
 * `DurinRoutesModule.register({ path, login })` next to the session routes:
 *
 * | outcome | status | body |
 * | --- | --- | --- |
 * | logged in (header session) | 200 | `{ tokenType, accessToken, refreshToken, accessTokenExpiresAt, refreshTokenExpiresAt }` |
 * | logged in (`cookie: true`) | 200 | `{ accessTokenExpiresAt, refreshTokenExpiresAt, csrfToken }`, the tokens in the cookies |
 * | no `client` | 400 | `client_missing` |
 * | a client that does not exist | 400 | `unknown_client` |
 * | no such user, wrong password, inactive user | 400 | `invalid_credentials`, one body for all three |
 * | a body of another shape, oversized fields | 400 | `invalid_request` |
 * | a cross-site post (`cookie: true`) | 403 | `csrf_failed` |
 * | the token store down | 503 | `auth_unavailable` |
 *
 * Every answer has `Cache-Control: no-store`. The route is `@Public()`, so a global guard lets it
 * through.
 */
@UseInterceptors(DurinErrorsInterceptor)
export class DurinLoginController implements OnModuleInit {
  private check!: DurinValidateUser;

  constructor(
    protected readonly tokens: TokenService,
    protected readonly authCookies: AuthCookieService,
    protected readonly options: ResolvedDurinOptions,
    private readonly login: DurinLoginOptions,
    private readonly moduleRef: ModuleRef,
    protected readonly limiter: RouteRateLimiter,
  ) {}

  /** Finds the app's validator provider at start-up, so a missing one stops the boot. */
  onModuleInit(): void {
    const { validateUser, validator } = this.login;
    if (validateUser !== undefined) {
      this.check = validateUser;
      return;
    }
    let instance: DurinUserValidator;
    try {
      instance = this.moduleRef.get(validator as Type<DurinUserValidator>, { strict: false });
    } catch {
      throw new DurinConfigurationError(
        'routes.login.validator',
        `${validator?.name} is not a provider: add it to the providers of one of the app's modules`,
      );
    }
    if (typeof instance?.validateUser !== 'function') {
      throw new DurinConfigurationError(
        'routes.login.validator',
        `${validator?.name} has no validateUser(credentials, request) method`,
      );
    }
    this.check = (credentials, request) => instance.validateUser(credentials, request);
  }

  @Public()
  @Post('login')
  @HttpCode(HttpStatus.OK)
  // Token responses must not be stored by caches (RFC 6749 §5.1).
  @Header('Cache-Control', 'no-store')
  async logIn(
    // Read past every pipe, as the refresh route does (see parseLoginBody).
    @Req() request: DurinRequest & { body?: unknown },
    @Res({ passthrough: true }) response: object,
  ): Promise<DurinLoginResponse> {
    const limits = this.options.throttle === false ? undefined : this.options.throttle;
    // Every attempt counts per IP, malformed ones included; per username once it is known,
    // before any lookup or password hash (REQ-RL-01). Nothing is counted with throttling off.
    await this.limiter.consumeByIp(request, response, 'login-ip', limits?.loginPerIp ?? null);
    const body = parseLoginBody(request.body);
    // Case-folded: an app that matches usernames case-insensitively must not hand a guesser a
    // fresh budget per spelling ('Ada', 'ADA', …).
    await this.limiter.consume(
      response,
      'login-user',
      body.username.normalize('NFKC').toLowerCase(),
      limits?.loginPerUsername ?? null,
    );

    // The client is checked before the credentials: a wrong client costs no password hash.
    if ((await this.tokens.getClient(body.client)) === null) {
      throw new UnknownClientError(body.client);
    }
    const user = await this.authenticate(body, request);
    const opts = { client: body.client, context: body.context };
    if (this.login.cookie === true) {
      const tokens = await this.tokens.generateCookieToken(user, opts);
      const csrfToken = this.authCookies.setAuthCookie(response, tokens);
      const expiries = {
        accessTokenExpiresAt: tokens.accessTokenExpiresAt,
        refreshTokenExpiresAt: tokens.refreshTokenExpiresAt,
      };
      return csrfToken === undefined ? expiries : { ...expiries, csrfToken };
    }
    const tokens = await this.tokens.generateHeaderToken(user, opts);
    return {
      tokenType: 'Bearer',
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      accessTokenExpiresAt: tokens.accessTokenExpiresAt,
      refreshTokenExpiresAt: tokens.refreshTokenExpiresAt,
    };
  }

  /**
   * The app's check, then `isUserActive`. A wrong password, an unknown user and an inactive user
   * get one answer, so it cannot tell which usernames exist or are disabled.
   */
  private async authenticate(body: LoginBody, request: DurinRequest): Promise<object> {
    const user = await this.check(
      { username: body.username, password: body.password, client: body.client },
      request,
    );
    if (user === null || user === undefined) {
      throw new InvalidCredentialsError();
    }
    if (typeof user !== 'object') {
      throw new DurinConfigurationError(
        'routes.login.validateUser',
        'must return the user entity, or null for wrong credentials',
      );
    }
    if (!this.options.isUserActive(user)) {
      throw new InvalidCredentialsError();
    }
    return user;
  }
}

/** How {@link createDurinLoginController} mounts the login route. */
export interface DurinLoginMount {
  path: string;
  /** The DurinModule instance whose tokens the route issues; default: the unnamed. */
  name?: string;
  version?: ControllerOptions['version'];
  interceptors?: ReadonlyArray<Type<NestInterceptor> | NestInterceptor>;
  login: DurinLoginOptions;
}

/**
 * Checks `routes.login` where the module is declared, so a mistake stops the app before it
 * serves anything.
 */
export function checkLoginOptions(login: unknown, option: string): DurinLoginOptions {
  if (typeof login !== 'object' || login === null) {
    throw new DurinConfigurationError(option, 'must be an object like { validateUser }');
  }
  const { validateUser, validator, cookie } = login as DurinLoginOptions;
  if ((validateUser === undefined) === (validator === undefined)) {
    throw new DurinConfigurationError(
      option,
      'needs exactly one of validateUser (a function) and validator (a provider class)',
    );
  }
  if (validateUser !== undefined && typeof validateUser !== 'function') {
    throw new DurinConfigurationError(`${option}.validateUser`, 'must be a function');
  }
  if (validator !== undefined && typeof validator !== 'function') {
    throw new DurinConfigurationError(`${option}.validator`, 'must be an injectable class');
  }
  if (cookie !== undefined && typeof cookie !== 'boolean') {
    throw new DurinConfigurationError(`${option}.cookie`, 'must be true or false');
  }
  return { validateUser, validator, cookie };
}

/**
 * The `OriginGuard` of the instance `name`: its own `csrf.allowedOrigins`, also where only the
 * named instance's options can be injected (DurinRoutesModule).
 */
function originGuardFor(name: string | undefined): Type<OriginGuard> {
  if (!isNamedInstance(name)) return OriginGuard;
  @Injectable()
  class InstanceOriginGuard extends OriginGuard {
    constructor(@Inject(getDurinOptionsToken(name)) options: ResolvedDurinOptions) {
      super(options);
    }
  }
  return InstanceOriginGuard;
}

/**
 * The login controller mounted at `path`: a subclass per mount, as for the session routes, bound
 * to its instance's services and to the app's credential check.
 */
export function createDurinLoginController(mount: DurinLoginMount): Type<DurinLoginController> {
  const { name, login } = mount;
  class MountedDurinLoginController extends DurinLoginController {
    constructor(
      @Inject(getTokenServiceToken(name)) tokens: TokenService,
      @Inject(getAuthCookieServiceToken(name)) authCookies: AuthCookieService,
      @Inject(getDurinOptionsToken(name)) options: ResolvedDurinOptions,
      moduleRef: ModuleRef,
      @Inject(getRouteRateLimiterToken(name)) limiter: RouteRateLimiter,
    ) {
      super(tokens, authCookies, options, login, moduleRef, limiter);
    }
  }
  Controller({ path: mount.path, version: mount.version })(MountedDurinLoginController);
  if (login.cookie === true) {
    // Without it a cross-site form could log the visitor's browser into the attacker's account
    // (login CSRF). A guard, so the refusal comes before the body is read or anything is looked up.
    UseGuards(originGuardFor(name))(MountedDurinLoginController);
  }
  if (mount.interceptors !== undefined && mount.interceptors.length > 0) {
    UseInterceptors(...mount.interceptors)(MountedDurinLoginController);
  }
  documentDurinLogin(DurinLoginController, MountedDurinLoginController);
  return MountedDurinLoginController;
}
