import request from 'supertest';
import { ManualClock } from '../../lib';
import type { TestDatabase, TestDbKind } from '../support/databases';
import { createTestDatabase } from '../support/databases';
import {
  type AdapterKind,
  CookieJar,
  type CookieSessionApp,
  setCookies,
  startCookieSessionApp,
} from './support/cookie-session-app';
import { HOUR, SECOND, START } from './support/durin-test-app';

const HOST = 'app.example';
const DAY_SECONDS = 86_400;
const REFRESH = '/auth/refresh';
const ATTRIBUTES = 'Path=/; HttpOnly; Secure; SameSite=Lax';
const REFRESH_ATTRIBUTES = `Path=${REFRESH}; HttpOnly; Secure; SameSite=Lax`;

const MATRIX: Array<[AdapterKind, TestDbKind]> = [
  ['express', 'sqlite'],
  ['fastify', 'sqlite'],
  ['express', 'postgres'],
  ['fastify', 'postgres'],
];

interface Browser {
  jar: CookieJar;
  csrf: string;
  userId: number;
}

/**
 * Cookie sessions keep their refresh token in an HttpOnly refresh cookie scoped to the refresh
 * route, never in a response body (REQ-CK-01, REQ-CK-02, REQ-CSRF-03, REQ-RT-02).
 */
