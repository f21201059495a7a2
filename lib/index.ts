import { AuthTokenEntity } from './entities/auth-token.entity';
import { ClientEntity } from './entities/client.entity';

export { DurinModule } from './durin.module';
export type { DurinModuleAsyncOptions, DurinModuleRootOptions } from './durin.module';
export { DURIN_MODULE_OPTIONS } from './durin.module-definition';
export { DURIN_CLOCK, DURIN_PUBLIC_KEY, DURIN_RESOLVED_OPTIONS } from './durin.constants';
export { TokenService } from './token.service';
export { SystemClock, ManualClock } from './clock';

export { AbstractAuthToken } from './entities/abstract-auth-token.entity';
export type { RevocationReason } from './entities/abstract-auth-token.entity';
export { AuthTokenEntity } from './entities/auth-token.entity';
export { ClientEntity } from './entities/client.entity';
export { registerDurinUserEntity } from './entities/user-entity.registry';
export { MissingContextKeyError } from './entities/token-context';
export type { TokenContextData, TokenContextValue } from './entities/token-context';

export { DurinError } from './errors/durin.error';
export { DurinConfigurationError } from './errors/durin-configuration.error';
export {
  ClientAlreadyExistsError,
  InvalidClientError,
  InvalidTokenOptionsError,
  TokenStoreUnavailableError,
  UnknownClientError,
} from './errors/token-errors';

export type { Clock } from './interfaces/clock.interface';
export type {
  AuthType,
  DurinCookieOptions,
  DurinModuleOptions,
  DurinOptionsFactory,
  DurinRoutesOptions,
  DurinStaticOptions,
  EntityClass,
  PostAuthHandler,
  PostAuthResult,
} from './interfaces/durin-module-options.interface';
export type {
  AuthenticationResult,
  AuthFailureReason,
  CreateClientOptions,
  GenerateTokenOptions,
  RefreshTokenOptions,
  SessionInfo,
  TokenSet,
} from './interfaces/token-set.interface';
export type { Duration } from './options/duration';
export type { ResolvedDurinOptions, ResolvedCookieOptions } from './options/resolved-options';

export { CreateDurinTables1732406400000, DURIN_MIGRATIONS } from './migrations';

/** The entities to list in a data source's `entities` when not using `autoLoadEntities`. */
export const DURIN_ENTITIES = [AuthTokenEntity, ClientEntity];
