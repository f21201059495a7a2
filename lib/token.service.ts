import { Inject, Injectable, Optional } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { apiKeyAccessTtlMs, assertNoLiveApiKey, ensureApiClient } from './api-keys/api-keys';
import { DurinCacheService } from './cache/durin-cache.service';
import { DURIN_CLOCK, DURIN_RESOLVED_OPTIONS } from './durin.constants';
import { AbstractAuthToken, RevocationReason } from './entities/abstract-auth-token.entity';
import { ClientEntity } from './entities/client.entity';
import { isPlainContext } from './entities/token-context';
import { DurinError } from './errors/durin.error';
import { SessionLimitExceededError } from './errors/security-errors';
import { DurinEventType } from './events/durin-event.interface';
import { DurinEventsService, DurinEventSubject } from './events/durin-events.service';
import {
  ClientAlreadyExistsError,
  InvalidClientError,
  InvalidTokenOptionsError,
  TokenStoreUnavailableError,
  UnknownClientError,
} from './errors/token-errors';
import { Clock } from './interfaces/clock.interface';
import { AuthType } from './interfaces/durin-module-options.interface';
import {
  AuthenticationResult,
  DurinTokenOf,
  CreateClientOptions,
  GenerateTokenOptions,
  RefreshTokenOptions,
  SessionInfo,
  TokenSet,
} from './interfaces/token-set.interface';
import { describe, tryParseDuration } from './options/duration';
import { ResolvedDurinOptions } from './options/resolved-options';
import {
  clearGracePayload,
  findGracePayload,
  liveSessionHeads,
  lockUserSessions,
  SessionHead,
} from './store/security-queries';
import { TokenStore } from './store/token-store';
import { CLIENT_NAME_MAX, isStorableString, TOKEN_ID_MAX } from './store/stored-strings';
import { openGracePair, sealGracePair } from './tokens/grace-payload';
import { TokenFormat } from './tokens/token-format';
import { TokenHasher } from './tokens/token-hasher';

const THROTTLE_RATE_PATTERN = /^[1-9]\d{0,8}\/[smhd]$/;

