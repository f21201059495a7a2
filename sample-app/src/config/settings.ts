import { join } from 'node:path';
import type { Duration } from '../../../lib';

/** The environment the settings are read from (`process.env`, or a fixed object in tests). */
export type SampleEnv = Record<string, string | undefined>;

export type HttpAdapterName = 'express' | 'fastify';

export type DatabaseSettings = { type: 'sqlite'; path: string } | { type: 'postgres'; url: string };

/** Everything the sample app can be told through its environment, parsed and checked. */
export interface SampleSettings {
  /** `PORT`, default 3000. */
  port: number;
  /** `HOST`; unset: the adapter's default (all interfaces for Express, localhost for Fastify). */
  host: string | undefined;
  /** `HTTP_ADAPTER`: `express` (default) or `fastify`. */
  httpAdapter: HttpAdapterName;
  /** `DB_TYPE` (`sqlite` default, or `postgres`), with `SQLITE_PATH` or `DATABASE_URL`. */
  database: DatabaseSettings;
  /**
   * `COOKIE_SECURE`, default `true`. Browsers accept Secure (and `__Host-`) cookies from
   * `http://localhost`, so a front end on localhost works with the default; only curl over plain
   * http needs `false`.
   */
  cookieSecure: boolean;
  /**
   * `CORS_ORIGINS`: comma-separated origins of front ends on another origin (e.g.
   * `http://localhost:5173`). Each is allowed by CORS (with credentials) and by the CSRF check.
   * Unset: same-origin only.
   */
  corsOrigins: string[];
  /** `TOKEN_TTL`, default `1h`. */
  tokenTtl: Duration;
  /** `REFRESH_TOKEN_TTL`, default `7d`. */
  refreshTokenTtl: Duration;
  /** `AUTO_REFRESH` (sliding expiry), default `false`. */
  autoRefresh: boolean;
  /** `AUTO_REFRESH_INTERVAL`, default `1m`. */
  autoRefreshInterval: Duration;
  /** `TOKEN_PEPPER`: HMAC key for the stored token hashes; unset: plain SHA-256. */
  pepper: string | undefined;
  /** `BCRYPT_ROUNDS`, default 10. */
  bcryptRounds: number;
  /** `SEED_DEMO_DATA`, default `true`: create the demo user and the clients when missing. */
  seedDemoData: boolean;
  /**
   * `RATE_LIMITS`, default `true`: requests are counted per user and client (each client's
   * `throttleRate`, see the seed) and logins per IP (`LOGIN_RATE`).
   */
  rateLimits: boolean;
  /** `LOGIN_RATE`, default `30/m`: login attempts per client IP. */
  loginRate: string;
  /**
   * `REDIS_URL`: the rate-limit counters go to this Redis, so that several instances share them.
   * Unset: in memory, per instance.
   */
  redisUrl: string | undefined;
}

/** Where `npm start` keeps its SQLite file: `sample-app/data/`, which git ignores. */
export const DEFAULT_SQLITE_PATH = join(__dirname, '..', '..', 'data', 'sample.sqlite');

/** Thrown when an environment variable has a value the app cannot use. */
export class SettingsError extends Error {
  constructor(variable: string, reason: string) {
    super(`sample-app: ${variable} ${reason}`);
    this.name = 'SettingsError';
  }
}

/** What nestjs-durin accepts: whole seconds, or a number with one unit (s, m, h, d). */
const DURATION = /^\d{1,9}[smhd]?$/;

function text(env: SampleEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function flag(env: SampleEnv, name: string, fallback: boolean): boolean {
  const value = text(env, name)?.toLowerCase();
  if (value === undefined) return fallback;
  if (['true', '1', 'yes', 'on'].includes(value)) return true;
  if (['false', '0', 'no', 'off'].includes(value)) return false;
  throw new SettingsError(name, `must be true or false (got ${JSON.stringify(env[name])})`);
}

function integer(env: SampleEnv, name: string, fallback: number, min: number, max: number): number {
  const value = text(env, name);
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
    throw new SettingsError(name, `must be an integer from ${min} to ${max} (got ${value})`);
  }
  return parsed;
}

