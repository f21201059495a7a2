import { AuthTokenEntity } from './entities/auth-token.entity';
import { ClientEntity } from './entities/client.entity';

export { DurinModule } from './durin.module';
export type { DurinModuleAsyncOptions, DurinModuleRootOptions } from './durin.module';
export { DURIN_MODULE_OPTIONS } from './durin.module-definition';
export {
  DURIN_CLIENTS_KEY,
  DURIN_CLOCK,
  DURIN_PUBLIC_KEY,
  DURIN_RESOLVED_OPTIONS,
  DURIN_THROTTLE_ANONYMOUS_KEY,
} from './durin.constants';
export { TokenService } from './token.service';
export { TokenIssuer } from './issuing/token-issuer';
export type { BeforeInsertHook } from './issuing/token-issuer';
export { ApiKeyIssuer } from './api-keys/api-key-issuer';
export { TokenAuthenticator } from './authentication/token-authenticator';
export { TokenRotator } from './rotation/token-rotator';
export { GraceReplay } from './rotation/grace-replay';
export { TokenRevoker } from './revocation/token-revoker';
export { TokenExpiry } from './revocation/token-expiry';
export { SessionLister } from './sessions/session-lister';
export { ClientRegistry } from './clients/client-registry';
export {
  DEFAULT_DURIN_INSTANCE,
  getAuthCookieServiceToken,
  getDurinOptionsToken,
  getTokenServiceToken,
  InjectAuthCookieService,
  InjectDurinOptions,
  InjectTokenService,
} from './durin-instance';
export { SystemClock, ManualClock } from './clock';
export { DurinCacheService } from './cache/durin-cache.service';
export { DurinEventsService } from './events/durin-events.service';
export type { DurinEventSubject } from './events/durin-events.service';
export {
  DURIN_EVENT_PREFIX,
  DURIN_EVENT_TYPES,
  durinEventName,
} from './events/durin-event.interface';
export type {
  DurinEvent,
  DurinEventListener,
  DurinEventType,
} from './events/durin-event.interface';
export type { DurinCacheStats } from './cache/durin-cache.service';
export { DurinCleanupScheduler } from './cleanup/cleanup-scheduler';

export { AuthGuard, DurinAuthGuard } from './auth.guard';
export type { DurinAuthResult } from './auth.guard';
export { AuthCookieService } from './cookies/auth-cookie.service';
export { OriginGuard } from './csrf/origin.guard';
export { DURIN_THROTTLER_NAME, DurinThrottlerGuard } from './throttling/durin-throttler.guard';
export { ThrottleAnonymous } from './throttling/throttle-anonymous.decorator';
export type {
  DurinNamedThrottler,
  DurinResolvable,
  DurinThrottlerGuardBase,
  DurinThrottlerLimitDetail,
  DurinThrottlerRequest,
  DurinThrottlerStorage,
  DurinThrottlerStorageRecord,
} from './throttling/throttler-base';
export { Public } from './decorators/public.decorator';
export { AllowClients, DenyClients } from './decorators/client-permissions.decorator';
export type { ClientPolicy } from './clients/client-permissions';
export { AuthToken } from './decorators/auth-token.decorator';
export { TokenContext } from './decorators/token-context.decorator';
export { CurrentUser } from './decorators/current-user.decorator';
export { extractHeaderToken } from './credentials/extract-header-token';
export { extractCookieToken } from './credentials/extract-cookie-token';
export { B64TOKEN_PATTERN, MAX_TOKEN_LENGTH } from './credentials/credential-result';
export type {
  CookieCredentialResult,
  CredentialResult,
  MalformedReason,
} from './credentials/credential-result';
export type { DurinRequest } from './http/durin-request';
export { getRequestCredential } from './http/request-credential';
export type { RequestCredential } from './http/request-credential';
export { DurinRoutesModule } from './routes/durin-routes.module';
export type { DurinRoutesModuleOptions } from './routes/durin-routes.module';
// Types only: the routes controller itself is loaded on demand, and with it class-validator.
export type {
  DurinApiKeyCreatedResponse,
  DurinApiKeyResponse,
  DurinRenewResponse,
  DurinSessionResponse,
  DurinLoginResponse,
  DurinTokenPairResponse,
} from './routes/durin-routes.responses';
export {
  addDurinSecuritySchemes,
  DURIN_BEARER_SCHEME,
  DURIN_COOKIE_SCHEME,
} from './openapi/durin-security-schemes';
export type {
  DurinSecuritySchemeObject,
  DurinSecuritySchemesOptions,
  DurinSecuritySchemesTarget,
} from './openapi/durin-security-schemes';
export { DURIN_OPENAPI_TAG } from './openapi/durin-routes.openapi';
export type {
  DurinLoginCredentials,
  DurinLoginOptions,
  DurinUserValidator,
  DurinValidateUser,
} from './interfaces/login-options.interface';

