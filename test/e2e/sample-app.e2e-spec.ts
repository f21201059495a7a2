import type { Response } from 'supertest';
import type { HttpAdapterName } from '../../sample-app/src/config/settings';
import { issueTestToken } from '../../lib/testing';
import { ALL_DB_KINDS, describeEachRow, type TestDbKind } from '../support/databases';
import { HTTP_ADAPTERS, SampleApp, setCookies, startSampleApp } from './support/sample-app';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** TOKEN_TTL and REFRESH_TOKEN_TTL of the e2e settings. */
const ACCESS_TTL = HOUR;
const REFRESH_TTL = 24 * HOUR;
/** The token cache keeps a verified token this long; moving the clock past it forces a lookup. */
const PAST_CACHE_TTL = 10_000;
/** The secure default (`COOKIE_SECURE` unset) gives the cookie the `__Host-` prefix. */
const COOKIE_NAME = '__Host-token';
/** The readable cookie with the session's CSRF token, pinned to the host like the auth cookie. */
const CSRF_COOKIE_NAME = '__Host-csrf';
/**
 * The HttpOnly cookie with a cookie session's refresh token: `__Secure-` (`__Host-` needs Path=/)
 * and only sent to the refresh route.
 */
const REFRESH_COOKIE_NAME = '__Secure-refresh';
const REFRESH_PATH = '/auth/refresh';
/** An HMAC-SHA256, base64url. */
const CSRF_TOKEN = /^[A-Za-z0-9_-]{43}$/;
const USER_AGENT = 'durin-e2e/1.0 (laptop)';
const DEMO = { username: 'demo', password: 'demo-password' };

const COMBINATIONS: Array<[HttpAdapterName, TestDbKind]> = HTTP_ADAPTERS.flatMap((adapter) =>
  ALL_DB_KINDS.map((db): [HttpAdapterName, TestDbKind] => [adapter, db]),
);

type AuthKind = 'header' | 'cookie';

interface Credentials {
  username: string;
  password: string;
}

/** What a login handed out, and how to present it again. */
interface Session {
  kind: AuthKind;
  accessToken: string;
  refreshToken: string;
  /** Cookie sessions: the CSRF token handed out with the cookie. */
  csrfToken?: string;
}

/**
 * The credential as the client sends it on every request. A browser sends all its cookies, the
 * readable CSRF cookie included, on forged requests too: that cookie alone proves nothing.
 */
function authHeaders(session: Session): Record<string, string> {
  if (session.kind === 'header') {
    return { authorization: `Bearer ${session.accessToken}` };
  }
  const csrfCookie =
    session.csrfToken === undefined ? '' : `; ${CSRF_COOKIE_NAME}=${session.csrfToken}`;
  return { cookie: `${COOKIE_NAME}=${session.accessToken}${csrfCookie}` };
}

/**
 * For POST/PUT/PATCH/DELETE: the page's script adds the CSRF token of a cookie session in
 * `X-CSRF-Token` (what a cross-site form or fetch cannot do). Header tokens need none.
 */
function unsafeHeaders(session: Session): Record<string, string> {
  return session.kind === 'cookie' && session.csrfToken !== undefined
    ? { ...authHeaders(session), 'x-csrf-token': session.csrfToken }
    : authHeaders(session);
}

/**
 * What a page's `POST /auth/refresh` of a cookie session sends: no body, the cookies the browser
 * has for that path (the refresh cookie included) and the CSRF token in the header.
 */
function refreshHeaders(session: Session): Record<string, string> {
  const headers = unsafeHeaders(session);
  return {
    ...headers,
    cookie: `${headers.cookie}; ${REFRESH_COOKIE_NAME}=${session.refreshToken}`,
  };
}

/** The 403 of a cookie-authenticated unsafe request without a valid CSRF token. */
function expectCsrfFailed(response: Response): void {
  expect({ status: response.status, body: response.body as unknown }).toEqual({
    status: 403,
    body: { statusCode: 403, error: 'Forbidden', message: expect.any(String), code: 'csrf_failed' },
  });
  // Refused before anything was looked up: no cookie is set, renewed or cleared.
  expect(response.headers['set-cookie']).toBeUndefined();
}

/** The 401 every refused credential gets: stable body, RFC 6750 challenge. */
function expectUnauthorized(response: Response, code: string): void {
  expect({ status: response.status, body: response.body as unknown }).toEqual({
    status: 401,
    body: { statusCode: 401, error: 'Unauthorized', message: expect.any(String), code },
  });
  expect(response.headers['www-authenticate']).toBe(
    code === 'token_missing' ? 'Bearer realm="api"' : 'Bearer realm="api", error="invalid_token"',
  );
}

function authCookieOf(response: Response) {
  return setCookies(response.headers).find((cookie) => cookie.name === COOKIE_NAME);
}

function csrfCookieOf(response: Response) {
  return setCookies(response.headers).find((cookie) => cookie.name === CSRF_COOKIE_NAME);
}

function refreshCookieOf(response: Response) {
  return setCookies(response.headers).find((cookie) => cookie.name === REFRESH_COOKIE_NAME);
}