describe.each(MATRIX)('the refresh cookie over %s on %s', (adapter, kind) => {
  let db: TestDatabase;
  let clock: ManualClock;
  let h: CookieSessionApp;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    clock = new ManualClock(START);
    // Reuse outside the window is what most tests here need; the grace test moves less than it.
    h = await startCookieSessionApp(adapter, db, clock, { refreshReuseGraceSeconds: 5 });
  });
  afterAll(async () => {
    await h?.close();
    await db?.drop();
  });
  beforeEach(() => clock.set(START));

  async function login(): Promise<Browser & { res: request.Response }> {
    const user = await h.users.save({ email: `rc-${Date.now()}-${Math.random()}@example.com` });
    const res = await request(h.http).post('/login/cookie').send({ userId: user.id }).expect(201);
    const csrf = (res.body as { csrfToken: string }).csrfToken;
    return { jar: new CookieJar().store(res), csrf, userId: user.id, res };
  }

  /** A same-origin POST from the page, with whatever cookies the browser sends to `path`. */
  const post = (path: string, browser: Browser, headers: Record<string, string> = {}) =>
    request(h.http)
      .post(path)
      .set('Host', HOST)
      .set('Origin', `https://${HOST}`)
      .set('Cookie', browser.jar.header(path))
      .set('X-CSRF-Token', browser.csrf)
      .set(headers);

  const family = (userId: number) =>
    h.rows.find({ where: { user: { id: userId } }, order: { createdAt: 'ASC', id: 'ASC' } });

  it('REQ-CK-01: login sets the refresh cookie (__Secure-, HttpOnly, Secure, refresh path); the body has no token', async () => {
    const { res, jar } = await login();
    const refresh = jar.get('__Secure-refresh')!;
    expect(refresh).toMatch(/^durin_rt_[A-Za-z0-9]+$/);
    expect(setCookies(res)).toEqual([
      `__Host-token=${jar.get('__Host-token')}; Max-Age=${DAY_SECONDS}; ${ATTRIBUTES}`,
      `__Host-csrf=${jar.get('__Host-csrf')}; Max-Age=${DAY_SECONDS}; Path=/; Secure; SameSite=Lax`,
      `__Secure-refresh=${refresh}; Max-Age=${DAY_SECONDS}; ${REFRESH_ATTRIBUTES}`,
    ]);
    expect(Object.keys(res.body as object).sort()).toEqual([
      'accessTokenExpiresAt',
      'csrfToken',
      'refreshTokenExpiresAt',
    ]);
    // The browser sends the refresh token to the refresh route only.
    expect(jar.header('/me')).not.toContain('__Secure-refresh');
    expect(jar.header(REFRESH)).toContain(`__Secure-refresh=${refresh}`);
  });

  it('REQ-CSRF-03: refresh with only the cookies and the CSRF header rotates into new cookies', async () => {
    const browser = await login();
    const old = {
      access: browser.jar.get('__Host-token'),
      refresh: browser.jar.get('__Secure-refresh'),
    };
    const res = await post(REFRESH, browser).expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(Object.keys(res.body as object).sort()).toEqual([
      'accessTokenExpiresAt',
      'csrfToken',
      'refreshTokenExpiresAt',
    ]);
    expect(JSON.stringify(res.body)).not.toMatch(/durin_(at|rt)_/);
    browser.jar.store(res);
    expect(browser.jar.names()).toEqual(['__Host-csrf', '__Host-token', '__Secure-refresh']);
    expect(browser.jar.get('__Host-token')).not.toBe(old.access);
    expect(browser.jar.get('__Secure-refresh')).not.toBe(old.refresh);
    expect(setCookies(res)[2]).toMatch(
      new RegExp(`; Max-Age=${DAY_SECONDS}; ${REFRESH_ATTRIBUTES}$`),
    );
    browser.csrf = (res.body as { csrfToken: string }).csrfToken;
    expect(browser.jar.get('__Host-csrf')).toBe(browser.csrf);
    await request(h.http).get('/me').set('Cookie', browser.jar.header('/me')).expect(200);
    await post('/things', browser).expect(200);
  });

  it('accepts {} as the body of a cookie refresh; an unknown field is still a 400', async () => {
    const browser = await login();
    const bad = await post(REFRESH, browser).send({ refresh: 'x' });
    expect({ status: bad.status, code: (bad.body as { code: string }).code }).toEqual({
      status: 400,
      code: 'invalid_request',
    });
    await post(REFRESH, browser).send({}).expect(200);
  });

  it('REQ-RT-02: the old refresh cookie is refused after the grace window and revokes the session', async () => {
    const browser = await login();
    const stale = new CookieJar().store(browser.res);
    const res = await post(REFRESH, browser).expect(200);
    browser.jar.store(res);
    clock.advance(6 * SECOND);
    const replay = await post(REFRESH, { ...browser, jar: stale });
    expect({ status: replay.status, code: (replay.body as { code: string }).code }).toEqual({
      status: 401,
      code: 'token_invalid',
    });
    expect(setCookies(replay)).toEqual([]);
    // Theft: the whole family is gone, the new pair included.
    await request(h.http).get('/me').set('Cookie', browser.jar.header('/me')).expect(401);
  });

  it('REQ-RT-04: two tabs refreshing with the same cookies within the grace window get the same pair', async () => {
    const browser = await login();
    const first = await post(REFRESH, browser).expect(200);
    clock.advance(SECOND);
    const second = await post(REFRESH, browser).expect(200);
    const values = (res: request.Response) => {
      const jar = new CookieJar().store(res);
      return jar.names().map((name) => `${name}=${jar.get(name)}`);
    };
    expect(values(second)).toHaveLength(3);
    expect(values(second)).toEqual(values(first));
    await request(h.http)
      .get('/me')
      .set('Cookie', new CookieJar().store(second).header('/me'))
      .expect(200);
  });

  it('refreshes after the access token expired: the cookies outlive it, the server does not', async () => {
    const browser = await login();
    clock.advance(HOUR + SECOND);
    const expired = await request(h.http).get('/me').set('Cookie', browser.jar.header('/me'));
    expect({ status: expired.status, code: (expired.body as { code: string }).code }).toEqual({
      status: 401,
      code: 'token_expired',
    });
    browser.jar.store(await post(REFRESH, browser).expect(200));
    await request(h.http).get('/me').set('Cookie', browser.jar.header('/me')).expect(200);
  });

  it.each<[string, (browser: Browser) => request.Test]>([
    ['without the CSRF header', (b) => post(REFRESH, b, { 'X-CSRF-Token': '' })],
    ['with a wrong CSRF token', (b) => post(REFRESH, b, { 'X-CSRF-Token': 'x'.repeat(43) })],
    ['from another site', (b) => post(REFRESH, b, { Origin: 'https://evil.example' })],
    [
      'without the auth cookie',
      (b) => post(REFRESH, b, { Cookie: `__Secure-refresh=${b.jar.get('__Secure-refresh')}` }),
    ],
  ])(
    'REQ-CSRF-03: a cookie refresh %s -> 403 csrf_failed, nothing rotated',
    async (_name, send) => {
      const browser = await login();
      const before = await family(browser.userId);
      const res = await send(browser);
      expect({ status: res.status, code: (res.body as { code: string }).code }).toEqual({
        status: 403,
        code: 'csrf_failed',
      });
      expect(setCookies(res)).toEqual([]);
      expect(await family(browser.userId)).toEqual(before);
    },
  );

  it("REQ-CSRF-04: session B's refresh cookie with session A's cookie and CSRF token -> 401, nothing rotated", async () => {
    const a = await login();
    const b = await login();
    const before = [await family(a.userId), await family(b.userId)];
    const planted = `__Host-token=${a.jar.get('__Host-token')}; __Secure-refresh=${b.jar.get('__Secure-refresh')}`;
    const res = await post(REFRESH, a, { Cookie: planted });
    expect({ status: res.status, code: (res.body as { code: string }).code }).toEqual({
      status: 401,
      code: 'token_invalid',
    });
    expect(setCookies(res)).toEqual([]);
    expect([await family(a.userId), await family(b.userId)]).toEqual(before);
    // Both sessions go on as before.
    await post(REFRESH, a).expect(200);
    await post(REFRESH, b).expect(200);
  });

  it("REQ-TYP-02: a cookie session's refresh token in the body is refused, nothing rotated", async () => {
    const browser = await login();
    const before = await family(browser.userId);
    const res = await request(h.http)
      .post(REFRESH)
      .send({ refreshToken: browser.jar.get('__Secure-refresh') });
    expect({ status: res.status, code: (res.body as { code: string }).code }).toEqual({
      status: 401,
      code: 'token_invalid',
    });
    expect(await family(browser.userId)).toEqual(before);
  });

  it('REQ-CK-03: a repeated refresh cookie is refused; no refresh token at all is a 400', async () => {
    const browser = await login();
    const refresh = browser.jar.get('__Secure-refresh');
    const twice = `${browser.jar.header('/me')}; __Secure-refresh=${refresh}; __Secure-refresh=${refresh}`;
    expect((await post(REFRESH, browser, { Cookie: twice })).status).toBe(401);
    const none = await request(h.http).post(REFRESH);
    expect({ status: none.status, code: (none.body as { code: string }).code }).toEqual({
      status: 400,
      code: 'invalid_request',
    });
  });

  it.each(['logout', 'logoutall'])('REQ-CK-02: %s clears all three cookies', async (route) => {
    const browser = await login();
    const res = await post(`/auth/${route}`, browser).expect(204);
    expect(setCookies(res)).toEqual([
      `__Host-token=; Max-Age=0; ${ATTRIBUTES}`,
      '__Host-csrf=; Max-Age=0; Path=/; Secure; SameSite=Lax',
      `__Secure-refresh=; Max-Age=0; ${REFRESH_ATTRIBUTES}`,
    ]);
    // REQ-REV-02: the refresh token died with the session, cookie or not.
    const stale = new CookieJar().store(browser.res);
    expect((await post(REFRESH, { ...browser, jar: stale })).status).toBe(401);
    browser.jar.store(res);
    expect(browser.jar.names()).toEqual([]);
  });

  it('header sessions are unchanged: body in, both tokens out, no cookie', async () => {
    const user = await h.users.save({ email: `rh-${Date.now()}@example.com` });
    const login = await request(h.http).post('/login/header').send({ userId: user.id });
    const res = await request(h.http)
      .post(REFRESH)
      .send({ refreshToken: (login.body as { refreshToken: string }).refreshToken })
      .expect(200);
    expect(Object.keys(res.body as object).sort()).toEqual([
      'accessToken',
      'accessTokenExpiresAt',
      'refreshToken',
      'refreshTokenExpiresAt',
    ]);
    expect(setCookies(res)).toEqual([]);
  });
});

