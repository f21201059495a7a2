import { Inject, Injectable } from '@nestjs/common';
import { DURIN_API_KEY_DEFAULT_ABILITIES, parseAbilities } from '../abilities/abilities';
import { ClientRegistry } from '../clients/client-registry';
import { DURIN_RESOLVED_OPTIONS } from '../durin.constants';
import { AbstractAuthToken } from '../entities/abstract-auth-token.entity';
import { userIdOf } from '../entities/user-id';
import { CreateApiKeyOptions, TokenSet } from '../interfaces/token-set.interface';
import { TokenIssuer } from '../issuing/token-issuer';
import { ResolvedDurinOptions } from '../options/resolved-options';
import { TokenStore } from '../store/token-store';
import { apiKeyAccessTtlMs, assertNoLiveApiKey, ensureApiClient } from './api-keys';

/**
 * Personal API keys (`TokenService.createApiKey`): the key client created on first use, the
 * `apiAccessTokenTtl` lifetime, and the one-live-key check run as the issuer's `beforeInsert`
 * hook, under the user's lock (see `api-keys.ts` for why a lock and not an index).
 */
@Injectable()
export class ApiKeyIssuer<T extends AbstractAuthToken = AbstractAuthToken> {
  constructor(
    @Inject(DURIN_RESOLVED_OPTIONS) private readonly options: ResolvedDurinOptions,
    private readonly store: TokenStore<T>,
    private readonly issuer: TokenIssuer<T>,
    private readonly clients: ClientRegistry<T>,
  ) {}

  /** See `TokenService.createApiKey`. */
  async createApiKey(user: object, opts: CreateApiKeyOptions = {}): Promise<TokenSet<T>> {
    // A bad user or bad abilities must be refused before the client row is created for them.
    userIdOf(user, this.options.userIdField);
    const abilities =
      opts?.abilities === undefined
        ? [...DURIN_API_KEY_DEFAULT_ABILITIES]
        : parseAbilities(opts.abilities, 'abilities');
    const name = this.options.apiAccessClientName;
    const ttlMs = apiKeyAccessTtlMs(this.options, await ensureApiClient(this.clients, name));
    return this.issuer.issue(
      user,
      'header',
      {
        client: name,
        accessExpiresIn: ttlMs === null ? null : ttlMs / 1000,
        refreshExpiresIn: null,
        abilities,
      },
      (manager, userId, now) => assertNoLiveApiKey(this.store, manager, userId, name, now),
    );
  }
}