function duration(env: SampleEnv, name: string, fallback: Duration): Duration {
  const value = text(env, name);
  if (value === undefined) return fallback;
  if (!DURATION.test(value)) {
    throw new SettingsError(name, `must be a duration like 30s, 15m, 1h or 7d (got ${value})`);
  }
  return /^\d+$/.test(value) ? Number(value) : (value as Duration);
}

/** django-rest-durin's rate format, as nestjs-durin reads it: `<n>/<s|m|h|d>`. */
const RATE = /^[1-9]\d{0,8}\/[smhd]$/;

function rate(env: SampleEnv, name: string, fallback: string): string {
  const value = text(env, name) ?? fallback;
  if (!RATE.test(value)) {
    throw new SettingsError(
      name,
      `must be a rate like 30/m (requests per s, m, h or d; got ${value})`,
    );
  }
  return value;
}

function redisUrl(env: SampleEnv): string | undefined {
  const value = text(env, 'REDIS_URL');
  if (value !== undefined && !/^rediss?:\/\//.test(value)) {
    throw new SettingsError('REDIS_URL', `must be a redis:// or rediss:// URL (got ${value})`);
  }
  return value;
}

function origins(env: SampleEnv, name: string): string[] {
  const value = text(env, name);
  if (value === undefined) return [];
  return value.split(',').map((entry) => {
    const origin = entry.trim().replace(/\/$/, '');
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {
      url = undefined;
    }
    // Exactly scheme://host[:port]: a path or a wildcard here would silently never match.
    if (url === undefined || !/^https?:$/.test(url.protocol) || url.origin !== origin) {
      throw new SettingsError(name, `must list origins like http://localhost:5173 (got ${entry})`);
    }
    return origin;
  });
}

function database(env: SampleEnv): DatabaseSettings {
  const type = (text(env, 'DB_TYPE') ?? 'sqlite').toLowerCase();
  if (type === 'sqlite') {
    return { type, path: text(env, 'SQLITE_PATH') ?? DEFAULT_SQLITE_PATH };
  }
  if (type === 'postgres') {
    const url = text(env, 'DATABASE_URL');
    if (url === undefined) {
      throw new SettingsError(
        'DATABASE_URL',
        'is required with DB_TYPE=postgres (e.g. postgres://user:pass@localhost:5432/durin)',
      );
    }
    return { type, url };
  }
  throw new SettingsError('DB_TYPE', `must be sqlite or postgres (got ${type})`);
}

function httpAdapter(env: SampleEnv): HttpAdapterName {
  const value = (text(env, 'HTTP_ADAPTER') ?? 'express').toLowerCase();
  if (value !== 'express' && value !== 'fastify') {
    throw new SettingsError('HTTP_ADAPTER', `must be express or fastify (got ${value})`);
  }
  return value;
}

/**
 * Reads the sample app's settings. Throws a {@link SettingsError} naming the variable at fault, so
 * a typo stops the app at start-up instead of at the first request.
 */
export function readSettings(env: SampleEnv): SampleSettings {
  return {
    port: integer(env, 'PORT', 3000, 0, 65535),
    host: text(env, 'HOST'),
    httpAdapter: httpAdapter(env),
    database: database(env),
    cookieSecure: flag(env, 'COOKIE_SECURE', true),
    corsOrigins: origins(env, 'CORS_ORIGINS'),
    tokenTtl: duration(env, 'TOKEN_TTL', '1h'),
    refreshTokenTtl: duration(env, 'REFRESH_TOKEN_TTL', '7d'),
    autoRefresh: flag(env, 'AUTO_REFRESH', false),
    autoRefreshInterval: duration(env, 'AUTO_REFRESH_INTERVAL', '1m'),
    pepper: text(env, 'TOKEN_PEPPER'),
    bcryptRounds: integer(env, 'BCRYPT_ROUNDS', 10, 4, 15),
    seedDemoData: flag(env, 'SEED_DEMO_DATA', true),
    rateLimits: flag(env, 'RATE_LIMITS', true),
    loginRate: rate(env, 'LOGIN_RATE', '30/m'),
    redisUrl: redisUrl(env),
  };
}

/** The `@nestjs/config` namespace of the settings: `config.get('sample', { infer: true })`. */
export interface SampleConfig {
  sample: SampleSettings;
}
