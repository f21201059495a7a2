import { AbstractAuthToken } from '../entities/abstract-auth-token.entity';
import { TokenContextData } from '../entities/token-context';
import { AuthType } from './durin-module-options.interface';
import { Duration } from '../options/duration';

/** Options of `generateHeaderToken` / `generateCookieToken`. */
export interface GenerateTokenOptions {
  /** Session context stored with the token (a plain JSON object). */
  context?: TokenContextData;
  /** Name of an existing client; its lifetimes apply. */
  client?: string;
  /** Overrides the access-token lifetime; `null`: no expiry. */
  accessExpiresIn?: Duration | null;
  /** Overrides the refresh-token lifetime; `null`: no refresh token. */
  refreshExpiresIn?: Duration | null;
  /**
   * What the token may do (see `token.can()`, `@RequireAbilities`); default: the client's
   * default abilities, else `['*']`.
   */
  abilities?: readonly string[];
}

/** Options of `refreshToken`. */
export interface RefreshTokenOptions {
  /** Keys merged into the session context of the new pair (e.g. a new IP address). */
  context?: TokenContextData;
  /** Refuse a refresh token of the other auth type (under `enableAuthRestriction`). */
  authType?: AuthType;
  /**
   * The access token presented with this refresh token (a cookie session sends both cookies).
   * When set, the refresh is refused (`null`, nothing written, no reuse detection) unless both
   * belong to the same session: a refresh cookie planted from elsewhere (a sibling subdomain can
   * set a `__Secure-` cookie) must not swap the browser into another session. The ready-made
   * refresh route sets it for cookie sessions when the CSRF defence is on.
   */
  accessToken?: string;
  /**
   * Narrows the abilities of the new pair: each must be held by the refreshed token (RFC 6749
   * §6), else `InvalidAbilitiesError` (400 `invalid_scope`) with nothing written. Default: the
   * token's own.
   */
  abilities?: readonly string[];
}

/** Options of `createApiKey`. */
export interface CreateApiKeyOptions {
  /** What the key may do; default `DURIN_API_KEY_DEFAULT_ABILITIES` (none). */
  abilities?: readonly string[];
}

/**
 * The token type for a type argument that is either the app's user entity or a token model:
 * `DurinTokenOf<User>` is `AbstractAuthToken<User>`, `DurinTokenOf<MyToken>` is `MyToken`. It lets
 * `TokenService<User>` and `TokenSet<User>` read as the app thinks of them (by its user), while
 * `TokenService<MyToken>` (a custom `tokenEntity`) keeps working.
 */
export type DurinTokenOf<TUserOrToken extends object> = TUserOrToken extends AbstractAuthToken
  ? TUserOrToken
  : AbstractAuthToken<TUserOrToken>;

/**
 * What a login or refresh hands out. The raw tokens are shown here once and never again.
 * `TokenService<User>` hands out `TokenSet<AbstractAuthToken<User>>`: `set.token.user` is a `User`.
 */
export interface TokenSet<T extends AbstractAuthToken = AbstractAuthToken> {
  accessToken: string;
  /** `null` when refresh tokens are disabled for this token. */
  refreshToken: string | null;
  /** `null`: the access token does not expire. */
  accessTokenExpiresAt: Date | null;
  refreshTokenExpiresAt: Date | null;
  /** The stored token, with its user. */
  token: T;
}

/** A live session as listed to its owner: never a secret or a hash. */
export interface SessionInfo {
  id: string;
  authType: AuthType;
  client: string | null;
  context: TokenContextData;
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
  refreshExpiresAt: Date | null;
  absoluteExpiresAt: Date | null;
  /** What the session's token may do (`['*']` for tokens issued before abilities existed). */
  abilities: string[];
}

/** Fields of `createClient`. */
export interface CreateClientOptions {
  name: string;
  tokenTtl?: Duration | null;
  refreshTokenTtl?: Duration | null;
  throttleRate?: string | null;
  /** Abilities of tokens issued for the client without their own; `null`/absent: `['*']`. */
  abilities?: readonly string[] | null;
}

/**
 * Changes of `updateClient`: a field left out (or `undefined`) keeps its value; `null` clears it
 * (back to the module default).
 */
export type UpdateClientOptions = Partial<Omit<CreateClientOptions, 'name'>>;

/** Why an authentication attempt failed; the guard turns it into the 401 `code`. */
export type AuthFailureReason = 'token_invalid' | 'token_expired' | 'user_inactive';

/** The outcome of `TokenService.authenticate`. */
export type AuthenticationResult<T extends AbstractAuthToken = AbstractAuthToken> =
  | { ok: true; user: T['user']; token: T; autoRefreshed: boolean }
  | { ok: false; reason: AuthFailureReason };
