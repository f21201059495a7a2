import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  INestApplication,
  Patch,
  Post,
  Put,
  Res,
  UseGuards,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import request from 'supertest';
import { DataSource, Repository } from 'typeorm';
import {
  AuthCookieService,
  AuthGuard,
  AuthTokenEntity,
  CurrentUser,
  DURIN_CLOCK,
  DurinConfigurationError,
  DurinModule,
  type DurinModuleRootOptions,
  ManualClock,
  Public,
  TokenService,
  type TokenSet,
} from '../../lib';
import { csrfFailure, csrfTokenFor } from '../../lib/csrf/csrf';
import { resolveDurinOptions } from '../../lib/options/resolve-options';
import { ResolvedCsrfOptions } from '../../lib/options/resolve-security-options';
import { createTestDatabase, type TestDatabase, type TestDbKind } from '../support/databases';
import { MINUTE, START, silentLogger, typeOrmOptions } from './support/durin-test-app';
import { User } from './support/user.entity';
import { startHttpApp } from '../support/http-app';

// ---------------------------------------------------------------- the app under test

@Controller()
class AppController {
  constructor(
    private readonly tokens: TokenService,
    private readonly cookies: AuthCookieService,
    private readonly dataSource: DataSource,
  ) {}

  /** A login as an app writes it: the cookies, and the CSRF token for the page. */
  @Public()
  @Post('login/cookie')
  async login(@Body() body: { userId: number }, @Res({ passthrough: true }) response: object) {
    const user = await this.dataSource.getRepository(User).findOneByOrFail({ id: body.userId });
    const tokens = await this.tokens.generateCookieToken(user);
    const csrfToken = this.cookies.setAuthCookie(response, tokens);
    return { csrfToken };
  }

  @UseGuards(AuthGuard)
  @Get('me')
  me(@CurrentUser() user: User) {
    return { id: user.id };
  }

  @UseGuards(AuthGuard)
  @Post('things')
  @HttpCode(200)
  create(@CurrentUser() user: User) {
    return { created: true, by: user.id };
  }

  @UseGuards(AuthGuard)
  @Put('things')
  put() {
    return { put: true };
  }

  @UseGuards(AuthGuard)
  @Patch('things')
  patch() {
    return { patched: true };
  }

  @UseGuards(AuthGuard)
  @Delete('things')
  remove() {
    return { deleted: true };
  }
}

type AdapterKind = 'express' | 'fastify';

interface Harness {
  app: INestApplication;
  http: ReturnType<INestApplication['getHttpServer']>;
  tokens: TokenService<AuthTokenEntity>;
  cookies: AuthCookieService;
  rows: Repository<AuthTokenEntity>;
  users: Repository<User>;
  clock: ManualClock;
  db: TestDatabase;
}

async function createHarness(
  adapter: AdapterKind,
  kind: TestDbKind,
  durin: Partial<DurinModuleRootOptions> = {},
): Promise<Harness> {
  const db = await createTestDatabase(kind);
  const clock = new ManualClock(START);
  const moduleRef = await Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot(typeOrmOptions(db)),
      DurinModule.forRoot({
        userEntity: User,
        routes: { path: 'auth' },
        tokenTtl: '1h',
        refreshTokenTtl: '1d',
        autoRefresh: true,
        autoRefreshInterval: '1m',
        ...durin,
      }),
    ],
    controllers: [AppController],
  })
    .overrideProvider(DURIN_CLOCK)
    .useValue(clock)
    .setLogger(silentLogger)
    .compile();
  const app = await startHttpApp(moduleRef, adapter);
  const dataSource = app.get(DataSource);
  return {
    app,
    http: app.getHttpServer(),
    tokens: app.get(TokenService),
    cookies: app.get(AuthCookieService),
    rows: dataSource.getRepository(AuthTokenEntity),
    users: dataSource.getRepository(User),
    clock,
    db,
  };
}

async function closeHarness(h: Harness | undefined): Promise<void> {
  if (!h) return;
  await h.app.close();
  await h.db.drop();
}

function setCookies(res: request.Response): string[] {
  const value = res.headers['set-cookie'] as unknown;
  return Array.isArray(value) ? (value as string[]) : value === undefined ? [] : [String(value)];
}

