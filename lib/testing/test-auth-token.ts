import { randomBytes, randomUUID } from 'node:crypto';
import { Type } from '@nestjs/common';
import { parseAbilities } from '../abilities/abilities';
import { AbstractAuthToken } from '../entities/abstract-auth-token.entity';
import { AuthTokenEntity } from '../entities/auth-token.entity';
import { ClientEntity } from '../entities/client.entity';
import { TokenContextData } from '../entities/token-context';
import { AuthType } from '../interfaces/durin-module-options.interface';
import { CLIENT_NAME_MAX, isStorableString } from '../store/stored-strings';

const HOUR_MS = 60 * 60 * 1000;

/** What the in-memory token of {@link createTestAuthToken} and `actingAs` looks like. */
export interface TestAuthTokenOptions<T extends AbstractAuthToken = AbstractAuthToken> {
  /** Name of the token's client (`token.client.name`, `@AllowClients`); default: no client. */
  client?: string | null;
  /** What the token may do (`token.can()`, `@RequireAbilities`); default `['*']`. */
  abilities?: readonly string[];
  /** Where the token is accepted; default `'header'`. */
  authType?: AuthType;
  /** The session context (`token.contextObj`, `@TokenContext()`); default `{}`. */
  context?: TokenContextData;
  /** When the access token expires; default one hour from now; `null`: never. */
  expiresAt?: Date | null;
  /** When the refresh token expires; default one day from now; `null`: no refresh token. */
  refreshExpiresAt?: Date | null;
  /** As the module option of that name: `contextObj` throws on a missing key. Default `false`. */
  strictContextAccess?: boolean;
  /** The app's own token model (the `tokenEntity` option); default {@link AuthTokenEntity}. */
  tokenEntity?: Type<T>;
}

/**
 * A token as the guard would attach it, built in memory: the real entity class (so `can()`,
 * `cannot()`, `contextObj`, `isExpiredAt()` behave as in production) with its `user` and its
 * client, and no row anywhere. For tests that need a token without a database, such as a service
 * method that takes one; `actingAs` attaches one of these to each request.
 *
 * The abilities and the client name are checked as `generateHeaderToken` checks them, so a typo in
 * a test fails there rather than passing against a token production could never issue.
 *
 * @example
 * const token = createTestAuthToken(user, { abilities: ['orders:read'], client: 'web' });
 * expect(token.can('orders:write')).toBe(false);
 */
export function createTestAuthToken<
  TUser extends object,
  T extends AbstractAuthToken = AuthTokenEntity<TUser>,
>(user: TUser, options: TestAuthTokenOptions<T> = {}): T {
  const now = Date.now();
  const TokenClass = (options.tokenEntity ?? AuthTokenEntity) as Type<T>;
  const token = new TokenClass();
  const id = randomUUID();
  token.id = id;
  token.user = user as T['user'];
  token.authType = options.authType ?? 'header';
  token.client = testClient(options.client ?? null, now);
  token.context = { ...(options.context ?? {}) };
  token.abilities = parseAbilities(options.abilities ?? ['*']);
  // Never compared with anything: no raw token exists. Random, so two tokens never look alike.
  token.tokenHash = randomBytes(32).toString('hex');
  const refreshExpiresAt =
    options.refreshExpiresAt === undefined
      ? new Date(now + 24 * HOUR_MS)
      : options.refreshExpiresAt;
  token.refreshTokenHash = refreshExpiresAt === null ? null : randomBytes(32).toString('hex');
  token.createdAt = new Date(now);
  token.expiresAt = options.expiresAt === undefined ? new Date(now + HOUR_MS) : options.expiresAt;
  token.refreshExpiresAt = refreshExpiresAt;
  token.absoluteExpiresAt = null;
  token.accessTtlMs = token.expiresAt === null ? null : token.expiresAt.getTime() - now;
  token.refreshTtlMs = refreshExpiresAt === null ? null : refreshExpiresAt.getTime() - now;
  token.lastRefreshedAt = null;
  token.lastUsedAt = null;
  token.revokedAt = null;
  token.revokedReason = null;
  token.familyId = id;
  token.parentId = null;
  token.replacedById = null;
  token.strictContextAccess = options.strictContextAccess ?? false;
  return token;
}

function testClient(name: string | null, now: number): ClientEntity | null {
  if (name === null) return null;
  if (!isStorableString(name, CLIENT_NAME_MAX)) {
    throw new TypeError(
      `nestjs-durin/testing: client names are strings of 1 to ${CLIENT_NAME_MAX} characters without control characters`,
    );
  }
  const client = new ClientEntity();
  client.id = 1;
  client.name = name;
  client.tokenTtl = null;
  client.refreshTokenTtl = null;
  client.throttleRate = null;
  client.abilities = null;
  client.createdAt = new Date(now);
  return client;
}
