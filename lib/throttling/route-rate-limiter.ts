import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { DURIN_RESOLVED_OPTIONS, DURIN_STATIC_OPTIONS } from '../durin.constants';
import { DurinConfigurationError } from '../errors/durin-configuration.error';
import { DurinUnavailableException } from '../errors/durin-http.exception';
import { RateLimitedError } from '../errors/rate-limited.error';
import { setResponseHeaders } from '../http/response-headers';
import { DurinStaticOptions } from '../interfaces/durin-module-options.interface';
import { ResolvedDurinOptions } from '../options/resolved-options';
import { ThrottleRate } from './throttle-rate';
import { DurinThrottlerStorage, loadThrottler, missingThrottler } from './throttler-base';

/** What {@link RouteRateLimiter.clientIp} reads: Express and Fastify requests both have `ip`. */
interface RequestWithIp {
  ip?: unknown;
  socket?: { remoteAddress?: unknown };
  raw?: { socket?: { remoteAddress?: unknown } };
}

/**
 * Rate limits of the library's own public routes (refresh; later login), counted in the app's
 * `@nestjs/throttler` storage, so that several instances on a Redis storage share them. Active
 * when the `throttle` option is set: the module then refuses to start without the storage.
 *
 * @internal Not exported: the routes call it; its signature is stable for them.
 */
@Injectable()
export class RouteRateLimiter implements OnModuleInit {
  private storage: DurinThrottlerStorage | undefined;
  private normalizeIp: (ip: string) => string = (ip) => ip;
  private readonly logger = new Logger('DurinThrottle');

  constructor(
    @Inject(DURIN_RESOLVED_OPTIONS) private readonly options: ResolvedDurinOptions,
    @Inject(DURIN_STATIC_OPTIONS) private readonly statics: DurinStaticOptions,
    private readonly moduleRef: ModuleRef,
  ) {}

  onModuleInit(): void {
    if (this.options.throttle === false) return;
    const throttler = loadThrottler();
    if (!throttler.available) throw missingThrottler('throttle');
    let storage: unknown;
    try {
      // ThrottlerModule is global: its storage is visible from any module, ours included.
      storage = this.moduleRef.get(throttler.storageToken, { strict: false });
    } catch {
      storage = undefined;
    }
    if (typeof (storage as DurinThrottlerStorage | undefined)?.increment !== 'function') {
      throw new DurinConfigurationError(
        'throttle',
        "needs @nestjs/throttler's storage: import ThrottlerModule.forRoot() (or forRootAsync) in the app",
      );
    }
    this.storage = storage as DurinThrottlerStorage;
    this.normalizeIp = throttler.normalizeIp;
  }

  /** Whether limits are counted (the `throttle` option is set). */
  get enabled(): boolean {
    return this.storage !== undefined;
  }

  /** {@link consume} keyed by the client IP of `request` (an attempt per address). */
  consumeByIp(
    request: object,
    response: unknown,
    bucket: string,
    rate: ThrottleRate | null,
  ): Promise<void> {
    return this.consume(response, bucket, this.clientIp(request), rate);
  }

  /**
   * Counts one hit of `key` in `bucket` against `rate`. Over the limit it puts `Retry-After` and
   * `X-RateLimit-{Limit,Remaining,Reset}-<bucket>` on `response` and throws a
   * {@link RateLimitedError} (429 `rate_limited`); a failing storage is a 503 `auth_unavailable`.
   * Does nothing when throttling is off or `rate` is `null`.
   *
   * @param bucket what is limited, e.g. `'refresh-ip'`; keys of different buckets never meet.
   * @param key who is limited within the bucket (an IP, a family id, a user name); hashed.
   */
  async consume(
    response: unknown,
    bucket: string,
    key: string,
    rate: ThrottleRate | null,
  ): Promise<void> {
    if (this.storage === undefined || rate === null) return;
    const name = `durin-${bucket}`;
    const storageKey = createHash('sha256')
      .update(JSON.stringify([this.statics.name ?? 'default', bucket, key]))
      .digest('hex');
    let record: Awaited<ReturnType<DurinThrottlerStorage['increment']>>;
    try {
      record = await this.storage.increment(storageKey, rate.ttlMs, rate.limit, rate.ttlMs, name);
    } catch (error) {
      // A limit that cannot be counted is not waved through, nor is it the client's fault.
      this.logger.error(`the throttler storage failed: ${(error as Error).message}`);
      throw new DurinUnavailableException(error);
    }
    if (!record.isBlocked) return;
    const error = new RateLimitedError(record.timeToBlockExpire, bucket);
    setResponseHeaders(response, {
      ...error.headers,
      [`X-RateLimit-Limit-${bucket}`]: String(rate.limit),
      [`X-RateLimit-Remaining-${bucket}`]: '0',
      [`X-RateLimit-Reset-${bucket}`]: String(error.retryAfterSeconds),
    });
    throw error;
  }

  /**
   * The client's IP as `@nestjs/throttler` tracks it: `request.ip` (Express with `trust proxy`,
   * Fastify with `trustProxy`, give the client's address behind a proxy), an IPv6 address cut to
   * its /64.
   */
  clientIp(request: object): string {
    const req = request as RequestWithIp;
    const ip = req.ip ?? req.socket?.remoteAddress ?? req.raw?.socket?.remoteAddress;
    return typeof ip === 'string' && ip !== '' ? this.normalizeIp(ip) : 'unknown';
  }
}
