import {
  Controller,
  Get,
  INestApplication,
  Injectable,
  Module,
  ValidationPipe,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { getDataSourceToken, InjectRepository, TypeOrmModule } from '@nestjs/typeorm';
import { compare, hashSync } from 'bcryptjs';
import request from 'supertest';
import { Column, DataSource, Entity, PrimaryGeneratedColumn, type Repository } from 'typeorm';
import {
  AuthGuard,
  AuthToken,
  AuthTokenEntity,
  CurrentUser,
  DurinConfigurationError,
  type DurinLoginCredentials,
  DurinModule,
  DurinRoutesModule,
  type DurinUserValidator,
  getTokenServiceToken,
  TokenService,
} from '../../lib';
import { createTestDatabase, describeEachRow, type TestDatabase } from '../support/databases';
import {
  HTTP_ADAPTER_KINDS,
  type HttpAdapterKind,
  startHttpApp,
  syncedTypeOrm,
} from '../support/http-app';

/**
 * The optional `POST <path>/login` route: its answers (durin's LoginView), a validator provider
 * that injects a repository and a plain `validateUser` function, the cookie variant and its login
 * CSRF defence, and `oneTokenPerClient` under concurrent logins.
 */

@Entity('login_user')
class LoginUser {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: 64, unique: true })
  username!: string;

  @Column({ type: 'varchar', length: 72 })
  passwordHash!: string;

  @Column({ type: 'boolean', default: true })
  isActive!: boolean;
}

/** Low cost for the tests; an app uses its own rounds (10 or more). */
const ROUNDS = 4;
const PASSWORD = 'correct horse battery staple';
/** Compared against when the user does not exist, so both failures cost one bcrypt compare. */
const DUMMY_HASH = hashSync('dummy password, never matches', ROUNDS);

/** How many compares ran: the unknown-user path must pay for one too. */
let compares = 0;

async function checkPassword(user: LoginUser | null, password: string): Promise<boolean> {
  compares++;
  const ok = await compare(password, user?.passwordHash ?? DUMMY_HASH);
  return ok && user !== null;
}

/** The provider form: it injects the app's repository. */
@Injectable()
class UserValidator implements DurinUserValidator<LoginUser> {
  constructor(@InjectRepository(LoginUser) private readonly users: Repository<LoginUser>) {}

  async validateUser({ username, password }: DurinLoginCredentials): Promise<LoginUser | null> {
    const user = await this.users.findOneBy({ username });
    return (await checkPassword(user, password)) ? user : null;
  }
}

/** The function form, for the cookie login below. */
let usersForFunction: Repository<LoginUser>;
async function validateUser({
  username,
  password,
}: DurinLoginCredentials): Promise<LoginUser | null> {
  const user = await usersForFunction.findOneBy({ username });
  return (await checkPassword(user, password)) ? user : null;
}

@Controller('me')
class MeController {
  @Get()
  me(@CurrentUser() user: LoginUser, @AuthToken() token: AuthTokenEntity) {
    return {
      username: user.username,
      client: token.client?.name ?? null,
      context: token.contextObj,
      authType: token.authType,
    };
  }
}

/** The app's own module that registers the validator provider, as an app would. */
@Module({
  imports: [TypeOrmModule.forFeature([LoginUser])],
  providers: [UserValidator],
  exports: [UserValidator],
})
class UsersModule {}

const INVALID_CREDENTIALS = {
  statusCode: 400,
  error: 'Bad Request',
  message: 'Unable to log in with the provided credentials.',
  code: 'invalid_credentials',
};

const MATRIX = HTTP_ADAPTER_KINDS.flatMap((adapter) =>
  (['sqlite', 'postgres'] as const).map((kind): [HttpAdapterKind, 'sqlite' | 'postgres'] => [
    adapter,
    kind,
  ]),
);

