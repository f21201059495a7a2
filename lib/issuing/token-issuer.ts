import { Inject, Injectable, Optional } from '@nestjs/common';
import { ALL_ABILITIES, parseAbilities } from '../abilities/abilities';
import { EntityManager } from 'typeorm';
import { DurinCacheService } from '../cache/durin-cache.service';
import { thenInvalidate } from '../cache/then-invalidate';
import { DURIN_CLOCK, DURIN_RESOLVED_OPTIONS } from '../durin.constants';
import { AbstractAuthToken } from '../entities/abstract-auth-token.entity';
import { ClientEntity } from '../entities/client.entity';
import { isPlainContext } from '../entities/token-context';
import { userIdOf } from '../entities/user-id';
import { InvalidTokenOptionsError, UnknownClientError } from '../errors/token-errors';
import { DurinEventsService } from '../events/durin-events.service';
import { emitTokenEvent } from '../events/emit-token-event';
import { Clock } from '../interfaces/clock.interface';
import { AuthType } from '../interfaces/durin-module-options.interface';
import { GenerateTokenOptions, TokenSet } from '../interfaces/token-set.interface';
import { describe } from '../options/duration';
import { ResolvedDurinOptions } from '../options/resolved-options';
import { revokeUserTokens } from '../revocation/revocation-mode';
import { lockUserSessions, SessionHead } from '../store/security-queries';
import { storeWork } from '../store/store-calls';
import { CLIENT_NAME_MAX, isStorableString } from '../store/stored-strings';
import { TokenStore } from '../store/token-store';
import { TokenSecrets } from '../tokens/token-secrets';
import { absoluteExpiry, lifetimesFor } from './lifetimes';
import { endClientSessions } from './one-token-per-client';
import { makeRoomForSession, sessionLimitFor } from './session-limit';

/**
 * Runs in the issuing transaction under the user's lock and may refuse the token by throwing;
 * nothing is written then.
 */
export type BeforeInsertHook = (
  manager: EntityManager,
  userId: unknown,
  now: number,
) => Promise<void>;

/**
 * Issues new sessions: checks the arguments, decides the lifetimes (call, client, module),
 * applies `enforceSingleLogin`, `oneTokenPerClient` and `maxSessionsPerUser` under the user's
 * lock, inserts the token and emits `token_created`. Behind `TokenService.generateHeaderToken` / `generateCookieToken`.
 */
@Injectable()
export class TokenIssuer<T extends AbstractAuthToken = AbstractAuthToken> {
  constructor(
    @Inject(DURIN_RESOLVED_OPTIONS) private readonly options: ResolvedDurinOptions,
    @Inject(DURIN_CLOCK) private readonly clock: Clock,
    private readonly store: TokenStore<T>,
    private readonly secrets: TokenSecrets,
    // Optional so a unit built by hand (tests, scripts) works uncached and without events.
    @Optional() private readonly cache?: DurinCacheService,
    @Optional() private readonly events?: DurinEventsService,
  ) {}

  /** Issues a token that only works in the `Authorization` header. */
  generateHeaderToken(user: object, opts?: GenerateTokenOptions): Promise<TokenSet<T>> {
    return this.issue(user, 'header', opts);
  }

  /** Issues a token that only works in the auth cookie. */
  generateCookieToken(user: object, opts?: GenerateTokenOptions): Promise<TokenSet<T>> {
    return this.issue(user, 'cookie', opts);
  }

