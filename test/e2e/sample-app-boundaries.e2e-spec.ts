import { HTTP_ADAPTERS, setCookies, startSampleApp, type SampleApp } from './support/sample-app';

/**
 * What people copy from the sample app must hold at its edges: hostile bodies, an outage, login
 * CSRF, and a front end on another origin.
 */
const DEMO = { username: 'demo', password: 'demo-password', client: 'web' };
const FRONT_END = 'http://localhost:5173';
const AUTH_COOKIE = '__Host-token';
const CSRF_COOKIE = '__Host-csrf';

const invalidRequest = {
  statusCode: 400,
  error: 'Bad Request',
  message: expect.any(String),
  code: 'invalid_request',
};

function deeplyNested(levels: number): string {
  return `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
}

describe.each(HTTP_ADAPTERS)('sample app boundaries on %s', (adapter) => {
  let sample: SampleApp;

  beforeAll(async () => {
    sample = await startSampleApp({
      adapter,
      db: 'postgres',
      proxy: true,
      env: { CORS_ORIGINS: FRONT_END },
      durin: { storeTimeout: '2s' },
    });
  });
  afterAll(() => sample?.close());

  it('login answers no-store', async () => {
    const res = await sample.http().post('/auth/login').send(DEMO);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it.each(['/auth/login', '/auth/login/cookie'])(
    '%s refuses a 5000-deep JSON body with 400 invalid_request',
    async (path) => {
      const res = await sample
        .http()
        .post(path)
        .set('content-type', 'application/json')
        .send(deeplyNested(5000));
      expect({ status: res.status, body: res.body as unknown }).toEqual({
        status: 400,
        body: invalidRequest,
      });
    },
  );

  it('a 5000-deep body to POST /auth/refresh is a 400 too', async () => {
    const res = await sample
      .http()
      .post('/auth/refresh')
      .set('content-type', 'application/json')
      .send(`{"refreshToken":"x","a":${deeplyNested(5000)}}`);
    expect({ status: res.status, body: res.body as unknown }).toEqual({
      status: 400,
      body: invalidRequest,
    });
  });

  it('a NUL in the username or client is a 400, not a driver error', async () => {
    for (const body of [
      { ...DEMO, username: 'demo\u0000' },
      { ...DEMO, client: 'web\u0000' },
    ]) {
      const res = await sample.http().post('/auth/login').send(body);
      expect(res.status).toBe(400);
      expect((res.body as { code: string }).code).toMatch(/^(invalid_request|unknown_client)$/);
    }
  });

  it('login while the database is down: 503 auth_unavailable with Retry-After, never 500', async () => {
    sample.proxy!.cutAll();
    try {
      for (const path of ['/auth/login', '/auth/login/cookie']) {
        const res = await sample.http().post(path).send(DEMO);
        expect({ status: res.status, code: (res.body as { code?: string }).code }).toEqual({
          status: 503,
          code: 'auth_unavailable',
        });
        expect(res.headers['retry-after']).toMatch(/^\d+$/);
        expect(res.text).not.toMatch(/ECONN|stack|QueryFailedError|terminated/);
      }
    } finally {
      sample.proxy!.restore();
    }
    expect((await sample.http().post('/auth/login').send(DEMO)).status).toBe(200);
  });

  it.each<[string, Record<string, string>]>([
    ['a foreign Origin', { origin: 'https://evil.example' }],
    ['Sec-Fetch-Site cross-site', { 'sec-fetch-site': 'cross-site' }],
    ['Origin null', { origin: 'null' }],
  ])('cookie login from %s is refused (login CSRF): 403, no cookie set', async (_name, headers) => {
    const res = await sample.http().post('/auth/login/cookie').set(headers).send(DEMO);
    expect(res.status).toBe(403);
    expect((res.body as { code: string }).code).toBe('csrf_failed');
    expect(setCookies(res.headers)).toEqual([]);
  });

  it('the front end in CORS_ORIGINS: preflight allowed with credentials, cookie session works', async () => {
    const preflight = await sample
      .http()
      .options('/auth/logout')
      .set('origin', FRONT_END)
      .set('access-control-request-method', 'POST')
      .set('access-control-request-headers', 'x-csrf-token');
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers['access-control-allow-origin']).toBe(FRONT_END);
    expect(preflight.headers['access-control-allow-credentials']).toBe('true');
    expect(String(preflight.headers['access-control-allow-headers']).toLowerCase()).toContain(
      'x-csrf-token',
    );

    const login = await sample
      .http()
      .post('/auth/login/cookie')
      .set({ origin: FRONT_END, 'sec-fetch-site': 'same-site' })
      .send(DEMO);
    expect(login.status).toBe(200);
    expect(login.headers['access-control-allow-origin']).toBe(FRONT_END);
    const cookies = setCookies(login.headers);
    const access = cookies.find((cookie) => cookie.name === AUTH_COOKIE)!.value;
    const csrf = cookies.find((cookie) => cookie.name === CSRF_COOKIE)!.value;
    const logout = await sample
      .http()
      .post('/auth/logout')
      .set({ origin: FRONT_END, 'sec-fetch-site': 'same-site', 'x-csrf-token': csrf })
      .set('cookie', `${AUTH_COOKIE}=${access}`);
    expect(logout.status).toBe(204);
  });

  it('an origin not in CORS_ORIGINS gets no CORS grant', async () => {
    const preflight = await sample
      .http()
      .options('/auth/logout')
      .set('origin', 'https://evil.example')
      .set('access-control-request-method', 'POST');
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });
});
