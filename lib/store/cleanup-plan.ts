import { RevocationMode } from './token-store';

/**
 * One part of the cleanup predicate, on column names, with `:now` and `:keptUntil` parameters.
 *
 * Why parts instead of one `WHERE … OR …`: the cleanup deletes in batches, each batch a fresh
 * `SELECT … LIMIT n` from the start. With one OR over four columns the database can only scan the
 * table, and every batch re-reads the rows that did not match (the live ones, and under
 * `keepExpiredTokens` every row ever kept), so a run costs batches × table: quadratic. Each part
 * here is instead a range of one index that, as far as possible, holds only rows the part will
 * change; a changed row leaves the range (deleted, or marked and so no longer `revoked_at IS NULL`),
 * so the next batch starts on the next candidate and a run is linear in what it removes.
 */
export interface CleanupPart {
  /** For logs and tests (EXPLAIN per part). */
  readonly name: string;
  readonly where: string;
  /** What the part does to the rows it selects. */
  readonly action: RevocationMode;
}

/**
 * The index every part but one is a range of: `revoked_at IS NULL` first (live rows, the ones
 * that can still die), then the refresh and access expiries. The equality on a NULL prefix is an
 * index condition on PostgreSQL, SQLite and MySQL/MariaDB alike.
 */
export const CLEANUP_EXPIRY_INDEX = ['revokedAt', 'refreshExpiresAt', 'expiresAt'] as const;
/** The absolute cap of live rows: `revoked_at IS NULL AND absolute_expires_at <= :now`. */
export const CLEANUP_ABSOLUTE_INDEX = ['revokedAt', 'absoluteExpiresAt'] as const;

/** Live rows whose access token expired and that have no refresh token. */
const ACCESS_ONLY_DEAD = 'revoked_at IS NULL AND refresh_expires_at IS NULL AND expires_at <= :now';
/**
 * Live rows whose refresh token expired. The access part is checked as a filter: it expires
 * before the refresh token except in unusual configurations, so the range holds almost only dead
 * rows.
 */
const REFRESH_DEAD =
  'revoked_at IS NULL AND refresh_expires_at <= :now AND expires_at IS NOT NULL AND expires_at <= :now';
/** Live rows past the absolute lifetime from login, whatever their expiries say. */
const CAPPED = 'revoked_at IS NULL AND absolute_expires_at <= :now';

/**
 * The parts of a cleanup at `:now`. Together they select exactly what `TokenStore.DEAD` (plus,
 * when deleting, spent rotation history) selects; the order does not matter for correctness.
 *
 * - `delete`: dead rows go, and so do revoked rows kept as rotation history once their refresh
 *   window (during which a replay of the spent refresh token must still be recognised as reuse)
 *   is over.
 * - `mark` (`keepExpiredTokens`): dead live rows are marked revoked and kept; with a retention
 *   (`keepExpiredTokens: { for }`), kept rows revoked before `:keptUntil` are deleted, but never
 *   while their refresh window is open, so reuse detection never loses a family.
 */
export function cleanupParts(mode: RevocationMode, withRetention: boolean): CleanupPart[] {
  const dying: CleanupPart[] = [
    { name: 'access-only expired', where: ACCESS_ONLY_DEAD, action: mode },
    { name: 'refresh expired', where: REFRESH_DEAD, action: mode },
    { name: 'absolute lifetime over', where: CAPPED, action: mode },
  ];
  if (mode === 'delete') {
    // Revoked rows exist here only as rotation history (or from an earlier `keepExpiredTokens`),
    // kept while a replay of their refresh token must still be recognised as reuse. Three parts
    // rather than one OR: the planner multiplies the selectivities of an OR's branches as if they
    // were independent, overestimates the matches (they are correlated: history rows have a
    // refresh token) and then prefers a sequential scan "to find the first batch quickly".
    dying.push(
      {
        name: 'spent history, refresh over',
        where: 'refresh_expires_at <= :now AND revoked_at IS NOT NULL',
        action: 'delete',
      },
      {
        name: 'spent history, no refresh token',
        where: 'revoked_at IS NOT NULL AND refresh_expires_at IS NULL',
        action: 'delete',
      },
      {
        name: 'spent history, absolute lifetime over',
        where: 'revoked_at IS NOT NULL AND absolute_expires_at <= :now',
        action: 'delete',
      },
    );
  } else if (withRetention) {
    // Never inside the refresh window (reuse detection needs the row); split as above.
    dying.push(
      {
        name: 'kept past retention, refresh over',
        where: 'revoked_at IS NOT NULL AND revoked_at <= :keptUntil AND refresh_expires_at <= :now',
        action: 'delete',
      },
      {
        name: 'kept past retention, no refresh token',
        where: 'revoked_at IS NOT NULL AND revoked_at <= :keptUntil AND refresh_expires_at IS NULL',
        action: 'delete',
      },
    );
  }
  return dying;
}
