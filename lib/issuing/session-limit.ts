import { EntityManager } from 'typeorm';
import { AbstractAuthToken } from '../entities/abstract-auth-token.entity';
import { SessionLimitExceededError } from '../errors/security-errors';
import { ResolvedDurinOptions } from '../options/resolved-options';
import { revocationMode } from '../revocation/revocation-mode';
import { liveSessionHeads, SessionHead } from '../store/security-queries';
import { TokenStore } from '../store/token-store';

type LimitOptions = Pick<
  ResolvedDurinOptions,
  | 'maxSessionsPerUser'
  | 'apiAccessClientName'
  | 'apiAccessExcludeFromSessions'
  | 'sessionLimitStrategy'
  | 'keepExpiredTokens'
>;

/**
 * `maxSessionsPerUser` for a new token, or `null` when no limit applies: none is set, or the
 * token is a personal API key, which is no session while `apiAccessExcludeFromSessions` is on.
 */
export function sessionLimitFor(options: LimitOptions, token: AbstractAuthToken): number | null {
  const limit = options.maxSessionsPerUser;
  if (limit === null) return null;
  const apiKey = token.authType === 'header' && token.client?.name === options.apiAccessClientName;
  return apiKey && options.apiAccessExcludeFromSessions ? null : limit;
}

/**
 * Under the user's lock: refuses the login, or ends the oldest sessions so that the new one
 * keeps the user within `limit`. Returns the sessions it ended.
 */
export async function makeRoomForSession<T extends AbstractAuthToken>(
  store: TokenStore<T>,
  options: LimitOptions,
  manager: EntityManager,
  userId: unknown,
  limit: number,
  now: number,
): Promise<SessionHead[]> {
  const excludeApiKeys = options.apiAccessExcludeFromSessions ? options.apiAccessClientName : null;
  const live = await liveSessionHeads(store, manager, userId, now, excludeApiKeys);
  const excess = live.length - limit + 1;
  if (excess <= 0) return [];
  if (options.sessionLimitStrategy === 'refuse') {
    throw new SessionLimitExceededError(limit);
  }
  const oldest = live.slice(0, excess);
  await store.revokeWhere(
    'family_id IN (:...families)',
    { families: oldest.map((head) => head.familyId) },
    revocationMode(options),
    'session_limit',
    now,
    manager,
  );
  return oldest;
}
