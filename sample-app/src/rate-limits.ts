import type { ThrottlerModuleOptions } from '@nestjs/throttler';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import type { SampleSettings } from './config/settings';

/**
 * The `@nestjs/throttler` set-up behind nestjs-durin's limits. No throttlers of the app's own:
 * DurinThrottlerGuard adds its per-user-and-client one. The counters live in memory, or in Redis
 * (`REDIS_URL`) so that several instances share them.
 */
export function throttlerOptions(settings: SampleSettings): ThrottlerModuleOptions {
  return {
    throttlers: [],
    ...(settings.redisUrl === undefined
      ? {}
      : { storage: new ThrottlerStorageRedisService(settings.redisUrl) }),
  };
}
