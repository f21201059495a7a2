import { EntityManager } from 'typeorm';
import { AbstractAuthToken, RevocationReason } from '../entities/abstract-auth-token.entity';
import { ResolvedDurinOptions } from '../options/resolved-options';
import { TokenStore } from '../store/token-store';

/** Ended tokens are deleted, or kept and marked under `keepExpiredTokens` (for audits). */
export function revocationMode(
  options: Pick<ResolvedDurinOptions, 'keepExpiredTokens'>,
): 'delete' | 'mark' {
  return options.keepExpiredTokens ? 'mark' : 'delete';
}

/**
 * Ends every token of a user. Shared by logout-all and single login, which both call it inside
 * a transaction that already holds the user's lock.
 */
export function revokeUserTokens<T extends AbstractAuthToken>(
  store: TokenStore<T>,
  options: Pick<ResolvedDurinOptions, 'keepExpiredTokens'>,
  userId: unknown,
  reason: RevocationReason,
  now: number,
  manager?: EntityManager,
): Promise<number> {
  return store.revokeWhere(
    'user_id = :userId',
    { userId },
    revocationMode(options),
    reason,
    now,
    manager,
  );
}