/** The lifetimes of one session, decided at login and kept for its whole life. */
interface Lifetimes {
  accessTtlMs: number | null;
  refreshTtlMs: number | null;
}

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
  private readonly format: TokenFormat;
  private readonly hasher: TokenHasher;

  constructor(
    @Inject(DURIN_RESOLVED_OPTIONS) private readonly options: ResolvedDurinOptions,
    @Inject(DURIN_CLOCK) private readonly clock: Clock,
    private readonly store: TokenStore<T>,
    // Optional so code that builds the service by hand (tests, scripts) keeps working uncached.
    @Optional() private readonly cache?: DurinCacheService,
    // Optional for the same reason; without it no events are delivered.
    @Optional() private readonly events?: DurinEventsService,
  ) {
    this.format = new TokenFormat(options.tokenPrefix);
    this.hasher = new TokenHasher(options.peppers);
  }

  // ---------------------------------------------------------------- issue

  /** Issues a token that only works in the `Authorization` header. */
  generateHeaderToken(user: object, opts?: GenerateTokenOptions): Promise<TokenSet<T>> {
    return this.issue(user, 'header', opts);
  }

  /** Issues a token that only works in the auth cookie. */
  generateCookieToken(user: object, opts?: GenerateTokenOptions): Promise<TokenSet<T>> {
    return this.issue(user, 'cookie', opts);
  }

  /**
   * Issues the user's personal API key: a header token of the client `apiAccessClientName`
   * (created on first use), living `apiAccessTokenTtl`, without a refresh token. A user has at
   * most one live key, also under concurrent calls (see `api-keys.ts`): throws
   * `ApiKeyExistsError`, writing nothing, while one is live.
   *
   * @example
   * const key = await tokens.createApiKey(user); // key.accessToken is shown to the user once
   */
  async createApiKey(user: object): Promise<TokenSet<T>> {
    // A bad user must be refused before the client row is created for it.
    this.userIdOf(user);
    const name = this.options.apiAccessClientName;
    const ttlMs = apiKeyAccessTtlMs(this.options, await ensureApiClient(this, name));
    return this.issue(
      user,
      'header',
      {
        client: name,
        accessExpiresIn: ttlMs === null ? null : ttlMs / 1000,
        refreshExpiresIn: null,
      },
      (manager, userId, now) => assertNoLiveApiKey(this.store, manager, userId, name, now),
    );
  }

  /**
   * `beforeInsert` runs in the issuing transaction under the user's lock and may refuse the
   * token by throwing; nothing is written then.
   */
  private async issue(
    user: object,
    authType: AuthType,
    opts: GenerateTokenOptions = {},
    beforeInsert?: (manager: EntityManager, userId: unknown, now: number) => Promise<void>,
  ): Promise<TokenSet<T>> {
    // Every argument is checked before anything is written.
    if (opts === null || typeof opts !== 'object') {
      throw new InvalidTokenOptionsError('opts', `must be an object (got ${describe(opts)})`);
    }
    this.userIdOf(user);
    const context = opts.context === undefined ? {} : opts.context;
    if (!isPlainContext(context)) {
      throw new InvalidTokenOptionsError(
        'context',
        `must be a plain JSON object (got ${describe(context)})`,
      );
    }
    let client: ClientEntity | null = null;
    if (opts.client !== undefined) {
      if (!isStorableString(opts.client, CLIENT_NAME_MAX)) {
        throw new InvalidTokenOptionsError(
          'client',
          `must be a client name of 1 to ${CLIENT_NAME_MAX} characters without control characters (got ${describe(opts.client)})`,
        );
      }
      const name = opts.client;
      client = await this.storeWork(() => this.store.findClient(name));
      if (!client) {
        throw new UnknownClientError(opts.client);
      }
    }
    const lifetimes = this.lifetimesFor(client, opts);

    const now = this.clock.now();
    const token = this.store.tokens.create() as T;
    token.id = this.store.newId();
    token.familyId = TokenStore.newFamilyId();
    token.parentId = null;
    token.replacedById = null;
    token.user = user;
    token.authType = authType;
    token.client = client;
    token.context = { ...context };
    token.createdAt = new Date(now);
    token.accessTtlMs = lifetimes.accessTtlMs;
    token.refreshTtlMs = lifetimes.refreshTtlMs;
    token.absoluteExpiresAt = this.absoluteExpiry(now, lifetimes);
    token.lastRefreshedAt = null;
    token.lastUsedAt = null;
    token.revokedAt = null;
    token.revokedReason = null;
    const secrets = this.mint(token, now);

    const userId = this.userIdOf(user);
    const limit = this.sessionLimitFor(token);
    if (this.options.enforceSingleLogin || limit !== null || beforeInsert !== undefined) {
      const single = this.options.enforceSingleLogin;
      // What the transaction ended, for the cache and the events (filled in inside it).
      let endedAll = 0;
      let ended: SessionHead[] = [];
      await this.thenInvalidate(
        () =>
          this.storeWork(() =>
            this.store.transaction(async (manager) => {
              // Logins of one user queue here, so "look at the live sessions, then insert" cannot
              // interleave with a concurrent login of the same user (REQ-SES-03).
              await lockUserSessions(this.store, manager, userId);
              await beforeInsert?.(manager, userId, now);
              if (single) {
                endedAll = await this.revokeUserTokens(userId, 'single_login', now, manager);
              } else if (limit !== null) {
                ended = await this.makeRoomForSession(manager, userId, limit, now);
              }
              await this.store.insert(token, manager);
            }),
          ),
        async (cache) => {
          if (single) await cache.invalidateUser(userId);
          else await Promise.all(ended.map((head) => cache.invalidateFamily(head.familyId)));
        },
      );
      if (endedAll > 0) {
        this.emitSubject('token_revoked', { userId }, 'single_login', now);
      }
      for (const head of ended) {
        this.emitSubject(
          'token_revoked',
          { tokenId: head.id, familyId: head.familyId, userId, authType: head.authType },
          'session_limit',
          now,
        );
      }
    } else {
      await this.storeWork(() => this.store.insert(token));
    }
    this.emitFor('token_created', token, null, now);
    return this.tokenSet(token, secrets);
  }

  /**
   * `maxSessionsPerUser` for a new token, or `null` when no limit applies: none is set, or the
   * token is a personal API key, which is no session while `apiAccessExcludeFromSessions` is on.
   */
  private sessionLimitFor(token: T): number | null {
    const limit = this.options.maxSessionsPerUser;
    if (limit === null) return null;
    const apiKey =
      token.authType === 'header' && token.client?.name === this.options.apiAccessClientName;
    return apiKey && this.options.apiAccessExcludeFromSessions ? null : limit;
  }

  /**
   * Under the user's lock: refuses the login, or ends the oldest sessions so that the new one
   * keeps the user within `limit`. Returns the sessions it ended.
   */
  private async makeRoomForSession(
    manager: EntityManager,
    userId: unknown,
    limit: number,
    now: number,
  ): Promise<SessionHead[]> {
    const excludeApiKeys = this.options.apiAccessExcludeFromSessions
      ? this.options.apiAccessClientName
      : null;
    const live = await liveSessionHeads(this.store, manager, userId, now, excludeApiKeys);
    const excess = live.length - limit + 1;
    if (excess <= 0) return [];
    if (this.options.sessionLimitStrategy === 'refuse') {
      throw new SessionLimitExceededError(limit);
    }
    const oldest = live.slice(0, excess);
    await this.store.revokeWhere(
      'family_id IN (:...families)',
      { families: oldest.map((head) => head.familyId) },
      this.revocationMode(),
      'session_limit',
      now,
      manager,
    );
    return oldest;
  }

  /** Fills in new secrets and expiries on `token`; returns the raw secrets. */
  private mint(token: T, now: number): { access: string; refresh: string | null } {
    const access = this.format.generate('access');
    const refresh = token.refreshTtlMs === null ? null : this.format.generate('refresh');
    token.tokenHash = this.hasher.hash(access);
    token.refreshTokenHash = refresh === null ? null : this.hasher.hash(refresh);
    token.expiresAt = this.capped(now, token.accessTtlMs, token.absoluteExpiresAt);
    token.refreshExpiresAt =
      refresh === null ? null : this.capped(now, token.refreshTtlMs, token.absoluteExpiresAt);
    return { access, refresh };
  }

  private tokenSet(token: T, secrets: { access: string; refresh: string | null }): TokenSet<T> {
    this.prepare(token);
    return {
      accessToken: secrets.access,
      refreshToken: secrets.refresh,
      accessTokenExpiresAt: token.expiresAt,
      refreshTokenExpiresAt: token.refreshExpiresAt,
      token,
    };
  }

  private lifetimesFor(client: ClientEntity | null, opts: GenerateTokenOptions): Lifetimes {
    const accessTtlMs =
      opts.accessExpiresIn !== undefined
        ? this.optionDuration(opts.accessExpiresIn, 'accessExpiresIn')
        : client?.tokenTtl != null
          ? client.tokenTtl * 1000
          : this.options.tokenTtlMs;
    let refreshTtlMs =
      opts.refreshExpiresIn !== undefined
        ? this.optionDuration(opts.refreshExpiresIn, 'refreshExpiresIn')
        : client?.refreshTokenTtl != null
          ? client.refreshTokenTtl * 1000
          : this.options.refreshTokenTtlMs;
    if (accessTtlMs === 0) {
      throw new InvalidTokenOptionsError(
        'accessExpiresIn',
        'must be greater than 0 (null for no expiry)',
      );
    }
    if (refreshTtlMs !== null && accessTtlMs === null) {
      // A refresh token exists to replace an expiring access token; one that never expires needs none.
      refreshTtlMs = null;
    }
    if (refreshTtlMs !== null && accessTtlMs !== null && refreshTtlMs <= accessTtlMs) {
      const explicit = opts.refreshExpiresIn !== undefined || opts.accessExpiresIn !== undefined;
      if (explicit) {
        throw new InvalidTokenOptionsError(
          'refreshExpiresIn',
          'must be greater than the access-token lifetime',
        );
      }
      // A client whose access lifetime reaches the refresh lifetime simply gets no refresh token.
      refreshTtlMs = null;
    }
    return { accessTtlMs, refreshTtlMs };
  }

  private optionDuration(value: unknown, name: string): number | null {
    if (value === null) return null;
    const parsed = tryParseDuration(value);
    if (parsed === undefined) {
      throw new InvalidTokenOptionsError(
        name,
        `must be seconds or a string like '15m' (got ${describe(value)})`,
      );
    }
    return parsed;
  }

  /**
   * The latest moment any extension of this session may reach: login + max(autoRefreshMaxTtl, the
   * lifetimes granted at login). What was granted is honoured; nothing ever extends past it.
   */
  private absoluteExpiry(now: number, lifetimes: Lifetimes): Date | null {
    const cap = this.options.autoRefreshMaxTtlMs;
    if (cap === null || lifetimes.accessTtlMs === null) {
      return null;
    }
    return new Date(now + Math.max(cap, lifetimes.accessTtlMs, lifetimes.refreshTtlMs ?? 0));
  }

  private capped(now: number, ttlMs: number | null, absolute: Date | null): Date | null {
    if (ttlMs === null) return absolute;
    const end = now + ttlMs;
    return new Date(absolute === null ? end : Math.min(end, absolute.getTime()));
  }

  // ---------------------------------------------------------------- verify

  /**
   * The live token for a raw access token, with its user; `null` when it is malformed, unknown,
   * expired, revoked, of the other auth type (when `authType` is given) or its user is inactive.
   * Never throws on bad input; throws {@link TokenStoreUnavailableError} when the store fails, so
   * callers can fail closed.
   */
  async verifyToken(raw: unknown, authType?: AuthType): Promise<T | null> {
    const result = await this.check(raw, authType);
    return result.ok ? result.token : null;
  }

  /**
   * What the guard runs on every request: verify, then record use and slide the expiry when due
   * (at most one write per `autoRefreshInterval`), then the post-auth hooks.
   */
  async authenticate(raw: unknown, authType: AuthType): Promise<AuthenticationResult<T>> {
    let checked = await this.check(raw, authType);
    if (!checked.ok) {
      return checked;
    }
    let touched = await this.touch(checked.token, checked.cacheKey);
    if (touched === 'missed' && checked.cached) {
      // The due write matched no row, so the cached entry may be stale (revoked, or touched by
      // another instance whose message we have not seen): decide from the database instead.
      this.cache?.forget(checked.cacheKey);
      checked = await this.check(raw, authType, false);
      if (!checked.ok) {
        return checked;
      }
      touched = 'none';
    }
    let user: object = checked.token.user;
    let token = checked.token;
    const autoRefreshed = touched === 'slid';
    if (autoRefreshed) {
      this.emitFor('token_auto_refreshed', checked.token, null, this.clock.now());
    }
    if (autoRefreshed && this.options.postAutoRefreshHandler) {
      [user, token] = (await this.options.postAutoRefreshHandler(user, token, raw as string)) as [
        object,
        T,
      ];
    }
    if (this.options.postAuthHandler) {
      [user, token] = (await this.options.postAuthHandler(user, token, raw as string)) as [
        object,
        T,
      ];
    }
    return { ok: true, user, token, autoRefreshed };
  }

  /**
   * Format, then the cache (a hit costs no SQL), then one query; then the same checks for both.
   * `readCache: false` forces the database read (the result still refreshes the cache).
   */
  private async check(
    raw: unknown,
    authType: AuthType | undefined,
    readCache = true,
  ): Promise<
    | { ok: true; token: T; cacheKey: string; cached: boolean }
    | { ok: false; reason: 'token_invalid' | 'token_expired' | 'user_inactive' }
  > {
    // Format and checksum first: junk never costs a hash or a query (REQ-GEN-03).
    if (this.format.parse(raw) !== 'access') {
      return { ok: false, reason: 'token_invalid' };
    }
    const rawToken = raw as string;
    const candidates = this.hasher.candidates(rawToken);
    // Keyed by the hash under the newest pepper, never by the raw token (REQ-CACHE-04).
    const cacheKey = candidates[0];
    const cache = this.cache?.enabled ? this.cache : undefined;
    let token = readCache
      ? (cache?.lookup(cacheKey, this.clock.now()) as T | undefined)
      : undefined;
    const cached = token !== undefined;
    let ticket = 0;
    if (token === undefined) {
      if (cache?.isKnownDead(cacheKey, this.clock.now())) {
        return { ok: false, reason: 'token_invalid' };
      }
      // Taken before the read: a revocation that lands while the query runs refuses the fill.
      ticket = cache?.ticket() ?? 0;
      const found = await this.guardStore(() => this.store.findByAccessHash(candidates));
      if (!found || found.revokedAt !== null) {
        cache?.rememberDead(cacheKey, this.clock.now());
        return { ok: false, reason: 'token_invalid' };
      }
      token = found;
    }
    if (
      authType !== undefined &&
      this.options.enableAuthRestriction &&
      token.authType !== authType
    ) {
      return { ok: false, reason: 'token_invalid' };
    }
    const now = this.clock.now();
    if (
      token.isExpiredAt(now) ||
      (token.absoluteExpiresAt !== null && now >= token.absoluteExpiresAt.getTime())
    ) {
      const why = token.isExpiredAt(now) ? 'access_expired' : 'absolute_expired';
      this.emitFor('token_expired', token, why, now);
      return { ok: false, reason: 'token_expired' };
    }
    // On a cache hit too: the user snapshot is from the read that filled the entry.
    if (!this.options.isUserActive(token.user)) {
      return { ok: false, reason: 'user_inactive' };
    }
    if (!cached) {
      const live = token;
      if (this.hasher.isOutdated(rawToken, live.tokenHash)) {
        live.tokenHash = this.hasher.hash(rawToken);
        await this.guardStore(() => this.store.replaceAccessHash(live.id, live.tokenHash));
      }
      cache?.fill(cacheKey, live, ticket, now);
    }
    return { ok: true, token: this.prepare(token), cacheKey, cached };
  }

  /**
   * Records use, and slides the expiry under `autoRefresh`: `'none'` when no write was due,
   * `'written'` / `'slid'` when the conditional write matched, `'missed'` when it matched no row.
   */
  private async touch(token: T, cacheKey: string): Promise<'none' | 'written' | 'slid' | 'missed'> {
    const now = this.clock.now();
    const interval = this.options.autoRefreshIntervalMs;
    // One write per interval and token, for both `lastUsedAt` and the slide (coalesced writes).
    // On a cache hit the decision uses the cached `lastUsedAt`, kept current by recordWrite below.
    const due = now - (token.lastUsedAt ?? token.createdAt).getTime() >= interval;
    // The first use is recorded at once ("never used" must not last a whole interval), but it only
    // slides the expiry when an interval has passed since the login, like every later write.
    if (!due && token.lastUsedAt !== null) {
      return 'none';
    }
    const changes: Parameters<TokenStore['touch']>[1] = { lastUsedAt: new Date(now) };
    const slide = due && this.options.autoRefresh && token.expiresAt !== null;
    if (slide) {
      changes.expiresAt = this.later(
        token.expiresAt,
        this.capped(now, token.accessTtlMs, token.absoluteExpiresAt),
      );
      if (token.refreshExpiresAt !== null) {
        changes.refreshExpiresAt = this.later(
          token.refreshExpiresAt,
          this.capped(now, token.refreshTtlMs, token.absoluteExpiresAt),
        );
      }
      changes.lastRefreshedAt = new Date(now);
    }
    const written = await this.guardStore(() => this.store.touch(token.id, changes, now, interval));
    if (!written) {
      return 'missed';
    }
    Object.assign(token, changes);
    this.cache?.recordWrite(cacheKey, changes);
    return slide ? 'slid' : 'written';
  }

  private later(current: Date | null, next: Date | null): Date | null {
    if (current === null || next === null) return current ?? next;
    return next.getTime() > current.getTime() ? next : current;
  }

  // ---------------------------------------------------------------- refresh, renew, expire

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
  async refreshToken(
    rawRefresh: unknown,
    opts: RefreshTokenOptions = {},
  ): Promise<TokenSet<T> | null> {
    if (this.format.parse(rawRefresh) !== 'refresh') {
      return null;
    }
    if (opts.context !== undefined && !isPlainContext(opts.context)) {
      throw new InvalidTokenOptionsError(
        'context',
        `must be a plain JSON object (got ${describe(opts.context)})`,
      );
    }
    const raw = rawRefresh as string;
    const candidates = this.hasher.candidates(raw);
    const parent = await this.guardStore(() => this.store.findByRefreshHash(candidates));
    if (!parent) {
      return null;
    }
    // Before anything else, spent tokens included: a pair that does not belong together is no
    // request of that session's (a planted or stale refresh cookie), so it neither rotates nor
    // counts as reuse; it writes nothing.
    if (
      opts.accessToken !== undefined &&
      (typeof opts.accessToken !== 'string' ||
        !this.hasher.candidates(opts.accessToken).includes(parent.tokenHash))
    ) {
      return null;
    }
    const now = this.clock.now();
    if (parent.revokedAt !== null) {
      return this.presentedAgain(parent, raw, opts, now);
    }
    if (
      opts.authType !== undefined &&
      this.options.enableAuthRestriction &&
      parent.authType !== opts.authType
    ) {
      return null;
    }
    const refreshEnd = parent.refreshExpiresAt?.getTime() ?? -Infinity;
    const absoluteEnd = parent.absoluteExpiresAt?.getTime() ?? Infinity;
    if (now >= refreshEnd || now >= absoluteEnd) {
      const why = now >= absoluteEnd ? 'absolute_expired' : 'refresh_expired';
      this.emitFor('token_expired', parent, why, now);
      return null;
    }
    if (!this.options.isUserActive(parent.user)) {
      return null;
    }

    const child = this.store.tokens.create() as T;
    Object.assign(child, {
      id: this.store.newId(),
      familyId: parent.familyId,
      parentId: parent.id,
      replacedById: null,
      user: parent.user,
      authType: parent.authType,
      client: parent.client,
      context: { ...parent.context, ...(opts.context ?? {}) },
      createdAt: new Date(now),
      accessTtlMs: parent.accessTtlMs,
      refreshTtlMs: parent.refreshTtlMs,
      absoluteExpiresAt: parent.absoluteExpiresAt,
      lastRefreshedAt: new Date(now),
      lastUsedAt: null,
      revokedAt: null,
      revokedReason: null,
    });
    const secrets = this.mint(child, now);
    // The new pair, openable only with the parent's refresh token, for a racing tab (grace window).
    const gracePayload =
      this.options.refreshReuseGraceMs > 0 && secrets.refresh !== null
        ? sealGracePair(raw, parent.id, child.id, {
            access: secrets.access,
            refresh: secrets.refresh,
          })
        : null;
    // Consume and mint commit together: a failure in between leaves the parent usable (REQ-FAIL-03).
    const won = await this.thenInvalidate(
      () =>
        this.guardStore(() =>
          this.store.transaction(async (manager) => {
            // The user's lock orders this rotation against revocations of the user's tokens: a
            // logout that starts while we rotate must see (and end) the child we insert (I1).
            await lockUserSessions(this.store, manager, this.userIdOf(parent.user));
            const consumed = await this.store.consumeForRotation(
              manager,
              parent.id,
              child.id,
              now,
              gracePayload,
            );
            if (!consumed) {
              return false;
            }
            await this.store.insert(child, manager);
            if (parent.parentId !== null) {
              // The grandparent's sealed pair is the parent's, dead from now on: at most one
              // openable pair per family.
              await clearGracePayload(this.store, { id: parent.parentId }, manager);
            }
            return true;
          }),
        ),
      // The parent's access token stops working with the rotation.
      (cache) => cache.invalidateToken(parent.id),
    );
    if (!won) {
      // Another request rotated (or revoked) the parent since we read it. This one came second,
      // so it is decided like a later presentation: the same pair within the grace window, else
      // reuse (or nothing, if the parent was revoked for another reason).
      const current = await this.guardStore(() => this.store.findById(parent.id));
      return current !== null && current.revokedAt !== null
        ? this.presentedAgain(current, raw, opts, this.clock.now())
        : null;
    }
    this.emitFor('token_refreshed', child, 'rotation', now);
    return this.tokenSet(child, secrets);
  }

  /**
   * A refresh token that no longer works was presented. Only a rotated one matters: the immediate
   * parent of the current pair within the grace window gets that pair again; any other use of a
   * spent token is theft or a replay, and the whole family is revoked (RFC 9700 §4.14.2).
   */
  private async presentedAgain(
    parent: T,
    raw: string,
    opts: RefreshTokenOptions,
    now: number,
  ): Promise<TokenSet<T> | null> {
    if (parent.revokedReason !== 'rotated') {
      return null;
    }
    const replay = await this.graceReplay(parent, raw, opts, now);
    if (replay !== null) {
      this.emitFor('token_refreshed', replay.token, 'grace_replay', now);
      return replay;
    }
    await this.revokeFamily(parent.familyId, 'reuse_detected', now, this.userIdOf(parent.user));
    if (this.revocationMode() === 'mark') {
      // Kept rows must not keep an openable pair either.
      await this.guardStore(() => clearGracePayload(this.store, { familyId: parent.familyId }));
    }
    this.emitFor('refresh_reuse_detected', parent, 'reuse_detected', now);
    return null;
  }

  /**
   * The current pair again for the immediate parent presented within the grace window, or `null`
   * when the window is off or over, the child is no longer the live head (rotated further,
   * revoked, expired) or the sealed pair does not open and match.
   */
  private async graceReplay(
    parent: T,
    raw: string,
    opts: RefreshTokenOptions,
    now: number,
  ): Promise<TokenSet<T> | null> {
    const grace = this.options.refreshReuseGraceMs;
    const childId = parent.replacedById;
    // The window is [rotation - grace, rotation + grace): symmetric, so instances whose clocks
    // disagree by less than the window still see a racing tab inside it, while a clock that
    // jumped back does not turn "shortly after the rotation" into "any time before it" (F11).
    if (
      grace === 0 ||
      childId === null ||
      parent.revokedAt === null ||
      now >= parent.revokedAt.getTime() + grace ||
      now <= parent.revokedAt.getTime() - grace
    ) {
      return null;
    }
    if (
      opts.authType !== undefined &&
      this.options.enableAuthRestriction &&
      parent.authType !== opts.authType
    ) {
      return null;
    }
    const box = await this.guardStore(() => findGracePayload(this.store, parent.id));
    const child = box === null ? null : await this.guardStore(() => this.store.findById(childId));
    if (box === null || child === null || child.revokedAt !== null) {
      return null;
    }
    const refreshEnd = child.refreshExpiresAt?.getTime() ?? -Infinity;
    const absoluteEnd = child.absoluteExpiresAt?.getTime() ?? Infinity;
    if (now >= refreshEnd || now >= absoluteEnd || !this.options.isUserActive(child.user)) {
      return null;
    }
    const pair = openGracePair(raw, parent.id, childId, box);
    // The box must hold exactly the child's secrets (it does unless the row was tampered with).
    if (
      pair === null ||
      child.refreshTokenHash === null ||
      !this.hasher.candidates(pair.access).includes(child.tokenHash) ||
      !this.hasher.candidates(pair.refresh).includes(child.refreshTokenHash)
    ) {
      return null;
    }
    return this.tokenSet(child, pair);
  }

  /**
   * Extends a live token by its own lifetime from now (durin's "refresh"), never past its absolute
   * expiry. Returns the new access expiry, or `null` when the token is no longer live.
   */
  async renewToken(token: T): Promise<Date | null> {
    const now = this.clock.now();
    const expiresAt = this.capped(now, token.accessTtlMs, token.absoluteExpiresAt);
    const refreshExpiresAt =
      token.refreshExpiresAt === null
        ? null
        : this.later(
            token.refreshExpiresAt,
            this.capped(now, token.refreshTtlMs, token.absoluteExpiresAt),
          );
    if (expiresAt !== null && expiresAt.getTime() <= now) {
      return null;
    }
    const extended = await this.thenInvalidate(
      () =>
        this.guardStore(() => this.store.extend(token.id, expiresAt, refreshExpiresAt, now, true)),
      (cache) => cache.invalidateToken(token.id),
    );
    if (!extended) {
      return null;
    }
    Object.assign(token, { expiresAt, refreshExpiresAt, lastRefreshedAt: new Date(now) });
    this.emitFor('token_refreshed', token, 'renew', now);
    return expiresAt;
  }

  /** Makes a token (and its refresh token) expire now, keeping the row. */
  async expireToken(token: T): Promise<boolean> {
    const now = new Date(this.clock.now());
    const done = await this.thenInvalidate(
      () =>
        this.guardStore(() =>
          this.store.extend(
            token.id,
            now,
            token.refreshExpiresAt === null ? null : now,
            now.getTime(),
          ),
        ),
      (cache) => cache.invalidateToken(token.id),
    );
    if (done) {
      token.expiresAt = now;
      token.refreshExpiresAt = token.refreshExpiresAt === null ? null : now;
      this.emitFor('token_expired', token, 'expire_token', now.getTime());
    }
    return done;
  }

  // ---------------------------------------------------------------- revoke

  /**
   * Logs one session out: the token, its refresh token and its rotation history. Returns whether a
   * live token was ended. Resolves only after the write committed.
   */
  async revokeToken(tokenOrId: T | string): Promise<boolean> {
    const id = typeof tokenOrId === 'string' ? tokenOrId : tokenOrId.id;
    if (!isStorableString(id, TOKEN_ID_MAX)) {
      return false;
    }
    // Loaded with its user and client when only the id is given: the event names them.
    const token =
      typeof tokenOrId === 'string'
        ? await this.guardStore(() => this.store.findById(id))
        : tokenOrId;
    if (!token?.familyId) {
      return false;
    }
    const userId = await this.ownerIdOf(token);
    const now = this.clock.now();
    const ended = (await this.revokeFamily(token.familyId, 'logout', now, userId)) > 0;
    if (ended) {
      this.emitFor('token_revoked', token, 'logout', now);
    }
    return ended;
  }

  /**
   * Ends one session of a user by its id (as listed by {@link listUserTokens}): the token, its
   * refresh token and its rotation history. Returns `false`, touching nothing, when the user has no
   * live token with that id, so one user can never end another's session by guessing ids.
   */
  async revokeUserSession(userOrId: object | string | number, sessionId: string): Promise<boolean> {
    if (!isStorableString(sessionId, TOKEN_ID_MAX)) {
      return false;
    }
    const userId = this.idOf(userOrId);
    const familyId = await this.guardStore(() =>
      this.store.findLiveFamilyOfUserToken(sessionId, userId),
    );
    if (familyId === null) {
      return false;
    }
    const now = this.clock.now();
    const ended = (await this.revokeFamily(familyId, 'revoked', now, userId)) > 0;
    if (ended) {
      this.emitSubject('token_revoked', { tokenId: sessionId, familyId, userId }, 'revoked', now);
    }
    return ended;
  }

  /** The id of the user `token` belongs to, loading the row when the object lacks its user. */
  private async ownerIdOf(token: T): Promise<unknown> {
    const user = token.user as Record<string, unknown> | undefined;
    const id =
      user !== null && typeof user === 'object' ? user[this.options.userIdField] : undefined;
    if (id !== undefined && id !== null) {
      return id;
    }
    const stored = await this.guardStore(() => this.store.findById(token.id));
    return stored ? this.userIdOf(stored.user) : undefined;
  }

  /**
   * Ends a family. Like every revocation it resolves only once the write has committed and throws
   * {@link TokenStoreUnavailableError} when the store fails: never a success that did not happen.
   *
   * It runs in a transaction under the user's lock, like rotations do, so the two are ordered
   * explicitly instead of through how the database re-checks rows an UPDATE had to wait for: a
   * revocation sees every child committed before it, and a rotation after it finds its parent
   * revoked (I1, I3; on SQLite the queue of transactions gives the same order).
   */
  private revokeFamily(
    familyId: string,
    reason: RevocationReason,
    now: number,
    userId: unknown,
  ): Promise<number> {
    return this.thenInvalidate(
      () =>
        this.guardStore(() =>
          this.store.transaction(async (manager) => {
            if (userId !== undefined && userId !== null) {
              await lockUserSessions(this.store, manager, userId);
            }
            return this.store.revokeWhere(
              'family_id = :familyId',
              { familyId },
              this.revocationMode(),
              reason,
              now,
              manager,
            );
          }),
        ),
      (cache) => cache.invalidateFamily(familyId),
    );
  }

  /**
   * Logs a user out everywhere. Returns the number of sessions ended. Resolves once the write has
   * committed; throws {@link TokenStoreUnavailableError} when the store fails.
   */
  async revokeAllUserTokens(userOrId: object | string | number): Promise<number> {
    const userId = this.idOf(userOrId);
    const now = this.clock.now();
    const ended = await this.thenInvalidate(
      () =>
        this.guardStore(() =>
          // Under the user's lock, for the same reason as revokeFamily (I5: nothing created
          // before the call survives it, not even a child of a rotation in flight).
          this.store.transaction(async (manager) => {
            await lockUserSessions(this.store, manager, userId);
            return this.revokeUserTokens(userId, 'logout_all', now, manager);
          }),
        ),
      (cache) => cache.invalidateUser(userId),
    );
    this.emitSubject('logout_all', { userId }, 'logout_all', now);
    return ended;
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
  async invalidateUser(userOrId: object | string | number): Promise<void> {
    if (this.cache?.enabled) {
      await this.cache.invalidateUser(this.idOf(userOrId));
    }
  }

  /**
   * Runs a write that ends or changes tokens, then drops what it concerns from the token cache
   * before returning, also when the write failed (it may have committed before the error reached
   * us). The drop comes after the commit: a request reading the row meanwhile either sees the new
   * state or has its cache fill refused (see TokenCache).
   */
  private async thenInvalidate<R>(
    work: () => Promise<R>,
    invalidate: (cache: DurinCacheService) => Promise<void>,
  ): Promise<R> {
    try {
      return await work();
    } finally {
      if (this.cache?.enabled) {
        await invalidate(this.cache);
      }
    }
  }

  private revokeUserTokens(
    userId: unknown,
    reason: RevocationReason,
    now: number,
    manager?: EntityManager,
  ): Promise<number> {
    return this.store.revokeWhere(
      'user_id = :userId',
      { userId },
      this.revocationMode(),
      reason,
      now,
      manager,
    );
  }

  /** Removes a user's dead tokens. Returns how many. */
  async revokeAllExpiredUserTokens(userOrId: object | string | number): Promise<number> {
    const now = this.clock.now();
    const userId = this.idOf(userOrId);
    const removed = await this.storeWork(() =>
      this.store.cleanup(this.revocationMode(), now, userId),
    );
    // Removed rows could not authenticate at `now` and every hit re-checks expiry on the same
    // clock; pruning only frees their memory.
    this.cache?.prune(now);
    return removed;
  }

  /**
   * Removes every dead token (both parts expired, or past the absolute expiry), in short batches so
   * it can run on a schedule against a large table while requests are served. Returns how many.
   */
  async revokeExpiredTokens(): Promise<number> {
    const now = this.clock.now();
    const removed = await this.storeWork(() => this.store.cleanup(this.revocationMode(), now));
    this.cache?.prune(now);
    return removed;
  }

  private revocationMode(): 'delete' | 'mark' {
    return this.options.keepExpiredTokens ? 'mark' : 'delete';
  }

  /** A user's live sessions, newest first, without any secret or hash. */
  async listUserTokens(userOrId: object | string | number): Promise<SessionInfo[]> {
    const userId = this.idOf(userOrId);
    const tokens = await this.storeWork(() => this.store.listLive(userId, this.clock.now()));
    return tokens.map((token) => ({
      id: token.id,
      authType: token.authType,
      client: token.client?.name ?? null,
      context: { ...token.context },
      createdAt: token.createdAt,
      lastUsedAt: token.lastUsedAt,
      expiresAt: token.expiresAt,
      refreshExpiresAt: token.refreshExpiresAt,
      absoluteExpiresAt: token.absoluteExpiresAt,
    }));
  }

  // ---------------------------------------------------------------- clients

  /** Creates a client with its own token lifetimes. */
  async createClient(input: CreateClientOptions): Promise<ClientEntity> {
    if (input === null || typeof input !== 'object') {
      throw new InvalidClientError('input', `must be an object (got ${describe(input)})`);
    }
    const { name } = input;
    if (!isStorableString(name, CLIENT_NAME_MAX)) {
      throw new InvalidClientError(
        'name',
        `must be a string of 1 to ${CLIENT_NAME_MAX} characters without control characters`,
      );
    }
    const tokenTtl = this.clientSeconds(input.tokenTtl, 'tokenTtl');
    const refreshTokenTtl = this.clientSeconds(input.refreshTokenTtl, 'refreshTokenTtl');
    if (tokenTtl === 0) {
      throw new InvalidClientError('tokenTtl', 'must be greater than 0');
    }
    const throttleRate = input.throttleRate ?? null;
    if (
      throttleRate !== null &&
      (typeof throttleRate !== 'string' || !THROTTLE_RATE_PATTERN.test(throttleRate))
    ) {
      throw new InvalidClientError(
        'throttleRate',
        `must look like '100/m' (periods s, m, h, d); got ${describe(throttleRate)}`,
      );
    }
    if (await this.storeWork(() => this.store.findClient(name))) {
      throw new ClientAlreadyExistsError(name);
    }
    const client = this.store.clients.create({
      name,
      tokenTtl,
      refreshTokenTtl,
      throttleRate,
      createdAt: new Date(this.clock.now()),
    });
    try {
      return await this.store.clients.save(client);
    } catch (error) {
      // Two creators raced past the check: the unique index decided.
      if (await this.storeWork(() => this.store.findClient(name))) {
        throw new ClientAlreadyExistsError(name);
      }
      throw new TokenStoreUnavailableError(error);
    }
  }

  private clientSeconds(value: unknown, field: string): number | null {
    if (value === undefined || value === null) return null;
    const parsed = tryParseDuration(value);
    if (parsed === undefined) {
      throw new InvalidClientError(
        field,
        `must be seconds or a string like '15m' (got ${describe(value)})`,
      );
    }
    return parsed / 1000;
  }

  /** The client named `name`; `null` when there is none (or the name could not be one). */
  getClient(name: string): Promise<ClientEntity | null> {
    return isStorableString(name, CLIENT_NAME_MAX)
      ? this.storeWork(() => this.store.findClient(name))
      : Promise.resolve(null);
  }

  /** Deletes a client and, with it, every token issued for it. */
  async deleteClient(name: string): Promise<boolean> {
    const client = await this.getClient(name);
    if (!client) return false;
    // A rare admin action: dropping the whole cache is simpler than a per-client index.
    await this.thenInvalidate(
      () =>
        this.storeWork(() =>
          this.store.tokens
            .createQueryBuilder()
            .delete()
            .where('client_id = :clientId', { clientId: client.id })
            .execute(),
        ),
      (cache) => cache.invalidateAll(),
    );
    await this.storeWork(() => this.store.clients.delete({ id: client.id }));
    return true;
  }

  // ---------------------------------------------------------------- helpers

  /** Marks a token for the caller: context access mode. */
  private prepare(token: T): T {
    token.strictContextAccess = this.options.strictContextAccess;
    return token;
  }

  private userIdOf(user: object): unknown {
    const id =
      user !== null && typeof user === 'object'
        ? (user as Record<string, unknown>)[this.options.userIdField]
        : undefined;
    if (id === undefined || id === null) {
      throw new InvalidTokenOptionsError(
        'user',
        `must be a saved user with '${this.options.userIdField}' set`,
      );
    }
    return id;
  }

  private idOf(userOrId: object | string | number): unknown {
    return typeof userOrId === 'object' ? this.userIdOf(userOrId) : userOrId;
  }

  /** Delivers an event about `token` (ids, user id, auth type, client; never a secret). */
  private emitFor(type: DurinEventType, token: T, reason: string | null, now: number): void {
    this.events?.emit(type, this.events.subjectOf(token, this.options.userIdField), reason, now);
  }

  private emitSubject(
    type: DurinEventType,
    subject: DurinEventSubject,
    reason: string | null,
    now: number,
  ): void {
    this.events?.emit(type, subject, reason, now);
  }

  /**
   * Runs store work off the authentication path: a failure is a {@link TokenStoreUnavailableError}
   * (a 503, never a 500), while errors of ours thrown inside (a refused session limit) pass as they
   * are. No deadline here: a write reported as failed must not commit afterwards.
   */
  private async storeWork<R>(work: () => Promise<R>): Promise<R> {
    try {
      return await work();
    } catch (error) {
      throw error instanceof DurinError ? error : new TokenStoreUnavailableError(error);
    }
  }

  /** Runs a store call on the authentication path; a failure or timeout means "unavailable". */
  private async guardStore<R>(work: () => Promise<R>): Promise<R> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new TokenStoreUnavailableError('timeout')),
        this.options.storeTimeoutMs,
      );
    });
    try {
      return await Promise.race([work(), timeout]);
    } catch (error) {
      throw error instanceof TokenStoreUnavailableError
        ? error
        : new TokenStoreUnavailableError(error);
    } finally {
      clearTimeout(timer);
    }
  }
}
