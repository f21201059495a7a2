import { DurinConfigurationError } from '../../lib';
import {
  decodeInvalidation,
  encodeInvalidation,
  InvalidationMessage,
} from '../../lib/cache/invalidation-channel';
import { resolveCacheOptions } from '../../lib/options/resolve-cache-options';
import { resolveDurinOptions } from '../../lib/options/resolve-options';

class User {}

describe('the cache option', () => {
  it('is on by default with a small ttl (bounded staleness without a channel)', () => {
    expect(resolveDurinOptions({ userEntity: User }).cache).toEqual({
      max: 10_000,
      ttlMs: 5_000,
      negativeMax: 0,
      invalidation: 'auto',
      channel: 'durin_cache',
    });
  });

  it('can be turned off', () => {
    expect(resolveDurinOptions({ userEntity: User, cache: false }).cache).toBe(false);
  });

  it('takes max, ttl, negativeMax, invalidation and channel', () => {
    const redis = { publish: async () => 1, duplicate: () => ({}) as never };
    expect(
      resolveCacheOptions({
        max: 5,
        ttl: '1m',
        negativeMax: 7,
        invalidation: { redis },
        channel: 'my_app',
      }),
    ).toEqual({
      max: 5,
      ttlMs: 60_000,
      negativeMax: 7,
      invalidation: { redis },
      channel: 'my_app',
    });
    expect(
      resolveCacheOptions({ invalidation: { redis: 'redis://127.0.0.1:6379' } }),
    ).toMatchObject({ invalidation: { redis: 'redis://127.0.0.1:6379' } });
    expect(resolveCacheOptions({ invalidation: 'postgres' })).toMatchObject({
      invalidation: 'postgres',
    });
    expect(resolveCacheOptions({ invalidation: false })).toMatchObject({ invalidation: false });
  });

  it.each([
    [null, 'cache'],
    ['yes', 'cache'],
    [[], 'cache'],
    [{ size: 3 }, 'cache.size'],
    [{ max: 0 }, 'cache.max'],
    [{ max: 1.5 }, 'cache.max'],
    [{ max: '10' }, 'cache.max'],
    [{ ttl: 0 }, 'cache.ttl'],
    [{ ttl: '5 s' }, 'cache.ttl'],
    [{ negativeMax: -1 }, 'cache.negativeMax'],
    [{ invalidation: 'redis' }, 'cache.invalidation'],
    [{ invalidation: { redis: 'http://x' } }, 'cache.invalidation.redis'],
    [{ invalidation: { redis: {} } }, 'cache.invalidation.redis'],
    [{ channel: 'Has-Dash' }, 'cache.channel'],
    [{ channel: '1abc' }, 'cache.channel'],
  ])('refuses %p naming %s', (value, option) => {
    let error: unknown;
    try {
      resolveDurinOptions({ userEntity: User, cache: value as never });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DurinConfigurationError);
    expect((error as Error).message).toContain(`'${option}'`);
  });
});

describe('invalidation messages', () => {
  it.each<InvalidationMessage>([
    { kind: 'token', id: 'a' },
    { kind: 'family', id: 'b' },
    { kind: 'user', id: '42' },
    { kind: 'all' },
  ])('round-trip %p', (message) => {
    expect(decodeInvalidation(encodeInvalidation('me', message))).toEqual({
      origin: 'me',
      message,
    });
  });

  it.each([
    '',
    'null',
    '{}',
    '[]',
    'not json',
    '{"v":2,"o":"x","k":"t","i":"a"}',
    '{"v":1,"o":"x","k":"z"}',
    '{"v":1,"o":"x","k":"t"}',
    `{"v":1,"o":"x","k":"t","i":"${'a'.repeat(300)}"}`,
  ])('ignores foreign payload %p', (payload) => {
    expect(decodeInvalidation(payload)).toBeNull();
  });
});