describe.each(['express', 'fastify'] as const)(
  'the refresh cookie with csrf: false (%s)',
  (adapter) => {
    let db: TestDatabase;
    let h: CookieSessionApp;
    beforeAll(async () => {
      db = await createTestDatabase('sqlite');
      h = await startCookieSessionApp(adapter, db, new ManualClock(START), { csrf: false });
    });
    afterAll(async () => {
      await h?.close();
      await db?.drop();
    });

    it('the refresh cookie alone suffices', async () => {
      const user = await h.users.save({ email: 'nocsrf@example.com' });
      const login = await request(h.http)
        .post('/login/cookie')
        .send({ userId: user.id })
        .expect(201);
      const jar = new CookieJar().store(login);
      expect(jar.names()).toEqual(['__Host-token', '__Secure-refresh']);
      const res = await request(h.http)
        .post(REFRESH)
        .set('Cookie', `__Secure-refresh=${jar.get('__Secure-refresh')}`)
        .expect(200);
      expect(Object.keys(res.body as object).sort()).toEqual([
        'accessTokenExpiresAt',
        'refreshTokenExpiresAt',
      ]);
      jar.store(res);
      await request(h.http).get('/me').set('Cookie', jar.header('/me')).expect(200);
    });
  },
);

describe.each(['express', 'fastify'] as const)(
  'the refresh cookie under a global prefix (%s)',
  (adapter) => {
    let db: TestDatabase;
    const running: CookieSessionApp[] = [];
    beforeEach(async () => {
      db = await createTestDatabase('sqlite');
    });
    afterEach(async () => {
      await Promise.all(running.splice(0).map((app) => app.close()));
      await db.drop();
    });

    async function loginAndRefresh(app: CookieSessionApp): Promise<request.Response> {
      const user = await app.users.save({ email: `prefix-${Date.now()}@example.com` });
      const login = await request(app.http).post('/api/login/cookie').send({ userId: user.id });
      const jar = new CookieJar().store(login);
      const path = '/api/auth/refresh';
      return request(app.http)
        .post(path)
        .set('Cookie', jar.header(path))
        .set('X-CSRF-Token', (login.body as { csrfToken: string }).csrfToken);
    }

    it('works once cookie.refreshPath names the full path', async () => {
      const app = await startCookieSessionApp(
        adapter,
        db,
        new ManualClock(START),
        { cookie: { refreshPath: '/api/auth/refresh' } },
        { globalPrefix: 'api' },
      );
      running.push(app);
      const res = await loginAndRefresh(app);
      expect(res.status).toBe(200);
      expect(setCookies(res)[2]).toMatch(/; Path=\/api\/auth\/refresh; /);
    });

    it('says in the log, once, why the default path cannot work there', async () => {
      const warnings: string[] = [];
      const logger = {
        log: () => undefined,
        error: () => undefined,
        warn: (message: unknown) => void warnings.push(String(message)),
      };
      const app = await startCookieSessionApp(
        adapter,
        db,
        new ManualClock(START),
        {},
        { globalPrefix: 'api', logger },
      );
      running.push(app);
      // The browser keeps the cookie for /auth/refresh, so the prefixed route never receives it.
      const res = await loginAndRefresh(app);
      expect(res.status).toBe(400);
      await request(app.http).post('/api/auth/refresh');
      expect(warnings).toEqual([
        expect.stringMatching(
          /answered \/api\/auth\/refresh, but the refresh cookie is scoped to \/auth\/refresh.*cookie\.refreshPath/,
        ),
      ]);
    });
  },
);