function cookieValue(res: request.Response, name: string): string | undefined {
  const line = setCookies(res).find((l) => l.startsWith(`${name}=`));
  return line?.slice(name.length + 1).split(';')[0];
}

const HOST = 'app.example';
const CSRF_FAILED = {
  statusCode: 403,
  error: 'Forbidden',
  message: 'CSRF check failed: the request is cross-site or its CSRF token is missing or wrong.',
  code: 'csrf_failed',
};

const MATRIX: Array<[AdapterKind, TestDbKind]> = [
  ['express', 'sqlite'],
  ['fastify', 'sqlite'],
  ['express', 'postgres'],
  ['fastify', 'postgres'],
];

/** REQ-CSRF-01..04 over HTTP, with the default options. */
describe.each(MATRIX)('CSRF defence over %s on %s', (adapter, kind) => {
  let h: Harness;
  let user: User;

  beforeAll(async () => {
    h = await createHarness(adapter, kind);
  });
  afterAll(() => closeHarness(h));
  beforeEach(async () => {
    h.clock.set(START);
    user = await h.users.save({ email: `csrf-${Date.now()}-${Math.random()}@example.com` });
  });

  /**
   * A cookie session as the browser holds it: the auth cookie, the refresh cookie (only sent to
   * the refresh route) and the page's CSRF token.
   */
  async function cookieSession(): Promise<{
    tokens: TokenSet;
    cookie: string;
    refreshCookie: string;
    csrf: string;
  }> {
    const tokens = await h.tokens.generateCookieToken(user);
    const cookie = `__Host-token=${tokens.accessToken}`;
    return {
      tokens,
      cookie,
      refreshCookie: `${cookie}; __Secure-refresh=${tokens.refreshToken}`,
      csrf: h.cookies.csrfTokenFor(tokens.accessToken)!,
    };
  }

  const post = (path: string) => request(h.http).post(path).set('Host', HOST);
  const stored = (id: string) => h.rows.findOneByOrFail({ id });

  it('REQ-CSRF-01: the login helper sets the CSRF cookie and returns the same token', async () => {
    const res = await post('/login/cookie').send({ userId: user.id }).expect(201);
    const access = cookieValue(res, '__Host-token')!;
    const body = res.body as { csrfToken: string };
    expect(body.csrfToken).toBe(cookieValue(res, '__Host-csrf'));
    expect(body.csrfToken).toBe(h.cookies.csrfTokenFor(access));
    expect(body.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // It works as issued: cookie plus header, same origin.
    await post('/things')
      .set('Cookie', `__Host-token=${access}; __Host-csrf=${body.csrfToken}`)
      .set('Origin', `https://${HOST}`)
      .set('X-CSRF-Token', body.csrfToken)
      .expect(200);
  });

  it('REQ-CSRF-01: a cookie POST without the header -> 403 csrf_failed, nothing changed', async () => {
    const { tokens, cookie } = await cookieSession();
    h.clock.advance(2 * MINUTE); // a successful request would now write lastUsedAt and slide
    const before = await stored(tokens.token.id);
    const res = await post('/things').set('Cookie', cookie).set('Origin', `https://${HOST}`);
    expect({ status: res.status, body: res.body as unknown }).toEqual({
      status: 403,
      body: CSRF_FAILED,
    });
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(await stored(tokens.token.id)).toEqual(before);
  });

  it.each(['PUT', 'PATCH', 'DELETE'] as const)(
    'REQ-CSRF-01: %s with the cookie needs the token too',
    async (method) => {
      const { cookie, csrf } = await cookieSession();
      const agent = request(h.http);
      const send = { PUT: agent.put, PATCH: agent.patch, DELETE: agent.delete }[method];
      const call = () => send.call(agent, '/things').set('Host', HOST).set('Cookie', cookie);
      expect((await call()).status).toBe(403);
      expect((await call().set('X-CSRF-Token', csrf)).status).toBe(200);
    },
  );

  it.each([
    ['Origin https://evil.example', { Origin: 'https://evil.example' }],
    ['Origin of a sibling subdomain', { Origin: `https://evil.${HOST}` }],
    ['Origin on another port', { Origin: `https://${HOST}:8443` }],
    ['Origin: null', { Origin: 'null' }],
    ['a malformed Origin', { Origin: 'not a url' }],
    ['Sec-Fetch-Site: cross-site', { 'Sec-Fetch-Site': 'cross-site' }],
    ['Sec-Fetch-Site: same-site', { 'Sec-Fetch-Site': 'same-site' }],
    [
      'a same-origin Origin with Sec-Fetch-Site: cross-site',
      { Origin: `https://${HOST}`, 'Sec-Fetch-Site': 'cross-site' },
    ],
  ])('REQ-CSRF-01: %s -> 403 even with the right token', async (_name, headers) => {
    const { tokens, cookie, csrf } = await cookieSession();
    h.clock.advance(2 * MINUTE);
    const before = await stored(tokens.token.id);
    const res = await post('/things').set('Cookie', cookie).set('X-CSRF-Token', csrf).set(headers);
    expect({ status: res.status, body: res.body as unknown }).toEqual({
      status: 403,
      body: CSRF_FAILED,
    });
    expect(await stored(tokens.token.id)).toEqual(before);
  });

  it('REQ-CSRF-04: the token of session A with the cookie of session B -> 403', async () => {
    const a = await cookieSession();
    const b = await cookieSession();
    const res = await post('/things')
      .set('Cookie', b.cookie)
      .set('Origin', `https://${HOST}`)
      .set('X-CSRF-Token', a.csrf);
    expect(res.status).toBe(403);
    expect((res.body as { code: string }).code).toBe('csrf_failed');
  });

  it.each([
    ['a wrong value', 'x'.repeat(43)],
    ['the access token itself', 'ACCESS'],
    ['an empty value', ''],
  ])('REQ-CSRF-04: a header with %s -> 403', async (_name, value) => {
    const { tokens, cookie } = await cookieSession();
    const sent = value === 'ACCESS' ? tokens.accessToken : value;
    const res = await post('/things').set('Cookie', cookie).set('X-CSRF-Token', sent);
    expect(res.status).toBe(403);
  });

  it.each([
    ['same-origin Origin', { Origin: `https://${HOST}` }],
    ['same-origin Origin over http (scheme not compared)', { Origin: `http://${HOST}` }],
    ['Sec-Fetch-Site: same-origin without Origin', { 'Sec-Fetch-Site': 'same-origin' }],
    ['neither header (not a browser)', {}],
  ])('REQ-CSRF-01: %s + valid header -> 200', async (_name, headers) => {
    const { cookie, csrf } = await cookieSession();
    const res = await post('/things').set('Cookie', cookie).set('X-CSRF-Token', csrf).set(headers);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ created: true, by: user.id });
  });

  it('REQ-CSRF-02: a bearer POST needs no CSRF token, whatever its Origin', async () => {
    const tokens = await h.tokens.generateHeaderToken(user);
    await post('/things').set('Authorization', `Bearer ${tokens.accessToken}`).expect(200);
    await post('/things')
      .set('Authorization', `Bearer ${tokens.accessToken}`)
      .set('Origin', 'https://evil.example')
      .set('Sec-Fetch-Site', 'cross-site')
      .expect(200);
  });

  it('REQ-CSRF-01: a GET with the cookie needs no CSRF token, even cross-site', async () => {
    const { cookie } = await cookieSession();
    await request(h.http)
      .get('/me')
      .set('Host', HOST)
      .set('Cookie', cookie)
      .set('Origin', 'https://evil.example')
      .set('Sec-Fetch-Site', 'cross-site')
      .expect(200);
  });

  it('a cookie POST with a junk cookie: the CSRF check answers first; a malformed cookie is a 401', async () => {
    // Decided before any lookup, so a forged request costs no query whatever it carries.
    expect((await post('/things').set('Cookie', '__Host-token=junk')).status).toBe(403);
    expect((await post('/things').set('Cookie', '__Host-token=a; __Host-token=b')).status).toBe(
      401,
    );
  });

  it('REQ-CSRF-03: cross-site POST /auth/refresh with the cookies -> 403 and no rotation', async () => {
    const { tokens, refreshCookie, csrf } = await cookieSession();
    const before = await h.rows.find({ where: { familyId: tokens.token.familyId } });
    for (const headers of [
      { Origin: 'https://evil.example', 'X-CSRF-Token': csrf },
      { 'Sec-Fetch-Site': 'cross-site', 'X-CSRF-Token': csrf },
      { Origin: `https://${HOST}` },
    ]) {
      const res = await post('/auth/refresh').set('Cookie', refreshCookie).set(headers);
      expect({ status: res.status, body: res.body as unknown }).toEqual({
        status: 403,
        body: CSRF_FAILED,
      });
    }
    // The family row is unchanged: not consumed, no child.
    expect(await h.rows.find({ where: { familyId: tokens.token.familyId } })).toEqual(before);
  });

  it('REQ-CSRF-03: refresh with the cookies and the token rotates, with a new CSRF cookie', async () => {
    const { refreshCookie, csrf } = await cookieSession();
    const res = await post('/auth/refresh')
      .set('Cookie', refreshCookie)
      .set('Origin', `https://${HOST}`)
      .set('X-CSRF-Token', csrf)
      .expect(200);
    const access = cookieValue(res, '__Host-token')!;
    const newCsrf = cookieValue(res, '__Host-csrf')!;
    expect(newCsrf).toBe(h.cookies.csrfTokenFor(access));
    expect(newCsrf).not.toBe(csrf);
    // The old token does not go with the new session.
    await post('/things')
      .set('Cookie', `__Host-token=${access}`)
      .set('X-CSRF-Token', csrf)
      .expect(403);
    await post('/things')
      .set('Cookie', `__Host-token=${access}`)
      .set('X-CSRF-Token', newCsrf)
      .expect(200);
  });

  it('REQ-CSRF-02: a header session refreshing with the body, no cookie, needs no CSRF token', async () => {
    const tokens = await h.tokens.generateHeaderToken(user);
    await post('/auth/refresh')
      .set('Origin', 'https://evil.example')
      .send({ refreshToken: tokens.refreshToken })
      .expect(200);
  });

  it('REQ-CSRF-03: logout with the cookie needs the token; with it, both cookies are cleared', async () => {
    const { tokens, cookie, csrf } = await cookieSession();
    await post('/auth/logout').set('Cookie', cookie).expect(403);
    await post('/auth/logoutall').set('Cookie', cookie).expect(403);
    expect(await h.tokens.verifyToken(tokens.accessToken)).not.toBeNull();

    const res = await post('/auth/logout')
      .set('Cookie', cookie)
      .set('X-CSRF-Token', csrf)
      .expect(204);
    // REQ-CK-02: all three cleared with the attributes they were set with.
    expect(setCookies(res)).toEqual([
      '__Host-token=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax',
      '__Host-csrf=; Max-Age=0; Path=/; Secure; SameSite=Lax',
      '__Secure-refresh=; Max-Age=0; Path=/auth/refresh; HttpOnly; Secure; SameSite=Lax',
    ]);
    expect(await h.tokens.verifyToken(tokens.accessToken)).toBeNull();
  });

  it('an auto-refreshed cookie comes with its CSRF cookie, for as long', async () => {
    const { cookie, csrf } = await cookieSession();
    h.clock.advance(2 * MINUTE);
    const res = await request(h.http).get('/me').set('Cookie', cookie).expect(200);
    const lines = setCookies(res);
    expect(lines).toHaveLength(2);
    // As long as the slid refresh expiry (1 day from now), not the access token's hour: the
    // cookie refresh needs both cookies after the access token expired.
    expect(lines[0]).toMatch(/^__Host-token=durin_at_\w+; Max-Age=86400; /);
    expect(lines[1]).toBe(`__Host-csrf=${csrf}; Max-Age=86400; Path=/; Secure; SameSite=Lax`);
  });
});

