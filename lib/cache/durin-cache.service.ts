import { randomUUID } from 'node:crypto';
import { Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AbstractAuthToken } from '../entities/abstract-auth-token.entity';
import { DurinConfigurationError } from '../errors/durin-configuration.error';
import { ResolvedDurinOptions } from '../options/resolved-options';
import {
  decodeInvalidation,
  encodeInvalidation,
  InvalidationChannel,
  InvalidationMessage,
  withTimeout,
} from './invalidation-channel';
import { isPostgres, PostgresInvalidationChannel } from './postgres-channel';
import { RedisInvalidationChannel } from './redis-channel';
import { CachedTokenChanges, FillTicket, TokenCache, TokenCacheStats } from './token-cache';
import { UnknownTokenCache } from './unknown-token-cache';

/**
 * Longest a revocation waits for its broadcast. Past it the revocation still returns (it has
 * committed); the other instances then drop the entry through their channel health check or ttl.
 */
const PUBLISH_TIMEOUT_MS = 1_000;

/** Cache and channel counters, for monitoring, tests and the benchmark. */
export interface DurinCacheStats extends TokenCacheStats {
  enabled: boolean;
  /** `'postgres'`, `'redis'` or `null` without a channel. */
  channel: string | null;
  /** Whether the cache is used right now (false while the channel is down). */
  trusted: boolean;
  unknownSize: number;
  received: number;
  published: number;
  publishFailures: number;
}

/**
 * The token cache of one instance and its link to the other instances.
 *
 * {@link TokenService} asks it before the database and tells it about every revocation; it drops
 * the affected entries here at once and broadcasts the same message to the other instances.
 * Whenever the channel is down the cache is cleared and bypassed (every request goes to the
 * database, never fails open), because messages missed in that time would leave revoked tokens
 * cached (SECURITY-CHECKLIST REQ-CACHE-05, F9).
 *
 * Exported for monitoring ({@link stats}) and tests; applications normally only use
 * `TokenService.invalidateUser()`.
 */
