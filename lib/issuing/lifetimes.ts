import { ClientEntity } from '../entities/client.entity';
import { InvalidTokenOptionsError } from '../errors/token-errors';
import { GenerateTokenOptions } from '../interfaces/token-set.interface';
import { describe, tryParseDuration } from '../options/duration';
import { ResolvedDurinOptions } from '../options/resolved-options';

/** The lifetimes of one session, decided at login and kept for its whole life. */
export interface Lifetimes {
  accessTtlMs: number | null;
  refreshTtlMs: number | null;
}

type LifetimeOptions = Pick<ResolvedDurinOptions, 'tokenTtlMs' | 'refreshTokenTtlMs'>;

/** The lifetimes of a new session: the call's options, else the client's, else the module's. */
export function lifetimesFor(
  options: LifetimeOptions,
  client: ClientEntity | null,
  opts: GenerateTokenOptions,
): Lifetimes {
  const accessTtlMs =
    opts.accessExpiresIn !== undefined
      ? optionDuration(opts.accessExpiresIn, 'accessExpiresIn')
      : client?.tokenTtl != null
        ? client.tokenTtl * 1000
        : options.tokenTtlMs;
  let refreshTtlMs =
    opts.refreshExpiresIn !== undefined
      ? optionDuration(opts.refreshExpiresIn, 'refreshExpiresIn')
      : client?.refreshTokenTtl != null
        ? client.refreshTokenTtl * 1000
        : options.refreshTokenTtlMs;
  if (accessTtlMs === 0) {
    throw new InvalidTokenOptionsError(
      'accessExpiresIn',
      'must be greater than 0 (null for no expiry)',
    );
  }
  if (refreshTtlMs !== null && accessTtlMs === null) {
    // A refresh token exists to replace an expiring access token; one that never expires needs none.
    refreshTtlMs = null;
  }
  if (refreshTtlMs !== null && accessTtlMs !== null && refreshTtlMs <= accessTtlMs) {
    const explicit = opts.refreshExpiresIn !== undefined || opts.accessExpiresIn !== undefined;
    if (explicit) {
      throw new InvalidTokenOptionsError(
        'refreshExpiresIn',
        'must be greater than the access-token lifetime',
      );
    }
    // A client whose access lifetime reaches the refresh lifetime simply gets no refresh token.
    refreshTtlMs = null;
  }
  return { accessTtlMs, refreshTtlMs };
}

function optionDuration(value: unknown, name: string): number | null {
  if (value === null) return null;
  const parsed = tryParseDuration(value);
  if (parsed === undefined) {
    throw new InvalidTokenOptionsError(
      name,
      `must be seconds or a string like '15m' (got ${describe(value)})`,
    );
  }
  return parsed;
}

/**
 * The latest moment any extension of this session may reach: login + max(autoRefreshMaxTtl, the
 * lifetimes granted at login). What was granted is honoured; nothing ever extends past it.
 */
export function absoluteExpiry(
  options: Pick<ResolvedDurinOptions, 'autoRefreshMaxTtlMs'>,
  now: number,
  lifetimes: Lifetimes,
): Date | null {
  const cap = options.autoRefreshMaxTtlMs;
  if (cap === null || lifetimes.accessTtlMs === null) {
    return null;
  }
  return new Date(now + Math.max(cap, lifetimes.accessTtlMs, lifetimes.refreshTtlMs ?? 0));
}

/** `now + ttlMs`, never past the absolute expiry; the absolute expiry itself for no lifetime. */
export function capped(now: number, ttlMs: number | null, absolute: Date | null): Date | null {
  if (ttlMs === null) return absolute;
  const end = now + ttlMs;
  return new Date(absolute === null ? end : Math.min(end, absolute.getTime()));
}

/** The later of two expiries, so a slide or a renewal never shortens what was granted. */
export function later(current: Date | null, next: Date | null): Date | null {
  if (current === null || next === null) return current ?? next;
  return next.getTime() > current.getTime() ? next : current;
}