/** REQ-CK-01: the cookies as issued, and the production guard rail. */
describe.each([['express'], ['fastify']] as const)('cookie defaults over %s', (adapter) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(adapter, 'sqlite');
  });
  afterAll(() => closeHarness(h));

  it('REQ-CK-01: __Host- prefix, HttpOnly, Secure, SameSite=Lax, Path=/, no Domain', async () => {
    const user = await h.users.save({ email: 'ck@example.com' });
    const res = await request(h.http).post('/login/cookie').send({ userId: user.id }).expect(201);
    const [auth, csrf, refresh] = setCookies(res);
    const attributes = (line: string) =>
      line
        .split('; ')
        .slice(1)
        .map((part) => part.split('=')[0].toLowerCase())
        .sort();
    expect(auth).toMatch(/^__Host-token=durin_at_[A-Za-z0-9]+; /);
    // Max-Age: the refresh token's day, not the access token's hour (see setAuthCookie).
    expect(auth).toBe(
      `__Host-token=${cookieValue(res, '__Host-token')}; Max-Age=86400; Path=/; HttpOnly; Secure; SameSite=Lax`,
    );
    expect(attributes(auth)).toEqual(['httponly', 'max-age', 'path', 'samesite', 'secure']);
    expect(auth).not.toMatch(/domain=/i);
    // The CSRF cookie: the same, except that page scripts must be able to read it.
    expect(csrf).toMatch(/^__Host-csrf=[A-Za-z0-9_-]{43}; /);
    expect(attributes(csrf)).toEqual(['max-age', 'path', 'samesite', 'secure']);
    // The refresh cookie: `__Secure-` (`__Host-` needs Path=/), only sent to the refresh route.
    expect(refresh).toBe(
      `__Secure-refresh=${cookieValue(res, '__Secure-refresh')}; Max-Age=86400; Path=/auth/refresh; HttpOnly; Secure; SameSite=Lax`,
    );
    expect(refresh).toMatch(/^__Secure-refresh=durin_rt_[A-Za-z0-9]+; /);
    // Neither token appears in the body of a cookie login.
    expect(JSON.stringify(res.body)).not.toMatch(/durin_(at|rt)_/);
  });
});

