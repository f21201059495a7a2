import { DynamicModule, Module, Provider } from '@nestjs/common';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ApiKeyIssuer } from './api-keys/api-key-issuer';
import { AuthGuard } from './auth.guard';
import { TokenAuthenticator } from './authentication/token-authenticator';
import {
  getAuthCookieServiceToken,
  getDurinOptionsToken,
  getRouteRateLimiterToken,
  getTokenServiceToken,
  isNamedInstance,
} from './durin-instance';
import { DurinCacheService } from './cache/durin-cache.service';
import { DurinCleanupScheduler } from './cleanup/cleanup-scheduler';
import { ClientRegistry } from './clients/client-registry';
import { SystemClock } from './clock';
import { AuthCookieService } from './cookies/auth-cookie.service';
import { OriginGuard } from './csrf/origin.guard';
import {
  DURIN_CLOCK,
  DURIN_RESOLVED_OPTIONS,
  DURIN_ROUTES_LOGIN,
  DURIN_ROUTES_PATH,
  DURIN_STATIC_OPTIONS,
} from './durin.constants';
import {
  DURIN_ASYNC_OPTIONS_TYPE,
  DURIN_MODULE_OPTIONS,
  DURIN_OPTIONS_TYPE,
  DurinConfigurableModuleClass,
} from './durin.module-definition';
import { AbstractAuthToken } from './entities/abstract-auth-token.entity';
import { AuthTokenEntity } from './entities/auth-token.entity';
import { ClientEntity } from './entities/client.entity';
import { instanceTokenEntity } from './entities/instance-token-entity';
import { registerDurinUserEntity } from './entities/user-entity.registry';
import { DurinConfigurationError } from './errors/durin-configuration.error';
import { DurinEventsService } from './events/durin-events.service';
import {
  DurinModuleOptions,
  DurinStaticOptions,
  EntityClass,
} from './interfaces/durin-module-options.interface';
import { TokenIssuer } from './issuing/token-issuer';
import { resolveDurinOptions } from './options/resolve-options';
import { DurinRoutesBodyErrors } from './routes/body-parse-errors';
import { loadLoginControllers, loadRoutesController } from './routes/load-routes-controller';
import { ResolvedDurinOptions } from './options/resolved-options';
import { TokenExpiry } from './revocation/token-expiry';
import { TokenRevoker } from './revocation/token-revoker';
import { GraceReplay } from './rotation/grace-replay';
import { TokenRotator } from './rotation/token-rotator';
import { SessionLister } from './sessions/session-lister';
import { RouteRateLimiter } from './throttling/route-rate-limiter';
import { TokenStore } from './store/token-store';
import { TokenService } from './token.service';
import { TokenSecrets } from './tokens/token-secrets';

/**
 * The units `TokenService` delegates to, each one concept; exported so an app can inject one
 * alone (a login service needs only the issuer).
 */
const TOKEN_UNITS = [
  TokenIssuer,
  ApiKeyIssuer,
  TokenAuthenticator,
  TokenRotator,
  GraceReplay,
  TokenRevoker,
  TokenExpiry,
  SessionLister,
  ClientRegistry,
];

/** Options of `DurinModule.forRoot()`. */
export type DurinModuleRootOptions = typeof DURIN_OPTIONS_TYPE;

/**
 * Options of `DurinModule.forRootAsync()`: the factory, plus what must be known at import time
 * (`userEntity`, `tokenEntity`, `dataSource`, `routes`).
 */
export type DurinModuleAsyncOptions = typeof DURIN_ASYNC_OPTIONS_TYPE & DurinStaticOptions;

const STATIC_KEYS = ['userEntity', 'tokenEntity', 'dataSource', 'routes', 'name'] as const;

function pickStatic(options: DurinStaticOptions): DurinStaticOptions {
  const picked: DurinStaticOptions = {};
  for (const key of STATIC_KEYS) {
    if (options[key] !== undefined) {
      (picked as Record<string, unknown>)[key] = options[key];
    }
  }
  return picked;
}

/**
 * Revocable, per-device opaque tokens for NestJS.
 *
 * Registers the token and client entities with TypeORM (so `autoLoadEntities` finds them) and
 * provides {@link TokenService} (and the units it delegates to), {@link AuthGuard} and
 * {@link AuthCookieService}; the clock is a
 * provider under `DURIN_CLOCK` that tests can override. With `routes: { path }` it also mounts the
 * ready-made session endpoints (refresh, renew, logout, logoutall, sessions, apiaccess) under
 * `path`; only those load class-validator and class-transformer (dependencies of this package).
 *
 * @example
 * DurinModule.forRoot({ userEntity: User, tokenTtl: '1h', isGlobal: true })
 *
 * @example
 * DurinModule.forRootAsync({
 *   userEntity: User,
 *   imports: [ConfigModule],
 *   inject: [ConfigService],
 *   useFactory: (config: ConfigService) => ({ tokenTtl: config.get('TOKEN_TTL') }),
 * })
 */
@Module({})
export class DurinModule extends DurinConfigurableModuleClass {
  static override forRoot(options: DurinModuleRootOptions): DynamicModule {
    return DurinModule.complete(super.forRoot(options), pickStatic(options));
  }

  static override forRootAsync(options: DurinModuleAsyncOptions): DynamicModule {
    return DurinModule.complete(super.forRootAsync(options), pickStatic(options));
  }

