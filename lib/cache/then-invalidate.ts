import { DurinCacheService } from './durin-cache.service';

/**
 * Runs a write that ends or changes tokens, then drops what it concerns from the token cache
 * before returning, also when the write failed (it may have committed before the error reached
 * us). The drop comes after the commit: a request reading the row meanwhile either sees the new
 * state or has its cache fill refused (see TokenCache).
 */
export async function thenInvalidate<R>(
  cache: DurinCacheService | undefined,
  work: () => Promise<R>,
  invalidate: (cache: DurinCacheService) => Promise<void>,
): Promise<R> {
  try {
    return await work();
  } finally {
    if (cache?.enabled) {
      await invalidate(cache);
    }
  }
}