describe('cookie and CSRF configuration', () => {
  class U {}
  const original = process.env.NODE_ENV;
  afterEach(() => {
    process.env.NODE_ENV = original;
  });

  it('REQ-CK-01: the module refuses to boot with cookie.secure false under NODE_ENV=production', async () => {
    process.env.NODE_ENV = 'production';
    const db = await createTestDatabase('sqlite');
    const boot = Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot(typeOrmOptions(db)),
        DurinModule.forRoot({ userEntity: User, cookie: { secure: false } }),
      ],
    })
      .setLogger(silentLogger)
      .compile();
    await expect(boot).rejects.toThrow(DurinConfigurationError);
    await expect(boot).rejects.toThrow(/cookie\.secure/);
  });

  it('REQ-CK-01: boots under NODE_ENV=production with the defaults', () => {
    process.env.NODE_ENV = 'production';
    expect(resolveDurinOptions({ userEntity: U }).cookie).toEqual({
      name: '__Host-token',
      secure: true,
      httpOnly: true,
      sameSite: 'lax',
      path: '/',
      domain: undefined,
      refreshName: '__Secure-refresh',
      refreshPath: '/auth/refresh',
    });
  });

  it('without __Host- (secure: false outside production) the CSRF cookie is plain too', () => {
    process.env.NODE_ENV = 'test';
    const options = resolveDurinOptions({ userEntity: U, cookie: { secure: false } });
    expect(options.cookie.name).toBe('token');
    expect(options.csrf).toMatchObject({ cookieName: 'csrf', headerName: 'x-csrf-token' });
  });

  it.each([
    [{ secret: 'short' }, 'csrf.secret'],
    [{ allowedOrigins: [] }, 'csrf.allowedOrigins'],
    [{ allowedOrigins: ['https://app.example/path'] }, 'csrf.allowedOrigins'],
    [{ allowedOrigins: ['*'] }, 'csrf.allowedOrigins'],
    [{ allowedOrigins: ['ftp://app.example'] }, 'csrf.allowedOrigins'],
    [{ headerName: 'bad header' }, 'csrf.headerName'],
    [{ cookieName: 'token' }, 'csrf.cookieName'],
    [{ unknown: 1 }, 'csrf.unknown'],
    [true, 'csrf'],
  ])('refuses csrf %j (%s)', (csrf, option) => {
    expect(() => resolveDurinOptions({ userEntity: U, csrf: csrf as never })).toThrow(
      expect.objectContaining({ option }),
    );
  });

  it('csrf.allowedOrigins adds a front end on another origin', () => {
    const options = resolveDurinOptions({
      userEntity: U,
      csrf: { allowedOrigins: ['https://front.example/', 'HTTPS://Other.Example:8443'] },
    }).csrf as ResolvedCsrfOptions;
    expect(options.allowedOrigins).toEqual(['https://front.example', 'https://other.example:8443']);
    const token = csrfTokenFor(options, 'durin_at_x');
    const req = (headers: Record<string, string>) => ({
      method: 'POST',
      headers: { host: 'api.example', 'x-csrf-token': token, ...headers },
    });
    expect(
      csrfFailure(
        req({ origin: 'https://front.example', 'sec-fetch-site': 'same-site' }),
        options,
        'durin_at_x',
      ),
    ).toBeUndefined();
    expect(
      csrfFailure(req({ origin: 'https://api.example' }), options, 'durin_at_x'),
    ).toBeUndefined();
    expect(csrfFailure(req({ origin: 'https://evil.example' }), options, 'durin_at_x')).toBe(
      'origin_mismatch',
    );
    // Without Origin, a listed origin cannot be told apart from any other site.
    expect(csrfFailure(req({ 'sec-fetch-site': 'same-site' }), options, 'durin_at_x')).toBe(
      'cross_site',
    );
  });

  it('compares the Host header with the default port of the Origin scheme', () => {
    const options = resolveDurinOptions({ userEntity: U }).csrf as ResolvedCsrfOptions;
    const token = csrfTokenFor(options, 'durin_at_x');
    const failure = (host: string, origin: string) =>
      csrfFailure(
        { method: 'DELETE', headers: { host, origin, 'x-csrf-token': token } },
        options,
        'durin_at_x',
      );
    expect(failure('app.example:443', 'https://app.example')).toBeUndefined();
    expect(failure('APP.example', 'https://app.example')).toBeUndefined();
    expect(failure('app.example:8080', 'http://app.example:8080')).toBeUndefined();
    expect(failure('app.example:8080', 'https://app.example')).toBe('origin_mismatch');
    expect(failure('app.example.evil', 'https://app.example')).toBe('origin_mismatch');
  });

  it('skips safe methods, requests without a method and csrf: false', () => {
    const options = resolveDurinOptions({ userEntity: U }).csrf as ResolvedCsrfOptions;
    const headers = { origin: 'https://evil.example' };
    for (const method of ['GET', 'head', 'OPTIONS', 'TRACE']) {
      expect(csrfFailure({ method, headers }, options, 'durin_at_x')).toBeUndefined();
    }
    expect(csrfFailure({ headers }, options, 'durin_at_x')).toBeUndefined();
    expect(csrfFailure({ method: 'POST', headers }, false, 'durin_at_x')).toBeUndefined();
    expect(csrfFailure({ method: 'PROPFIND', headers }, options, 'durin_at_x')).toBe(
      'origin_mismatch',
    );
  });
});

describe('csrf: false (documented as unsafe)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness('express', 'sqlite', { csrf: false });
  });
  afterAll(() => closeHarness(h));

  it('lets a cookie POST through without a token and sets no CSRF cookie', async () => {
    const user = await h.users.save({ email: 'off@example.com' });
    const login = await request(h.http).post('/login/cookie').send({ userId: user.id }).expect(201);
    expect(setCookies(login).map((line) => line.split('=')[0])).toEqual([
      '__Host-token',
      '__Secure-refresh',
    ]);
    expect((login.body as { csrfToken?: string }).csrfToken).toBeUndefined();
    await request(h.http)
      .post('/things')
      .set('Cookie', `__Host-token=${cookieValue(login, '__Host-token')}`)
      .set('Origin', 'https://evil.example')
      .expect(200);
  });
});
