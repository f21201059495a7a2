import { Duration } from '../options/duration';
import { DurinCacheOptions } from './cache-options.interface';
import type { DurinEventListener } from '../events/durin-event.interface';
import { DurinCsrfOptions, SessionLimitStrategy } from './security-options.interface';
import type { DurinThrottleOptions } from './throttle-options.interface';
import type { AbstractAuthToken } from '../entities/abstract-auth-token.entity';
import type { DurinLoginOptions } from './login-options.interface';

/** How a token is carried: it only ever works in the place it was issued for. */
export type AuthType = 'header' | 'cookie';

/** A TypeORM entity class. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- constructor arguments are the entity's own business
export type EntityClass<T = object> = new (...args: any[]) => T;

/** `[user, token]`, as returned by the post-auth hooks. */
export type PostAuthResult<U = object, T extends AbstractAuthToken = AbstractAuthToken> = [U, T];

/** Runs after every successful authentication; may replace the user or the token seen by the handler. */
export type PostAuthHandler = (
  user: object,
  token: AbstractAuthToken,
  rawToken: string,
) => PostAuthResult | Promise<PostAuthResult>;

/**
 * The cookies of a cookie session. There are three, sharing `secure`, `sameSite` and `domain`:
 * the auth cookie (the access token, HttpOnly, `name`/`path`), the readable CSRF cookie (see
 * `csrf.cookieName`) and the refresh cookie (the refresh token, always HttpOnly, sent only to
 * `refreshPath`).
 */
export interface DurinCookieOptions {
  /**
   * The cookie's name. Defaults to the first of `authCookieNames`. With `secure: true` the name gets
   * the `__Host-` prefix (unless it already has it) so browsers pin it to this origin.
   */
  name?: string;
  /** Default `true`. Refused with `NODE_ENV=production`. */
  secure?: boolean;
  /** Default `true`: scripts can never read the token. */
  httpOnly?: boolean;
  /** Default `'lax'`. */
  sameSite?: 'lax' | 'strict' | 'none';
  /** Default `'/'`. */
  path?: string;
  /** Default none (host-only). Not allowed with the `__Host-` prefix. */
  domain?: string;
  /**
   * The refresh cookie's name. Default `'refresh'`; with `secure: true` it is set as
   * `__Secure-refresh` (unless it already has the prefix), so that no plain-HTTP response can plant
   * or overwrite it. Not `__Host-`: that prefix requires `Path=/`, which would send the refresh
   * token with every request (accepted only with `refreshPath: '/'`).
   */
  refreshName?: string;
  /**
   * The path the refresh cookie is scoped to: browsers send it to this path (and below) only.
   * Default `/<routes.path>/refresh` when the ready-made routes are mounted (`'/auth/refresh'` for
   * `routes: { path: 'auth' }`), else `'/auth/refresh'`. Set it to the full URL path of the
   * refresh route when that differs, e.g. `'/api/auth/refresh'` with `app.setGlobalPrefix('api')`
   * or URI versioning, which the module cannot see: otherwise the browser never sends the cookie
   * and every cookie refresh answers 400 `invalid_request`.
   */
  refreshPath?: string;
}

/** The background cleanup of expired tokens (`cleanup` option). */
export interface DurinCleanupOptions {
  /** How long from the end of one run to the start of the next, e.g. `'1h'`. At least 1 s. */
  every: Duration;
}

/** `keepExpiredTokens` with a retention. */
export interface KeepExpiredTokensOptions {
  /** How long a kept row stays after it was revoked or expired; `null`: forever. */
  for: Duration | null;
}

/** Mounting of the ready-made session endpoints. */
export interface DurinRoutesOptions {
  /** The controller path, e.g. `'auth'`. */
  path: string;
  /**
   * Also mounts `POST <path>/login`, checking credentials with the app's `validateUser` (or
   * `validator` provider). Off unless given: login otherwise stays the app's own code.
   */
  login?: DurinLoginOptions;
}

/**
 * The options that must be known when the module is imported (TypeORM builds the entity relation
 * from `userEntity`, and controllers are declared statically). With `forRoot` they are part of the
 * one options object; with `forRootAsync` pass them next to `useFactory`.
 */
export interface DurinStaticOptions {
  /** The application's TypeORM user entity class. Required. */
  userEntity?: EntityClass;
  /** A custom token model extending `AbstractAuthToken`. Default: `AuthTokenEntity`. */
  tokenEntity?: EntityClass<AbstractAuthToken>;
  /** The TypeORM data source (connection) name, for apps with several. Default: the default one. */
  dataSource?: string;
  /** Mounts the ready-made session endpoints. Off unless given. */
  routes?: DurinRoutesOptions;
  /**
   * Names this instance, for an app with several (an admin API with its own users and data
   * source). A named instance is reached through `@InjectTokenService(name)`,
   * `DurinAuthGuard.for(name)` and `DurinRoutesModule.register({ name })`; its tokens live in its
   * own `auth_token` table, whose user relation points at its own `userEntity`. One instance per
   * data source. Default: the unnamed instance, reached by the classes themselves.
   */
  name?: string;
}

