import { Injectable } from '@nestjs/common';
import { ApiKeyIssuer } from './api-keys/api-key-issuer';
import { TokenAuthenticator } from './authentication/token-authenticator';
import { ClientRegistry } from './clients/client-registry';
import { AbstractAuthToken } from './entities/abstract-auth-token.entity';
import { ClientEntity } from './entities/client.entity';
import { AuthType } from './interfaces/durin-module-options.interface';
import {
  AuthenticationResult,
  CreateApiKeyOptions,
  DurinTokenOf,
  CreateClientOptions,
  GenerateTokenOptions,
  RefreshTokenOptions,
  SessionInfo,
  TokenSet,
  UpdateClientOptions,
} from './interfaces/token-set.interface';
import { TokenIssuer } from './issuing/token-issuer';
import { TokenExpiry } from './revocation/token-expiry';
import { TokenRevoker } from './revocation/token-revoker';
import { TokenRotator } from './rotation/token-rotator';
import { SessionLister } from './sessions/session-lister';

/**
 * The token lifecycle: issue, verify, refresh (rotation), renew, expire, revoke, list; and the
 * clients that set per-client lifetimes. Inject it in your own login and logout code.
 *
 * Typed by the app's user entity (`TokenService<User>`: `set.token.user` is a `User`) or by its
 * own token model (`TokenService<MyToken>`); see {@link DurinTokenOf}.
 *
 * @example
 * const { accessToken, refreshToken } = await tokens.generateHeaderToken(user, { client: 'web' });
 */
@Injectable()
export class TokenService<
  // Type-level only: the second parameter is what the lifecycle code works with.
  TUserOrToken extends object = object,
  T extends AbstractAuthToken = DurinTokenOf<TUserOrToken>,
