import type { Server } from 'node:http';
import request from 'supertest';
import { ALL_DB_KINDS, describeEachRow, TestDbKind } from '../support/databases';
import { forgedTagged, forgedUntagged } from '../support/forged-tokens';
import { ADAPTERS, AdapterKind, SecurityApp, startSecurityApp } from './support/security-app';

/**
 * Issue 12, "forged tokens cost no query", over HTTP: with `tokenTagKey`, a forged token in the
 * header, the cookie or the refresh body gets exactly the answer of an unknown token (401
 * `token_invalid`, same body and challenge: no oracle) and sends no SQL statement.
 */

const TAG_KEY = 'e2e-tag-key-0123456789abcdefghijklmnop';
/** The auth cookie as the default options set it (secure, so `__Host-`). */
const AUTH_COOKIE = '__Host-token';

const ROWS = ADAPTERS.flatMap((adapter) =>
  ALL_DB_KINDS.map((kind): [AdapterKind, TestDbKind] => [adapter, kind]),
);

describeEachRow(ROWS, 'forged tagged tokens over HTTP (%s, %s)', (adapter, kind) => {
  let sec: SecurityApp;
  let http: Server;

  beforeAll(async () => {
    sec = await startSecurityApp({ adapter, db: kind, durin: { tokenTagKey: TAG_KEY } });
    http = sec.app.getHttpServer() as Server;
  });
  afterAll(() => sec.close());

  async function login(mode: 'header' | 'cookie' = 'header') {
    const user = await sec.createUser();
    const res = await request(http).post('/login').send({ userId: user.id, mode }).expect(200);
    return res.body as { accessToken: string; refreshToken: string };
  }

  /** What the test compares between a forged and an unknown token: everything but timing. */
  function answerOf(res: request.Response) {
    return {
      status: res.status,
      body: res.body as unknown,
      challenge: res.headers['www-authenticate'] as string | undefined,
    };
  }

  it('an issued tagged token works on the guard and the refresh route', async () => {
    const tokens = await login();
    expect(tokens.accessToken).toMatch(/^durin_at2_[0-9A-Za-z]{60}$/);
    await request(http).get('/me').set('Authorization', `Bearer ${tokens.accessToken}`).expect(200);
    const next = await request(http)
      .post('/auth/refresh')
      .send({ refreshToken: tokens.refreshToken })
      .expect(200);
    expect((next.body as { accessToken: string }).accessToken).toMatch(/^durin_at2_/);
  });

  it('a forged tagged Bearer token: the unknown-token 401 token_invalid, and no query', async () => {
    const unknown = answerOf(
      await request(http)
        .get('/me')
        .set('Authorization', `Bearer ${forgedUntagged('at')}`),
    );
    expect(unknown.status).toBe(401);
    expect(unknown.body).toMatchObject({ statusCode: 401, code: 'token_invalid' });

    const before = sec.counter.count;
    const forged = await request(http)
      .get('/me')
      .set('Authorization', `Bearer ${forgedTagged('at2')}`);
    expect(sec.counter.queries.slice(before)).toEqual([]);
    expect(answerOf(forged)).toEqual(unknown);
  });

  it('a forged tagged cookie token: 401 token_invalid, and no query', async () => {
    const before = sec.counter.count;
    const res = await request(http)
      .get('/me')
      .set('Cookie', `${AUTH_COOKIE}=${forgedTagged('at2')}`);
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ statusCode: 401, code: 'token_invalid' });
    expect(sec.counter.queries.slice(before)).toEqual([]);
  });

  it('a forged tagged refresh token: the unknown-refresh-token answer, and no query', async () => {
    const unknown = answerOf(
      await request(http)
        .post('/auth/refresh')
        .send({ refreshToken: forgedUntagged('rt') }),
    );
    expect(unknown.status).toBe(401);
    const before = sec.counter.count;
    const forged = await request(http)
      .post('/auth/refresh')
      .send({ refreshToken: forgedTagged('rt2') });
    expect(sec.counter.queries.slice(before)).toEqual([]);
    expect(answerOf(forged)).toEqual(unknown);
  });

  it('a flood of 1 000 distinct forged tagged tokens: 1 000 x 401 and 0 SQL statements', async () => {
    const before = sec.counter.count;
    const statuses = new Map<number, number>();
    for (let i = 0; i < 1000; i += 50) {
      const answers = await Promise.all(
        Array.from({ length: 50 }, () =>
          request(http)
            .get('/me')
            .set('Authorization', `Bearer ${forgedTagged('at2')}`),
        ),
      );
      for (const res of answers) statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
    expect([...statuses]).toEqual([[401, 1000]]);
    expect(sec.counter.count - before).toBe(0);
  });
});