/**
 * Options of `DurinModule.forRoot()` (or the object returned by the `forRootAsync` factory).
 * Durations are seconds (number) or strings such as `'15m'`; `null` means "never"/"disabled" where
 * stated. Every option is validated at start-up.
 */
export interface DurinModuleOptions extends DurinStaticOptions {
  /** The property of the user entity that holds its primary key. Default `'id'`. */
  userIdField?: string;
  /** Inactive or deleted users never authenticate. Default: `user.isActive !== false`. */
  isUserActive?: (user: object) => boolean;
  /** Lifetime of an access token. Default `'10h'`; `null`: no expiry. */
  tokenTtl?: Duration | null;
  /** Lifetime of a refresh token; must exceed `tokenTtl`. Default `'7d'`; `null`: no refresh tokens. */
  refreshTokenTtl?: Duration | null;
  /** Sliding expiry: a used token is extended. Default `false`. */
  autoRefresh?: boolean;
  /** The least time between two writes for one token (sliding extension, `lastUsedAt`). Default `'1m'`. */
  autoRefreshInterval?: Duration;
  /**
   * Absolute lifetime from login: no extension (sliding, renew, rotation) ever goes past
   * login + max(this, the lifetimes granted at login). Default `'7d'`; `null`: no cap.
   */
  autoRefreshMaxTtl?: Duration | null;
  /** A new login revokes the user's earlier tokens. Default `false`. */
  enforceSingleLogin?: boolean;
  /**
   * One live session per user and client (django-rest-durin's "one token per user per client"):
   * a login for a client ends the user's earlier sessions of that client, in the same transaction
   * as the insert and under the user's lock, so concurrent logins leave exactly one. Sessions of
   * other clients, and tokens issued without a client, are untouched. Ended sessions are revoked
   * as by a logout (reason `'client_login'`, `token_revoked` events, the cache dropped, kept under
   * `keepExpiredTokens`). Default `false`.
   */
  oneTokenPerClient?: boolean;
  /** Header tokens only work in the header, cookie tokens only in the cookie. Default `true`. */
  enableAuthRestriction?: boolean;
  /**
   * Keep revoked and expired tokens (marked with `revokedAt`, `revokedReason`) for audit instead of
   * deleting them. `true` keeps them forever; `{ for: '90d' }` keeps them that long, after which
   * `revokeExpiredTokens()` deletes them. Default `false`.
   */
  keepExpiredTokens?: boolean | KeepExpiredTokensOptions;
  /**
   * Runs `revokeExpiredTokens()` in the background: the first run soon after start-up (30 s, or
   * `every` if shorter), then `every` after each run ends, so runs never overlap. With several
   * instances on one PostgreSQL or MySQL/MariaDB database, one runs it at a time (a session-level
   * database lock); the others skip that turn. Each run is logged and emits
   * `expired_tokens_cleaned` with the count; shutdown stops it between two batches. Default: off
   * (call `revokeExpiredTokens()` yourself).
   *
   * @example
   * DurinModule.forRoot({ userEntity: User, cleanup: { every: '1h' } })
   */
  cleanup?: DurinCleanupOptions | false;
  /** Reading a missing key of `token.contextObj` throws instead of giving `undefined`. Default `false`. */
  strictContextAccess?: boolean;
  /** Accepted `Authorization` schemes, matched case-insensitively. Default `['Bearer', 'Token']`. */
  authHeaderPrefixes?: string[];
  /**
   * Cookie names the guard reads, in order (the first one present decides). Default: the auth
   * cookie's name (`cookie.name`, else `'token'`). The entry equal to the auth cookie's configured
   * name is replaced by the name it is set under (`'token'` → `'__Host-token'`), so a cookie
   * without the prefix is not accepted in its place; the auth cookie is added first if missing.
   */
  authCookieNames?: string[];
  /** Attributes of the cookies of cookie sessions (the auth and the refresh cookie). */
  cookie?: DurinCookieOptions;
  /** The first part of every token, so secret scanners can recognise them. Default `'durin'`. */
  tokenPrefix?: string;
  /**
   * A server-side secret (or several, newest first) mixed into the stored hash with HMAC-SHA256,
   * so a leaked table alone cannot be used to check guesses. Tokens hashed under an older pepper
   * keep working and are re-hashed on use.
   */
  pepper?: string | string[];
  /**
   * A server-side secret (32+ characters, or several, newest first) that tags every new token
   * with a truncated HMAC-SHA256, so a token this application never issued is refused in memory
   * (401 `token_invalid`) without a cache or database lookup: a flood of forged tokens costs no
   * query. Tagged tokens look like `<prefix>_at2_…` / `<prefix>_rt2_…`. Rotate like `pepper`: put
   * the new key first and keep the old one until the tokens it tagged have expired; a token
   * tagged under a key no longer listed is refused. Use the same keys on every instance.
   * Default: none (untagged tokens, as before).
   *
   * @example
   * DurinModule.forRoot({ userEntity: User, tokenTagKey: config.getOrThrow('TOKEN_TAG_KEY') });
   */
  tokenTagKey?: string | string[];
  /**
   * Whether tokens of the untagged format (`<prefix>_at_…`, issued before `tokenTagKey` was set)
   * are still accepted; each costs one lookup, as before. Default `true`; set `false` once every
   * untagged token has expired, so that no forged token of either format reaches the database.
   * Requires `tokenTagKey`.
   */
  acceptUntaggedTokens?: boolean;
  /** Runs after every successful authentication. */
  postAuthHandler?: PostAuthHandler;
  /** Runs after a sliding extension. */
  postAutoRefreshHandler?: PostAuthHandler;
  /** Name of the client that holds personal API keys (`/apiaccess`). Default `'api'`. */
  apiAccessClientName?: string;
  /** Leave API keys out of the session list. Default `true`. */
  apiAccessExcludeFromSessions?: boolean;
  /**
   * Lifetime of a personal API key (`POST <routes.path>/apiaccess`,
   * `TokenService.createApiKey`). Default `'90d'`; `null`: keys never expire. Keys have no
   * refresh token. When this option is not given and the app created the `apiAccessClientName`
   * client itself with a `tokenTtl`, that client's `tokenTtl` is used instead (so apps that gave
   * keys their lifetime that way keep it); when given, this option wins over the client row.
   *
   * @example
   * DurinModule.forRoot({ userEntity: User, routes: { path: 'auth' }, apiAccessTokenTtl: '30d' });
   */
  apiAccessTokenTtl?: Duration | null;
  /** How long the store may take to answer an authentication lookup before it counts as down. Default `'5s'`. */
  storeTimeout?: Duration;
  /**
   * The in-process cache of verified tokens: on by default (`{ max: 10000, ttl: '5s' }`), `false`
   * turns it off. A hit costs no SQL; revocations through `TokenService` drop entries at once on
   * this instance and, through `cache.invalidation`, on the others. See {@link DurinCacheOptions}
   * for the staleness bound across instances.
   */
  cache?: DurinCacheOptions | false;
  /**
   * Sends the token lookups of concurrent uncached requests together, as one statement per turn
   * of the event loop (PostgreSQL, MySQL, MariaDB; SQLite answers in-process and is never
   * batched). A lone request is never delayed; under load the statements per request drop well
   * below one. Each request still gets its own answer. Default `true`; `false`: one statement
   * per lookup.
   */
  batchStatements?: boolean;
  /**
   * Rate limits per user and client (each client's `throttleRate`, else `defaultRate`), counted
   * by `DurinThrottlerGuard` on `@nestjs/throttler`, and limits of the refresh route per IP and
   * per token family. Off unless given (`DurinThrottlerGuard` then still enforces the clients'
   * `throttleRate`). Needs `ThrottlerModule.forRoot()` in the app: the module refuses to start
   * without its storage. See {@link DurinThrottleOptions}.
   */
  throttle?: DurinThrottleOptions | false;
  /**
   * Refresh-token reuse grace window, in seconds. Presenting an already rotated refresh token
   * revokes its whole login (every access and refresh token of the family) as theft (RFC 9700
   * §4.14.2), except within this many seconds of the rotation when it is the immediate parent of
   * a still-current pair: then that same current pair is returned again, so two tabs refreshing at
   * once do not log the user out. Default `10`; `0` turns the window off; at most `300`.
   */
  refreshReuseGraceSeconds?: number;
  /**
   * The most live sessions (logins) a user may have at once; `null`/absent: no limit (default).
   * Enforced atomically: concurrent logins of one user are serialised in the issuing transaction.
   * Personal API keys do not count while `apiAccessExcludeFromSessions` is on.
   */
  maxSessionsPerUser?: number | null;
  /**
   * What a login beyond `maxSessionsPerUser` does: `'revoke_oldest'` (default) ends the oldest
   * sessions to make room; `'refuse'` throws `SessionLimitExceededError` (HTTP 403,
   * `code: 'session_limit'`) and writes nothing.
   */
  sessionLimitStrategy?: SessionLimitStrategy;
  /**
   * Called with every `DurinEvent` (`token_created`, `token_refreshed`, `refresh_reuse_detected`,
   * …), which never carries a raw token or a hash. With `@nestjs/event-emitter` in the app the same
   * events are also emitted as `durin.<type>`. A listener that throws is logged and ignored.
   */
  onEvent?: DurinEventListener;
  /**
   * CSRF defence for state-changing requests authenticated by the auth cookie: an
   * `Origin`/`Sec-Fetch-Site` check plus a signed double-submit token (see {@link DurinCsrfOptions}).
   * On by default. `false` turns it off, which is unsafe for cookie sessions unless the app has
   * its own CSRF defence; it makes no difference to header tokens.
   */
  csrf?: DurinCsrfOptions | false;
}

/** Implemented by a class given to `forRootAsync({ useClass })`. */
export interface DurinOptionsFactory {
  createDurinOptions(): DurinModuleOptions | Promise<DurinModuleOptions>;
}
