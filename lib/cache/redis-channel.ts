import { Logger } from '@nestjs/common';
import { DurinRedisClient, DurinRedisSubscriber } from '../interfaces/cache-options.interface';
import {
  CHANNEL_HEALTH_INTERVAL_MS,
  CHANNEL_HEALTH_TIMEOUT_MS,
  CHANNEL_RETRY_MAX_MS,
  InvalidationChannel,
  InvalidationListener,
  withTimeout,
} from './invalidation-channel';

const SUBSCRIBE_WARNING_INTERVAL_MS = 30_000;

/** A client nestjs-durin opened from a URL and must close itself. */
interface OwnedRedisClient extends DurinRedisClient {
  quit(): Promise<unknown>;
}

/** ioredis is an optional peer dependency: only loaded when the app gives a URL. */
async function connectRedis(url: string): Promise<OwnedRedisClient> {
  const moduleName = 'ioredis';
  let loaded: { Redis?: new (url: string, options: object) => OwnedRedisClient };
  try {
    loaded = (await import(moduleName)) as typeof loaded;
  } catch {
    throw new Error(
      "nestjs-durin: cache.invalidation.redis is a URL but the 'ioredis' package is not installed",
    );
  }
  if (loaded.Redis === undefined) {
    throw new Error("nestjs-durin: the installed 'ioredis' has no Redis export (need ioredis 5)");
  }
  // No offline queue: while Redis is unreachable a publish fails at once instead of holding a
  // revocation until the client gives up (the other instances are covered by their own health
  // check and the ttl meanwhile).
  return new loaded.Redis(url, { enableOfflineQueue: false });
}

/**
 * Cache invalidation over Redis pub/sub.
 *
 * Pub/sub is fire-and-forget: a message sent while a subscriber is disconnected is lost for it.
 * So the subscriber reports "down" as soon as its connection closes or stops answering a PING
 * (checked every second), and "up" only after it has subscribed again; in between the cache is
 * bypassed. ioredis reconnects on its own; a connection that is open but silent (a partition) is
 * dropped by us so that it does.
 */
export class RedisInvalidationChannel implements InvalidationChannel {
  readonly kind = 'redis';
  private publisher: DurinRedisClient | undefined;
  private owned: OwnedRedisClient | undefined;
  private subscriber: DurinRedisSubscriber | undefined;
  private listener: InvalidationListener | undefined;
  private up = false;
  private closed = false;
  private subscribing = false;
  private warnedAt = 0;
  private onFirstUp: (() => void) | undefined;
  private healthTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: DurinRedisClient | string,
    private readonly channel: string,
    private readonly logger: Logger,
  ) {}

  async start(listener: InvalidationListener): Promise<void> {
    this.listener = listener;
    if (typeof this.redis === 'string') {
      this.owned = await connectRedis(this.redis);
      this.publisher = this.owned;
    } else {
      this.publisher = this.redis;
    }
    const subscriber = this.publisher.duplicate();
    this.subscriber = subscriber;
    subscriber.on('message', (channel: string, payload: string) => {
      if (channel === this.channel) this.listener?.message(payload);
    });
    // Any of these means messages may be missed from now on.
    for (const event of ['close', 'end', 'reconnecting']) {
      subscriber.on(event, () => this.setUp(false));
    }
    subscriber.on('error', (error: Error) => {
      this.logger.warn(`cache invalidation: Redis subscriber error (${error.message})`);
    });
    // ioredis re-subscribes by itself after a reconnect; subscribing again is harmless and tells
    // us when it is done.
    subscriber.on('ready', () => void this.subscribe());
    this.healthTimer = setInterval(() => void this.checkHealth(), CHANNEL_HEALTH_INTERVAL_MS);
    this.healthTimer.unref();
    // Start-up waits (boundedly) for the subscription, so a fresh app uses its cache at once; if
    // Redis is not there yet the app starts anyway, bypassing the cache until it is.
    const firstUp = new Promise<void>((resolve) => (this.onFirstUp = resolve));
    void this.subscribe();
    await withTimeout(firstUp, CHANNEL_RETRY_MAX_MS, 'first SUBSCRIBE').catch(() => undefined);
  }

  async publish(payload: string): Promise<void> {
    if (!this.publisher) throw new Error('the Redis invalidation channel is not started');
    await this.publisher.publish(this.channel, payload);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.healthTimer);
    this.setUp(false);
    this.subscriber?.disconnect(false);
    if (this.owned) {
      await withTimeout(this.owned.quit(), CHANNEL_HEALTH_TIMEOUT_MS, 'closing Redis').catch(
        () => undefined,
      );
    }
  }

  private async subscribe(): Promise<void> {
    const subscriber = this.subscriber;
    if (!subscriber || this.closed || this.subscribing) return;
    this.subscribing = true;
    try {
      await withTimeout(
        subscriber.subscribe(this.channel),
        CHANNEL_HEALTH_TIMEOUT_MS * 5,
        'SUBSCRIBE',
      );
      this.setUp(true);
    } catch (error) {
      this.setUp(false);
      // Retried every second while Redis is away: say it once in a while, not every time.
      if (Date.now() - this.warnedAt > SUBSCRIBE_WARNING_INTERVAL_MS) {
        this.warnedAt = Date.now();
        this.logger.warn(
          `cache invalidation: SUBSCRIBE ${this.channel} failed (${String(error)}); bypassing the token cache until it works`,
        );
      }
    } finally {
      this.subscribing = false;
    }
  }

  private async checkHealth(): Promise<void> {
    const subscriber = this.subscriber;
    if (!subscriber || this.closed) return;
    if (!this.up) {
      // Covers a SUBSCRIBE that failed on a connection ioredis did not see as broken.
      await this.subscribe();
      return;
    }
    try {
      await withTimeout(subscriber.ping(), CHANNEL_HEALTH_TIMEOUT_MS, 'Redis PING');
    } catch (error) {
      if (this.closed) return;
      this.setUp(false);
      this.logger.warn(
        `cache invalidation: Redis subscriber not answering (${String(error)}); reconnecting`,
      );
      // Forces ioredis to reconnect and re-subscribe; "up" again after SUBSCRIBE succeeds.
      subscriber.disconnect(true);
    }
  }

  private setUp(up: boolean): void {
    if (this.up === up || (up && this.closed)) return;
    this.up = up;
    this.listener?.health(up);
    if (up) this.onFirstUp?.();
  }
}
