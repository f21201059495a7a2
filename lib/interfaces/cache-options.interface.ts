import { Duration } from '../options/duration';

/**
 * The part of an ioredis client (`new Redis(...)`) that nestjs-durin uses to publish cache
 * invalidations. Any ioredis `Redis` instance fits; nestjs-durin never closes a client you pass.
 */
export interface DurinRedisClient {
  publish(channel: string, message: string): Promise<number>;
  /** A new connection with the same settings, used in subscriber mode (closed by nestjs-durin). */
  duplicate(): DurinRedisSubscriber;
}

/** The part of an ioredis connection in subscriber mode that nestjs-durin uses. */
export interface DurinRedisSubscriber {
  subscribe(channel: string): Promise<unknown>;
  ping(): Promise<unknown>;
  on(event: string, listener: (...args: never[]) => void): unknown;
  /** Drops the socket; with `true`, ioredis reconnects (and re-subscribes) on its own. */
  disconnect(reconnect?: boolean): void;
}

/** Cross-instance invalidation over Redis pub/sub. */
export interface DurinRedisInvalidationOptions {
  /**
   * An ioredis client (you keep ownership; nestjs-durin duplicates it for its subscriber
   * connection) or a `redis://` URL (nestjs-durin then loads the optional peer `ioredis`, opens
   * both connections and closes them on shutdown).
   */
  redis: DurinRedisClient | string;
}

/**
 * How an instance tells the others which cached tokens to drop after a revocation.
 *
 * - `'auto'` (default): PostgreSQL `LISTEN/NOTIFY` when the data source is PostgreSQL, nothing
 *   otherwise: SQLite apps run as one process, and MySQL/MariaDB have no notification channel of
 *   their own (there, several instances need `{ redis }`, or live with the `ttl` as the bound).
 * - `'postgres'`: `LISTEN/NOTIFY` on the app's PostgreSQL (one extra connection per instance,
 *   outside the TypeORM pool). Start-up fails if the data source is not PostgreSQL.
 * - `{ redis }`: Redis pub/sub.
 * - `false`: no channel. Only right for a single instance; with several, a token revoked on one
 *   instance keeps working on the others until their entry's `ttl` runs out.
 */
export type DurinInvalidationOption = 'auto' | 'postgres' | DurinRedisInvalidationOptions | false;

/**
 * The in-process cache of verified tokens (`cache` option). A hit authenticates without any SQL;
 * every revocation through `TokenService` drops the affected entries before it returns, on this
 * instance at once and on the others through the invalidation channel.
 *
 * Staleness bound S (how long another instance may still accept a token revoked here): the
 * channel's delivery latency (milliseconds) while the channel is up. While it is down the cache is
 * bypassed (every request asks the database), and no entry is ever used longer than `ttl` after
 * the read it comes from, so S <= `ttl` in every case, including a silently lost message.
 */
export interface DurinCacheOptions {
  /** Most tokens kept per instance; the least recently used go first. Default `10000`. */
  max?: number;
  /**
   * Longest an entry is used after it was read from the database; also the bound on staleness
   * when the invalidation channel is down or a message is lost. Changes made to the user outside
   * nestjs-durin (deactivation, password change) are seen when the entry is re-read, so call
   * `TokenService.invalidateUser()` after them. Default `'5s'`.
   */
  ttl?: Duration;
  /**
   * How many unknown or revoked token hashes to remember (for `ttl`) so that a client retrying the
   * same dead token does not query each time. Separate from `max`: such entries never evict
   * verified ones. `0` turns it off. Default `0`, because with read replicas a token issued a
   * moment ago may not be on the replica yet and must not be remembered as unknown.
   */
  negativeMax?: number;
  /** Cross-instance invalidation. Default `'auto'`. */
  invalidation?: DurinInvalidationOption;
  /**
   * The Redis channel / PostgreSQL `NOTIFY` channel name: lower-case letters, digits and `_`.
   * Apps sharing a database or Redis but not their tokens need different names. Default
   * `'durin_cache'`.
   */
  channel?: string;
}
