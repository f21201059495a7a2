import { createHash } from 'node:crypto';
import {
  ExecutionContext,
  Inject,
  Injectable,
  Logger,
  Optional,
  type LoggerService,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DURIN_RESOLVED_OPTIONS, DURIN_THROTTLE_ANONYMOUS_KEY } from '../durin.constants';
import { AbstractAuthToken } from '../entities/abstract-auth-token.entity';
import { DurinConfigurationError } from '../errors/durin-configuration.error';
import { DurinUnavailableException } from '../errors/durin-http.exception';
import { RateLimitedError } from '../errors/rate-limited.error';
import { DurinRequest } from '../http/durin-request';
import { wasAcceptedBy } from '../http/request-credential';
import { setResponseHeaders } from '../http/response-headers';
import { CLIENT_RATES_ONLY, ResolvedThrottleOptions } from '../options/resolve-throttle-options';
import { ResolvedDurinOptions } from '../options/resolved-options';
import { TokenService } from '../token.service';
import { readCredentialSoftly } from './soft-credential';
import { parseThrottleRate, ThrottleRate } from './throttle-rate';
import {
  DurinThrottlerLimitDetail,
  DurinThrottlerRequest,
  DurinThrottlerStorage,
  loadThrottler,
} from './throttler-base';

/** The name of durin's throttler among the app's: `@SkipThrottle({ durin: true })` skips it. */
export const DURIN_THROTTLER_NAME = 'durin';

/** `@nestjs/throttler`'s skip metadata prefix (`THROTTLER_SKIP`, not exported by the package). */
const THROTTLER_SKIP = 'THROTTLER:SKIP';

/** Who a request is counted against by durin's throttler, and how much it may spend. */
interface DurinCount {
  readonly tracker: string;
  readonly rate: ThrottleRate;
}

const throttler = loadThrottler();
/**
 * Without the package nothing provides its tokens: optional injection lets Nest construct the
 * guard, whose stand-in base then throws the error that names the package.
 */
const optionalWithoutThrottler: ParameterDecorator = throttler.available
  ? () => undefined
  : Optional();

/**
 * `@nestjs/throttler`'s `ThrottlerGuard` plus durin's limit per user and client
 * (django-rest-durin's `UserClientRateThrottle`): a throttler named `durin` is added to the app's
 * own, so `@Throttle()`, `@SkipThrottle()` (`@SkipThrottle({ durin: true })` for durin's alone),
 * the storage (Redis for several instances) and the `X-RateLimit-*` headers work as before.
 *
 * - Authenticated requests are counted per (user, client) across the whole API, against the
 *   token's client `throttleRate`, else `throttle.defaultRate`; neither: not counted. The client
 *   comes loaded with the token, so counting costs no SQL.
 * - Requests without a valid token are counted per client IP against `throttle.anonymousRate` on
 *   `@ThrottleAnonymous()` routes only; elsewhere durin leaves them to the auth guard (401).
 * - Over a limit (durin's or the app's): 429 `{ code: 'rate_limited' }` with `Retry-After`.
 *
 * Register it after `AuthGuard`, so it counts the authenticated request: global guards run before
 * controller guards. When it runs first anyway, a request that carries a credential is checked
 * here without being let in (the token cache makes the auth guard's later check free): an invalid
 * credential only means "anonymous" for counting, never a 401 or a `request.user` from here.
 * Serves the unnamed DurinModule instance.
 *
 * @example
 * providers: [
 *   { provide: APP_GUARD, useClass: AuthGuard },
 *   { provide: APP_GUARD, useClass: DurinThrottlerGuard },
 * ]
 */
@Injectable()
export class DurinThrottlerGuard extends throttler.Guard {
  /** Who durin counts each request against (`null`: nobody). Set in `canActivate`. */
  private readonly counts = new WeakMap<object, DurinCount | null>();
  /** Which throttler `handleRequest` is running for a context, to name it in the 429. */
  private readonly running = new WeakMap<ExecutionContext, string>();
  private readonly throttle: ResolvedThrottleOptions;

