import { Controller, Get, HttpCode, INestApplication, Post, UseGuards } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import request from 'supertest';
import { DataSource } from 'typeorm';
import {
  AuthGuard,
  AuthToken,
  AuthTokenEntity,
  CurrentUser,
  DurinModule,
  RequireAbilities,
  TokenService,
} from '../../lib';
import { issueTestToken } from '../../lib/testing';
import { typeOrmOptions } from '../integration/support/durin-test-app';
import { User } from '../integration/support/user.entity';
import {
  ALL_DB_KINDS,
  createTestDatabase,
  describeEachRow,
  type TestDatabase,
  type TestDbKind,
} from '../support/databases';
import { HTTP_ADAPTER_KINDS, type HttpAdapterKind, startHttpApp } from '../support/http-app';

const MATRIX: Array<[HttpAdapterKind, TestDbKind]> = HTTP_ADAPTER_KINDS.flatMap((adapter) =>
  ALL_DB_KINDS.map((kind): [HttpAdapterKind, TestDbKind] => [adapter, kind]),
);

@UseGuards(AuthGuard)
@Controller('orders')
class OrdersController {
  @RequireAbilities('orders:read')
  @Get()
  list(@CurrentUser() user: User, @AuthToken() token: AuthTokenEntity) {
    return {
      email: user.email,
      client: token.client?.name ?? null,
      authType: token.authType,
      context: token.contextObj,
    };
  }

  @RequireAbilities('orders:write')
  @Post()
  @HttpCode(201)
  create() {
    return { created: true };
  }
}

function code(response: request.Response): unknown {
  return { status: response.status, code: (response.body as { code?: string }).code };
}

/**
 * `issueTestToken` (nestjs-durin/testing) against a real app: the token it issues is stored and
 * looked up like any other, and its headers pass the guard as they are, CSRF included for a
 * cookie session.
 */
describeEachRow(MATRIX, 'issueTestToken over %s on %s', (adapter, kind) => {
  let db: TestDatabase;
  let app: INestApplication;
  let user: User;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot(typeOrmOptions(db)),
        DurinModule.forRoot({ userEntity: User }),
      ],
      controllers: [OrdersController],
    }).compile();
    app = await startHttpApp(moduleRef, adapter);
    await app.get(TokenService).createClient({ name: 'web' });
    const users = app.get(DataSource).getRepository(User);
    user = await users.save(users.create({ email: 'ada@example.com' }));
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('issues a header token whose Authorization header opens a protected route', async () => {
    const auth = await issueTestToken(app, user);
    expect(auth.headers).toEqual({ authorization: `Bearer ${auth.accessToken}` });
    expect(auth.authType).toBe('header');
    expect(auth.csrfToken).toBeUndefined();
    expect(auth.token.user).toBe(user);
    const response = await http().get('/orders').set(auth.headers).expect(200);
    expect(response.body).toEqual({
      email: 'ada@example.com',
      client: null,
      authType: 'header',
      context: {},
    });
  });

  it('passes client, abilities and context on to the stored token', async () => {
    const auth = await issueTestToken(app, user, {
      client: 'web',
      abilities: ['orders:read'],
      context: { device: 'ci' },
    });
    const response = await http().get('/orders').set(auth.headers).expect(200);
    expect(response.body).toMatchObject({ client: 'web', context: { device: 'ci' } });
    expect(code(await http().post('/orders').set(auth.headers))).toEqual({
      status: 403,
      code: 'insufficient_scope',
    });
  });

  it('issues a cookie session whose headers pass the CSRF defence of unsafe requests', async () => {
    const auth = await issueTestToken(app, user, { authType: 'cookie' });
    expect(auth.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(auth.headers).toEqual({
      cookie: `__Host-token=${auth.accessToken}; __Host-csrf=${auth.csrfToken}`,
      'x-csrf-token': auth.csrfToken,
    });
    await http().get('/orders').set(auth.headers).expect(200);
    await http().post('/orders').set(auth.headers).expect(201);
    // The cookies alone, as a cross-site form would send them: refused.
    expect(code(await http().post('/orders').set('cookie', auth.headers.cookie))).toEqual({
      status: 403,
      code: 'csrf_failed',
    });
    // A cookie session's token is not a header token (enableAuthRestriction).
    expect(
      code(await http().get('/orders').set('authorization', `Bearer ${auth.accessToken}`)),
    ).toEqual({ status: 401, code: 'token_invalid' });
  });

  it('issues a real token: revoking it locks the request out', async () => {
    const auth = await issueTestToken(app, user);
    await http().get('/orders').set(auth.headers).expect(200);
    await app.get(TokenService).revokeToken(auth.token);
    expect(code(await http().get('/orders').set(auth.headers))).toEqual({
      status: 401,
      code: 'token_invalid',
    });
  });
});

@UseGuards(AuthGuard.for('admin'))
@Controller('admin')
class AdminController {
  @Get()
  me(@CurrentUser() user: User) {
    return { email: user.email };
  }

  @Post()
  @HttpCode(201)
  change() {
    return { changed: true };
  }
}

/** A named instance with its own scheme, cookie and CSRF header: the helper follows its options. */
describe.each(HTTP_ADAPTER_KINDS)('issueTestToken for a named instance over %s', (adapter) => {
  let mainDb: TestDatabase;
  let adminDb: TestDatabase;
  let app: INestApplication;
  let admin: User;
  let member: User;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    mainDb = await createTestDatabase('sqlite');
    adminDb = await createTestDatabase('sqlite');
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot(typeOrmOptions(mainDb)),
        TypeOrmModule.forRoot({ ...typeOrmOptions(adminDb), name: 'admin' }),
        DurinModule.forRoot({ userEntity: User, isGlobal: true }),
        DurinModule.forRoot({
          name: 'admin',
          userEntity: User,
          dataSource: 'admin',
          isGlobal: true,
          authHeaderPrefixes: ['Token'],
          cookie: { name: 'admin' },
          csrf: { headerName: 'X-Admin-CSRF', cookieName: 'admin-csrf' },
        }),
      ],
      controllers: [AdminController],
    }).compile();
    app = await startHttpApp(moduleRef, adapter);
    const admins = app.get<DataSource>(getDataSourceToken('admin')).getRepository(User);
    admin = await admins.save(admins.create({ email: 'root@example.com' }));
    const members = app.get(DataSource).getRepository(User);
    member = await members.save(members.create({ email: 'mia@example.com' }));
  });

  afterAll(async () => {
    await app?.close();
    await mainDb?.drop();
    await adminDb?.drop();
  });

  it("uses the instance's header scheme, and its token opens that instance's guard only", async () => {
    const auth = await issueTestToken(app, admin, { name: 'admin' });
    expect(auth.headers).toEqual({ authorization: `Token ${auth.accessToken}` });
    await http().get('/admin').set(auth.headers).expect(200, { email: 'root@example.com' });
    // The default instance's token for the user with the same id: not the admin's.
    expect(member.id).toBe(admin.id);
    const other = await issueTestToken(app, member);
    expect(code(await http().get('/admin').set(other.headers))).toEqual({
      status: 401,
      code: 'token_invalid',
    });
  });

  it("uses the instance's cookie and CSRF header names", async () => {
    const auth = await issueTestToken(app, admin, { name: 'admin', authType: 'cookie' });
    expect(auth.headers).toEqual({
      cookie: `__Host-admin=${auth.accessToken}; __Host-admin-csrf=${auth.csrfToken}`,
      'x-admin-csrf': auth.csrfToken,
    });
    await http().post('/admin').set(auth.headers).expect(201, { changed: true });
  });
});
