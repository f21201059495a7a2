import { Inject, Injectable, Optional } from '@nestjs/common';
import { notGranted, parseAbilities, storedAbilities } from '../abilities/abilities';
import { InvalidAbilitiesError } from '../abilities/ability-errors';
import { DurinCacheService } from '../cache/durin-cache.service';
import { thenInvalidate } from '../cache/then-invalidate';
import { DURIN_CLOCK, DURIN_RESOLVED_OPTIONS } from '../durin.constants';
import { AbstractAuthToken } from '../entities/abstract-auth-token.entity';
import { isPlainContext } from '../entities/token-context';
import { userIdOf } from '../entities/user-id';
import { InvalidTokenOptionsError } from '../errors/token-errors';
import { DurinEventsService } from '../events/durin-events.service';
import { emitTokenEvent } from '../events/emit-token-event';
import { Clock } from '../interfaces/clock.interface';
import { RefreshTokenOptions, TokenSet } from '../interfaces/token-set.interface';
import { describe } from '../options/duration';
import { ResolvedDurinOptions } from '../options/resolved-options';
import { revocationMode } from '../revocation/revocation-mode';
import { TokenRevoker } from '../revocation/token-revoker';
import { clearGracePayload, lockUserSessions } from '../store/security-queries';
import { guardStore } from '../store/store-calls';
import { TokenStore } from '../store/token-store';
import { sealGracePair } from '../tokens/grace-payload';
import { TokenSecrets } from '../tokens/token-secrets';
import { GraceReplay } from './grace-replay';

/**
 * Refresh-token rotation (`TokenService.refreshToken`): one winner per parent, the new pair
 * minted in the same transaction that consumes the old one, the grace window for a racing tab
 * ({@link GraceReplay}), and reuse detection: a rotated refresh token presented again outside
 * the window revokes its whole family (RFC 9700 §4.14.2) and emits `refresh_reuse_detected`.
 */
@Injectable()
export class TokenRotator<T extends AbstractAuthToken = AbstractAuthToken> {
  constructor(
    @Inject(DURIN_RESOLVED_OPTIONS) private readonly options: ResolvedDurinOptions,
    @Inject(DURIN_CLOCK) private readonly clock: Clock,
    private readonly store: TokenStore<T>,
    private readonly secrets: TokenSecrets,
    private readonly revoker: TokenRevoker<T>,
    private readonly grace: GraceReplay<T>,
    // Optional so a unit built by hand (tests, scripts) works uncached and without events.
    @Optional() private readonly cache?: DurinCacheService,
    @Optional() private readonly events?: DurinEventsService,
  ) {}

  /** See `TokenService.refreshToken`. */
  async refreshToken(
    rawRefresh: unknown,
    opts: RefreshTokenOptions = {},
  ): Promise<TokenSet<T> | null> {
    if (this.secrets.format.parse(rawRefresh) !== 'refresh') {
      return null;
    }
    if (opts.context !== undefined && !isPlainContext(opts.context)) {
      throw new InvalidTokenOptionsError(
        'context',
        `must be a plain JSON object (got ${describe(opts.context)})`,
      );
    }
    // Malformed abilities are refused before any lookup; whether they are held, once the token is.
    const abilities =
      opts.abilities === undefined ? undefined : parseAbilities(opts.abilities, 'abilities');
    const raw = rawRefresh as string;
    const hasher = this.secrets.hasher;
    const parent = await guardStore(
      () => this.store.findByRefreshHash(hasher.candidates(raw)),
      this.options.storeTimeoutMs,
    );
    if (!parent) {
      return null;
    }
    // Before anything else, spent tokens included: a pair that does not belong together is no
    // request of that session's (a planted or stale refresh cookie), so it neither rotates nor
    // counts as reuse; it writes nothing.
    if (
      opts.accessToken !== undefined &&
      (typeof opts.accessToken !== 'string' ||
        !hasher.candidates(opts.accessToken).includes(parent.tokenHash))
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
      emitTokenEvent(this.events, this.options.userIdField, 'token_expired', parent, why, now);
      return null;
    }
    if (!this.options.isUserActive(parent.user)) {
      return null;
    }
    if (abilities !== undefined) {
      // Narrowing only (RFC 6749 §6): `['*']` or `orders:*` from a token holding `orders:read`
      // is refused, and the refresh token stays usable (nothing was written).
      const missing = notGranted(storedAbilities(parent.abilities), abilities);
      if (missing.length > 0) {
        throw new InvalidAbilitiesError('not_granted', `not held: ${missing.join(' ')}`);
      }
    }
    return this.rotate(parent, raw, { ...opts, abilities }, now);
  }