export class DurinCacheService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('DurinCache');
  /** Identifies this instance's own messages on the channel. */
  private readonly origin = randomUUID();
  private readonly tokens: TokenCache | undefined;
  private readonly unknown: UnknownTokenCache | undefined;
  private readonly channel: InvalidationChannel | undefined;
  private trusted: boolean;
  private received = 0;
  private published = 0;
  private publishFailures = 0;

  constructor(
    private readonly options: ResolvedDurinOptions,
    dataSource: DataSource,
  ) {
    const cache = options.cache;
    if (cache === false) {
      this.trusted = false;
      return;
    }
    this.tokens = new TokenCache(cache.max, cache.ttlMs, (token) => this.userKeyOf(token));
    if (cache.negativeMax > 0) {
      this.unknown = new UnknownTokenCache(cache.negativeMax, cache.ttlMs);
    }
    // 'auto' picks the database's own channel, which only PostgreSQL has; on MySQL/MariaDB and
    // SQLite it means none, and the short `ttl` bounds staleness (see DurinInvalidationOption).
    const invalidation =
      cache.invalidation === 'auto'
        ? isPostgres(dataSource)
          ? 'postgres'
          : false
        : cache.invalidation;
    if (invalidation === 'postgres') {
      if (!isPostgres(dataSource)) {
        throw new DurinConfigurationError(
          'cache.invalidation',
          "'postgres' needs a PostgreSQL data source",
        );
      }
      this.channel = new PostgresInvalidationChannel(dataSource, cache.channel, this.logger);
    } else if (invalidation !== false) {
      this.channel = new RedisInvalidationChannel(invalidation.redis, cache.channel, this.logger);
    }
    // With a channel, nothing is trusted until the subscription is confirmed.
    this.trusted = this.channel === undefined;
  }

  async onModuleInit(): Promise<void> {
    await this.channel?.start({
      message: (payload) => this.receive(payload),
      health: (up) => this.setTrusted(up),
    });
  }

  async onModuleDestroy(): Promise<void> {
    this.trusted = false;
    await this.channel?.close();
  }

  /** Whether the `cache` option is on. */
  get enabled(): boolean {
    return this.tokens !== undefined;
  }

  /** @internal A copy of the cached verified token for this access hash, if usable. */
  lookup(key: string, now: number): AbstractAuthToken | undefined {
    return this.trusted ? this.tokens?.get(key, now) : undefined;
  }

  /** @internal Whether this hash was recently found unknown or revoked. */
  isKnownDead(key: string, now: number): boolean {
    return this.trusted && this.unknown !== undefined && this.unknown.has(key, now);
  }

  /** @internal To be taken before the database read whose result may be cached. */
  ticket(): FillTicket {
    return this.tokens?.ticket() ?? 0;
  }

  /** @internal Caches a token that passed every check. */
  fill(key: string, token: AbstractAuthToken, ticket: FillTicket, now: number): void {
    if (this.trusted) this.tokens?.set(key, token, ticket, now);
  }

  /** @internal Remembers a hash the database did not know, or knew as revoked. */
  rememberDead(key: string, now: number): void {
    if (this.trusted) this.unknown?.add(key, now);
  }

  /** @internal Applies a committed touch to the cached entry. */
  recordWrite(key: string, changes: CachedTokenChanges): void {
    this.tokens?.update(key, changes);
  }

  /** @internal Drops one entry found stale on this instance (nothing to tell the others). */
  forget(key: string): void {
    this.tokens?.delete(key);
  }

  /** @internal Drops entries expired at `now` (after a cleanup run). */
  prune(now: number): void {
    this.tokens?.prune(now);
  }

  /** Drops the cached token with this id, here and on the other instances. */
  invalidateToken(id: string): Promise<void> {
    return this.invalidate({ kind: 'token', id });
  }

  /** Drops every cached token of a session family, here and on the other instances. */
  invalidateFamily(familyId: string): Promise<void> {
    return this.invalidate({ kind: 'family', id: familyId });
  }

  /** Drops every cached token of a user (by id), here and on the other instances. */
  invalidateUser(userId: unknown): Promise<void> {
    return this.invalidate({ kind: 'user', id: String(userId) });
  }

  /** Drops the whole cache, here and on the other instances. */
  invalidateAll(): Promise<void> {
    return this.invalidate({ kind: 'all' });
  }

  /** The cache keys (access-token hashes), least recently used first. */
  keys(): string[] {
    return this.tokens?.keys() ?? [];
  }

  stats(): DurinCacheStats {
    const base: TokenCacheStats = this.tokens?.stats() ?? {
      size: 0,
      hits: 0,
      misses: 0,
      fills: 0,
      refusedFills: 0,
      evictions: 0,
      invalidations: 0,
    };
    return {
      ...base,
      enabled: this.enabled,
      channel: this.channel?.kind ?? null,
      trusted: this.trusted,
      unknownSize: this.unknown?.size ?? 0,
      received: this.received,
      published: this.published,
      publishFailures: this.publishFailures,
    };
  }

  /**
   * Local drop first (synchronous, so the next request here is refused whatever happens next),
   * then the broadcast. A failed broadcast is logged, not thrown: the revocation itself committed,
   * and the other instances are covered by the ttl bound (and by their own channel health check).
   */
  private async invalidate(message: InvalidationMessage): Promise<void> {
    if (this.tokens === undefined) return;
    this.apply(message);
    if (this.channel === undefined) return;
    try {
      await withTimeout(
        this.channel.publish(encodeInvalidation(this.origin, message)),
        Math.min(this.options.storeTimeoutMs, PUBLISH_TIMEOUT_MS),
        'publishing a cache invalidation',
      );
      this.published += 1;
    } catch (error) {
      this.publishFailures += 1;
      this.logger.warn(
        `cache invalidation (${message.kind}) not sent to the other instances (${String(error)}); ` +
          `they drop the entry within the cache ttl`,
      );
    }
  }

  private apply(message: InvalidationMessage): void {
    const tokens = this.tokens;
    if (tokens === undefined) return;
    switch (message.kind) {
      case 'token':
        tokens.invalidateToken(message.id);
        return;
      case 'family':
        tokens.invalidateFamily(message.id);
        return;
      case 'user':
        tokens.invalidateUser(message.id);
        return;
      case 'all':
        tokens.clear();
        this.unknown?.clear();
        return;
    }
  }

  private receive(payload: string): void {
    const decoded = decodeInvalidation(payload);
    if (decoded === null || decoded.origin === this.origin) return;
    this.received += 1;
    this.apply(decoded.message);
  }

  private setTrusted(up: boolean): void {
    // Both ways the cache starts empty: entries from before a gap may have missed messages, and
    // clear() also refuses fills whose reads began before it.
    this.tokens?.clear();
    this.unknown?.clear();
    this.trusted = up;
    this.logger.log(
      up
        ? `cache invalidation over ${this.channel?.kind} is up: token cache in use`
        : `cache invalidation over ${this.channel?.kind} is down: token cache bypassed`,
    );
  }

  private userKeyOf(token: AbstractAuthToken): string {
    const user = token.user as Record<string, unknown> | null | undefined;
    return String(user?.[this.options.userIdField]);
  }
}
