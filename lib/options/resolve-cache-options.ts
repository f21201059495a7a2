import { DurinConfigurationError } from '../errors/durin-configuration.error';
import { DurinCacheOptions, DurinRedisClient } from '../interfaces/cache-options.interface';
import { describe, parseDuration } from './duration';

/** The cache options after validation; `false` when the cache is off. */
export interface ResolvedCacheOptions {
  max: number;
  ttlMs: number;
  negativeMax: number;
  invalidation: 'auto' | 'postgres' | { redis: DurinRedisClient | string } | false;
  channel: string;
}

const KNOWN_CACHE_OPTIONS = new Set(['max', 'ttl', 'negativeMax', 'invalidation', 'channel']);
/** A PostgreSQL identifier we never need to quote specially, and a plain Redis channel name. */
const CHANNEL_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;
const MAX_ENTRIES = 10_000_000;

/** Defaults: a few seconds of TTL keeps the staleness bound small even without a channel. */
export const CACHE_DEFAULTS = { max: 10_000, ttl: '5s', negativeMax: 0, channel: 'durin_cache' };

function requireCount(value: unknown, name: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (
    typeof value !== 'number' ||
    !Number.isSafeInteger(value) ||
    value < min ||
    value > MAX_ENTRIES
  ) {
    throw new DurinConfigurationError(
      name,
      `must be a whole number from ${min} to ${MAX_ENTRIES} (got ${describe(value)})`,
    );
  }
  return value;
}

function isRedisClient(value: unknown): value is DurinRedisClient {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as DurinRedisClient).publish === 'function' &&
    typeof (value as DurinRedisClient).duplicate === 'function'
  );
}

function resolveInvalidation(value: unknown): ResolvedCacheOptions['invalidation'] {
  if (value === undefined) return 'auto';
  if (value === false || value === 'auto' || value === 'postgres') return value;
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    const redis = (value as { redis?: unknown }).redis;
    if (keys.length === 1 && keys[0] === 'redis') {
      if (typeof redis === 'string' && /^rediss?:\/\//.test(redis)) return { redis };
      if (isRedisClient(redis)) return { redis };
      throw new DurinConfigurationError(
        'cache.invalidation.redis',
        `must be an ioredis client or a redis:// URL (got ${describe(redis)})`,
      );
    }
  }
  throw new DurinConfigurationError(
    'cache.invalidation',
    `must be 'auto', 'postgres', false or { redis } (got ${describe(value)})`,
  );
}

/** Validates the `cache` option (see {@link DurinCacheOptions}). */
export function resolveCacheOptions(value: unknown): ResolvedCacheOptions | false {
  if (value === false) return false;
  if (value !== undefined && value !== true) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new DurinConfigurationError(
        'cache',
        `must be false or an object like { max: 10000, ttl: '5s' } (got ${describe(value)})`,
      );
    }
    for (const key of Object.keys(value)) {
      if (!KNOWN_CACHE_OPTIONS.has(key)) {
        throw new DurinConfigurationError(`cache.${key}`, 'is not a cache option');
      }
    }
  }
  const given: DurinCacheOptions = value === undefined || value === true ? {} : value;
  const ttlMs = parseDuration(given.ttl ?? CACHE_DEFAULTS.ttl, 'cache.ttl');
  if (ttlMs === 0) {
    throw new DurinConfigurationError('cache.ttl', 'must be greater than 0 (use cache: false)');
  }
  const channel = given.channel ?? CACHE_DEFAULTS.channel;
  if (typeof channel !== 'string' || !CHANNEL_PATTERN.test(channel)) {
    throw new DurinConfigurationError(
      'cache.channel',
      `must be 1-63 lower-case letters, digits or '_', not starting with a digit (got ${describe(channel)})`,
    );
  }
  return {
    max: requireCount(given.max, 'cache.max', CACHE_DEFAULTS.max, 1),
    ttlMs,
    negativeMax: requireCount(
      given.negativeMax,
      'cache.negativeMax',
      CACHE_DEFAULTS.negativeMax,
      0,
    ),
    invalidation: resolveInvalidation(given.invalidation),
    channel,
  };
}
