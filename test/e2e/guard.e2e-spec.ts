import {
  Controller,
  Get,
  INestApplication,
  Module,
  Req,
  type DynamicModule,
  UseGuards,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { TypeOrmModule, type TypeOrmModuleOptions } from '@nestjs/typeorm';
import request from 'supertest';
import { Column, DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm';
import {
  AuthGuard,
  AuthToken,
  AuthTokenEntity,
  CurrentUser,
  DURIN_CLOCK,
  DurinModule,
  type DurinModuleRootOptions,
  type DurinRequest,
  ManualClock,
  Public,
  TokenContext,
  type TokenContextData,
  TokenService,
  type TokenSet,
} from '../../lib';
import { TokenFormat } from '../../lib/tokens/token-format';
import { createTestDatabase, type TestDatabase, type TestDbKind } from '../support/databases';
import { QueryCounter } from '../support/query-counter';
import { type TcpProxy, withPgThroughProxy } from '../support/tcp-proxy';
import { startHttpApp } from '../support/http-app';

// ---------------------------------------------------------------- the app under test

@Entity('e2e_user')
class E2eUser {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: 64 })
  username!: string;

  @Column({ type: 'boolean', default: true })
  isActive!: boolean;
}

/** Guarded per controller, in a module that does not import DurinModule (it is global). */
@UseGuards(AuthGuard)
@Controller('feature')
class FeatureController {
  @Get('me')
  me(
    @CurrentUser() user: E2eUser,
    @AuthToken() token: AuthTokenEntity,
    @TokenContext() context: Readonly<TokenContextData>,
    @TokenContext('device') device: unknown,
    @Req() req: DurinRequest,
  ) {
    return {
      userId: user.id,
      tokenId: token.id,
      authType: token.authType,
      context,
      device: device ?? null,
      sameUser: req.user === user,
      sameToken: req.authToken === token,
    };
  }

  @Public()
  @Get('open')
  open(@CurrentUser() user: E2eUser | undefined, @AuthToken() token: unknown) {
    return { open: true, user: user ?? null, token: token ?? null };
  }
}

@Module({ controllers: [FeatureController] })
class FeatureModule {}

/** Routes without any guard decorator: protected by the global APP_GUARD only. */
@Controller('global')
class GlobalController {
  @Get('closed')
  closed(@CurrentUser() user: E2eUser) {
    return { userId: user.id };
  }

  @Public()
  @Get('open')
  open() {
    return { open: true };
  }
}

type AdapterKind = 'express' | 'fastify';

interface Harness {
  app: INestApplication;
  http: ReturnType<INestApplication['getHttpServer']>;
  tokens: TokenService;
  dataSource: DataSource;
  clock: ManualClock;
  counter: QueryCounter;
  proxy?: TcpProxy;
  db: TestDatabase;
}

const DURIN_OPTIONS = {
  tokenTtl: '1h',
  refreshTokenTtl: '1d',
  autoRefresh: true,
  autoRefreshInterval: '1m',
  autoRefreshMaxTtl: '7d',
  storeTimeout: '2s',
  // The CSRF defence and the refresh grace window are tested with their defaults in
  // test/integration/security-csrf.int-spec.ts and security-refresh-reuse.int-spec.ts; here cookie
  // POSTs and immediate refresh replays are about the guard and the routes themselves.
  csrf: false,
  refreshReuseGraceSeconds: 0,
} satisfies Partial<DurinModuleRootOptions>;

async function createHarness(
  adapter: AdapterKind,
  kind: TestDbKind,
  shape: (typeorm: DynamicModule) => {
    imports: NonNullable<DynamicModule['imports']>;
    global?: boolean;
  },
): Promise<Harness> {
  const db = await createTestDatabase(kind);
  let proxy: TcpProxy | undefined;
  let connection = db.options;
  if (kind === 'postgres') {
    // Every PostgreSQL app talks through a proxy so a test can cut its database alone.
    const proxied = await withPgThroughProxy(db);
    proxy = proxied.proxy;
    connection = proxied.options;
  }
  const counter = new QueryCounter();
  const typeorm = TypeOrmModule.forRoot({
    ...connection,
    entities: [E2eUser],
    autoLoadEntities: true,
    synchronize: true,
    logger: counter,
  } as TypeOrmModuleOptions);
  const { imports, global } = shape(typeorm);
  const clock = new ManualClock();
  const moduleRef = await Test.createTestingModule({
    imports,
    providers: global ? [{ provide: APP_GUARD, useClass: AuthGuard }] : [],
  })
    .overrideProvider(DURIN_CLOCK)
    .useValue(clock)
    .compile();
  const app = await startHttpApp(moduleRef, adapter);
  return {
    app,
    http: app.getHttpServer(),
    tokens: app.get(TokenService),
    dataSource: app.get(DataSource),
    clock,
    counter,
    proxy,
    db,
  };
}

