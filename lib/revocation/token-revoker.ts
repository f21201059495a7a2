import { Inject, Injectable, Optional } from '@nestjs/common';
import { DurinCacheService } from '../cache/durin-cache.service';
import { thenInvalidate } from '../cache/then-invalidate';
import { DURIN_CLOCK, DURIN_RESOLVED_OPTIONS } from '../durin.constants';
import { AbstractAuthToken, RevocationReason } from '../entities/abstract-auth-token.entity';
import { idOf, userIdOf } from '../entities/user-id';
import { DurinEventsService } from '../events/durin-events.service';
import { emitTokenEvent } from '../events/emit-token-event';
import { Clock } from '../interfaces/clock.interface';
import { ResolvedDurinOptions } from '../options/resolved-options';
import { lockUserSessions } from '../store/security-queries';
import { guardStore } from '../store/store-calls';
import { isStorableString, TOKEN_ID_MAX } from '../store/stored-strings';
import { TokenStore } from '../store/token-store';
import { revocationMode, revokeUserTokens } from './revocation-mode';

/**
 * Ends sessions: one session (`revokeToken`, `revokeUserSession`), a whole family (also for
 * refresh reuse detection), every session of a user (logout-all), and drops a user from the
 * token cache (`invalidateUser`). Every revocation runs under the user's lock, resolves only
 * once the write committed and the cache dropped the entries, and throws
 * {@link TokenStoreUnavailableError} when the store fails.
 */
@Injectable()
export class TokenRevoker<T extends AbstractAuthToken = AbstractAuthToken> {
  constructor(
    @Inject(DURIN_RESOLVED_OPTIONS) private readonly options: ResolvedDurinOptions,
    @Inject(DURIN_CLOCK) private readonly clock: Clock,
    private readonly store: TokenStore<T>,
    // Optional so a unit built by hand (tests, scripts) works uncached and without events.
    @Optional() private readonly cache?: DurinCacheService,
    @Optional() private readonly events?: DurinEventsService,
  ) {}

  /** See `TokenService.revokeToken`. */
  async revokeToken(tokenOrId: T | string): Promise<boolean> {
    const id = typeof tokenOrId === 'string' ? tokenOrId : tokenOrId.id;
    if (!isStorableString(id, TOKEN_ID_MAX)) {
      return false;
    }
    // Loaded with its user and client when only the id is given: the event names them.
    const token =
      typeof tokenOrId === 'string'
        ? await guardStore(() => this.store.findById(id), this.options.storeTimeoutMs)
        : tokenOrId;
    if (!token?.familyId) {
      return false;
    }
    const userId = await this.ownerIdOf(token);
    const now = this.clock.now();
    const ended = (await this.revokeFamily(token.familyId, 'logout', now, userId)) > 0;
    if (ended) {
      emitTokenEvent(this.events, this.options.userIdField, 'token_revoked', token, 'logout', now);
    }
    return ended;
  }

  /** See `TokenService.revokeUserSession`. */
  async revokeUserSession(userOrId: object | string | number, sessionId: string): Promise<boolean> {
    if (!isStorableString(sessionId, TOKEN_ID_MAX)) {
      return false;
    }
    const userId = idOf(userOrId, this.options.userIdField);
    const familyId = await guardStore(
      () => this.store.findLiveFamilyOfUserToken(sessionId, userId),
      this.options.storeTimeoutMs,
    );
    if (familyId === null) {
      return false;
    }
    const now = this.clock.now();
    const ended = (await this.revokeFamily(familyId, 'revoked', now, userId)) > 0;
    if (ended) {
      this.events?.emit('token_revoked', { tokenId: sessionId, familyId, userId }, 'revoked', now);
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
    const stored = await guardStore(
      () => this.store.findById(token.id),
      this.options.storeTimeoutMs,
    );
    return stored ? userIdOf(stored.user, this.options.userIdField) : undefined;
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
  revokeFamily(
    familyId: string,
    reason: RevocationReason,
    now: number,
    userId: unknown,
  ): Promise<number> {
    return thenInvalidate(
      this.cache,
      () =>
        guardStore(
          () =>
            this.store.transaction(async (manager) => {
              if (userId !== undefined && userId !== null) {
                await lockUserSessions(this.store, manager, userId);
              }
              return this.store.revokeWhere(
                'family_id = :familyId',
                { familyId },
                revocationMode(this.options),
                reason,
                now,
                manager,
              );
            }),
          this.options.storeTimeoutMs,
        ),
      (cache) => cache.invalidateFamily(familyId),
    );
  }

  /** See `TokenService.revokeAllUserTokens`. */
  async revokeAllUserTokens(userOrId: object | string | number): Promise<number> {
    const userId = idOf(userOrId, this.options.userIdField);
    const now = this.clock.now();
    const ended = await thenInvalidate(
      this.cache,
      () =>
        guardStore(
          () =>
            // Under the user's lock, for the same reason as revokeFamily (I5: nothing created
            // before the call survives it, not even a child of a rotation in flight).
            this.store.transaction(async (manager) => {
              await lockUserSessions(this.store, manager, userId);
              return revokeUserTokens(this.store, this.options, userId, 'logout_all', now, manager);
            }),
          this.options.storeTimeoutMs,
        ),
      (cache) => cache.invalidateUser(userId),
    );
    this.events?.emit('logout_all', { userId }, 'logout_all', now);
    return ended;
  }

  /** See `TokenService.invalidateUser`. */
  async invalidateUser(userOrId: object | string | number): Promise<void> {
    if (this.cache?.enabled) {
      await this.cache.invalidateUser(idOf(userOrId, this.options.userIdField));
    }
  }
}
