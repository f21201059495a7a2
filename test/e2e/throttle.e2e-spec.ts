import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { createTestDatabase, describeEachRow, type TestDatabase } from '../support/databases';
import {
  expect429,
  freshIp,
  startThrottleApp,
  THROTTLE_ROWS,
  type ThrottleApp,
  ThrottleUser,
} from './support/throttle-app';

/**
 * Rate limits per user and client (issue 10, SECURITY-CHECKLIST REQ-RL-01) through
 * DurinThrottlerGuard on @nestjs/throttler, registered in the recommended order (the global
 * AuthGuard first). Module defaults: `defaultRate` 2/m, `anonymousRate` 2/m, refresh 3/m per IP
 * and 2/m per family; the client `fast` has its own `5/m`, `tick` has `1/s`.
 */
describeEachRow(THROTTLE_ROWS, 'DurinThrottlerGuard over %s on %s', (adapter, kind) => {
  let db: TestDatabase;
  let h: ThrottleApp;
  let users = 0;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    h = await startThrottleApp({ adapter, db });
    await h.tokens.createClient({ name: 'plain' });
    await h.tokens.createClient({ name: 'other' });
    await h.tokens.createClient({ name: 'fast', throttleRate: '5/m' });
    await h.tokens.createClient({ name: 'tick', throttleRate: '1/s' });
  });

  afterAll(async () => {
    await h?.app.close();
    await db?.drop();
  });

  async function user(): Promise<ThrottleUser> {
    return h.dataSource.getRepository(ThrottleUser).save({ username: `u${++users}` });
  }

  async function tokenOf(owner: ThrottleUser, client: string): Promise<string> {
    return (await h.tokens.generateHeaderToken(owner, { client })).accessToken;
  }

  function get(path: string, token?: string, ip = freshIp()): request.Test {
    const req = request(h.http).get(path).set('X-Forwarded-For', ip);
    return token === undefined ? req : req.set('Authorization', `Bearer ${token}`);
  }

  async function statuses(path: string, token: string, times: number): Promise<number[]> {
    const seen: number[] = [];
    for (let i = 0; i < times; i++) seen.push((await get(path, token)).status);
    return seen;
  }

  it('default rate 2/m: requests 1 and 2 pass, the 3rd is 429, across routes', async () => {
    const token = await tokenOf(await user(), 'plain');
    const first = await get('/api/a', token);
    expect(first.status).toBe(200);
    expect(first.headers['x-ratelimit-limit-durin']).toBe('2');
    expect(first.headers['x-ratelimit-remaining-durin']).toBe('1');
    // The app's own throttler still answers with its headers.
    expect(first.headers['x-ratelimit-limit']).toBe('1000');
    expect((await get('/api/b', token)).status).toBe(200);
    expect429(await get('/api/a', token), '2');
    expect429(await get('/api/b', token), '2');
  });

  it("a client's own rate (5/m): 5 pass, the 6th is 429", async () => {
    const token = await tokenOf(await user(), 'fast');
    expect(await statuses('/api/a', token, 5)).toEqual([200, 200, 200, 200, 200]);
    expect429(await get('/api/a', token), '5');
  });

  it('a throttled route without a token is 401, never 429', async () => {
    const ip = freshIp();
    for (let i = 0; i < 4; i++) {
      const res = await get('/api/a', undefined, ip);
      expect({ status: res.status, code: (res.body as { code?: string }).code }).toEqual({
        status: 401,
        code: 'token_missing',
      });
    }
    const bad = await get('/api/a', 'durin_at_nonsense', ip);
    expect(bad.status).toBe(401);
  });

  it('two users of one client, and one user of two clients, are counted apart', async () => {
    const alice = await user();
    const bob = await user();
    const alicePlain = await tokenOf(alice, 'plain');
    expect(await statuses('/api/a', alicePlain, 3)).toEqual([200, 200, 429]);
    expect(await statuses('/api/a', await tokenOf(bob, 'plain'), 2)).toEqual([200, 200]);
    expect(await statuses('/api/a', await tokenOf(alice, 'other'), 2)).toEqual([200, 200]);
    // A second token of the same user and client shares the budget: it is per (user, client).
    expect((await get('/api/a', await tokenOf(alice, 'plain'))).status).toBe(429);
  });

  it('@SkipThrottle({ durin: true }) leaves durin out and the app throttlers in', async () => {
    const token = await tokenOf(await user(), 'plain');
    expect(await statuses('/api/a', token, 3)).toEqual([200, 200, 429]);
    const res = await get('/api/unmetered', token);
    expect(res.status).toBe(200);
    expect(res.headers['x-ratelimit-limit-durin']).toBeUndefined();
    expect(res.headers['x-ratelimit-limit']).toBe('1000');
  });

  it("the app's own @Throttle() limits keep working, answered the library's way", async () => {
    const ip = freshIp();
    expect((await get('/api/strict', undefined, ip)).status).toBe(200);
    expect429(await get('/api/strict', undefined, ip), '1', 'default');
  });

  it('anonymous requests count per client IP on @ThrottleAnonymous() routes only', async () => {
    const ip = freshIp();
    expect((await get('/api/open', undefined, ip)).status).toBe(200);
    expect((await get('/api/open', undefined, ip)).status).toBe(200);
    expect429(await get('/api/open', undefined, ip), '2');
    expect((await get('/api/open', undefined, freshIp())).status).toBe(200);
  });

  it('the window resets (client rate 1/s)', async () => {
    const token = await tokenOf(await user(), 'tick');
    let limited: request.Response | undefined;
    for (let i = 0; i < 20 && limited === undefined; i++) {
      const res = await get('/api/a', token);
      if (res.status === 429) limited = res;
      else expect(res.status).toBe(200);
    }
    expect(limited).toBeDefined();
    expect429(limited!, '1');
    await sleep(Number(limited!.headers['retry-after']) * 1000 + 200);
    expect((await get('/api/a', token)).status).toBe(200);
  });

  it('costs no SQL: the client comes with the cached token', async () => {
    const token = await tokenOf(await user(), 'plain');
    expect((await get('/api/a', token)).status).toBe(200); // fills the cache, records first use
    const mark = h.counter.count;
    expect((await get('/api/b', token)).status).toBe(200);
    expect429(await get('/api/a', token), '2');
    expect(h.counter.queries.slice(mark)).toEqual([]);
  });

  describe('POST /auth/refresh', () => {
    function refresh(refreshToken: string, ip: string): request.Test {
      return request(h.http)
        .post('/auth/refresh')
        .set('X-Forwarded-For', ip)
        .send({ refreshToken });
    }

    it('is limited per client IP (3/m), valid and junk tokens alike', async () => {
      const ip = freshIp();
      for (let i = 0; i < 3; i++) {
        expect((await refresh(`durin_rt_junk${i}`, ip)).status).toBe(401);
      }
      const set = await h.tokens.generateHeaderToken(await user(), { client: 'plain' });
      expect429(await refresh(set.refreshToken!, ip), '3', 'refresh-ip');
      // Refused before anything was looked at: the token still rotates from elsewhere.
      expect((await refresh(set.refreshToken!, freshIp())).status).toBe(200);
    });

    it('is limited per token family (2/m), from any IP', async () => {
      const owner = await user();
      const first = await h.tokens.generateHeaderToken(owner, { client: 'plain' });
      const second = await refresh(first.refreshToken!, freshIp());
      expect(second.status).toBe(200);
      const third = await refresh(
        (second.body as { refreshToken: string }).refreshToken,
        freshIp(),
      );
      expect(third.status).toBe(200);
      const current = (third.body as { refreshToken: string; accessToken: string }).refreshToken;
      expect429(await refresh(current, freshIp()), '2', 'refresh-family');
      // Nothing rotated: the pair of the last success still works, and so does another login.
      const access = (third.body as { accessToken: string }).accessToken;
      expect((await get('/api/unmetered', access)).status).toBe(200);
      const other = await h.tokens.generateHeaderToken(owner, { client: 'plain' });
      expect((await refresh(other.refreshToken!, freshIp())).status).toBe(200);
    });
  });
});