describeEachRow(MATRIX, 'login route over %s on %s', (adapter, kind) => {
  let app: INestApplication;
  let db: TestDatabase;
  let tokens: TokenService;
  let users: Repository<LoginUser>;
  let userCount = 0;
  const http = () => request(app.getHttpServer());

  async function createUser(fields: Partial<LoginUser> = {}): Promise<LoginUser> {
    return users.save({
      username: `user${++userCount}`,
      passwordHash: hashSync(PASSWORD, ROUNDS),
      ...fields,
    });
  }

  const tokenRows = () =>
    app.get<DataSource>(getDataSourceToken()).getRepository(AuthTokenEntity).count();

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    const moduleRef = await Test.createTestingModule({
      imports: [
        syncedTypeOrm(db, [LoginUser]),
        UsersModule,
        DurinModule.forRoot({
          userEntity: LoginUser,
          isGlobal: true,
          oneTokenPerClient: true,
          routes: { path: 'auth', login: { validator: UserValidator } },
        }),
        DurinRoutesModule.register({ path: 'web', login: { validateUser, cookie: true } }),
      ],
      controllers: [MeController],
      // A global guard: the login route is public.
      providers: [{ provide: APP_GUARD, useClass: AuthGuard }],
    }).compile();
    app = await startHttpApp(moduleRef, adapter);
    tokens = app.get(TokenService);
    users = app.get<DataSource>(getDataSourceToken()).getRepository(LoginUser);
    usersForFunction = users;
    await tokens.createClient({ name: 'web' });
    await tokens.createClient({ name: 'mobile' });
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  describe('header login (a validator provider)', () => {
    it('200 with the token pair and its expiries; the token works for that client', async () => {
      const user = await createUser();
      const response = await http()
        .post('/auth/login')
        .send({
          username: user.username,
          password: PASSWORD,
          client: 'mobile',
          context: { device: 'iPhone', build: 42 },
        })
        .expect(200);
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.headers['set-cookie']).toBeUndefined();
      const body = response.body as Record<string, string>;
      expect(Object.keys(body).sort()).toEqual([
        'accessToken',
        'accessTokenExpiresAt',
        'refreshToken',
        'refreshTokenExpiresAt',
        'tokenType',
      ]);
      expect(body.tokenType).toBe('Bearer');
      expect(Date.parse(body.accessTokenExpiresAt)).toBeGreaterThan(Date.now());
      expect(Date.parse(body.refreshTokenExpiresAt)).toBeGreaterThan(
        Date.parse(body.accessTokenExpiresAt),
      );
      const me = await http()
        .get('/me')
        .set('Authorization', `Bearer ${body.accessToken}`)
        .expect(200);
      expect(me.body).toEqual({
        username: user.username,
        client: 'mobile',
        context: { device: 'iPhone', build: 42 },
        authType: 'header',
      });
      // The refresh token is a real one: the ready-made refresh route takes it.
      await http().post('/auth/refresh').send({ refreshToken: body.refreshToken }).expect(200);
    });

    it('400 client_missing without a client (absent, null or empty)', async () => {
      const user = await createUser();
      for (const client of [undefined, null, '']) {
        const response = await http()
          .post('/auth/login')
          .send({ username: user.username, password: PASSWORD, client })
          .expect(400);
        expect(response.body).toEqual({
          statusCode: 400,
          error: 'Bad Request',
          message: 'No client: send the name of the client to log in with.',
          code: 'client_missing',
        });
      }
    });

    it('400 unknown_client for a client that does not exist, before any password check', async () => {
      const user = await createUser();
      const before = compares;
      for (const client of ['tv', 'we\u0000b']) {
        const response = await http()
          .post('/auth/login')
          .send({ username: user.username, password: PASSWORD, client })
          .expect(400);
        expect(response.body).toEqual({
          statusCode: 400,
          error: 'Bad Request',
          message: 'Unknown client.',
          code: 'unknown_client',
        });
      }
      expect(compares).toBe(before);
    });

    it('400 invalid_credentials, one body for a wrong password, an unknown and an inactive user', async () => {
      const user = await createUser();
      const inactive = await createUser({ isActive: false });
      const rowsBefore = await tokenRows();
      const before = compares;
      const attempts = [
        { username: user.username, password: 'wrong password' },
        { username: 'nobody-by-this-name', password: PASSWORD },
        { username: inactive.username, password: PASSWORD },
      ];
      const answers = [];
      for (const attempt of attempts) {
        const response = await http()
          .post('/auth/login')
          .send({ ...attempt, client: 'web' })
          .expect(400);
        answers.push({ body: response.body as unknown, cache: response.headers['cache-control'] });
      }
      for (const answer of answers) {
        expect(answer).toEqual({ body: INVALID_CREDENTIALS, cache: 'no-store' });
      }
      // Each attempt paid for one password comparison, the unknown user included.
      expect(compares - before).toBe(3);
      expect(await tokenRows()).toBe(rowsBefore);
    });

    it.each([
      ['an array', [{ username: 'a' }]],
      ['a number as username', { username: 7, password: PASSWORD, client: 'web' }],
      ['no username', { password: PASSWORD, client: 'web' }],
      ['an object as password', { username: 'a', password: { $ne: '' }, client: 'web' }],
      ['an empty password', { username: 'a', password: '', client: 'web' }],
      ['a username of 257 characters', { username: 'u'.repeat(257), password: 'p', client: 'web' }],
      ['a NUL in the username', { username: 'a\u0000', password: 'p', client: 'web' }],
      [
        'a password of 1025 characters',
        { username: 'a', password: 'p'.repeat(1025), client: 'web' },
      ],
      ['a client of 65 characters', { username: 'a', password: 'p', client: 'c'.repeat(65) }],
      ['a number as client', { username: 'a', password: 'p', client: 1 }],
      ['an unknown field', { username: 'a', password: 'p', client: 'web', remember: true }],
      ['a context that is a list', { username: 'a', password: 'p', client: 'web', context: [] }],
      [
        'a nested context',
        { username: 'a', password: 'p', client: 'web', context: { device: { os: 'x' } } },
      ],
      [
        'a context of 17 keys',
        {
          username: 'a',
          password: 'p',
          client: 'web',
          context: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, i])),
        },
      ],
      [
        'a context value of 257 characters',
        { username: 'a', password: 'p', client: 'web', context: { device: 'd'.repeat(257) } },
      ],
    ])('400 invalid_request for %s, with nothing checked or written', async (_what, body) => {
      const before = compares;
      const rowsBefore = await tokenRows();
      const response = await http()
        .post('/auth/login')
        .send(body as object)
        .expect(400);
      expect(response.body).toMatchObject({
        statusCode: 400,
        error: 'Bad Request',
        code: 'invalid_request',
      });
      expect(JSON.stringify(response.body)).not.toContain('uuuuuuuu');
      expect(compares).toBe(before);
      expect(await tokenRows()).toBe(rowsBefore);
    });

    it('400 invalid_request for a body that is not JSON', async () => {
      const response = await http()
        .post('/auth/login')
        .set('Content-Type', 'application/json')
        .send('{"username":')
        .expect(400);
      expect(response.body).toMatchObject({ statusCode: 400, code: 'invalid_request' });
    });

    it('oneTokenPerClient: concurrent logins of one user and client leave one live token', async () => {
      const user = await createUser();
      const other = await tokens.generateHeaderToken(user, { client: 'mobile' });
      const responses = await Promise.all(
        Array.from({ length: 6 }, () =>
          http()
            .post('/auth/login')
            .send({ username: user.username, password: PASSWORD, client: 'web' }),
        ),
      );
      expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200, 200, 200]);
      const sessions = await tokens.listUserTokens(user);
      expect(sessions.map((session) => session.client).sort()).toEqual(['mobile', 'web']);
      let working = 0;
      for (const response of responses) {
        const { accessToken } = response.body as { accessToken: string };
        if ((await tokens.verifyToken(accessToken)) !== null) working++;
      }
      expect(working).toBe(1);
      expect(await tokens.verifyToken(other.accessToken)).not.toBeNull();
    });
  });

  describe('cookie login (a validateUser function)', () => {
    function cookiesOf(response: request.Response): Record<string, string> {
      const header = response.headers['set-cookie'] as unknown as string[] | undefined;
      return Object.fromEntries(
        (header ?? []).map((line) => {
          const [pair] = line.split(';');
          const at = pair.indexOf('=');
          return [pair.slice(0, at), line];
        }),
      );
    }

    it('sets the cookies as setAuthCookie does; the body has no token, only expiries and csrfToken', async () => {
      const user = await createUser();
      const response = await http()
        .post('/web/login')
        .send({ username: user.username, password: PASSWORD, client: 'web' })
        .expect(200);
      expect(response.headers['cache-control']).toBe('no-store');
      const body = response.body as Record<string, string>;
      expect(Object.keys(body).sort()).toEqual([
        'accessTokenExpiresAt',
        'csrfToken',
        'refreshTokenExpiresAt',
      ]);
      const cookies = cookiesOf(response);
      expect(Object.keys(cookies).sort()).toEqual([
        '__Host-csrf',
        '__Host-token',
        '__Secure-refresh',
      ]);
      expect(cookies['__Host-token']).toMatch(/HttpOnly/i);
      expect(cookies['__Host-token']).toMatch(/Secure/i);
      expect(cookies['__Secure-refresh']).toMatch(/Path=\/auth\/refresh/);
      expect(cookies['__Host-csrf']).toContain(`__Host-csrf=${body.csrfToken}`);
      const accessToken = cookies['__Host-token'].split(';')[0].slice('__Host-token='.length);
      expect(JSON.stringify(body)).not.toContain(accessToken);

      const me = await http().get('/me').set('Cookie', `__Host-token=${accessToken}`).expect(200);
      expect(me.body).toMatchObject({ username: user.username, client: 'web', authType: 'cookie' });
      // A cookie token, not a header one (enableAuthRestriction).
      await http().get('/me').set('Authorization', `Bearer ${accessToken}`).expect(401);
    });

    it.each([
      ['a foreign Origin', { Origin: 'https://evil.example' }],
      ['Origin: null', { Origin: 'null' }],
      ['Sec-Fetch-Site: cross-site', { 'Sec-Fetch-Site': 'cross-site' }],
    ])(
      'refuses a cross-site login (%s) with 403 csrf_failed, before anything',
      async (_w, headers) => {
        const user = await createUser();
        const before = compares;
        const rowsBefore = await tokenRows();
        const response = await http()
          .post('/web/login')
          .set(headers)
          .send({ username: user.username, password: PASSWORD, client: 'web' })
          .expect(403);
        expect(response.body).toMatchObject({ statusCode: 403, code: 'csrf_failed' });
        expect(response.headers['set-cookie']).toBeUndefined();
        expect(compares).toBe(before);
        expect(await tokenRows()).toBe(rowsBefore);
      },
    );

    it('the same answers as the header login for bad credentials', async () => {
      const user = await createUser();
      const wrong = await http()
        .post('/web/login')
        .send({ username: user.username, password: 'nope', client: 'web' })
        .expect(400);
      const unknown = await http()
        .post('/web/login')
        .send({ username: 'nobody-at-all', password: 'nope', client: 'web' })
        .expect(400);
      expect(wrong.body).toEqual(INVALID_CREDENTIALS);
      expect(unknown.body).toEqual(wrong.body);
      expect(wrong.headers['set-cookie']).toBeUndefined();
    });
  });
});

