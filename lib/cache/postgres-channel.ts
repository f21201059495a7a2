import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  CHANNEL_HEALTH_INTERVAL_MS,
  CHANNEL_HEALTH_TIMEOUT_MS,
  CHANNEL_RETRY_MAX_MS,
  CHANNEL_RETRY_MIN_MS,
  InvalidationChannel,
  InvalidationListener,
  withTimeout,
} from './invalidation-channel';

/** The few members of node-postgres's `Client` used here (pg ships no typings in this repo). */
interface PgClient {
  connect(): Promise<void>;
  query(sql: string): Promise<unknown>;
  end(): Promise<void>;
  on(
    event: 'notification',
    listener: (message: { channel: string; payload?: string }) => void,
  ): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
}

/** What TypeORM's PostgresDriver keeps: the loaded `pg` module and the pool with its settings. */
interface PostgresDriverInternals {
  postgres?: { Client?: new (config: object) => PgClient };
  master?: { options?: object };
}

/** True when the data source talks to PostgreSQL (where LISTEN/NOTIFY exists). */
export function isPostgres(dataSource: DataSource): boolean {
  return dataSource.options.type === 'postgres';
}

/**
 * Cache invalidation over PostgreSQL `LISTEN/NOTIFY`, for apps without Redis.
 *
 * The listening connection is a dedicated `pg` client built from the TypeORM pool's own settings
 * (same host, credentials, TLS), kept outside the pool so it never takes a slot from queries.
 * Publishing is a `SELECT pg_notify(...)` through the normal pool. PostgreSQL delivers a
 * notification to every session listening at commit time, so a message is lost only when the
 * listening connection is; that is detected by the connection's own events and by a `SELECT 1`
 * every second, and reported as "down" so the cache is bypassed until LISTEN is back.
 */
export class PostgresInvalidationChannel implements InvalidationChannel {
  readonly kind = 'postgres';
  private client: PgClient | undefined;
  private listener: InvalidationListener | undefined;
  private up = false;
  private closed = false;
  private retryMs = CHANNEL_RETRY_MIN_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private healthTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly channel: string,
    private readonly logger: Logger,
  ) {}

  async start(listener: InvalidationListener): Promise<void> {
    this.listener = listener;
    this.healthTimer = setInterval(() => void this.checkHealth(), CHANNEL_HEALTH_INTERVAL_MS);
    this.healthTimer.unref();
    await this.connect();
  }

  async publish(payload: string): Promise<void> {
    await this.dataSource.query('SELECT pg_notify($1, $2)', [this.channel, payload]);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.healthTimer);
    const client = this.client;
    this.client = undefined;
    this.setUp(false);
    if (client) {
      await withTimeout(client.end(), CHANNEL_HEALTH_TIMEOUT_MS, 'closing LISTEN').catch(
        () => undefined,
      );
    }
  }

  private createClient(): PgClient {
    const driver = this.dataSource.driver as unknown as PostgresDriverInternals;
    const Client = driver.postgres?.Client;
    const settings = driver.master?.options;
    if (Client === undefined || settings === undefined) {
      throw new Error('the data source is not an initialised PostgreSQL (pg) data source');
    }
    return new Client(settings);
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    let client: PgClient | undefined;
    try {
      client = this.createClient();
      const current = client;
      current.on('notification', (message) => {
        if (message.channel === this.channel && message.payload !== undefined) {
          this.listener?.message(message.payload);
        }
      });
      current.on('error', (error) => this.fail(current, error));
      current.on('end', () => this.fail(current, new Error('connection ended')));
      await withTimeout(current.connect(), CHANNEL_RETRY_MAX_MS, 'connecting for LISTEN');
      await withTimeout(
        current.query(`LISTEN "${this.channel}"`),
        CHANNEL_HEALTH_TIMEOUT_MS * 5,
        'LISTEN',
      );
      if (this.closed) {
        await current.end().catch(() => undefined);
        return;
      }
      this.client = current;
      this.retryMs = CHANNEL_RETRY_MIN_MS;
      this.setUp(true);
    } catch (error) {
      if (client) {
        client.end().catch(() => undefined);
      }
      this.logger.warn(
        `cache invalidation: LISTEN ${this.channel} failed (${String(error)}); ` +
          `bypassing the token cache and retrying in ${this.retryMs} ms`,
      );
      this.scheduleReconnect();
    }
  }

  private fail(client: PgClient, error: Error): void {
    if (client !== this.client) return;
    this.client = undefined;
    this.setUp(false);
    client.end().catch(() => undefined);
    if (!this.closed) {
      this.logger.warn(
        `cache invalidation: lost LISTEN ${this.channel} (${error.message}); bypassing the token cache until it is back`,
      );
      this.scheduleReconnect();
    }
  }

  private scheduleReconnect(): void {
    if (this.closed || this.retryTimer !== undefined) return;
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, CHANNEL_RETRY_MAX_MS);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect();
    }, delay);
    this.retryTimer.unref();
  }

  private async checkHealth(): Promise<void> {
    const client = this.client;
    if (!client || this.closed) return;
    try {
      await withTimeout(client.query('SELECT 1'), CHANNEL_HEALTH_TIMEOUT_MS, 'LISTEN health check');
    } catch (error) {
      this.fail(client, error instanceof Error ? error : new Error(String(error)));
    }
  }

  private setUp(up: boolean): void {
    if (this.up === up) return;
    this.up = up;
    this.listener?.health(up);
  }
}