// --- abilities (issue 11) ---
export {
  abilityCovers,
  ALL_ABILITIES,
  DURIN_API_KEY_DEFAULT_ABILITIES,
  DURIN_SESSIONS_ABILITY,
  MAX_ABILITIES,
  MAX_ABILITY_LENGTH,
  parseAbilities,
} from './abilities/abilities';
export { InsufficientScopeError, InvalidAbilitiesError } from './abilities/ability-errors';
export type { InvalidAbilitiesReason } from './abilities/ability-errors';
export {
  DURIN_ABILITIES_KEY,
  RequireAbilities,
  RequireAnyAbility,
} from './abilities/require-abilities.decorator';
export type { AbilityRequirement } from './abilities/require-abilities.decorator';
// --- end abilities ---

export { AbstractAuthToken } from './entities/abstract-auth-token.entity';
export type { RevocationReason } from './entities/abstract-auth-token.entity';
export { AuthTokenEntity } from './entities/auth-token.entity';
export { ClientEntity } from './entities/client.entity';
export { registerDurinUserEntity } from './entities/user-entity.registry';
export { MissingContextKeyError } from './entities/token-context';
export type { TokenContextData, TokenContextValue } from './entities/token-context';

export { DurinError } from './errors/durin.error';
export { DurinErrorsInterceptor } from './errors/durin-errors.interceptor';
export { DurinWsExceptionFilter } from './errors/durin-ws-exception.filter';
export type { DurinErrorResponse } from './errors/durin.error';
export { DurinConfigurationError } from './errors/durin-configuration.error';
export {
  DURIN_AUTH_REALM,
  DURIN_RETRY_AFTER_SECONDS,
  DurinHttpException,
  DurinUnauthorizedException,
  DurinUnavailableException,
  toDurinHttpException,
} from './errors/durin-http.exception';
export type { AuthErrorCode, DurinErrorBody } from './errors/durin-http.exception';
export {
  ApiKeyExistsError,
  ClientAlreadyExistsError,
  InvalidClientError,
  InvalidTokenOptionsError,
  TokenStoreUnavailableError,
  UnknownClientError,
} from './errors/token-errors';
export {
  ClientForbiddenError,
  CsrfValidationError,
  SessionLimitExceededError,
} from './errors/security-errors';
export { RateLimitedError } from './errors/rate-limited.error';
export type { CsrfFailureReason } from './errors/security-errors';
export { InvalidCredentialsError } from './errors/login-errors';

export type { Clock } from './interfaces/clock.interface';
export type {
  DurinCacheOptions,
  DurinInvalidationOption,
  DurinRedisClient,
  DurinRedisInvalidationOptions,
  DurinRedisSubscriber,
} from './interfaces/cache-options.interface';
export type {
  AuthType,
  DurinCleanupOptions,
  DurinCookieOptions,
  DurinModuleOptions,
  DurinOptionsFactory,
  DurinRoutesOptions,
  DurinStaticOptions,
  EntityClass,
  KeepExpiredTokensOptions,
  PostAuthHandler,
  PostAuthResult,
} from './interfaces/durin-module-options.interface';
export type {
  AuthenticationResult,
  AuthFailureReason,
  CreateApiKeyOptions,
  CreateClientOptions,
  DurinTokenOf,
  GenerateTokenOptions,
  RefreshTokenOptions,
  SessionInfo,
  TokenSet,
  UpdateClientOptions,
} from './interfaces/token-set.interface';
export type { Duration } from './options/duration';
export type { ResolvedDurinOptions, ResolvedCookieOptions } from './options/resolved-options';
export type {
  ResolvedCsrfOptions,
  ResolvedSecurityOptions,
} from './options/resolve-security-options';
export type {
  DurinCsrfOptions,
  SessionLimitStrategy,
} from './interfaces/security-options.interface';
export type {
  DurinLoginThrottleOptions,
  DurinRefreshThrottleOptions,
  DurinThrottleOptions,
  DurinThrottleRate,
} from './interfaces/throttle-options.interface';
export type { ResolvedThrottleOptions } from './options/resolve-throttle-options';
export type { ThrottleRate } from './throttling/throttle-rate';

export {
  AddDurinCleanupIndexes1764600000000,
  AddDurinAbilities1765000000000,
  AddDurinRefreshGracePayload1764000000000,
  CreateDurinTables1732406400000,
  DURIN_MIGRATIONS,
} from './migrations';

/** The entities to list in a data source's `entities` when not using `autoLoadEntities`. */
export const DURIN_ENTITIES = [AuthTokenEntity, ClientEntity];