describe('login route options', () => {
  const never = (): null => null;
  it.each<[string, object]>([
    ['neither validateUser nor validator', {}],
    ['both', { validateUser: never, validator: UserValidator }],
    ['a validateUser that is no function', { validateUser: 'yes' }],
    ['a cookie that is no boolean', { validateUser: never, cookie: 'true' }],
  ])('refuses %s when the module is declared', (_what, login) => {
    expect(() =>
      DurinModule.forRoot({
        userEntity: LoginUser,
        routes: { path: 'auth', login: login as never },
      }),
    ).toThrow(DurinConfigurationError);
    expect(() => DurinRoutesModule.register({ path: 'auth', login: login as never })).toThrow(
      DurinConfigurationError,
    );
  });

  it("a named instance's cookie login checks that instance's allowed origins", async () => {
    const db = await createTestDatabase('sqlite');
    const moduleRef = await Test.createTestingModule({
      imports: [
        syncedTypeOrm(db, [LoginUser]),
        DurinModule.forRoot({
          name: 'admin',
          userEntity: LoginUser,
          isGlobal: true,
          csrf: { allowedOrigins: ['https://admin.example'] },
        }),
        DurinRoutesModule.register({
          path: 'admin',
          name: 'admin',
          login: { validateUser, cookie: true },
        }),
      ],
    }).compile();
    const app = await startHttpApp(moduleRef, 'express');
    try {
      const adminTokens = app.get<TokenService>(getTokenServiceToken('admin'));
      await adminTokens.createClient({ name: 'web' });
      usersForFunction = app.get<DataSource>(getDataSourceToken()).getRepository(LoginUser);
      const admin = await usersForFunction.save({
        username: 'root',
        passwordHash: hashSync(PASSWORD, ROUNDS),
      });
      const body = { username: admin.username, password: PASSWORD, client: 'web' };
      const login = (origin: string) =>
        request(app.getHttpServer()).post('/admin/login').set('Origin', origin).send(body);
      const refused = await login('https://evil.example').expect(403);
      expect(refused.body).toMatchObject({ code: 'csrf_failed' });
      const accepted = await login('https://admin.example').expect(200);
      expect(accepted.body).toHaveProperty('csrfToken');
      expect((await adminTokens.listUserTokens(admin)).map((s) => s.client)).toEqual(['web']);
    } finally {
      await app.close();
    }
  });

  it.each(HTTP_ADAPTER_KINDS)(
    'on %s: a global ValidationPipe changes nothing; a store outage is a 503',
    async (adapter) => {
      const db = await createTestDatabase('sqlite');
      const moduleRef = await Test.createTestingModule({
        imports: [
          syncedTypeOrm(db, [LoginUser]),
          DurinModule.forRoot({
            userEntity: LoginUser,
            routes: { path: 'auth', login: { validateUser } },
          }),
        ],
      }).compile();
      const app = await startHttpApp(moduleRef, adapter, {
        configure: (created) =>
          created.useGlobalPipes(
            new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }),
          ),
      });
      try {
        await app.get(TokenService).createClient({ name: 'web' });
        const dataSource = app.get<DataSource>(getDataSourceToken());
        usersForFunction = dataSource.getRepository(LoginUser);
        await usersForFunction.save({ username: 'ada', passwordHash: hashSync(PASSWORD, ROUNDS) });
        const login = (body: object) => request(app.getHttpServer()).post('/auth/login').send(body);
        await login({ username: 'ada', password: PASSWORD, client: 'web' }).expect(200);
        const coerced = await login({ username: 7, password: PASSWORD, client: 'web' }).expect(400);
        expect(coerced.body).toMatchObject({ code: 'invalid_request' });

        await dataSource.destroy();
        const down = await login({ username: 'ada', password: PASSWORD, client: 'web' }).expect(
          503,
        );
        expect(down.body).toEqual({
          statusCode: 503,
          error: 'Service Unavailable',
          message: 'Authentication is temporarily unavailable. Please retry later.',
          code: 'auth_unavailable',
        });
        expect(down.headers['retry-after']).toBe('5');
        expect(down.headers['cache-control']).toBe('no-store');
      } finally {
        await app.close();
      }
    },
  );

  it('refuses to boot when the validator provider is not registered', async () => {
    const db = await createTestDatabase('sqlite');
    const moduleRef = await Test.createTestingModule({
      imports: [
        syncedTypeOrm(db, [LoginUser]),
        DurinModule.forRoot({
          userEntity: LoginUser,
          routes: { path: 'auth', login: { validator: UserValidator } },
        }),
      ],
    }).compile();
    await expect(startHttpApp(moduleRef, 'express')).rejects.toThrow(
      /routes\.login\.validator.*UserValidator is not a provider/,
    );
    await moduleRef.close();
  });
});
