import { EntityManager } from 'typeorm';
import { AbstractAuthToken } from '../entities/abstract-auth-token.entity';
import { ClientEntity } from '../entities/client.entity';
import {
  ApiKeyExistsError,
  ClientAlreadyExistsError,
  UnknownClientError,
} from '../errors/token-errors';
import { CreateClientOptions } from '../interfaces/token-set.interface';
import { ResolvedDurinOptions } from '../options/resolved-options';
import { liveAt, TokenStore } from '../store/token-store';

/**
 * Personal API keys: header tokens of the client `apiAccessClientName`, one live key per user.
 *
 * The "one live key" rule is kept by the per-user lock of `lockUserSessions`, under which the
 * check below and the insert run in one transaction (PostgreSQL: an advisory transaction lock;
 * SQLite: our transactions run one at a time). A unique index cannot say it soundly: "live"
 * compares `expires_at` with the current time, which an index predicate may not use, so a
 * partial index on unrevoked keys would also hold expired keys that cleanup has not reached and
 * refuse a new key in their place until it does; keeping it exact would take a new column that
 * every revocation, expiry and cleanup path clears, and a migration. The lock needs neither and
 * is already taken by logins under `maxSessionsPerUser`.
 */

/** What {@link ensureApiClient} needs of the client registry. */
export interface ApiClientSource {
  getClient(name: string): Promise<ClientEntity | null>;
  createClient(input: CreateClientOptions): Promise<ClientEntity>;
}

/** The API-key client, created without lifetimes of its own on first use. */
export async function ensureApiClient(
  clients: ApiClientSource,
  name: string,
): Promise<ClientEntity> {
  const existing = await clients.getClient(name);
  if (existing !== null) return existing;
  try {
    return await clients.createClient({ name });
  } catch (error) {
    // A concurrent first key created it: that is all we wanted.
    if (!(error instanceof ClientAlreadyExistsError)) throw error;
  }
  const created = await clients.getClient(name);
  if (created === null) {
    // Created and deleted again (deleteClient) between our two reads.
    throw new UnknownClientError(name);
  }
  return created;
}

/**
 * A new key's lifetime in milliseconds, `null` for never. An explicit `apiAccessTokenTtl` wins;
 * without it a `tokenTtl` the app gave the client row itself is kept, since that was the way to
 * give keys their own lifetime before the option existed; otherwise the option's default.
 */
export function apiKeyAccessTtlMs(
  options: Pick<ResolvedDurinOptions, 'apiAccessTokenTtlMs' | 'apiAccessTokenTtlConfigured'>,
  client: Pick<ClientEntity, 'tokenTtl'>,
): number | null {
  if (!options.apiAccessTokenTtlConfigured && client.tokenTtl !== null) {
    return client.tokenTtl * 1000;
  }
  return options.apiAccessTokenTtlMs;
}

/**
 * Throws {@link ApiKeyExistsError} when the user has a live key. Must run inside the issuing
 * transaction, after `lockUserSessions`, for the answer to still hold at the insert. "Live" is
 * the rule of `TokenStore.listLive`, so this refuses exactly when `GET apiaccess` shows a key.
 */
export async function assertNoLiveApiKey<T extends AbstractAuthToken>(
  store: TokenStore<T>,
  manager: EntityManager,
  userId: unknown,
  clientName: string,
  now: number,
): Promise<void> {
  const live = await liveAt(
    manager
      .getRepository<T>(store.tokens.target)
      .createQueryBuilder('token')
      .innerJoin('token.client', 'client')
      .select(['token.id'])
      .where('token.user = :userId', { userId })
      .andWhere('token.authType = :header', { header: 'header' })
      .andWhere('client.name = :clientName', { clientName }),
    now,
  ).getOne();
  if (live !== null) {
    throw new ApiKeyExistsError();
  }
}
