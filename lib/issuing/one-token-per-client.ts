import { EntityManager } from 'typeorm';
import { ResolvedDurinOptions } from '../options/resolved-options';
import { revocationMode } from '../revocation/revocation-mode';
import { liveClientSessionHeads, SessionHead } from '../store/security-queries';
import { TokenStore } from '../store/token-store';
import { AbstractAuthToken } from '../entities/abstract-auth-token.entity';

/**
 * `oneTokenPerClient`: under the user's lock, ends the user's live sessions of `clientId` (whole
 * families, so no refresh token of an ended login survives) before the new one is inserted.
 * Returns the sessions it ended, for the cache and the events.
 */
export async function endClientSessions<T extends AbstractAuthToken>(
  store: TokenStore<T>,
  options: Pick<ResolvedDurinOptions, 'keepExpiredTokens'>,
  manager: EntityManager,
  userId: unknown,
  clientId: number,
  now: number,
): Promise<SessionHead[]> {
  const live = await liveClientSessionHeads(store, manager, userId, clientId, now);
  if (live.length === 0) return [];
  await store.revokeWhere(
    'family_id IN (:...families)',
    { families: live.map((head) => head.familyId) },
    revocationMode(options),
    'client_login',
    now,
    manager,
  );
  return live;
}