async function closeHarness(harness: Harness | undefined): Promise<void> {
  if (!harness) return;
  await harness.app.close();
  await harness.proxy?.close();
  await harness.db.drop();
}

// ---------------------------------------------------------------- expectations

const CHALLENGE = 'Bearer realm="api"';
const REFRESH_REFUSED = 'Invalid or expired refresh token.';
const INVALID_CHALLENGE = 'Bearer realm="api", error="invalid_token"';
const MESSAGES = {
  token_missing: 'Authentication credentials were not provided.',
  token_invalid: 'Invalid token.',
  token_expired: 'Token has expired.',
  user_inactive: 'User inactive or deleted.',
} as const;

function expect401(
  res: request.Response,
  code: keyof typeof MESSAGES,
  message: string = MESSAGES[code],
): void {
  expect({ status: res.status, body: res.body as unknown }).toEqual({
    status: 401,
    body: { statusCode: 401, error: 'Unauthorized', message, code },
  });
  expect(res.headers['www-authenticate']).toBe(
    code === 'token_missing' ? CHALLENGE : INVALID_CHALLENGE,
  );
}

function expect503(res: request.Response): void {
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
}

function setCookies(res: request.Response): string[] {
  const value = res.headers['set-cookie'] as unknown;
  return Array.isArray(value) ? (value as string[]) : value === undefined ? [] : [String(value)];
}

const COOKIE_ATTRIBUTES = 'Path=/; HttpOnly; Secure; SameSite=Lax';
const REFRESH_COOKIE_ATTRIBUTES = 'Path=/auth/refresh; HttpOnly; Secure; SameSite=Lax';
const CLEARED_COOKIES = [
  `__Host-token=; Max-Age=0; ${COOKIE_ATTRIBUTES}`,
  `__Secure-refresh=; Max-Age=0; ${REFRESH_COOKIE_ATTRIBUTES}`,
];

function cookieValueFrom(res: request.Response): string {
  const line = setCookies(res).find((l) => l.startsWith('__Host-token='));
  expect(line).toBeDefined();
  return line!.slice('__Host-token='.length).split(';')[0];
}

// ---------------------------------------------------------------- the suite

const MATRIX: Array<[AdapterKind, TestDbKind]> = [
  ['express', 'sqlite'],
  ['fastify', 'sqlite'],
  ['express', 'postgres'],
  ['fastify', 'postgres'],
];

