import { Inject, Injectable, Optional } from '@nestjs/common';
import { DurinCacheService } from '../cache/durin-cache.service';
import { thenInvalidate } from '../cache/then-invalidate';
import { DURIN_CLOCK } from '../durin.constants';
import { AbstractAuthToken } from '../entities/abstract-auth-token.entity';
import { ClientEntity } from '../entities/client.entity';
import {
  ClientAlreadyExistsError,
  InvalidClientError,
  TokenStoreUnavailableError,
} from '../errors/token-errors';
import { Clock } from '../interfaces/clock.interface';
import { CreateClientOptions } from '../interfaces/token-set.interface';
import { describe, tryParseDuration } from '../options/duration';
import { storeWork } from '../store/store-calls';
import { CLIENT_NAME_MAX, isStorableString } from '../store/stored-strings';
import { TokenStore } from '../store/token-store';
import { parseThrottleRate } from '../throttling/throttle-rate';

/**
 * The clients (`auth_client` rows) that give tokens per-client lifetimes: create, read, and
 * delete with every token issued for them. Behind `TokenService.createClient` / `getClient` /
 * `deleteClient`.
 */
@Injectable()
export class ClientRegistry<T extends AbstractAuthToken = AbstractAuthToken> {
  constructor(
    @Inject(DURIN_CLOCK) private readonly clock: Clock,
    private readonly store: TokenStore<T>,
    // Optional so a unit built by hand (tests, scripts) works uncached.
    @Optional() private readonly cache?: DurinCacheService,
  ) {}

  /** See `TokenService.createClient`. */
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
    const tokenTtl = clientSeconds(input.tokenTtl, 'tokenTtl');
    const refreshTokenTtl = clientSeconds(input.refreshTokenTtl, 'refreshTokenTtl');
    if (tokenTtl === 0) {
      throw new InvalidClientError('tokenTtl', 'must be greater than 0');
    }
    const throttleRate = input.throttleRate ?? null;
    if (throttleRate !== null && parseThrottleRate(throttleRate) === undefined) {
      throw new InvalidClientError(
        'throttleRate',
        `must look like '100/m' (periods s, m, h, d); got ${describe(throttleRate)}`,
      );
    }
    if (await storeWork(() => this.store.findClient(name))) {
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
      if (await storeWork(() => this.store.findClient(name))) {
        throw new ClientAlreadyExistsError(name);
      }
      throw new TokenStoreUnavailableError(error);
    }
  }

  /** See `TokenService.getClient`. */
  getClient(name: string): Promise<ClientEntity | null> {
    return isStorableString(name, CLIENT_NAME_MAX)
      ? storeWork(() => this.store.findClient(name))
      : Promise.resolve(null);
  }

  /** See `TokenService.deleteClient`. */
  async deleteClient(name: string): Promise<boolean> {
    const client = await this.getClient(name);
    if (!client) return false;
    // A rare admin action: dropping the whole cache is simpler than a per-client index.
    await thenInvalidate(
      this.cache,
      () =>
        storeWork(() =>
          this.store.tokens
            .createQueryBuilder()
            .delete()
            .where('client_id = :clientId', { clientId: client.id })
            .execute(),
        ),
      (cache) => cache.invalidateAll(),
    );
    await storeWork(() => this.store.clients.delete({ id: client.id }));
    return true;
  }
}

function clientSeconds(value: unknown, field: string): number | null {
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