  private static complete(definition: DynamicModule, statics: DurinStaticOptions): DynamicModule {
    const named = isNamedInstance(statics.name);
    if (statics.userEntity !== undefined && typeof statics.userEntity !== 'function') {
      throw new DurinConfigurationError(
        'userEntity',
        "must be the app's TypeORM user entity class",
      );
    }
    let tokenEntity: EntityClass<AbstractAuthToken> = statics.tokenEntity ?? AuthTokenEntity;
    if (named) {
      // A named instance keeps its user entity to itself: its token entity's relation points at it.
      if (statics.userEntity === undefined) {
        throw new DurinConfigurationError(
          'userEntity',
          'a named instance needs it next to `name` (also with forRootAsync)',
        );
      }
      tokenEntity = instanceTokenEntity(statics.name as string, statics.userEntity, tokenEntity);
    } else if (statics.userEntity !== undefined) {
      registerDurinUserEntity(statics.userEntity);
    }
    const providers: Provider[] = [
      { provide: DURIN_STATIC_OPTIONS, useValue: statics },
      {
        provide: DURIN_RESOLVED_OPTIONS,
        useFactory: (options: DurinModuleOptions, fixed: DurinStaticOptions) => {
          const resolved = resolveDurinOptions({ ...options, ...fixed });
          if (!named) registerDurinUserEntity(resolved.userEntity);
          return resolved;
        },
        inject: [DURIN_MODULE_OPTIONS, DURIN_STATIC_OPTIONS],
      },
      { provide: DURIN_CLOCK, useClass: SystemClock },
      {
        provide: TokenStore,
        useFactory: (dataSource: DataSource, options: ResolvedDurinOptions) => {
          assertUserIdField(dataSource, options);
          return new TokenStore(
            dataSource,
            dataSource.getRepository(tokenEntity),
            dataSource.getRepository(ClientEntity),
            { batchStatements: options.batchStatements },
          );
        },
        inject: [getDataSourceToken(statics.dataSource), DURIN_RESOLVED_OPTIONS],
      },
      {
        provide: DurinCacheService,
        useFactory: (options: ResolvedDurinOptions, dataSource: DataSource) =>
          new DurinCacheService(options, dataSource),
        inject: [DURIN_RESOLVED_OPTIONS, getDataSourceToken(statics.dataSource)],
      },
      DurinEventsService,
      TokenSecrets,
      ...TOKEN_UNITS,
      OriginGuard,
      DurinCleanupScheduler,
      // A named instance provides the classes apps look up under its own tokens only, so that
      // `moduleRef.get(TokenService)` and the class tokens always mean the default instance;
      // its guard is `AuthGuard.for(name)`.
      ...(named
        ? [
            { provide: getTokenServiceToken(statics.name), useClass: TokenService },
            { provide: getAuthCookieServiceToken(statics.name), useClass: AuthCookieService },
            { provide: getDurinOptionsToken(statics.name), useExisting: DURIN_RESOLVED_OPTIONS },
            { provide: getRouteRateLimiterToken(statics.name), useClass: RouteRateLimiter },
          ]
        : [TokenService, AuthCookieService, AuthGuard, RouteRateLimiter]),
    ];
    const controllers =
      statics.routes === undefined
        ? []
        : [
            loadRoutesController({ ...statics.routes, name: statics.name }, 'routes'),
            ...loadLoginControllers({ ...statics.routes, name: statics.name }, 'routes'),
          ];
    if (statics.routes !== undefined) {
      providers.push(
        { provide: DURIN_ROUTES_PATH, useValue: statics.routes.path },
        { provide: DURIN_ROUTES_LOGIN, useValue: statics.routes.login !== undefined },
        DurinRoutesBodyErrors,
      );
    }
    return {
      ...definition,
      imports: [
        ...(definition.imports ?? []),
        TypeOrmModule.forFeature([tokenEntity, ClientEntity], statics.dataSource),
      ],
      controllers: [...(definition.controllers ?? []), ...controllers],
      providers: [...(definition.providers ?? []), ...providers],
      // Everything AuthGuard injects is exported, so `@UseGuards(AuthGuard)` and
      // `{ provide: APP_GUARD, useClass: AuthGuard }` resolve in any module that imports this one
      // (or in every module with `isGlobal`). A named instance exports its named tokens only: two
      // global instances exporting the same class token would silently shadow each other.
      exports: named
        ? [
            getTokenServiceToken(statics.name),
            getAuthCookieServiceToken(statics.name),
            getDurinOptionsToken(statics.name),
            getRouteRateLimiterToken(statics.name),
          ]
        : [
            ...(definition.exports ?? []),
            TokenService,
            ...TOKEN_UNITS,
            TokenStore,
            DurinCacheService,
            DurinEventsService,
            DurinCleanupScheduler,
            AuthCookieService,
            AuthGuard,
            OriginGuard,
            RouteRateLimiter,
            DURIN_CLOCK,
            DURIN_RESOLVED_OPTIONS,
            DURIN_MODULE_OPTIONS,
          ],
    };
  }
}

/** `userIdField` must name the user's primary key: the token's foreign key points at it. */
function assertUserIdField(dataSource: DataSource, options: ResolvedDurinOptions): void {
  if (!dataSource.hasMetadata(options.userEntity)) {
    throw new DurinConfigurationError(
      'userEntity',
      `${options.userEntity.name} is not an entity of the data source (add it to entities or use autoLoadEntities)`,
    );
  }
  const keys = dataSource
    .getMetadata(options.userEntity)
    .primaryColumns.map((column) => column.propertyName);
  if (keys.length !== 1 || keys[0] !== options.userIdField) {
    throw new DurinConfigurationError(
      'userIdField',
      `must name the single primary-key property of ${options.userEntity.name} (${keys.join(', ') || 'none'})`,
    );
  }
}
