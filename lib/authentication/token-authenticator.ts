import { Inject, Injectable, Optional } from '@nestjs/common';
import { DurinCacheService } from '../cache/durin-cache.service';
import { DURIN_CLOCK, DURIN_RESOLVED_OPTIONS } from '../durin.constants';
import { AbstractAuthToken } from '../entities/abstract-auth-token.entity';
import { DurinEventsService } from '../events/durin-events.service';
import { emitTokenEvent } from '../events/emit-token-event';
import { Clock } from '../interfaces/clock.interface';
import { AuthType } from '../interfaces/durin-module-options.interface';
import { AuthenticationResult } from '../interfaces/token-set.interface';
import { capped, later } from '../issuing/lifetimes';
import { ResolvedDurinOptions } from '../options/resolved-options';
import { guardStore } from '../store/store-calls';
import { TokenStore } from '../store/token-store';
import { TokenSecrets } from '../tokens/token-secrets';

type Touched = 'none' | 'written' | 'slid' | 'missed';

type Checked<T> =
  | { ok: true; token: T; cacheKey: string; cached: boolean }
  | { ok: false; reason: 'token_invalid' | 'token_expired' | 'user_inactive' };

/**
 * The request path after the guard has extracted a credential: format, then the token cache,
 * then the store, then the checks (revoked, auth type, expiry, active user), then the coalesced
 * `lastUsedAt` write and slide (`touch`), then the post-auth hooks. Behind
 * `TokenService.authenticate` and `TokenService.verifyToken`; store failures and timeouts are
 * {@link TokenStoreUnavailableError} so callers fail closed.
 */
@Injectable()
export class TokenAuthenticator<T extends AbstractAuthToken = AbstractAuthToken> {
  constructor(
    @Inject(DURIN_RESOLVED_OPTIONS) private readonly options: ResolvedDurinOptions,
    @Inject(DURIN_CLOCK) private readonly clock: Clock,
    private readonly store: TokenStore<T>,
    private readonly secrets: TokenSecrets,
    // Optional so a unit built by hand (tests, scripts) works uncached and without events.
    @Optional() private readonly cache?: DurinCacheService,
    @Optional() private readonly events?: DurinEventsService,
  ) {}

  /** See `TokenService.verifyToken`. */
  async verifyToken(raw: unknown, authType?: AuthType): Promise<T | null> {
    const result = await this.check(raw, authType);
    return result.ok ? result.token : null;
  }