  /** Issues a session of `authType`; see {@link BeforeInsertHook} for `beforeInsert`. */
  async issue(
    user: object,
    authType: AuthType,
    opts: GenerateTokenOptions = {},
    beforeInsert?: BeforeInsertHook,
  ): Promise<TokenSet<T>> {
    // Every argument is checked before anything is written.
    if (opts === null || typeof opts !== 'object') {
      throw new InvalidTokenOptionsError('opts', `must be an object (got ${describe(opts)})`);
    }
    const userId = userIdOf(user, this.options.userIdField);
    const context = opts.context === undefined ? {} : opts.context;
    if (!isPlainContext(context)) {
      throw new InvalidTokenOptionsError(
        'context',
        `must be a plain JSON object (got ${describe(context)})`,
      );
    }
    // Checked before the client lookup: a malformed list is refused without a query.
    const ownAbilities =
      opts.abilities === undefined ? undefined : parseAbilities(opts.abilities, 'abilities');
    const client = opts.client === undefined ? null : await this.findClient(opts.client);
    const lifetimes = lifetimesFor(this.options, client, opts);

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
    token.abilities = ownAbilities ?? [...(client?.abilities ?? ALL_ABILITIES)];
    token.createdAt = new Date(now);
    token.accessTtlMs = lifetimes.accessTtlMs;
    token.refreshTtlMs = lifetimes.refreshTtlMs;
    token.absoluteExpiresAt = absoluteExpiry(this.options, now, lifetimes);
    token.lastRefreshedAt = null;
    token.lastUsedAt = null;
    token.revokedAt = null;
    token.revokedReason = null;
    const secrets = this.secrets.mint(token, now);

    const limit = sessionLimitFor(this.options, token);
    const pairClient = this.options.oneTokenPerClient ? client : null;
    if (
      this.options.enforceSingleLogin ||
      limit !== null ||
      pairClient !== null ||
      beforeInsert !== undefined
    ) {
      await this.insertLocked(token, userId, limit, pairClient, now, beforeInsert);
    } else {
      await storeWork(() => this.store.insert(token));
    }
    emitTokenEvent(this.events, this.options.userIdField, 'token_created', token, null, now);
    return this.secrets.tokenSet(token, secrets);
  }

  private async findClient(name: unknown): Promise<ClientEntity> {
    if (!isStorableString(name, CLIENT_NAME_MAX)) {
      throw new InvalidTokenOptionsError(
        'client',
        `must be a client name of 1 to ${CLIENT_NAME_MAX} characters without control characters (got ${describe(name)})`,
      );
    }
    const client = await storeWork(() => this.store.findClient(name));
    if (!client) {
      throw new UnknownClientError(name);
    }
    return client;
  }

  /**
   * The insert under the user's lock, with single login, one session per client (`pairClient`),
   * the session limit and the hook.
   */
  private async insertLocked(
    token: T,
    userId: unknown,
    limit: number | null,
    pairClient: ClientEntity | null,
    now: number,
    beforeInsert: BeforeInsertHook | undefined,
  ): Promise<void> {
    const single = this.options.enforceSingleLogin;
    // What the transaction ended, for the cache and the events (filled in inside it).
    let endedAll = 0;
    let ended: SessionHead[] = [];
    let endedOfClient: SessionHead[] = [];
    await thenInvalidate(
      this.cache,
      () =>
        storeWork(() =>
          this.store.transaction(async (manager) => {
            // Logins of one user queue here, so "look at the live sessions, then insert" cannot
            // interleave with a concurrent login of the same user (REQ-SES-03).
            await lockUserSessions(this.store, manager, userId);
            await beforeInsert?.(manager, userId, now);
            if (single) {
              endedAll = await revokeUserTokens(
                this.store,
                this.options,
                userId,
                'single_login',
                now,
                manager,
              );
            } else {
              // The client's earlier session goes first, so the limit below counts without it and
              // need not end a session of another client to make room.
              if (pairClient !== null) {
                endedOfClient = await endClientSessions(
                  this.store,
                  this.options,
                  manager,
                  userId,
                  pairClient.id,
                  now,
                );
              }
              if (limit !== null) {
                ended = await makeRoomForSession(
                  this.store,
                  this.options,
                  manager,
                  userId,
                  limit,
                  now,
                );
              }
            }
            await this.store.insert(token, manager);
          }),
        ),
      async (cache) => {
        if (single) await cache.invalidateUser(userId);
        else {
          await Promise.all(
            [...endedOfClient, ...ended].map((head) => cache.invalidateFamily(head.familyId)),
          );
        }
      },
    );
    if (endedAll > 0) {
      this.events?.emit('token_revoked', { userId }, 'single_login', now);
    }
    for (const head of endedOfClient) {
      this.events?.emit(
        'token_revoked',
        {
          tokenId: head.id,
          familyId: head.familyId,
          userId,
          authType: head.authType,
          client: pairClient?.name,
        },
        'client_login',
        now,
      );
    }
    for (const head of ended) {
      this.events?.emit(
        'token_revoked',
        { tokenId: head.id, familyId: head.familyId, userId, authType: head.authType },
        'session_limit',
        now,
      );
    }
  }
}
