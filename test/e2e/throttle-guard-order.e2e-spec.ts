import request from 'supertest';
import { DurinConfigurationError } from '../../lib';
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
 * The guard-order trap: DurinThrottlerGuard global, AuthGuard on the controller. Global guards
 * run first, so the throttler meets requests nobody has authenticated yet; it must still count
 * them per user and client (checking the credential itself, from the token cache), without ever
 * answering 401 or letting a request in as its user.
 */
describeEachRow(
  THROTTLE_ROWS,
  'DurinThrottlerGuard before AuthGuard, over %s on %s',
  (adapter, kind) => {
    let db: TestDatabase;
    let h: ThrottleApp;
    let users = 0;

    beforeAll(async () => {
      db = await createTestDatabase(kind);
      h = await startThrottleApp({ adapter, db, order: 'throttler-only' });
      await h.tokens.createClient({ name: 'plain' });
    });

    afterAll(async () => {
      await h?.app.close();
      await db?.drop();
    });

    async function token(): Promise<string> {
      const owner = await h.dataSource
        .getRepository(ThrottleUser)
        .save({ username: `order${++users}` });
      return (await h.tokens.generateHeaderToken(owner, { client: 'plain' })).accessToken;
    }

    function get(path: string, raw?: string, ip = freshIp()): request.Test {
      const req = request(h.http).get(path).set('X-Forwarded-For', ip);
      return raw === undefined ? req : req.set('Authorization', `Bearer ${raw}`);
    }

    it('still counts after authentication: requests 1 and 2 pass, the 3rd is 429', async () => {
      const raw = await token();
      expect((await get('/api/a', raw)).status).toBe(200);
      expect((await get('/api/b', raw)).status).toBe(200);
      expect429(await get('/api/a', raw), '2');
    });

    it('no token, or a bad one, is the auth guard 401, never the throttler 429', async () => {
      const ip = freshIp();
      for (let i = 0; i < 4; i++) {
        const missing = await get('/api/a', undefined, ip);
        expect([missing.status, (missing.body as { code: string }).code]).toEqual([
          401,
          'token_missing',
        ]);
        const invalid = await get(
          '/api/a',
          'durin_at_0000000000000000000000000000000000000000',
          ip,
        );
        expect([invalid.status, (invalid.body as { code: string }).code]).toEqual([
          401,
          'token_invalid',
        ]);
      }
    });

    it('counts a token on a public route against its user without letting it in', async () => {
      const raw = await token();
      const open = await get('/api/open', raw);
      expect(open.status).toBe(200);
      expect(open.body).toEqual({ route: 'open', user: null });
      expect(open.headers['x-ratelimit-limit-durin']).toBe('2');
      expect((await get('/api/a', raw)).status).toBe(200);
      expect429(await get('/api/open', raw), '2');
    });

    it('costs no SQL beyond the auth guard: the credential is checked from the token cache', async () => {
      const raw = await token();
      expect((await get('/api/a', raw)).status).toBe(200);
      const mark = h.counter.count;
      expect((await get('/api/b', raw)).status).toBe(200);
      expect429(await get('/api/a', raw), '2');
      expect(h.counter.queries.slice(mark)).toEqual([]);
    });
  },
);

describe('DurinThrottlerGuard start-up', () => {
  let db: TestDatabase;

  beforeEach(async () => {
    db = await createTestDatabase('sqlite');
  });

  afterEach(async () => {
    await db.drop();
  });

  it('refuses to start with `throttle` but no ThrottlerModule (no storage)', async () => {
    const started = startThrottleApp({ adapter: 'express', db, withoutThrottlerModule: true });
    await expect(started).rejects.toThrow(DurinConfigurationError);
    await expect(started).rejects.toThrow(/'throttle'.*ThrottlerModule\.forRoot/);
  });
});