describeEachRow(COMBINATIONS, 'sample app on %s with %s', (adapter, db) => {
  let sample: SampleApp;
  let userCount = 0;

  beforeAll(async () => {
    sample = await startSampleApp({ adapter, db });
  });

  afterAll(async () => {
    await sample?.close();
  });

  const http = () => sample.http();

  async function newUser(isActive = true): Promise<Credentials> {
    userCount += 1;
    const credentials = { username: `user${userCount}`, password: `password-${userCount}` };
    await sample.users.create({ ...credentials, isActive });
    return credentials;
  }

  async function login(
    kind: AuthKind,
    credentials: Credentials = DEMO,
    client = 'web',
    userAgent = USER_AGENT,
  ): Promise<Session> {
    const response = await http()
      .post(kind === 'header' ? '/auth/login' : '/auth/login/cookie')
      .set('user-agent', userAgent)
      .send({ ...credentials, client });
    expect(response.status).toBe(200);
    const body = response.body as {
      accessToken?: string;
      refreshToken: string;
      csrfToken?: string;
    };
    if (kind === 'header') {
      return { kind, accessToken: body.accessToken!, refreshToken: body.refreshToken };
    }
    // The page gets the CSRF token from the body; the readable cookie holds the same value. The
    // refresh token is only in its HttpOnly cookie.
    expect(body.csrfToken).toMatch(CSRF_TOKEN);
    expect(csrfCookieOf(response)?.value).toBe(body.csrfToken);
    expect(body).not.toHaveProperty('refreshToken');
    return {
      kind,
      accessToken: authCookieOf(response)!.value,
      refreshToken: refreshCookieOf(response)!.value,
      csrfToken: body.csrfToken,
    };
  }

  /**
   * A session without going through the login route (nestjs-durin/testing): for tests about what
   * happens to a session, not about logging in. The same real token a login would hand out.
   */
  async function issuedSession(kind: AuthKind, credentials: Credentials): Promise<Session> {
    const user = await sample.users.findByUsername(credentials.username);
    const auth = await issueTestToken(sample.app, user!, { authType: kind, client: 'web' });
    return {
      kind,
      accessToken: auth.accessToken,
      refreshToken: auth.refreshToken!,
      csrfToken: auth.csrfToken,
    };
  }

  function me(session: Session) {
    return http().get('/me').set(authHeaders(session));
  }

  async function sessionId(session: Session): Promise<string> {
    const response = await me(session);
    expect(response.status).toBe(200);
    return (response.body as { session: { id: string } }).session.id;
  }

  /**
   * `POST /auth/refresh` as the client sends it: a header client sends `{ refreshToken }`; a
   * browser sends no body, the cookies of a cookie session (the refresh cookie included) and the
   * CSRF token in the header. The new pair is read from the body or (cookie sessions) the
   * cookies; a cookie session's new CSRF token from the body.
   */
  async function refresh(session: Session): Promise<{ response: Response; pair: Session }> {
    const response =
      session.kind === 'cookie'
        ? await http().post(REFRESH_PATH).set(refreshHeaders(session))
        : await http().post(REFRESH_PATH).send({ refreshToken: session.refreshToken });
    const body = response.body as {
      accessToken?: string;
      refreshToken: string;
      csrfToken?: string;
    };
    if (session.kind === 'header') {
      return {
        response,
        pair: { kind: 'header', accessToken: body.accessToken!, refreshToken: body.refreshToken },
      };
    }
    return {
      response,
      pair: {
        kind: 'cookie',
        accessToken: authCookieOf(response)?.value ?? '',
        refreshToken: refreshCookieOf(response)?.value ?? '',
        csrfToken: body.csrfToken,
      },
    };
  }

  describe('public routes and seed', () => {
    it('GET / answers a hello without a token', async () => {
      const response = await http().get('/');
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ name: 'nestjs-durin sample' });
    });

    it('seeded the demo user and the clients web and mobile, each with its lifetimes', async () => {
      const lifetimes = { web: ACCESS_TTL, mobile: 24 * HOUR };
      for (const [client, ttl] of Object.entries(lifetimes)) {
        const now = sample.clock.now();
        const response = await http()
          .post('/auth/login')
          .send({ ...DEMO, client });
        expect(response.status).toBe(200);
        expect(response.body).toMatchObject({
          accessTokenExpiresAt: new Date(now + ttl).toISOString(),
        });
        const session: Session = {
          kind: 'header',
          accessToken: (response.body as { accessToken: string }).accessToken,
          refreshToken: '',
        };
        expect((await me(session)).body).toMatchObject({ session: { client } });
      }
    });
  });

  describe('logins', () => {
    it('a header login returns the token pair once, with expiries, and no cookie', async () => {
      const before = sample.clock.now();
      const response = await http()
        .post('/auth/login')
        .send({ ...DEMO, client: 'web' });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        tokenType: 'Bearer',
        accessToken: expect.stringMatching(/^durin_at_[A-Za-z0-9]{49}$/),
        accessTokenExpiresAt: new Date(before + ACCESS_TTL).toISOString(),
        refreshToken: expect.stringMatching(/^durin_rt_[A-Za-z0-9]{49}$/),
        refreshTokenExpiresAt: new Date(before + REFRESH_TTL).toISOString(),
        user: { id: expect.any(Number), username: 'demo' },
      });
      expect(response.headers['set-cookie']).toBeUndefined();
      expect(response.headers['cache-control']).toBe('no-store');
    });

    it('a cookie login sets the three cookies and keeps both tokens out of the body', async () => {
      const before = sample.clock.now();
      const response = await http()
        .post('/auth/login/cookie')
        .send({ ...DEMO, client: 'web' });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        csrfToken: expect.stringMatching(CSRF_TOKEN),
        accessTokenExpiresAt: new Date(before + ACCESS_TTL).toISOString(),
        refreshTokenExpiresAt: new Date(before + REFRESH_TTL).toISOString(),
        user: { id: expect.any(Number), username: 'demo' },
      });
      expect(JSON.stringify(response.body)).not.toMatch(/durin_(at|rt)_/);
      const { csrfToken } = response.body as { csrfToken: string };
      // The auth and CSRF cookies live as long as the session can be refreshed (the server still
      // refuses the access token after its hour): a cookie refresh needs both.
      const attributes = {
        'max-age': String(REFRESH_TTL / 1000),
        path: '/',
        secure: true,
        samesite: 'Lax',
      };
      expect(setCookies(response.headers)).toEqual([
        {
          name: COOKIE_NAME,
          value: expect.stringMatching(/^durin_at_/),
          attributes: { ...attributes, httponly: true },
        },
        // Readable by the page (no HttpOnly), same scope and lifetime; the body's token.
        { name: CSRF_COOKIE_NAME, value: csrfToken, attributes },
        {
          name: REFRESH_COOKIE_NAME,
          value: expect.stringMatching(/^durin_rt_[A-Za-z0-9]{49}$/),
          attributes: { ...attributes, path: REFRESH_PATH, httponly: true },
        },
      ]);
    });

    it('each cookie login gets its own CSRF token', async () => {
      const first = await login('cookie');
      const second = await login('cookie');
      expect(second.csrfToken).not.toBe(first.csrfToken);
      // One session's token does not pass for another's.
      const crossed = await http()
        .post('/auth/renew')
        .set({ ...authHeaders(first), 'x-csrf-token': second.csrfToken! });
      expectCsrfFailed(crossed);
      expect((await http().post('/auth/renew').set(unsafeHeaders(first))).status).toBe(200);
    });

    it.each([
      ['an empty body', {}],
      ['no password', { username: 'demo', client: 'web' }],
      ['no client', { username: 'demo', password: 'demo-password' }],
      ['a numeric username', { username: 42, password: 'demo-password', client: 'web' }],
      ['an empty username', { username: '', password: 'demo-password', client: 'web' }],
      ['an array as password', { username: 'demo', password: ['demo-password'], client: 'web' }],
      ['a 257-character password', { username: 'demo', password: 'x'.repeat(257), client: 'web' }],
      [
        'a 65-character client',
        { username: 'demo', password: 'demo-password', client: 'w'.repeat(65) },
      ],
    ])('400 for %s', async (_name, body) => {
      for (const path of ['/auth/login', '/auth/login/cookie']) {
        const response = await http().post(path).send(body);
        expect(response.status).toBe(400);
        expect(response.body).toEqual({
          statusCode: 400,
          error: 'Bad Request',
          message: expect.stringMatching(/\w/),
          code: 'invalid_request',
        });
        expect(response.headers['set-cookie']).toBeUndefined();
      }
    });

    it('400 for a body that is not JSON', async () => {
      const response = await http()
        .post('/auth/login')
        .set('content-type', 'application/json')
        .send('{"username": "demo",');
      expect(response.status).toBe(400);
    });

    it('ignores unknown fields (ValidationPipe whitelist)', async () => {
      const response = await http()
        .post('/auth/login')
        .send({ ...DEMO, client: 'web', isAdmin: true, user: { id: 999 } });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ user: { username: 'demo' } });
    });

    it('401 invalid_credentials, identical for a wrong password, an unknown or an inactive user', async () => {
      const inactive = await newUser(false);
      const attempts = [
        { username: 'demo', password: 'wrong-password' },
        { username: 'nobody-here', password: 'demo-password' },
        inactive,
      ];
      for (const path of ['/auth/login', '/auth/login/cookie']) {
        for (const credentials of attempts) {
          const response = await http()
            .post(path)
            .send({ ...credentials, client: 'web' });
          expect({ status: response.status, body: response.body as unknown }).toEqual({
            status: 401,
            body: {
              statusCode: 401,
              error: 'Unauthorized',
              message: 'Invalid username or password',
              code: 'invalid_credentials',
            },
          });
          expect(response.headers['set-cookie']).toBeUndefined();
        }
      }
      // Same shape as the guard's 401s.
      const guard = await http().get('/me');
      expect(Object.keys(guard.body as object).sort()).toEqual(
        ['code', 'error', 'message', 'statusCode'].sort(),
      );
    });

    it.each([['tv'], ['api'], ['WEB']])('400 unknown_client for client %p', async (client) => {
      for (const password of ['demo-password', 'wrong-password']) {
        const response = await http()
          .post('/auth/login')
          .send({ username: 'demo', password, client });
        expect(response.status).toBe(400);
        expect(response.body).toEqual({
          statusCode: 400,
          error: 'Bad Request',
          message: `Unknown client ${JSON.stringify(client)}`,
          code: 'unknown_client',
        });
      }
    });

    it('each login is its own session with its own tokens', async () => {
      const first = await login('header');
      const second = await login('header');
      expect(second.accessToken).not.toBe(first.accessToken);
      expect(second.refreshToken).not.toBe(first.refreshToken);
      expect(await sessionId(second)).not.toBe(await sessionId(first));
    });
  });

  describe.each<AuthKind>(['header', 'cookie'])('the full flow with a %s token', (kind) => {
    it('login → use → auto-refresh → renew → refresh → logout → logout-all', async () => {
      const user = await newUser();
      const loginAt = sample.clock.now();
      let session = await login(kind, user);

      // Use: the decorators see the user, the token and the context stored at login.
      const used = await me(session);
      expect(used.status).toBe(200);
      expect(used.body).toEqual({
        user: { id: expect.any(Number), username: user.username },
        session: {
          id: expect.any(String),
          client: 'web',
          authType: kind,
          createdAt: new Date(loginAt).toISOString(),
          expiresAt: new Date(loginAt + ACCESS_TTL).toISOString(),
          refreshExpiresAt: new Date(loginAt + REFRESH_TTL).toISOString(),
        },
        context: { userAgent: USER_AGENT, ip: expect.any(String) },
      });
      const device = await http().get('/me/device').set(authHeaders(session));
      expect(device.status).toBe(200);
      expect(device.body).toEqual({ userAgent: USER_AGENT });

      // Auto-refresh: after the interval, a request slides the expiry to now + TTL.
      sample.clock.advance(30 * MINUTE);
      const slid = await me(session);
      expect(slid.status).toBe(200);
      const slidTo = loginAt + 30 * MINUTE + ACCESS_TTL;
      expect(slid.body).toMatchObject({ session: { expiresAt: new Date(slidTo).toISOString() } });
      if (kind === 'cookie') {
        // The browser's cookies are renewed with the token: same values, new lifetime (the slid
        // refresh expiry, as at login).
        expect(authCookieOf(slid)).toMatchObject({
          value: session.accessToken,
          attributes: { 'max-age': String(REFRESH_TTL / 1000), httponly: true, secure: true },
        });
        expect(csrfCookieOf(slid)).toEqual({
          name: CSRF_COOKIE_NAME,
          value: session.csrfToken,
          attributes: {
            'max-age': String(REFRESH_TTL / 1000),
            path: '/',
            secure: true,
            samesite: 'Lax',
          },
        });
      }

      // Within the interval nothing slides (and no cookie is sent again).
      sample.clock.advance(30_000);
      const quiet = await me(session);
      expect(quiet.body).toMatchObject({ session: { expiresAt: new Date(slidTo).toISOString() } });
      expect(quiet.headers['set-cookie']).toBeUndefined();

      // Past the original expiry, the slid token still works.
      sample.clock.advance(50 * MINUTE);
      expect(sample.clock.now()).toBeGreaterThan(loginAt + ACCESS_TTL);
      const slidAgain = await me(session);
      expect(slidAgain.status).toBe(200);
      const slidAgainTo = (slidAgain.body as { session: { expiresAt: string } }).session.expiresAt;
      sample.clock.advance(30_000);

      if (kind === 'cookie') {
        // A cookie POST without the CSRF header (what a cross-site form sends): 403, refused
        // before any query, so the token is not renewed and still works.
        const queries = sample.queries.count;
        expectCsrfFailed(await http().post('/auth/renew').set(authHeaders(session)));
        expect(sample.queries.count).toBe(queries);
        const unchanged = await me(session);
        expect(unchanged.status).toBe(200);
        expect(unchanged.body).toMatchObject({ session: { expiresAt: slidAgainTo } });
      }

      // Renew (durin's refresh): extends the current token by its TTL from now.
      const renewed = await http().post('/auth/renew').set(unsafeHeaders(session));
      expect(renewed.status).toBe(200);
      expect(renewed.body).toEqual({
        expiresAt: new Date(sample.clock.now() + ACCESS_TTL).toISOString(),
      });
      if (kind === 'cookie') {
        // Same access token, so the same CSRF token, both cookies with the new lifetime.
        expect(authCookieOf(renewed)).toMatchObject({ value: session.accessToken });
        expect(csrfCookieOf(renewed)).toMatchObject({
          value: session.csrfToken,
          attributes: { 'max-age': String(REFRESH_TTL / 1000) },
        });
      }

      if (kind === 'cookie') {
        // Refresh sent with the cookies but without the CSRF header: 403 and no rotation.
        const queries = sample.queries.count;
        const forged = await http()
          .post(REFRESH_PATH)
          .set({ cookie: refreshHeaders(session).cookie });
        expectCsrfFailed(forged);
        expect(sample.queries.count).toBe(queries);
        expect((await me(session)).status).toBe(200);
      }

      // Refresh: rotation gives a new pair; the old access token stops working.
      const refreshed = await refresh(session);
      expect(refreshed.response.status).toBe(200);
      const rotated = refreshed.pair;
      expect(rotated.refreshToken).toMatch(/^durin_rt_/);
      expect(rotated.accessToken).toMatch(/^durin_at_/);
      if (kind === 'header') {
        expect(refreshed.response.headers['set-cookie']).toBeUndefined();
        expect(refreshed.response.body).not.toHaveProperty('csrfToken');
      } else {
        // A cookie session gets its new tokens as cookies only, and the rotated session's CSRF
        // token both in the body and in the readable cookie.
        expect(refreshed.response.body).toEqual({
          csrfToken: expect.stringMatching(CSRF_TOKEN),
          accessTokenExpiresAt: new Date(sample.clock.now() + ACCESS_TTL).toISOString(),
          refreshTokenExpiresAt: expect.any(String),
        });
        expect(csrfCookieOf(refreshed.response)?.value).toBe(rotated.csrfToken);
        expect(rotated.csrfToken).not.toBe(session.csrfToken);
      }
      expect(rotated.accessToken).not.toBe(session.accessToken);
      expect(rotated.refreshToken).not.toBe(session.refreshToken);
      expectUnauthorized(await me(session), 'token_invalid');
      expect((await me(rotated)).status).toBe(200);
      if (kind === 'cookie') {
        // The new cookie goes with the new CSRF token only: the old one is refused, before any
        // query, and a cookie POST without any token too.
        const queries = sample.queries.count;
        expectCsrfFailed(
          await http()
            .post('/auth/renew')
            .set({ ...authHeaders(rotated), 'x-csrf-token': session.csrfToken! }),
        );
        expectCsrfFailed(await http().post('/auth/renew').set(authHeaders(rotated)));
        expect(sample.queries.count).toBe(queries);
        expect((await http().post('/auth/renew').set(unsafeHeaders(rotated))).status).toBe(200);
      }
      session = rotated;

      // Logout ends this session only, including its refresh token.
      const other = await login(kind, user, 'mobile');
      const third = await login(kind, user);
      if (kind === 'cookie') {
        // Neither no token nor another session's token logs this one out.
        expectCsrfFailed(await http().post('/auth/logout').set(authHeaders(session)));
        expectCsrfFailed(
          await http()
            .post('/auth/logout')
            .set({ ...authHeaders(session), 'x-csrf-token': other.csrfToken! }),
        );
        expect((await me(session)).status).toBe(200);
      }
      const loggedOut = await http().post('/auth/logout').set(unsafeHeaders(session));
      expect(loggedOut.status).toBe(204);
      if (kind === 'cookie') {
        // All three cookies are cleared, with the attributes they were set with.
        const cleared = { 'max-age': '0', path: '/', secure: true, samesite: 'Lax' };
        expect(setCookies(loggedOut.headers)).toEqual([
          { name: COOKIE_NAME, value: '', attributes: { ...cleared, httponly: true } },
          { name: CSRF_COOKIE_NAME, value: '', attributes: cleared },
          {
            name: REFRESH_COOKIE_NAME,
            value: '',
            attributes: { ...cleared, path: REFRESH_PATH, httponly: true },
          },
        ]);
      }
      expectUnauthorized(await me(session), 'token_invalid');
      expect((await refresh(session)).response.status).toBe(401);
      expect((await me(other)).status).toBe(200);

      // Logout-all ends every other session of the user.
      if (kind === 'cookie') {
        expectCsrfFailed(await http().post('/auth/logoutall').set(authHeaders(other)));
        expect((await me(other)).status).toBe(200);
        expect((await me(third)).status).toBe(200);
      }
      const all = await http().post('/auth/logoutall').set(unsafeHeaders(other));
      expect(all.status).toBe(204);
      expectUnauthorized(await me(other), 'token_invalid');
      expectUnauthorized(await me(third), 'token_invalid');
      // Other users are not affected.
      expect((await me(await login(kind))).status).toBe(200);
    });

    it('an unused token expires at its TTL (boundary included); its refresh token still works', async () => {
      const session = await login(kind);
      const almost = await login(kind);
      sample.clock.advance(ACCESS_TTL - 1);
      expect((await me(almost)).status).toBe(200);
      sample.clock.advance(1);
      expectUnauthorized(await me(session), 'token_expired');

      // A browser still has the (longer-lived) cookies and refreshes with them.
      expect((await refresh(session)).response.status).toBe(200);
    });

    it('a rotated refresh token: the same pair again within the grace window, the end of the session after it', async () => {
      const session = await login(kind);
      const first = await refresh(session);
      expect(first.response.status).toBe(200);

      // Two tabs refreshing at once: the late one gets the same new pair (10 s grace by default).
      const racing = await refresh(session);
      expect(racing.response.status).toBe(200);
      expect(racing.pair).toEqual(first.pair);
      expect((await me(first.pair)).status).toBe(200);

      // Later, the old refresh token is a replay: the whole session ends.
      sample.clock.advance(11_000);
      const replay = await refresh(session);
      expect(replay.response.status).toBe(401);
      expectUnauthorized(await me(first.pair), 'token_invalid');
      expect((await refresh(first.pair)).response.status).toBe(401);
    });

    it('a token only works where it was issued (header vs cookie)', async () => {
      const session = await login(kind);
      const elsewhere: Session = { ...session, kind: kind === 'header' ? 'cookie' : 'header' };
      expectUnauthorized(await me(elsewhere), 'token_invalid');
      expect((await me(session)).status).toBe(200);
    });
  });

  describe('failure codes', () => {
    it('token_missing without any credential', async () => {
      expectUnauthorized(await http().get('/me'), 'token_missing');
      expectUnauthorized(await http().get('/auth/sessions'), 'token_missing');
      expectUnauthorized(await http().post('/auth/renew'), 'token_missing');
    });

    it('token_invalid for a forged token, a refresh token or a logged-out token', async () => {
      const session = await login('header');
      const forged = session.accessToken.slice(0, 9) + 'A'.repeat(49);
      expectUnauthorized(
        await http().get('/me').set('authorization', `Bearer ${forged}`),
        'token_invalid',
      );
      expectUnauthorized(
        await http().get('/me').set('authorization', `Bearer ${session.refreshToken}`),
        'token_invalid',
      );
      expectUnauthorized(
        await http().get('/me').set('cookie', `${COOKIE_NAME}=${forged}`),
        'token_invalid',
      );
      expect((await http().post('/auth/logout').set(authHeaders(session))).status).toBe(204);
      expectUnauthorized(await me(session), 'token_invalid');
    });

    it('token_expired once the clock passes the expiry', async () => {
      const session = await issuedSession('cookie', DEMO);
      sample.clock.advance(ACCESS_TTL + 1);
      expectUnauthorized(await me(session), 'token_expired');
    });

    it('user_inactive when the account is disabled; refresh and login are refused too', async () => {
      const user = await newUser();
      const session = await login('header', user);
      const { id } = (await sample.users.findByUsername(user.username))!;
      await sample.users.setActive(id, false);

      expectUnauthorized(await me(session), 'user_inactive');
      const refreshed = await http()
        .post('/auth/refresh')
        .send({ refreshToken: session.refreshToken });
      expect(refreshed.status).toBe(401);
      const again = await http()
        .post('/auth/login')
        .send({ ...user, client: 'web' });
      expect(again.status).toBe(401);

      await sample.users.setActive(id, true);
      expect((await me(session)).status).toBe(200);
    });

    it('a token in use stops working as soon as its account is disabled', async () => {
      const user = await newUser();
      const session = await issuedSession('cookie', user);
      // Used twice: the second request may be answered from the token cache.
      expect((await me(session)).status).toBe(200);
      expect((await me(session)).status).toBe(200);
      const { id } = (await sample.users.findByUsername(user.username))!;
      await sample.users.setActive(id, false);
      expectUnauthorized(await me(session), 'user_inactive');
    });

    it('an invalid header decides even when a valid cookie is sent too', async () => {
      const cookie = await login('cookie');
      const response = await http()
        .get('/me')
        .set('authorization', 'Bearer durin_at_nope')
        .set('cookie', `${COOKIE_NAME}=${cookie.accessToken}`);
      expectUnauthorized(response, 'token_invalid');
      // A foreign scheme is not ours: the cookie decides.
      const basic = await http()
        .get('/me')
        .set('authorization', 'Basic dTpw')
        .set('cookie', `${COOKIE_NAME}=${cookie.accessToken}`);
      expect(basic.status).toBe(200);
    });

    it('the refresh route refuses junk with 400/401 and never 500', async () => {
      const unspent = await login('header');
      const cases: Array<[unknown, number, string]> = [
        [{}, 400, 'invalid_request'],
        // The app's global ValidationPipe strips unknown fields; the route still refuses them.
        [{ refreshToken: unspent.refreshToken, isAdmin: true }, 400, 'invalid_request'],
        [{ refreshToken: 42 }, 400, 'invalid_request'],
        [{ refreshToken: ['durin_rt_x'] }, 400, 'invalid_request'],
        [{ refreshToken: 'x'.repeat(10_000) }, 400, 'invalid_request'],
        [{ refresh_token: 'durin_rt_x' }, 400, 'invalid_request'],
        [{ refreshToken: 'durin_rt_' + 'A'.repeat(49) }, 401, 'token_invalid'],
        [{ refreshToken: (await login('header')).accessToken }, 401, 'token_invalid'],
      ];
      for (const [body, status, code] of cases) {
        const response = await http()
          .post('/auth/refresh')
          .send(body as object);
        const answer = response.body as { code?: string };
        expect({ body, status: response.status, code: answer.code }).toEqual({
          body,
          status,
          code,
        });
      }
      // None of them spent a token.
      expect((await refresh(unspent)).response.status).toBe(200);
    });
  });

  describe('malformed Authorization headers', () => {
    let valid: string;

    beforeAll(async () => {
      valid = (await login('header')).accessToken;
    });

    const refused: Array<[string, () => string | string[] | undefined, string]> = [
      ['missing', () => undefined, 'token_missing'],
      ['empty', () => '', 'token_missing'],
      ['the scheme alone', () => 'Bearer', 'token_invalid'],
      ['the scheme and a space', () => 'Bearer ', 'token_invalid'],
      ['a tab as separator', () => `Bearer\t${valid}`, 'token_invalid'],
      ['a colon as separator', () => `Bearer:${valid}`, 'token_invalid'],
      ['three parts', () => `Bearer ${valid} extra`, 'token_invalid'],
      ['Basic credentials', () => 'Basic dXNlcjpwYXNz', 'token_missing'],
      ['an unknown scheme', () => `JWT ${valid}`, 'token_missing'],
      ['no space after the scheme', () => `Bearer${valid}`, 'token_missing'],
      ['non-ASCII characters', () => 'Bearer tökèn', 'token_invalid'],
      ['SQL', () => "Bearer ' OR 1=1--", 'token_invalid'],
      ['SQL in the token alphabet', () => 'Bearer durin_at_x/**/OR/**/1=1', 'token_invalid'],
      ['a quoted token', () => `Bearer "${valid}"`, 'token_invalid'],
      ['256 characters', () => `Bearer ${'a'.repeat(256)}`, 'token_invalid'],
      ['4 KB', () => `Bearer ${'a'.repeat(4096)}`, 'token_invalid'],
      [
        'a wrong checksum',
        () => `Bearer ${valid.slice(0, -1)}${valid.endsWith('A') ? 'B' : 'A'}`,
        'token_invalid',
      ],
      ['two Authorization headers', () => [`Bearer ${valid}`, 'Bearer junk'], 'token_invalid'],
      [
        'two Authorization headers, junk first',
        () => ['Bearer junk', `Bearer ${valid}`],
        'token_invalid',
      ],
    ];

    it.each(refused)('%s → 401 without a database query', async (_name, header, code) => {
      const value = header();
      const request = http().get('/me');
      if (value !== undefined) {
        request.set('authorization', value as string);
      }
      const before = sample.queries.count;
      const response = await request;
      expectUnauthorized(response, code);
      expect(sample.queries.count - before).toBe(0);
    });

    it.each([
      ['lower-case scheme', () => `bearer ${valid}`],
      ['upper-case scheme', () => `BEARER ${valid}`],
      ['mixed-case scheme', () => `bEaReR ${valid}`],
      ['two spaces (1*SP)', () => `Bearer  ${valid}`],
      ['the Token scheme', () => `Token ${valid}`],
    ])('%s → 200', async (_name, header) => {
      const response = await http().get('/me').set('authorization', header());
      expect(response.status).toBe(200);
    });

    it('counts the queries of a real lookup, so the zeros above are measured', async () => {
      // Past the token cache's lifetime, so the token is read from the database.
      sample.clock.advance(PAST_CACHE_TTL);
      const before = sample.queries.count;
      expect((await http().get('/me').set('authorization', `Bearer ${valid}`)).status).toBe(200);
      expect(sample.queries.count).toBeGreaterThan(before);
    });

    it('a wrong checksum is not a near miss: the valid token still works', async () => {
      expect((await http().get('/me').set('authorization', `Bearer ${valid}`)).status).toBe(200);
    });

    it.each([
      ['a duplicated auth cookie', () => `${COOKIE_NAME}=${valid}; ${COOKIE_NAME}=junk`],
      ['a bad percent-encoding', () => `${COOKIE_NAME}=%E0%A4%A`],
      ['a quoted value with a space', () => `${COOKIE_NAME}="a b"`],
    ])('%s in the cookie → 401 token_invalid without a query', async (_name, cookie) => {
      const before = sample.queries.count;
      expectUnauthorized(await http().get('/me').set('cookie', cookie()), 'token_invalid');
      expect(sample.queries.count - before).toBe(0);
    });
  });

  describe('sessions', () => {
    it('lists only the caller’s live sessions, marks the current one and shows no secret', async () => {
      const alice = await newUser();
      const bob = await newUser();
      const laptop = await login('header', alice, 'web', 'laptop');
      const phone = await login('cookie', alice, 'mobile', 'phone');
      const bobs = await login('header', bob);
      const laptopId = await sessionId(laptop);
      const phoneId = await sessionId(phone);
      const bobsId = await sessionId(bobs);

      const listed = await http().get('/auth/sessions').set(authHeaders(laptop));
      expect(listed.status).toBe(200);
      const sessions = listed.body as Array<Record<string, unknown>>;
      expect(sessions).toHaveLength(2);
      expect(sessions).toEqual(
        expect.arrayContaining([
          {
            id: laptopId,
            client: 'web',
            context: { userAgent: 'laptop', ip: expect.any(String) },
            createdAt: expect.any(String),
            // Used only within the first minute, so no write has recorded a use yet.
            // This very request is the session's first use.
            lastUsedAt: expect.any(String),
            expiresAt: expect.any(String),
            abilities: ['*'],
            isCurrent: true,
          },
          expect.objectContaining({
            id: phoneId,
            client: 'mobile',
            context: { userAgent: 'phone', ip: expect.any(String) },
            isCurrent: false,
          }),
        ]),
      );
      const text = JSON.stringify(sessions);
      for (const secret of [laptop, phone, bobs].flatMap((s) => [s.accessToken, s.refreshToken])) {
        expect(text).not.toContain(secret);
      }
      expect(text).not.toContain(bobsId);
      // The phone sees the same two sessions, with itself as the current one.
      const fromPhone = (await http().get('/auth/sessions').set(authHeaders(phone))).body as Array<{
        id: string;
        isCurrent: boolean;
      }>;
      expect(fromPhone.filter((s) => s.isCurrent).map((s) => s.id)).toEqual([phoneId]);
    });

    it('revokes an own session (204), refuses another user’s (404) and the current one (400)', async () => {
      const alice = await newUser();
      const bob = await newUser();
      const laptop = await login('header', alice);
      const phone = await login('header', alice, 'mobile');
      const bobs = await login('header', bob);
      const [laptopId, phoneId, bobsId] = [
        await sessionId(laptop),
        await sessionId(phone),
        await sessionId(bobs),
      ];
      const revoke = (id: string) => http().delete(`/auth/sessions/${id}`).set(authHeaders(laptop));

      const foreign = await revoke(bobsId);
      expect(foreign.status).toBe(404);
      expect((await me(bobs)).status).toBe(200);

      const current = await revoke(laptopId);
      expect(current.status).toBe(400);
      expect((await me(laptop)).status).toBe(200);

      expect((await revoke(phoneId)).status).toBe(204);
      expectUnauthorized(await me(phone), 'token_invalid');
      const refresh = await http().post('/auth/refresh').send({ refreshToken: phone.refreshToken });
      expect(refresh.status).toBe(401);
      const remaining = (await http().get('/auth/sessions').set(authHeaders(laptop)))
        .body as Array<{
        id: string;
      }>;
      expect(remaining.map((s) => s.id)).toEqual([laptopId]);

      expect((await revoke(phoneId)).status).toBe(404);
      expect((await revoke('00000000-0000-4000-8000-000000000000')).status).toBe(404);
      expect((await revoke('not-a-session-id')).status).toBe(404);
      const anonymous = await http().delete(`/auth/sessions/${phoneId}`);
      expectUnauthorized(anonymous, 'token_missing');
    });
    it('a cookie session revokes another session only with its CSRF token', async () => {
      const user = await newUser();
      const browser = await login('cookie', user);
      const phone = await login('header', user, 'mobile');
      const phoneId = await sessionId(phone);
      const revoke = () => http().delete(`/auth/sessions/${phoneId}`);

      // A forged DELETE carries the browser's cookies but no header: nothing is revoked.
      const queries = sample.queries.count;
      expectCsrfFailed(await revoke().set(authHeaders(browser)));
      expectCsrfFailed(
        await revoke().set({ ...authHeaders(browser), 'x-csrf-token': 'A'.repeat(43) }),
      );
      expect(sample.queries.count).toBe(queries);
      expect((await me(phone)).status).toBe(200);

      expect((await revoke().set(unsafeHeaders(browser))).status).toBe(204);
      expectUnauthorized(await me(phone), 'token_invalid');
      // Reading needs no CSRF token: GET is safe.
      const listed = await http().get('/auth/sessions').set(authHeaders(browser));
      expect(listed.status).toBe(200);
      expect((listed.body as Array<{ client: string }>).map((s) => s.client)).toEqual(['web']);
    });
  });

  describe('personal API key (/auth/apiaccess)', () => {
    it('is created once, shown once, listed apart from sessions and revocable', async () => {
      const user = await newUser();
      const session = await login('header', user);
      const api = () => http();

      expect((await api().get('/auth/apiaccess').set(authHeaders(session))).status).toBe(404);
      expect((await api().delete('/auth/apiaccess').set(authHeaders(session))).status).toBe(404);

      const created = await api().post('/auth/apiaccess').set(authHeaders(session));
      expect(created.status).toBe(201);
      const key = created.body as { id: string; token: string; client: string };
      expect(key).toMatchObject({ id: expect.any(String), client: 'api' });
      expect(key.token).toMatch(/^durin_at_/);
      expect((await api().post('/auth/apiaccess').set(authHeaders(session))).status).toBe(400);

      const shown = await api().get('/auth/apiaccess').set(authHeaders(session));
      expect(shown.status).toBe(200);
      expect(shown.body).toMatchObject({ id: key.id, client: 'api' });
      expect(JSON.stringify(shown.body)).not.toContain(key.token);

      const keySession: Session = { kind: 'header', accessToken: key.token, refreshToken: '' };
      const viaKey = await me(keySession);
      expect(viaKey.status).toBe(200);
      expect(viaKey.body).toMatchObject({
        user: { username: user.username },
        session: { client: 'api' },
      });
      const listed = (await api().get('/auth/sessions').set(authHeaders(session))).body as Array<{
        id: string;
      }>;
      expect(listed.map((s) => s.id)).not.toContain(key.id);

      expect((await api().delete('/auth/apiaccess').set(authHeaders(session))).status).toBe(204);
      expectUnauthorized(await me(keySession), 'token_invalid');
      expect((await api().get('/auth/apiaccess').set(authHeaders(session))).status).toBe(404);
      expect((await api().delete('/auth/apiaccess').set(authHeaders(session))).status).toBe(404);
      expect((await me(session)).status).toBe(200);
    });

    it('needs a token', async () => {
      expectUnauthorized(await http().post('/auth/apiaccess'), 'token_missing');
    });
  });

  it('never answers 5xx to hostile input on any route', async () => {
    const paths: Array<['get' | 'post' | 'delete', string]> = [
      ['get', '/me'],
      ['get', '/me/device'],
      ['post', '/auth/renew'],
      ['post', '/auth/logout'],
      ['post', '/auth/logoutall'],
      ['get', '/auth/sessions'],
      ['delete', '/auth/sessions/%00'],
      ['get', '/auth/apiaccess'],
    ];
    const headers = ['Bearer \u00ff\u00fe', 'Bearer %00', 'Token ;', `Bearer ${'/'.repeat(300)}`];
    for (const [method, path] of paths) {
      for (const header of headers) {
        const response = await http()[method](path).set('authorization', header);
        expect({ path, header, status: response.status }).toEqual({ path, header, status: 401 });
      }
    }
  });

  it('a token in the query string is ignored', async () => {
    const response = await http()
      .get('/me')
      .query({ access_token: (await login('header')).accessToken });
    expectUnauthorized(response, 'token_missing');
  });

  // Kept last: the clock only moves forward, so the other tests are not affected by it.
  it('sessions past the absolute lifetime are gone, even with sliding expiry', async () => {
    const session = await login('header');
    // Slide every 50 minutes for a week and a bit (autoRefreshMaxTtl defaults to 7 days).
    const loginAt = sample.clock.now();
    let last = 200;
    while (sample.clock.now() < loginAt + 7 * 24 * HOUR + HOUR && last === 200) {
      sample.clock.advance(50 * MINUTE);
      last = (await me(session)).status;
    }
    expect(last).toBe(401);
    expectUnauthorized(await me(session), 'token_expired');
    expect(sample.clock.now()).toBeGreaterThanOrEqual(loginAt + 7 * 24 * HOUR);
    expect(sample.clock.now()).toBeLessThan(loginAt + 7 * 24 * HOUR + 50 * MINUTE);
  });
});

