import { DurinConfigurationError } from '../errors/durin-configuration.error';
import { KeepExpiredTokensOptions } from '../interfaces/durin-module-options.interface';
import { describe, parseNullableDuration } from './duration';

/** `keepExpiredTokens`, resolved: whether ended rows are kept, and for how long. */
export interface ResolvedKeptTokens {
  keepExpiredTokens: boolean;
  /** Kept rows revoked longer ago than this are deleted by the cleanup; `null`: kept forever. */
  keptTokensRetentionMs: number | null;
}

/**
 * `true` keeps ended rows forever (the original meaning, kept for compatibility); `{ for }` keeps
 * them for that long, after which `revokeExpiredTokens()` deletes them, so an audit trail does not
 * become a table that only grows.
 */
export function resolveKeptTokens(value: unknown): ResolvedKeptTokens {
  if (value === undefined || value === false) {
    return { keepExpiredTokens: false, keptTokensRetentionMs: null };
  }
  if (value === true) {
    return { keepExpiredTokens: true, keptTokensRetentionMs: null };
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const keys = Object.keys(value);
    const unknown = keys.filter((key) => key !== 'for');
    if (unknown.length > 0) {
      throw new DurinConfigurationError(
        'keepExpiredTokens',
        `has unknown option ${unknown.map((key) => JSON.stringify(key)).join(', ')} (only "for")`,
      );
    }
    const retention = (value as KeepExpiredTokensOptions).for;
    if (retention === undefined) {
      throw new DurinConfigurationError(
        'keepExpiredTokens',
        "needs `for` (a duration such as '90d', or null to keep rows forever)",
      );
    }
    const retentionMs = parseNullableDuration(retention, 'keepExpiredTokens.for');
    if (retentionMs === 0) {
      throw new DurinConfigurationError(
        'keepExpiredTokens.for',
        'must be greater than 0 (keepExpiredTokens: false keeps nothing)',
      );
    }
    return { keepExpiredTokens: true, keptTokensRetentionMs: retentionMs };
  }
  throw new DurinConfigurationError(
    'keepExpiredTokens',
    `must be true, false or { for: <duration> } (got ${describe(value)})`,
  );
}