  constructor(
    @Inject(throttler.optionsToken) @optionalWithoutThrottler options: unknown,
    @Inject(throttler.storageToken) @optionalWithoutThrottler storage: DurinThrottlerStorage,
    reflector: Reflector,
    protected readonly tokenService: TokenService,
    @Inject(DURIN_RESOLVED_OPTIONS) protected readonly durinOptions: ResolvedDurinOptions,
  ) {
    super(options, storage === undefined ? storage : failingClosed(storage), reflector);
    this.throttle = durinOptions.throttle === false ? CLIENT_RATES_ONLY : durinOptions.throttle;
  }

  override async onModuleInit(): Promise<void> {
    const logger = this.logger;
    // ThrottlerGuard warns that nothing is limited when the app lists no throttlers of its own;
    // durin's is added below, so that warning would be wrong.
    if (this.appThrottlerCount() === 0) this.logger = QUIET_LOGGER as Logger;
    try {
      await super.onModuleInit();
    } finally {
      this.logger = logger;
    }
    if (this.throttlers.some((named) => named.name === DURIN_THROTTLER_NAME)) {
      throw new DurinConfigurationError(
        'ThrottlerModule',
        `a throttler is named '${DURIN_THROTTLER_NAME}', the name of DurinThrottlerGuard's own: rename it`,
      );
    }
    const appSkipIf = this.commonOptions.skipIf;
    this.throttlers.push({
      name: DURIN_THROTTLER_NAME,
      // Only asked for counted requests: skipIf below lets the others through first.
      limit: (context) => this.countOf(context)?.rate.limit ?? 0,
      ttl: (context) => this.countOf(context)?.rate.ttlMs ?? 0,
      skipIf: (context) => appSkipIf?.(context) === true || !this.countOf(context),
      getTracker: (_request, context) => this.countOf(context)?.tracker ?? '',
      // Not the route: durin's budget is per user and client across the API.
      generateKey: (_context, tracker, name) =>
        createHash('sha256').update(`${name}-${tracker}`).digest('hex'),
    });
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const { req } = this.getRequestResponse(context);
    if (typeof req === 'object' && req !== null && !this.skipsDurin(context)) {
      this.counts.set(req, await this.countFor(req as DurinRequest, context));
    }
    return super.canActivate(context);
  }

  protected override async handleRequest(requestProps: DurinThrottlerRequest): Promise<boolean> {
    const name = requestProps.throttler.name ?? 'default';
    this.running.set(requestProps.context, name);
    try {
      return await super.handleRequest(requestProps);
    } catch (error) {
      if (error instanceof DurinUnavailableException) {
        const { res } = this.getRequestResponse(requestProps.context);
        setResponseHeaders(res, error.headers);
      } else if (error instanceof RateLimitedError) {
        // Guards' exceptions bypass interceptors: the headers go on the response before Nest's
        // exception filter renders the body.
        const { res } = this.getRequestResponse(requestProps.context);
        const suffix = name === 'default' ? '' : `-${name}`;
        const rateHeaders =
          (requestProps.throttler.setHeaders ?? this.commonOptions.setHeaders ?? true)
            ? {
                [`${this.headerPrefix}-Limit${suffix}`]: String(requestProps.limit),
                [`${this.headerPrefix}-Remaining${suffix}`]: '0',
                [`${this.headerPrefix}-Reset${suffix}`]: String(error.retryAfterSeconds),
              }
            : {};
        setResponseHeaders(res, { ...error.headers, ...rateHeaders });
      }
      throw error;
    }
  }