> {
  // Each method hands the call to the unit that owns it, returning that unit's promise as is:
  // no extra await or closure per call on the request path (authenticate).
  constructor(
    private readonly issuer: TokenIssuer<T>,
    private readonly apiKeys: ApiKeyIssuer<T>,
    private readonly authenticator: TokenAuthenticator<T>,
    private readonly rotator: TokenRotator<T>,
    private readonly revoker: TokenRevoker<T>,
    private readonly expiry: TokenExpiry<T>,
    private readonly sessions: SessionLister<T>,
    private readonly clients: ClientRegistry<T>,
  ) {}

  /** Issues a token that only works in the `Authorization` header. */
  generateHeaderToken(user: object, opts?: GenerateTokenOptions): Promise<TokenSet<T>> {
    return this.issuer.generateHeaderToken(user, opts);
  }

  /** Issues a token that only works in the auth cookie. */
  generateCookieToken(user: object, opts?: GenerateTokenOptions): Promise<TokenSet<T>> {
    return this.issuer.generateCookieToken(user, opts);
  }

  /**
   * Issues the user's personal API key: a header token of the client `apiAccessClientName`
   * (created on first use), living `apiAccessTokenTtl`, without a refresh token. A user has at
   * most one live key, also under concurrent calls (see `api-keys.ts`): throws
   * `ApiKeyExistsError`, writing nothing, while one is live. The key holds `opts.abilities`,
   * by default none (`DURIN_API_KEY_DEFAULT_ABILITIES`): it passes only routes that require no
   * ability.
   *
   * @example
   * const key = await tokens.createApiKey(user, { abilities: ['orders:read'] }); // shown once
   */
  createApiKey(user: object, opts?: CreateApiKeyOptions): Promise<TokenSet<T>> {
    return this.apiKeys.createApiKey(user, opts);
  }

  /**
   * The live token for a raw access token, with its user; `null` when it is malformed, unknown,
   * expired, revoked, of the other auth type (when `authType` is given) or its user is inactive.
   * Never throws on bad input; throws `TokenStoreUnavailableError` (503) when the store fails, so
   * callers can fail closed.
   */
  verifyToken(raw: unknown, authType?: AuthType): Promise<T | null> {
    return this.authenticator.verifyToken(raw, authType);
  }

  /**
   * What the guard runs on every request: verify, then record use and slide the expiry when due
   * (at most one write per `autoRefreshInterval`), then the post-auth hooks.
   */
  authenticate(raw: unknown, authType: AuthType): Promise<AuthenticationResult<T>> {
    return this.authenticator.authenticate(raw, authType);
  }

  /**
   * Rotates a refresh token: the old pair stops working and a new pair is returned for the same
   * user, client, context and auth type, keeping the session's absolute expiry. `null` when the
   * refresh token is not valid. Presenting a refresh token that was already rotated is treated as
   * theft: the whole session (family) is revoked and `refresh_reuse_detected` is emitted (RFC 9700
   * §4.14.2); except that the immediate parent of the current pair, presented again within
   * `refreshReuseGraceSeconds` of its rotation, gets that same current pair back (two tabs
   * refreshing at once; `opts.context` is then not applied). Of concurrent refreshes of one token
   * at most one mints a pair. With `opts.accessToken`, a refresh token of another session than
   * that access token's is `null` with nothing written.
   */
  refreshToken(rawRefresh: unknown, opts: RefreshTokenOptions = {}): Promise<TokenSet<T> | null> {
    return this.rotator.refreshToken(rawRefresh, opts);
  }

  /**
   * Extends a live token by its own lifetime from now (durin's "refresh"), never past its absolute
   * expiry. Returns the new access expiry, or `null` when the token is no longer live.
   */
  renewToken(token: T): Promise<Date | null> {
    return this.expiry.renewToken(token);
  }

  /** Makes a token (and its refresh token) expire now, keeping the row. */
  expireToken(token: T): Promise<boolean> {
    return this.expiry.expireToken(token);
  }

  /**
   * Logs one session out: the token, its refresh token and its rotation history. Returns whether a
   * live token was ended. Resolves only after the write committed.
   */
  revokeToken(tokenOrId: T | string): Promise<boolean> {
    return this.revoker.revokeToken(tokenOrId);
  }

  /**
   * Ends one session of a user by its id (as listed by {@link listUserTokens}): the token, its
   * refresh token and its rotation history. Returns `false`, touching nothing, when the user has no
   * live token with that id, so one user can never end another's session by guessing ids.
   */
  revokeUserSession(userOrId: object | string | number, sessionId: string): Promise<boolean> {
    return this.revoker.revokeUserSession(userOrId, sessionId);
  }

  /**
   * Logs a user out everywhere. Returns the number of sessions ended. Resolves once the write has
   * committed; throws `TokenStoreUnavailableError` (503) when the store fails.
   */
  revokeAllUserTokens(userOrId: object | string | number): Promise<number> {
    return this.revoker.revokeAllUserTokens(userOrId);
  }

  /**
   * Drops a user's tokens from the token cache, on this instance and (through the invalidation
   * channel) on the others, without revoking anything. Call it after changing a user outside
   * nestjs-durin in a way that matters to authentication: deactivating or deleting them, changing
   * their password or roles. A cache hit re-checks `isUserActive` against the user as it was
   * when the entry was read from the database; this makes the next request read it afresh.
   *
   * @example
   * await users.update(id, { isActive: false });
   * await tokens.invalidateUser(id);
   */
  invalidateUser(userOrId: object | string | number): Promise<void> {
    return this.revoker.invalidateUser(userOrId);
  }

  /** Removes a user's dead tokens. Returns how many. */
  revokeAllExpiredUserTokens(userOrId: object | string | number): Promise<number> {
    return this.expiry.revokeAllExpiredUserTokens(userOrId);
  }

  /**
   * Removes every dead token (both parts expired, or past the absolute expiry), in short batches so
   * it can run on a schedule against a large table while requests are served. Returns how many.
   */
  revokeExpiredTokens(): Promise<number> {
    return this.expiry.revokeExpiredTokens();
  }

  /** A user's live sessions, newest first, without any secret or hash. */
  listUserTokens(userOrId: object | string | number): Promise<SessionInfo[]> {
    return this.sessions.listUserTokens(userOrId);
  }

  /** Creates a client with its own token lifetimes. */
  createClient(input: CreateClientOptions): Promise<ClientEntity> {
    return this.clients.createClient(input);
  }

  /** The client named `name`; `null` when there is none (or the name could not be one). */
  getClient(name: string): Promise<ClientEntity | null> {
    return this.clients.getClient(name);
  }

  /**
   * Changes a client's lifetimes or throttle rate, validated as in {@link createClient}; `null`
   * clears a value (back to the module default). Tokens issued before keep their lifetimes.
   * Returns the updated client, or `null` when there is none of that name.
   */
  updateClient(name: string, changes: UpdateClientOptions): Promise<ClientEntity | null> {
    return this.clients.updateClient(name, changes);
  }

  /** Every client, by name. */
  listClients(): Promise<ClientEntity[]> {
    return this.clients.listClients();
  }

  /** Deletes a client and, with it, every token issued for it. */
  deleteClient(name: string): Promise<boolean> {
    return this.clients.deleteClient(name);
  }
}
