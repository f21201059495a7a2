import { Inject, Injectable, Optional } from '@nestjs/common';
import { parseAbilities } from '../abilities/abilities';
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
import { CreateClientOptions, UpdateClientOptions } from '../interfaces/token-set.interface';
import { describe, tryParseDuration } from '../options/duration';
import { storeWork } from '../store/store-calls';
import { CLIENT_NAME_MAX, isStorableString } from '../store/stored-strings';
import { TokenStore } from '../store/token-store';

const THROTTLE_RATE_PATTERN = /^[1-9]\d{0,8}\/[smhd]$/;

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
    clientName(name);
    const fields = clientFields(input);
    if (await storeWork(() => this.store.findClient(name))) {
      throw new ClientAlreadyExistsError(name);
    }
    const client = this.store.clients.create({
      name,
      tokenTtl: null,
      refreshTokenTtl: null,
      throttleRate: null,
      abilities: null,
      ...fields,
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

  /** See `TokenService.updateClient`. */
  async updateClient(name: string, changes: UpdateClientOptions): Promise<ClientEntity | null> {
    if (changes === null || typeof changes !== 'object') {
      throw new InvalidClientError('changes', `must be an object (got ${describe(changes)})`);
    }
    const fields = clientFields(changes);
    const client = await this.getClient(name);
    if (!client) return null;
    if (Object.keys(fields).length === 0) return client;
    // Tokens carry their own lifetimes, but a cached token holds its client row (the throttle
    // rate is read from it): a rare admin action, so the whole cache goes, as on delete.
    await thenInvalidate(
      this.cache,
      () => storeWork(() => this.store.clients.update({ id: client.id }, fields)),
      (cache) => cache.invalidateAll(),
    );
    return Object.assign(client, fields);
  }

  /** See `TokenService.listClients`. */
  listClients(): Promise<ClientEntity[]> {
    return storeWork(() => this.store.clients.find({ order: { name: 'ASC' } }));
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

type ClientFields = Partial<
  Pick<ClientEntity, 'tokenTtl' | 'refreshTokenTtl' | 'throttleRate' | 'abilities'>
>;

/** The checks every way in (createClient, updateClient, the `durin` CLI) shares. */
function clientName(name: unknown): asserts name is string {
  if (typeof name === 'string' && name.length > 0 && name.trim() === '') {
    throw new InvalidClientError('name', 'must not be blank');
  }
  if (!isStorableString(name, CLIENT_NAME_MAX)) {
    throw new InvalidClientError(
      'name',
      name === '' || name === undefined || name === null
        ? 'must not be blank'
        : `must be a string of 1 to ${CLIENT_NAME_MAX} characters without control characters`,
    );
  }
}

/** The fields present in `input`, validated and in the stored form; absent ones stay absent. */
function clientFields(input: UpdateClientOptions): ClientFields {
  const fields: ClientFields = {};
  if (input.tokenTtl !== undefined) {
    fields.tokenTtl = clientSeconds(input.tokenTtl, 'tokenTtl');
    if (fields.tokenTtl === 0) {
      throw new InvalidClientError('tokenTtl', 'must be greater than 0');
    }
  }
  if (input.refreshTokenTtl !== undefined) {
    fields.refreshTokenTtl = clientSeconds(input.refreshTokenTtl, 'refreshTokenTtl');
  }
  if (input.throttleRate !== undefined) {
    const rate = input.throttleRate;
    if (rate !== null && (typeof rate !== 'string' || !THROTTLE_RATE_PATTERN.test(rate))) {
      throw new InvalidClientError(
        'throttleRate',
        `${describe(rate)} expected <n>/<s|m|h|d>, like '100/m'`,
      );
    }
    fields.throttleRate = rate;
  }
  if (input.abilities !== undefined) {
    // `null`: the client's tokens get every ability (`['*']`), as before abilities existed.
    fields.abilities =
      input.abilities === null ? null : parseAbilities(input.abilities, 'abilities');
  }
  return fields;
}

function clientSeconds(value: unknown, field: string): number | null {
  if (value === null) return null;
  const parsed = tryParseDuration(value);
  if (parsed === undefined) {
    throw new InvalidClientError(
      field,
      `${describe(value)} is not a duration: whole seconds or a string like '15m' (s, m, h, d), at most 100 years`,
    );
  }
  return parsed / 1000;
}
