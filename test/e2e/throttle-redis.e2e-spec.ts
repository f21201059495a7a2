import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { Redis } from 'ioredis';
import { once } from 'node:events';
import request from 'supertest';
import { createTestDatabase, type TestDatabase } from '../support/databases';
import {
  describeRedis,
  startRedisServer,
  type TestRedisServer,
} from '../integration/support/redis-server';
import {
  expect429,
  freshIp,
  startThrottleApp,
  type ThrottleApp,
  ThrottleUser,
} from './support/throttle-app';

/**
 * Two app instances (one on Express, one on Fastify) on one PostgreSQL database and one real
 * Redis, through `@nest-lab/throttler-storage-redis` with an ioredis connection each app makes:
 * durin's limits are the cluster's, not each instance's.
 */
describeRedis('DurinThrottlerGuard on a shared Redis storage', () => {
  let redis: TestRedisServer;
  let db: TestDatabase;
  const connections: Redis[] = [];
  let a: ThrottleApp;
  let b: ThrottleApp;

  async function storage(): Promise<ThrottlerStorageRedisService> {
    // No offline queue and no reconnecting: once Redis is gone, a command fails at once.
    const connection = new Redis(redis.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: () => null,
    });
    connections.push(connection);
    await once(connection, 'ready');
    return new ThrottlerStorageRedisService(connection);
  }

  beforeAll(async () => {
    redis = await startRedisServer();
    db = await createTestDatabase('postgres');
    a = await startThrottleApp({ adapter: 'express', db, storage: await storage() });
    b = await startThrottleApp({ adapter: 'fastify', db, storage: await storage() });
    await a.tokens.createClient({ name: 'plain' });
    await a.tokens.createClient({ name: 'fast', throttleRate: '5/m' });
  });

  afterAll(async () => {
    await a?.app.close();
    await b?.app.close();
    for (const connection of connections) connection.disconnect();
    await db?.drop();
    await redis?.stop();
  });

  let users = 0;
  async function token(client: string): Promise<string> {
    const owner = await a.dataSource
      .getRepository(ThrottleUser)
      .save({ username: `redis${++users}` });
    return (await a.tokens.generateHeaderToken(owner, { client })).accessToken;
  }

  function get(app: ThrottleApp, raw: string): request.Test {
    return request(app.http)
      .get('/api/a')
      .set('X-Forwarded-For', freshIp())
      .set('Authorization', `Bearer ${raw}`);
  }

  it('shares the count: 2/m spent on A and B, the 3rd on either is 429', async () => {
    const raw = await token('plain');
    expect((await get(a, raw)).status).toBe(200);
    expect((await get(b, raw)).status).toBe(200);
    expect429(await get(a, raw), '2');
    expect429(await get(b, raw), '2');
  });

  it("shares a client's own rate (5/m) the same way", async () => {
    const raw = await token('fast');
    const seen: number[] = [];
    for (const app of [a, b, a, b, a]) seen.push((await get(app, raw)).status);
    expect(seen).toEqual([200, 200, 200, 200, 200]);
    expect429(await get(b, raw), '5');
  });

  it('shares the refresh limit per family', async () => {
    const owner = await a.dataSource.getRepository(ThrottleUser).save({ username: 'refresher' });
    let refreshToken = (await a.tokens.generateHeaderToken(owner, { client: 'plain' }))
      .refreshToken!;
    for (const app of [a, b]) {
      const res = await request(app.http)
        .post('/auth/refresh')
        .set('X-Forwarded-For', freshIp())
        .send({ refreshToken });
      expect(res.status).toBe(200);
      refreshToken = (res.body as { refreshToken: string }).refreshToken;
    }
    const third = await request(a.http)
      .post('/auth/refresh')
      .set('X-Forwarded-For', freshIp())
      .send({ refreshToken });
    expect429(third, '2', 'refresh-family');
  });

  // Last: it stops the shared Redis.
  it('answers 503 auth_unavailable with Retry-After when the storage fails, never 500 or 200', async () => {
    const raw = await token('fast');
    await redis.kill();
    const res = await get(a, raw);
    expect({ status: res.status, body: res.body as unknown }).toEqual({
      status: 503,
      body: {
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'Authentication is temporarily unavailable. Please retry later.',
        code: 'auth_unavailable',
      },
    });
    expect(res.headers['retry-after']).toBe('5');
    const refreshed = await request(b.http)
      .post('/auth/refresh')
      .set('X-Forwarded-For', freshIp())
      .send({ refreshToken: 'durin_rt_junk' });
    expect([refreshed.status, (refreshed.body as { code: string }).code]).toEqual([
      503,
      'auth_unavailable',
    ]);
  });
});
