import { DurinConfigurationError } from '../errors/durin-configuration.error';
import { DurinCleanupOptions } from '../interfaces/durin-module-options.interface';
import { describe, parseDuration } from '../options/duration';

/** `cleanup`, resolved. */
export interface ResolvedCleanupOptions {
  /** Between the end of one run and the start of the next. */
  everyMs: number;
  /** From start-up to the first run. */
  firstRunMs: number;
}

/** The least interval: a cleanup more often than this is load without a purpose. */
const MIN_EVERY_MS = 1000;
/**
 * The first run comes soon after start-up rather than a whole interval later: apps that deploy
 * more often than `every` would otherwise never clean up at all.
 */
const FIRST_RUN_MAX_MS = 30_000;

export function resolveCleanupOptions(value: unknown): ResolvedCleanupOptions | null {
  if (value === undefined || value === false) return null;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DurinConfigurationError(
      'cleanup',
      `must be false or { every: <duration> } (got ${describe(value)})`,
    );
  }
  const unknown = Object.keys(value).filter((key) => key !== 'every');
  if (unknown.length > 0) {
    throw new DurinConfigurationError(
      'cleanup',
      `has unknown option ${unknown.map((key) => JSON.stringify(key)).join(', ')} (only "every")`,
    );
  }
  const every = (value as Partial<DurinCleanupOptions>).every;
  if (every === undefined) {
    throw new DurinConfigurationError('cleanup', "needs `every` (a duration such as '1h')");
  }
  const everyMs = parseDuration(every, 'cleanup.every');
  if (everyMs < MIN_EVERY_MS) {
    throw new DurinConfigurationError('cleanup.every', 'must be at least 1 second');
  }
  return { everyMs, firstRunMs: Math.min(everyMs, FIRST_RUN_MAX_MS) };
}
