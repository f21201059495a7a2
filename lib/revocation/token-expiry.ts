import { Inject, Injectable, Optional } from '@nestjs/common';
import { DurinCacheService } from '../cache/durin-cache.service';
import { thenInvalidate } from '../cache/then-invalidate';
import { DURIN_CLOCK, DURIN_RESOLVED_OPTIONS } from '../durin.constants';
import { AbstractAuthToken } from '../entities/abstract-auth-token.entity';
import { idOf } from '../entities/user-id';
import { DurinEventsService } from '../events/durin-events.service';
import { emitTokenEvent } from '../events/emit-token-event';
import { Clock } from '../interfaces/clock.interface';
import { capped, later } from '../issuing/lifetimes';
import { ResolvedDurinOptions } from '../options/resolved-options';
import { guardStore, storeWork } from '../store/store-calls';
import { TokenStore } from '../store/token-store';
import { revocationMode } from './revocation-mode';

/**
 * Moves expiries without rotating: `renewToken` (durin's "refresh": extend by the token's own
 * lifetime, never past its absolute expiry), `expireToken` (end now, keep the row), and the
 * cleanup of dead rows for one user or all (`revokeAllExpiredUserTokens`,
 * `revokeExpiredTokens`).
 */
@Injectable()
export class TokenExpiry<T extends AbstractAuthToken = AbstractAuthToken> {
  constructor(
    @Inject(DURIN_RESOLVED_OPTIONS) private readonly options: ResolvedDurinOptions,
    @Inject(DURIN_CLOCK) private readonly clock: Clock,
    private readonly store: TokenStore<T>,
    // Optional so a unit built by hand (tests, scripts) works uncached and without events.
    @Optional() private readonly cache?: DurinCacheService,
    @Optional() private readonly events?: DurinEventsService,
  ) {}

  /** See `TokenService.renewToken`. */
  async renewToken(token: T): Promise<Date | null> {
    const now = this.clock.now();
    const expiresAt = capped(now, token.accessTtlMs, token.absoluteExpiresAt);
    const refreshExpiresAt =
      token.refreshExpiresAt === null
        ? null
        : later(token.refreshExpiresAt, capped(now, token.refreshTtlMs, token.absoluteExpiresAt));
    if (expiresAt !== null && expiresAt.getTime() <= now) {
      return null;
    }
    const extended = await thenInvalidate(
      this.cache,
      () =>
        guardStore(
          () => this.store.extend(token.id, expiresAt, refreshExpiresAt, now, true),
          this.options.storeTimeoutMs,
        ),
      (cache) => cache.invalidateToken(token.id),
    );
    if (!extended) {
      return null;
    }
    Object.assign(token, { expiresAt, refreshExpiresAt, lastRefreshedAt: new Date(now) });
    emitTokenEvent(this.events, this.options.userIdField, 'token_refreshed', token, 'renew', now);
    return expiresAt;
  }

  /** See `TokenService.expireToken`. */
  async expireToken(token: T): Promise<boolean> {
    const now = new Date(this.clock.now());
    const done = await thenInvalidate(
      this.cache,
      () =>
        guardStore(
          () =>
            this.store.extend(
              token.id,
              now,
              token.refreshExpiresAt === null ? null : now,
              now.getTime(),
            ),
          this.options.storeTimeoutMs,
        ),
      (cache) => cache.invalidateToken(token.id),
    );
    if (done) {
      token.expiresAt = now;
      token.refreshExpiresAt = token.refreshExpiresAt === null ? null : now;
      emitTokenEvent(
        this.events,
        this.options.userIdField,
        'token_expired',
        token,
        'expire_token',
        now.getTime(),
      );
    }
    return done;
  }

  /** See `TokenService.revokeAllExpiredUserTokens`. */
  async revokeAllExpiredUserTokens(userOrId: object | string | number): Promise<number> {
    const now = this.clock.now();
    const userId = idOf(userOrId, this.options.userIdField);
    const removed = await storeWork(() =>
      this.store.cleanup(revocationMode(this.options), now, userId),
    );
    // Removed rows could not authenticate at `now` and every hit re-checks expiry on the same
    // clock; pruning only frees their memory.
    this.cache?.prune(now);
    return removed;
  }

  /**
   * See `TokenService.revokeExpiredTokens`. An aborted `signal` (the background cleanup on
   * shutdown) stops between two batches and returns what was removed so far.
   */
  async revokeExpiredTokens(signal?: AbortSignal): Promise<number> {
    const now = this.clock.now();
    const retention = this.options.keptTokensRetentionMs;
    const keptUntil =
      this.options.keepExpiredTokens && retention !== null ? now - retention : undefined;
    const removed = await storeWork(() =>
      this.store.cleanup(revocationMode(this.options), now, undefined, keptUntil, signal),
    );
    this.cache?.prune(now);
    return removed;
  }
}