  /** Consumes the live `parent` and mints its child, or decides as a later presentation. */
  private async rotate(
    parent: T,
    raw: string,
    opts: RefreshTokenOptions,
    now: number,
  ): Promise<TokenSet<T> | null> {
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
      abilities:
        opts.abilities !== undefined
          ? [...opts.abilities]
          : Array.isArray(parent.abilities)
            ? [...parent.abilities]
            : null,
      createdAt: new Date(now),
      accessTtlMs: parent.accessTtlMs,
      refreshTtlMs: parent.refreshTtlMs,
      absoluteExpiresAt: parent.absoluteExpiresAt,
      lastRefreshedAt: new Date(now),
      lastUsedAt: null,
      revokedAt: null,
      revokedReason: null,
    });
    const secrets = this.secrets.mint(child, now);
    // The new pair, openable only with the parent's refresh token, for a racing tab (grace window).
    const gracePayload =
      this.options.refreshReuseGraceMs > 0 && secrets.refresh !== null
        ? sealGracePair(raw, parent.id, child.id, {
            access: secrets.access,
            refresh: secrets.refresh,
          })
        : null;
    // Consume and mint commit together: a failure in between leaves the parent usable (REQ-FAIL-03).
    const won = await thenInvalidate(
      this.cache,
      () =>
        guardStore(
          () =>
            this.store.transaction(async (manager) => {
              // The user's lock orders this rotation against revocations of the user's tokens: a
              // logout that starts while we rotate must see (and end) the child we insert (I1).
              await lockUserSessions(
                this.store,
                manager,
                userIdOf(parent.user, this.options.userIdField),
              );
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
          this.options.storeTimeoutMs,
        ),
      // The parent's access token stops working with the rotation.
      (cache) => cache.invalidateToken(parent.id),
    );
    if (!won) {
      // Another request rotated (or revoked) the parent since we read it. This one came second,
      // so it is decided like a later presentation: the same pair within the grace window, else
      // reuse (or nothing, if the parent was revoked for another reason).
      const current = await guardStore(
        () => this.store.findById(parent.id),
        this.options.storeTimeoutMs,
      );
      return current !== null && current.revokedAt !== null
        ? this.presentedAgain(current, raw, opts, this.clock.now())
        : null;
    }
    emitTokenEvent(
      this.events,
      this.options.userIdField,
      'token_refreshed',
      child,
      'rotation',
      now,
    );
    return this.secrets.tokenSet(child, secrets);
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
    const replay = await this.grace.replay(parent, raw, opts, now);
    if (replay !== null) {
      emitTokenEvent(
        this.events,
        this.options.userIdField,
        'token_refreshed',
        replay.token,
        'grace_replay',
        now,
      );
      return replay;
    }
    await this.revoker.revokeFamily(
      parent.familyId,
      'reuse_detected',
      now,
      userIdOf(parent.user, this.options.userIdField),
    );
    if (revocationMode(this.options) === 'mark') {
      // Kept rows must not keep an openable pair either.
      await guardStore(
        () => clearGracePayload(this.store, { familyId: parent.familyId }),
        this.options.storeTimeoutMs,
      );
    }
    emitTokenEvent(
      this.events,
      this.options.userIdField,
      'refresh_reuse_detected',
      parent,
      'reuse_detected',
      now,
    );
    return null;
  }
}
