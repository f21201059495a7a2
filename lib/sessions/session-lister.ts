import { Inject, Injectable } from '@nestjs/common';
import { storedAbilities } from '../abilities/abilities';
import { DURIN_CLOCK, DURIN_RESOLVED_OPTIONS } from '../durin.constants';
import { AbstractAuthToken } from '../entities/abstract-auth-token.entity';
import { idOf } from '../entities/user-id';
import { Clock } from '../interfaces/clock.interface';
import { SessionInfo } from '../interfaces/token-set.interface';
import { ResolvedDurinOptions } from '../options/resolved-options';
import { storeWork } from '../store/store-calls';
import { TokenStore } from '../store/token-store';

/**
 * A user's live sessions as the user may see them (`TokenService.listUserTokens`, the
 * `sessions` route): ids, client, context and times, never a secret or a hash.
 */
@Injectable()
export class SessionLister<T extends AbstractAuthToken = AbstractAuthToken> {
  constructor(
    @Inject(DURIN_RESOLVED_OPTIONS) private readonly options: ResolvedDurinOptions,
    @Inject(DURIN_CLOCK) private readonly clock: Clock,
    private readonly store: TokenStore<T>,
  ) {}

  /** See `TokenService.listUserTokens`. */
  async listUserTokens(userOrId: object | string | number): Promise<SessionInfo[]> {
    const userId = idOf(userOrId, this.options.userIdField);
    const tokens = await storeWork(() => this.store.listLive(userId, this.clock.now()));
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
      abilities: [...storedAbilities(token.abilities)],
    }));
  }
}