  /** See `TokenService.authenticate`. */
  async authenticate(raw: unknown, authType: AuthType): Promise<AuthenticationResult<T>> {
    // check and touch answer a cache hit with no write due synchronously: no promise of their own.
    const first = this.check(raw, authType);
    let checked = first instanceof Promise ? await first : first;
    if (!checked.ok) {
      return checked;
    }
    const touching = this.touch(checked.token, checked.cacheKey);
    let touched = touching instanceof Promise ? await touching : touching;
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
      emitTokenEvent(
        this.events,
        this.options.userIdField,
        'token_auto_refreshed',
        checked.token,
        null,
        this.clock.now(),
      );
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
  private check(
    raw: unknown,
    authType: AuthType | undefined,
    readCache = true,
  ): Checked<T> | Promise<Checked<T>> {
    // Format and checksum first: junk never costs a hash or a query (REQ-GEN-03). The tag (an
    // HMAC) waits for a cache miss: only tokens that passed it once can be in the cache.
    const format = this.secrets.format;
    if (format.parse(raw, false) !== 'access') {
      return { ok: false, reason: 'token_invalid' };
    }
    const rawToken = raw as string;
    const hasher = this.secrets.hasher;
    // Keyed by the hash under the newest pepper, never by the raw token (REQ-CACHE-04). A hit needs
    // only that one; the other peppers' hashes are made for the store read.
    const cacheKey = hasher.hash(rawToken);
    const cache = this.cache?.enabled ? this.cache : undefined;
    const hit = readCache
      ? (cache?.lookup(cacheKey, this.clock.now()) as T | undefined)
      : undefined;
    if (hit !== undefined) {
      return this.accept(hit, authType, cacheKey, true);
    }
    return this.checkStored(rawToken, authType, cacheKey);
  }

  /** {@link check} after a cache miss: the tag, the unknown-token cache, then one query. */
  private async checkStored(
    rawToken: string,
    authType: AuthType | undefined,
    cacheKey: string,
  ): Promise<Checked<T>> {
    const hasher = this.secrets.hasher;
    const cache = this.cache?.enabled ? this.cache : undefined;
    // Before the unknown-token cache and the store: a forged token costs no query and takes no
    // slot in the unknown-token cache (issue 12).
    if (!this.secrets.format.hasValidTag(rawToken)) {
      return { ok: false, reason: 'token_invalid' };
    }
    if (cache?.isKnownDead(cacheKey, this.clock.now())) {
      return { ok: false, reason: 'token_invalid' };
    }
    // Taken before the read: a revocation that lands while the query runs refuses the fill.
    const ticket = cache?.ticket() ?? 0;
    const found = await guardStore(
      () => this.store.findByAccessHash(hasher.candidates(rawToken)),
      this.options.storeTimeoutMs,
    );
    const readAt = this.clock.now();
    if (!found || found.revokedAt !== null) {
      cache?.rememberDead(cacheKey, readAt);
      return { ok: false, reason: 'token_invalid' };
    }
    const checked = this.accept(found, authType, cacheKey, false);
    if (!checked.ok) {
      return checked;
    }
    const live = found;
    if (hasher.isOutdated(rawToken, live.tokenHash)) {
      live.tokenHash = hasher.hash(rawToken);
      await guardStore(
        () => this.store.replaceAccessHash(live.id, live.tokenHash),
        this.options.storeTimeoutMs,
      );
    }
    cache?.fill(cacheKey, live, ticket, readAt);
    // Marked for the caller after the fill: the cache keeps the token as read.
    this.secrets.prepare(live);
    return checked;
  }

  /** The checks a token passes whether it came from the cache or the store. */
  private accept(
    token: T,
    authType: AuthType | undefined,
    cacheKey: string,
    cached: boolean,
  ): Checked<T> {
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
      emitTokenEvent(this.events, this.options.userIdField, 'token_expired', token, why, now);
      return { ok: false, reason: 'token_expired' };
    }
    // On a cache hit too: the user snapshot is from the read that filled the entry.
    if (!this.options.isUserActive(token.user)) {
      return { ok: false, reason: 'user_inactive' };
    }
    return { ok: true, token: cached ? this.secrets.prepare(token) : token, cacheKey, cached };
  }

  /**
   * Records use, and slides the expiry under `autoRefresh`: `'none'` when no write was due,
   * `'written'` / `'slid'` when the conditional write matched, `'missed'` when it matched no row.
   */
  private touch(token: T, cacheKey: string): Touched | Promise<Touched> {
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
    return this.write(token, cacheKey, now, due);
  }

  /** The due coalesced write of {@link touch}. */
  private async write(token: T, cacheKey: string, now: number, due: boolean): Promise<Touched> {
    const interval = this.options.autoRefreshIntervalMs;
    const changes: Parameters<TokenStore['touch']>[1] = { lastUsedAt: new Date(now) };
    const slide = due && this.options.autoRefresh && token.expiresAt !== null;
    if (slide) {
      changes.expiresAt = later(
        token.expiresAt,
        capped(now, token.accessTtlMs, token.absoluteExpiresAt),
      );
      if (token.refreshExpiresAt !== null) {
        changes.refreshExpiresAt = later(
          token.refreshExpiresAt,
          capped(now, token.refreshTtlMs, token.absoluteExpiresAt),
        );
      }
      changes.lastRefreshedAt = new Date(now);
    }
    const written = await guardStore(
      () => this.store.touch(token.id, changes, now, interval),
      this.options.storeTimeoutMs,
    );
    if (!written) {
      return 'missed';
    }
    Object.assign(token, changes);
    this.cache?.recordWrite(cacheKey, changes);
    return slide ? 'slid' : 'written';
  }
}