describe.each(HTTP_ADAPTERS)('sample app on %s when PostgreSQL goes away', (adapter) => {
  let sample: SampleApp;

  beforeAll(async () => {
    sample = await startSampleApp({
      adapter,
      db: 'postgres',
      proxy: true,
      durin: { storeTimeout: '2s' },
    });
  });

  afterAll(async () => {
    await sample?.close();
  });

  function expectUnavailable(response: Response): void {
    expect({ status: response.status, body: response.body as unknown }).toEqual({
      status: 503,
      body: {
        statusCode: 503,
        error: 'Service Unavailable',
        message: expect.any(String),
        code: 'auth_unavailable',
      },
    });
    expect(response.headers['retry-after']).toMatch(/^\d+$/);
    expect(response.text).not.toMatch(/ECONN|stack|at .*\.js|QueryFailedError|terminated/);
  }

  it('answers 503 auth_unavailable (never 401, 500 or 200) and recovers', async () => {
    const login = await sample
      .http()
      .post('/auth/login')
      .send({ ...DEMO, client: 'web' })
      .expect(200);
    const { accessToken, refreshToken } = login.body as {
      accessToken: string;
      refreshToken: string;
    };
    const cookieLogin = await sample
      .http()
      .post('/auth/login/cookie')
      .send({ ...DEMO, client: 'web' })
      .expect(200);
    const cookie = authCookieOf(cookieLogin)!.value;
    expect(
      (await sample.http().get('/me').set('authorization', `Bearer ${accessToken}`)).status,
    ).toBe(200);
    // Past the token cache's lifetime, so the next requests must ask the database.
    sample.clock.advance(PAST_CACHE_TTL);

    sample.proxy!.cutAll();
    try {
      expectUnavailable(
        await sample.http().get('/me').set('authorization', `Bearer ${accessToken}`),
      );
      expectUnavailable(await sample.http().get('/me').set('cookie', `${COOKIE_NAME}=${cookie}`));
      expectUnavailable(await sample.http().post('/auth/refresh').send({ refreshToken }));
      // What needs no database is still decided: no credential, or a malformed one.
      expectUnauthorized(await sample.http().get('/me'), 'token_missing');
      expectUnauthorized(
        await sample.http().get('/me').set('authorization', 'Bearer a b'),
        'token_invalid',
      );
    } finally {
      sample.proxy!.restore();
    }

    // Back: the same tokens work again; nothing was revoked by the outage.
    expect(
      (await sample.http().get('/me').set('authorization', `Bearer ${accessToken}`)).status,
    ).toBe(200);
    expect((await sample.http().get('/me').set('cookie', `${COOKIE_NAME}=${cookie}`)).status).toBe(
      200,
    );
    expect((await sample.http().post('/auth/refresh').send({ refreshToken })).status).toBe(200);
  });
});