  /** The library's 429 (`rate_limited`, `Retry-After`); the app's `errorMessage` if it set one. */
  protected override async throwThrottlingException(
    context: ExecutionContext,
    detail: DurinThrottlerLimitDetail,
  ): Promise<void> {
    const own = this.options as { errorMessage?: unknown } | undefined;
    const message =
      !Array.isArray(own) && own?.errorMessage !== undefined
        ? await this.getErrorMessage(context, detail)
        : undefined;
    throw new RateLimitedError(
      detail.timeToBlockExpire,
      this.running.get(context) ?? 'default',
      message,
    );
  }

  /** Who to count `request` against, after authenticating it softly if no durin guard has yet. */
  protected async countFor(
    request: DurinRequest,
    context: ExecutionContext,
  ): Promise<DurinCount | null> {
    const token = await this.authenticatedToken(request);
    if (token !== undefined) {
      // A rate the registry would refuse (a row edited by hand) counts as none: the default.
      const rate = parseThrottleRate(token.client?.throttleRate) ?? this.throttle.defaultRate;
      if (rate === null) return null;
      const user = token.user as unknown as Record<string, unknown>;
      const tracker = JSON.stringify([
        'user',
        String(user[this.durinOptions.userIdField]),
        token.client?.name ?? null,
      ]);
      return { tracker, rate };
    }
    const anonymous = this.reflector.getAllAndOverride<boolean | undefined>(
      DURIN_THROTTLE_ANONYMOUS_KEY,
      [context.getHandler(), context.getClass()],
    );
    if (anonymous !== true) return null;
    // The app's tracker when it set one (a proxy header, say), else throttler's `req.ip`.
    const getTracker = this.commonOptions.getTracker ?? ((req) => this.getTracker(req));
    const ip = await getTracker(request as Record<string, unknown>, context);
    return { tracker: JSON.stringify(['ip', ip]), rate: this.throttle.anonymousRate };
  }

  /**
   * The token the request was (or would be) authenticated with. A durin guard that already ran
   * left it on the request; else the credential is verified here without any effect on the
   * request (no `request.user`, no `lastUsedAt`), a cache hit costing no SQL. Any failure,
   * the store's included, means "anonymous": the auth guard gives the real answer.
   */
  private async authenticatedToken(request: DurinRequest): Promise<AbstractAuthToken | undefined> {
    if (wasAcceptedBy(request, this.tokenService)) return request.authToken;
    const credential = readCredentialSoftly(request, this.durinOptions);
    if (credential === undefined) return undefined;
    try {
      return (
        (await this.tokenService.verifyToken(credential.rawToken, credential.source)) ?? undefined
      );
    } catch {
      return undefined;
    }
  }

  private countOf(context: ExecutionContext): DurinCount | null | undefined {
    const { req } = this.getRequestResponse(context);
    return typeof req === 'object' && req !== null ? this.counts.get(req) : undefined;
  }

  private skipsDurin(context: ExecutionContext): boolean {
    return (
      this.reflector.getAllAndOverride<boolean | undefined>(THROTTLER_SKIP + DURIN_THROTTLER_NAME, [
        context.getHandler(),
        context.getClass(),
      ]) === true
    );
  }

  private appThrottlerCount(): number {
    const options = this.options as { throttlers?: unknown[] } | unknown[] | undefined;
    const list = Array.isArray(options) ? options : options?.throttlers;
    return Array.isArray(list) ? list.length : 0;
  }
}

const storageLogger = new Logger('DurinThrottle');

/**
 * The storage, with its failures (Redis down) answered as an outage: 503 `auth_unavailable` with
 * `Retry-After`, as for the token store, rather than the 500 of an unexpected error. A limit that
 * cannot be counted is not waved through either.
 */
function failingClosed(storage: DurinThrottlerStorage): DurinThrottlerStorage {
  return {
    async increment(...args) {
      try {
        return await storage.increment(...args);
      } catch (error) {
        storageLogger.error(`the throttler storage failed: ${(error as Error)?.message}`);
        throw new DurinUnavailableException(error);
      }
    },
  };
}

const QUIET_LOGGER: LoggerService = {
  log: () => undefined,
  error: () => undefined,
  warn: () => undefined,
};