describe.each(MATRIX)('AuthGuard and routes over %s on %s', (adapter, kind) => {
  let h: Harness;
  let alice: E2eUser;
  let bob: E2eUser;
  let carol: E2eUser;

  beforeAll(async () => {
    h = await createHarness(adapter, kind, (typeorm) => ({
      imports: [
        typeorm,
        DurinModule.forRoot({
          userEntity: E2eUser,
          isGlobal: true,
          routes: { path: 'auth' },
          // Every decision comes from the database here, so the query counts and the outage
          // test are exact; the cached path is covered by the global-guard suite below.
          cache: false,
          ...DURIN_OPTIONS,
        }),
        FeatureModule,
      ],
    }));
    const users = h.dataSource.getRepository(E2eUser);
    alice = await users.save(users.create({ username: 'alice' }));
    bob = await users.save(users.create({ username: 'bob' }));
    carol = await users.save(users.create({ username: 'carol', isActive: false }));
  });

  afterAll(() => closeHarness(h));

  const header = (tokens: Pick<TokenSet, 'accessToken'>) => `Bearer ${tokens.accessToken}`;
  const cookie = (tokens: Pick<TokenSet, 'accessToken'>) => `__Host-token=${tokens.accessToken}`;
  const get = (path: string) => request(h.http).get(path);
  const post = (path: string) => request(h.http).post(path);
  const del = (path: string) => request(h.http).delete(path);

  describe('authentication', () => {
    it('accepts a header token and fills every decorator', async () => {
      const tokens = await h.tokens.generateHeaderToken(alice, {
        context: { device: 'phone', ip: '10.0.0.1' },
      });
      const res = await get('/feature/me').set('Authorization', header(tokens)).expect(200);
      expect(res.body).toEqual({
        userId: alice.id,
        tokenId: tokens.token.id,
        authType: 'header',
        context: { device: 'phone', ip: '10.0.0.1' },
        device: 'phone',
        sameUser: true,
        sameToken: true,
      });
      expect(res.headers['set-cookie']).toBeUndefined();
    });

    it.each(['bearer', 'BEARER', 'bEaReR', 'Token'])('matches the scheme %s', async (scheme) => {
      const tokens = await h.tokens.generateHeaderToken(alice);
      await get('/feature/me').set('Authorization', `${scheme}  ${tokens.accessToken}`).expect(200);
    });

    it('accepts a cookie token from the __Host- cookie among others', async () => {
      const tokens = await h.tokens.generateCookieToken(alice);
      const res = await get('/feature/me')
        .set('Cookie', `theme=dark; ${cookie(tokens)}; lang=en`)
        .expect(200);
      expect(res.body).toMatchObject({ tokenId: tokens.token.id, authType: 'cookie' });
    });

    it('401 token_missing without any credential', async () => {
      expect401(await get('/feature/me'), 'token_missing');
    });

    it('401 token_invalid for a well-formed token that was never issued', async () => {
      const forged = new TokenFormat('durin').generate('access');
      const before = h.counter.lookups;
      expect401(await get('/feature/me').set('Authorization', `Bearer ${forged}`), 'token_invalid');
      expect(h.counter.lookups).toBe(before + 1);
    });

    it('401 token_expired once the access token expired', async () => {
      const tokens = await h.tokens.generateHeaderToken(alice, { accessExpiresIn: 60 });
      await get('/feature/me').set('Authorization', header(tokens)).expect(200);
      h.clock.advance(60_000);
      expect401(await get('/feature/me').set('Authorization', header(tokens)), 'token_expired');
    });

    it('401 user_inactive for a disabled user', async () => {
      const tokens = await h.tokens.generateHeaderToken(carol);
      expect401(await get('/feature/me').set('Authorization', header(tokens)), 'user_inactive');
    });

    it('401 after revocation', async () => {
      const tokens = await h.tokens.generateHeaderToken(alice);
      await h.tokens.revokeToken(tokens.token);
      expect401(await get('/feature/me').set('Authorization', header(tokens)), 'token_invalid');
    });

    it('never takes a token from the query string', async () => {
      const tokens = await h.tokens.generateHeaderToken(alice);
      expect401(await get(`/feature/me?access_token=${tokens.accessToken}`), 'token_missing');
    });
  });

  describe('malformed credentials cost no query', () => {
    const validButForged = new TokenFormat('durin').generate('access');
    const badChecksum = `${validButForged.slice(0, -1)}${validButForged.endsWith('A') ? 'B' : 'A'}`;
    const cases: Array<[string, string, keyof typeof MESSAGES]> = [
      ['scheme only', 'Bearer', 'token_invalid'],
      ['scheme and spaces (trimmed by the parser)', 'Bearer    ', 'token_invalid'],
      ['tab separator', 'Bearer\tabc', 'token_invalid'],
      ['colon separator', 'Bearer:abc', 'token_invalid'],
      ['two parts', 'Bearer abc def', 'token_invalid'],
      ['SQL', "Bearer ' OR 1=1--", 'token_invalid'],
      ['percent-encoded NUL', 'Bearer %00', 'token_invalid'],
      ['latin-1 letter', 'Bearer t\u00f6k', 'token_invalid'],
      ['256 characters', `Bearer ${'a'.repeat(256)}`, 'token_invalid'],
      [
        'a refresh-shaped token',
        `Bearer ${new TokenFormat('durin').generate('refresh')}`,
        'token_invalid',
      ],
      ['bad checksum', `Bearer ${badChecksum}`, 'token_invalid'],
      ['another prefix', 'Bearer other_at_abc', 'token_invalid'],
      ['a foreign scheme', 'Basic dTpw', 'token_missing'],
      ['a scheme we do not know', 'Bearertoken', 'token_missing'],
    ];

    it.each(cases)('%s -> 401 %s', async (_name, value, code) => {
      const before = h.counter.count;
      expect401(await get('/feature/me').set('Authorization', value), code);
      expect(h.counter.count).toBe(before);
    });

    it.each([
      ['a duplicated auth cookie (valid first)', 'first'],
      ['a duplicated auth cookie (valid last)', 'last'],
    ])('%s -> 401 token_invalid without a query', async (_name, order) => {
      const tokens = await h.tokens.generateCookieToken(alice);
      const pair = [cookie(tokens), '__Host-token=junk'];
      const before = h.counter.count;
      const res = await get('/feature/me').set(
        'Cookie',
        (order === 'first' ? pair : pair.reverse()).join('; '),
      );
      expect401(res, 'token_invalid');
      expect(h.counter.count).toBe(before);
    });

    it.each([['%E0%A4%A'], ['"tok"'], ['a b']])('a cookie value %s -> 401', async (value) => {
      const before = h.counter.count;
      expect401(await get('/feature/me').set('Cookie', `__Host-token=${value}`), 'token_invalid');
      expect(h.counter.count).toBe(before);
    });

    it.each([['valid first'], ['valid last']])(
      'two Authorization headers (%s) -> 401 without a query',
      async (order) => {
        const tokens = await h.tokens.generateHeaderToken(alice);
        const values = [header(tokens), 'Bearer junk'];
        const before = h.counter.count;
        // superagent hands an array to Node's setHeader, which sends one field line per value
        // (its typings only admit that for Cookie).
        const res = await get('/feature/me').set(
          'Authorization',
          (order === 'valid first' ? values : values.reverse()) as unknown as string,
        );
        expect401(res, 'token_invalid');
        expect(h.counter.count).toBe(before);
      },
    );
  });

  describe('precedence and auth restriction', () => {
    it('an invalid header decides even next to a valid cookie', async () => {
      const tokens = await h.tokens.generateCookieToken(alice);
      const res = await get('/feature/me')
        .set('Authorization', 'Bearer junk')
        .set('Cookie', cookie(tokens));
      expect401(res, 'token_invalid');
    });

    it('a foreign scheme is not ours: the cookie decides', async () => {
      const tokens = await h.tokens.generateCookieToken(alice);
      await get('/feature/me')
        .set('Authorization', 'Basic dTpw')
        .set('Cookie', cookie(tokens))
        .expect(200);
    });

    it('a header token does not work from the cookie', async () => {
      const tokens = await h.tokens.generateHeaderToken(alice);
      expect401(await get('/feature/me').set('Cookie', cookie(tokens)), 'token_invalid');
    });

    it('a cookie token does not work from the header', async () => {
      const tokens = await h.tokens.generateCookieToken(alice);
      expect401(await get('/feature/me').set('Authorization', header(tokens)), 'token_invalid');
    });

    it('only the __Host- cookie is read, not the unprefixed name', async () => {
      const tokens = await h.tokens.generateCookieToken(alice);
      expect401(
        await get('/feature/me').set('Cookie', `token=${tokens.accessToken}`),
        'token_missing',
      );
    });
  });

  describe('@Public()', () => {
    it('lets the request through without looking at credentials', async () => {
      const before = h.counter.count;
      const res = await get('/feature/open').set('Authorization', 'Bearer junk').expect(200);
      expect(res.body).toEqual({ open: true, user: null, token: null });
      expect(h.counter.count).toBe(before);
    });
  });

  describe('auto-refresh', () => {
    it('slides a cookie token once per interval and re-sets its cookie', async () => {
      const tokens = await h.tokens.generateCookieToken(alice);
      const first = await get('/feature/me').set('Cookie', cookie(tokens)).expect(200);
      expect(first.headers['set-cookie']).toBeUndefined();

      h.clock.advance(61_000);
      const slid = await get('/feature/me').set('Cookie', cookie(tokens)).expect(200);
      // The cookie lives as long as the (slid) refresh expiry, a day: it must still be there for
      // a cookie refresh after the access token's hour.
      expect(setCookies(slid)).toEqual([
        `__Host-token=${tokens.accessToken}; Max-Age=86400; ${COOKIE_ATTRIBUTES}`,
      ]);

      const again = await get('/feature/me').set('Cookie', cookie(tokens)).expect(200);
      expect(again.headers['set-cookie']).toBeUndefined();
    });

    it('slides a header token without any cookie', async () => {
      const tokens = await h.tokens.generateHeaderToken(alice);
      h.clock.advance(61_000);
      const res = await get('/feature/me').set('Authorization', header(tokens)).expect(200);
      expect(res.headers['set-cookie']).toBeUndefined();
      const stored = await h.tokens.verifyToken(tokens.accessToken);
      expect(stored!.expiresAt!.getTime()).toBe(h.clock.now() + 3_600_000);
    });
  });

  describe('routes: refresh', () => {
    it('rotates a header pair; the old pair stops working; reuse revokes the family', async () => {
      const tokens = await h.tokens.generateHeaderToken(alice);
      const res = await post('/auth/refresh')
        .send({ refreshToken: tokens.refreshToken })
        .expect(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(Object.keys(res.body as object).sort()).toEqual([
        'accessToken',
        'accessTokenExpiresAt',
        'refreshToken',
        'refreshTokenExpiresAt',
      ]);
      const next = res.body as { accessToken: string; refreshToken: string };
      await get('/feature/me').set('Authorization', `Bearer ${next.accessToken}`).expect(200);
      expect401(await get('/feature/me').set('Authorization', header(tokens)), 'token_invalid');

      const replay = await post('/auth/refresh').send({ refreshToken: tokens.refreshToken });
      expect401(replay, 'token_invalid', REFRESH_REFUSED);
      expect401(
        await get('/feature/me').set('Authorization', `Bearer ${next.accessToken}`),
        'token_invalid',
      );
    });

    it('rotates a cookie pair from the refresh cookie: both tokens only go into cookies', async () => {
      const tokens = await h.tokens.generateCookieToken(alice);
      const res = await post('/auth/refresh')
        .set('Cookie', `__Secure-refresh=${tokens.refreshToken}`)
        .expect(200);
      expect(Object.keys(res.body as object).sort()).toEqual([
        'accessTokenExpiresAt',
        'refreshTokenExpiresAt',
      ]);
      const value = cookieValueFrom(res);
      const refresh = /^__Secure-refresh=(durin_rt_\w+);/.exec(setCookies(res)[1])?.[1];
      expect(setCookies(res)).toEqual([
        `__Host-token=${value}; Max-Age=86400; ${COOKIE_ATTRIBUTES}`,
        `__Secure-refresh=${refresh}; Max-Age=86400; ${REFRESH_COOKIE_ATTRIBUTES}`,
      ]);
      await get('/feature/me').set('Cookie', `__Host-token=${value}`).expect(200);
      // A cookie session's refresh token is not accepted from the body (REQ-TYP-02).
      expect401(
        await post('/auth/refresh').send({ refreshToken: refresh }),
        'token_invalid',
        REFRESH_REFUSED,
      );
    });

    it.each([
      ['an empty body', {}],
      ['a number', { refreshToken: 42 }],
      ['an array', { refreshToken: [1] }],
      ['an empty string', { refreshToken: '' }],
      ['10 KB', { refreshToken: 'a'.repeat(10_000) }],
      ['an unknown field', { refreshToken: 'x', extra: 1 }],
      ['snake case', { refresh_token: 'x' }],
    ])('400 for %s', async (_name, body) => {
      const res = await post('/auth/refresh').send(body).expect(400);
      expect(res.body).toMatchObject({
        statusCode: 400,
        error: 'Bad Request',
        code: 'invalid_request',
      });
    });

    it('401 for an access token, an unknown token and an expired refresh token', async () => {
      const tokens = await h.tokens.generateHeaderToken(alice);
      expect401(
        await post('/auth/refresh').send({ refreshToken: tokens.accessToken }),
        'token_invalid',
        REFRESH_REFUSED,
      );
      expect401(
        await post('/auth/refresh').send({
          refreshToken: new TokenFormat('durin').generate('refresh'),
        }),
        'token_invalid',
        REFRESH_REFUSED,
      );
      h.clock.advance(86_400_000);
      expect401(
        await post('/auth/refresh').send({ refreshToken: tokens.refreshToken }),
        'token_invalid',
        REFRESH_REFUSED,
      );
    });
  });

  describe('routes: renew, logout, logoutall', () => {
    it('renew extends the current token (200 { expiresAt }) and 401s without one', async () => {
      const tokens = await h.tokens.generateHeaderToken(alice);
      h.clock.advance(10 * 60_000);
      const res = await post('/auth/renew').set('Authorization', header(tokens)).expect(200);
      expect(res.body).toEqual({ expiresAt: new Date(h.clock.now() + 3_600_000).toISOString() });
      expect401(await post('/auth/renew'), 'token_missing');
      expect401(await post('/auth/renew').set('Authorization', 'Bearer junk'), 'token_invalid');
    });

    it('renew re-sets the cookie of a cookie token', async () => {
      const tokens = await h.tokens.generateCookieToken(alice);
      const res = await post('/auth/renew').set('Cookie', cookie(tokens)).expect(200);
      // Until the renewed refresh expiry: the cookie is needed to refresh after the access hour.
      expect(setCookies(res)).toEqual([
        `__Host-token=${tokens.accessToken}; Max-Age=86400; ${COOKIE_ATTRIBUTES}`,
      ]);
    });

    it('logout ends only the session used, refresh token included', async () => {
      const used = await h.tokens.generateHeaderToken(alice);
      const other = await h.tokens.generateHeaderToken(alice);
      const res = await post('/auth/logout').set('Authorization', header(used)).expect(204);
      expect(res.headers['set-cookie']).toBeUndefined();
      expect401(await get('/feature/me').set('Authorization', header(used)), 'token_invalid');
      expect401(
        await post('/auth/refresh').send({ refreshToken: used.refreshToken }),
        'token_invalid',
        REFRESH_REFUSED,
      );
      await get('/feature/me').set('Authorization', header(other)).expect(200);
    });

    it('logout of a cookie token clears its cookies with the same attributes', async () => {
      const tokens = await h.tokens.generateCookieToken(alice);
      const res = await post('/auth/logout').set('Cookie', cookie(tokens)).expect(204);
      expect(setCookies(res)).toEqual(CLEARED_COOKIES);
      expect401(await get('/feature/me').set('Cookie', cookie(tokens)), 'token_invalid');
    });

    it('logout after an auto-refresh in the same request sends only the clearing cookie', async () => {
      const tokens = await h.tokens.generateCookieToken(alice);
      h.clock.advance(61_000);
      const res = await post('/auth/logout').set('Cookie', cookie(tokens)).expect(204);
      expect(setCookies(res)).toEqual(CLEARED_COOKIES);
    });

    it('logoutall ends every session of the user and no one else', async () => {
      const user = await h.dataSource.getRepository(E2eUser).save({ username: `dave-${kind}` });
      const a = await h.tokens.generateHeaderToken(user);
      const b = await h.tokens.generateCookieToken(user);
      const theirs = await h.tokens.generateHeaderToken(bob);
      await post('/auth/logoutall').set('Authorization', header(a)).expect(204);
      expect401(await get('/feature/me').set('Authorization', header(a)), 'token_invalid');
      expect401(await get('/feature/me').set('Cookie', cookie(b)), 'token_invalid');
      expect401(
        await post('/auth/refresh').set('Cookie', `__Secure-refresh=${b.refreshToken}`),
        'token_invalid',
        REFRESH_REFUSED,
      );
      await get('/feature/me').set('Authorization', header(theirs)).expect(200);
      expect401(await post('/auth/logoutall'), 'token_missing');
    });
  });

  describe('routes: sessions', () => {
    let erin: E2eUser;
    beforeAll(async () => {
      erin = await h.dataSource.getRepository(E2eUser).save({ username: `erin-${kind}` });
    });

    it('lists only the caller’s live sessions, without secrets, marking the current one', async () => {
      const phone = await h.tokens.generateHeaderToken(erin, { context: { device: 'phone' } });
      const laptop = await h.tokens.generateCookieToken(erin, { context: { device: 'laptop' } });
      const ended = await h.tokens.generateHeaderToken(erin);
      await h.tokens.revokeToken(ended.token);
      await h.tokens.generateHeaderToken(bob);

      const res = await get('/auth/sessions').set('Authorization', header(phone)).expect(200);
      const sessions = res.body as Array<Record<string, unknown>>;
      expect(sessions.map((s) => s.id).sort()).toEqual([phone.token.id, laptop.token.id].sort());
      for (const session of sessions) {
        expect(Object.keys(session).sort()).toEqual(
          [
            'abilities',
            'client',
            'context',
            'createdAt',
            'expiresAt',
            'id',
            'isCurrent',
            'lastUsedAt',
          ].sort(),
        );
        expect(JSON.stringify(session)).not.toContain(phone.accessToken);
      }
      expect(sessions.find((s) => s.id === phone.token.id)).toMatchObject({
        isCurrent: true,
        client: null,
        context: { device: 'phone' },
      });
      expect(sessions.find((s) => s.id === laptop.token.id)).toMatchObject({ isCurrent: false });
    });

    it('DELETE ends another own session (204), refuses the current one (400)', async () => {
      const current = await h.tokens.generateHeaderToken(erin);
      const lost = await h.tokens.generateHeaderToken(erin);
      await del(`/auth/sessions/${lost.token.id}`)
        .set('Authorization', header(current))
        .expect(204);
      expect401(await get('/feature/me').set('Authorization', header(lost)), 'token_invalid');
      await del(`/auth/sessions/${lost.token.id}`)
        .set('Authorization', header(current))
        .expect(404);

      const res = await del(`/auth/sessions/${current.token.id}`)
        .set('Authorization', header(current))
        .expect(400);
      expect(res.body).toMatchObject({ statusCode: 400, code: 'session_current' });
      await get('/feature/me').set('Authorization', header(current)).expect(200);
    });

    it('DELETE of another user’s session or a malformed id is a 404 and changes nothing', async () => {
      const mine = await h.tokens.generateHeaderToken(erin);
      const theirs = await h.tokens.generateHeaderToken(bob);
      const res = await del(`/auth/sessions/${theirs.token.id}`)
        .set('Authorization', header(mine))
        .expect(404);
      expect(res.body).toEqual({
        statusCode: 404,
        error: 'Not Found',
        message: 'No such session.',
        code: 'session_not_found',
      });
      await get('/feature/me').set('Authorization', header(theirs)).expect(200);
      for (const id of ['not-a-uuid', `${theirs.token.id}x`, "1' OR '1'='1"]) {
        await del(`/auth/sessions/${encodeURIComponent(id)}`)
          .set('Authorization', header(mine))
          .expect(404);
      }
      expect401(await del(`/auth/sessions/${theirs.token.id}`), 'token_missing');
    });
  });

  describe('routes: apiaccess', () => {
    it('creates one key (201, shown once), lists its metadata, deletes it', async () => {
      const user = await h.dataSource.getRepository(E2eUser).save({ username: `fay-${kind}` });
      const session = await h.tokens.generateHeaderToken(user);
      const auth = header(session);

      await get('/auth/apiaccess').set('Authorization', auth).expect(404);
      await del('/auth/apiaccess').set('Authorization', auth).expect(404);

      const created = await post('/auth/apiaccess').set('Authorization', auth).expect(201);
      expect(created.headers['cache-control']).toBe('no-store');
      const key = created.body as { id: string; token: string; client: string };
      expect(key.client).toBe('api');
      expect(key.token).toMatch(/^durin_at_/);
      const me = await get('/feature/me').set('Authorization', `Bearer ${key.token}`).expect(200);
      expect(me.body).toMatchObject({ userId: user.id, tokenId: key.id });

      const again = await post('/auth/apiaccess').set('Authorization', auth).expect(400);
      expect(again.body).toMatchObject({ code: 'api_key_exists' });

      const meta = await get('/auth/apiaccess').set('Authorization', auth).expect(200);
      expect(meta.body).toMatchObject({ id: key.id, client: 'api' });
      expect(meta.body).not.toHaveProperty('token');
      expect(JSON.stringify(meta.body)).not.toContain(key.token);

      const sessions = await get('/auth/sessions').set('Authorization', auth).expect(200);
      expect((sessions.body as Array<{ id: string }>).map((s) => s.id)).toEqual([session.token.id]);

      await del('/auth/apiaccess').set('Authorization', auth).expect(204);
      expect401(
        await get('/feature/me').set('Authorization', `Bearer ${key.token}`),
        'token_invalid',
      );
      await get('/auth/apiaccess').set('Authorization', auth).expect(404);
      await del('/auth/apiaccess').set('Authorization', auth).expect(404);
      expect401(await post('/auth/apiaccess'), 'token_missing');
    });
  });

  if (kind === 'postgres') {
    describe('database outage', () => {
      it('503 with Retry-After while the database is cut off, never 401/500/200', async () => {
        const tokens = await h.tokens.generateHeaderToken(alice);
        const cookieTokens = await h.tokens.generateCookieToken(alice);
        await get('/feature/me').set('Authorization', header(tokens)).expect(200);

        h.proxy!.cutAll();
        try {
          expect503(await get('/feature/me').set('Authorization', header(tokens)));
          expect503(await get('/feature/me').set('Cookie', cookie(cookieTokens)));
          const forged = new TokenFormat('durin').generate('access');
          expect503(await get('/feature/me').set('Authorization', `Bearer ${forged}`));
          expect503(await post('/auth/refresh').send({ refreshToken: tokens.refreshToken }));
          expect503(await get('/auth/sessions').set('Authorization', header(tokens)));
          // Malformed input never needed the database: still a plain 401.
          expect401(await get('/feature/me').set('Authorization', 'Bearer a b'), 'token_invalid');
        } finally {
          h.proxy!.restore();
        }

        // The pool reconnects on its own; the token still works.
        let status = 0;
        for (let attempt = 0; attempt < 20 && status !== 200; attempt += 1) {
          status = (await get('/feature/me').set('Authorization', header(tokens))).status;
          if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
        }
        expect(status).toBe(200);
      });
    });
  }
});

describe.each<AdapterKind>(['express', 'fastify'])(
  'AuthGuard as APP_GUARD over %s (DurinModule imported, not global; cache on)',
  (adapter) => {
    let h: Harness;
    let user: E2eUser;

    @Module({
      controllers: [GlobalController],
    })
    class GlobalFeatureModule {}

    beforeAll(async () => {
      h = await createHarness(adapter, 'sqlite', (typeorm) => ({
        imports: [
          typeorm,
          DurinModule.forRoot({
            userEntity: E2eUser,
            routes: { path: 'session' },
            ...DURIN_OPTIONS,
          }),
          GlobalFeatureModule,
        ],
        global: true,
      }));
      user = await h.dataSource.getRepository(E2eUser).save({ username: 'gina' });
    });

    afterAll(() => closeHarness(h));

    it('guards every route unless @Public()', async () => {
      expect401(await request(h.http).get('/global/closed'), 'token_missing');
      await request(h.http).get('/global/open').expect(200, { open: true });
      const tokens = await h.tokens.generateHeaderToken(user);
      await request(h.http)
        .get('/global/closed')
        .set('Authorization', `Bearer ${tokens.accessToken}`)
        .expect(200, { userId: user.id });
    });

    it('mounts the routes under the configured path; refresh stays public', async () => {
      const tokens = await h.tokens.generateHeaderToken(user);
      await request(h.http)
        .post('/session/refresh')
        .send({ refreshToken: tokens.refreshToken })
        .expect(200);
    });

    it('authenticates once per request although the global and the route guard both apply', async () => {
      const tokens = await h.tokens.generateHeaderToken(user);
      const before = h.counter.lookups;
      await request(h.http)
        .get('/session/sessions')
        .set('Authorization', `Bearer ${tokens.accessToken}`)
        .expect(200);
      expect(h.counter.lookups - before).toBeLessThanOrEqual(1);
    });

    it('logout takes effect at once despite the token cache', async () => {
      const tokens = await h.tokens.generateHeaderToken(user);
      const auth = `Bearer ${tokens.accessToken}`;
      await request(h.http).get('/global/closed').set('Authorization', auth).expect(200);
      await request(h.http).get('/global/closed').set('Authorization', auth).expect(200);
      await request(h.http).post('/session/logout').set('Authorization', auth).expect(204);
      expect401(
        await request(h.http).get('/global/closed').set('Authorization', auth),
        'token_invalid',
      );
    });
  },
);
