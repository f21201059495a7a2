import { Body, Controller, Get, INestApplication, Post, UseGuards } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { getDataSourceToken, TypeOrmModule, type TypeOrmModuleOptions } from '@nestjs/typeorm';
import request from 'supertest';
import { Column, DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm';
import {
  AbstractAuthToken,
  AuthTokenEntity,
  CurrentUser,
  DurinAuthGuard,
  DurinModule,
  DurinRoutesModule,
  getTokenServiceToken,
  InjectTokenService,
  TokenService,
} from '../../lib';
import { createTestDatabase, type TestDatabase } from '../support/databases';
import { HTTP_ADAPTER_KINDS, startHttpApp } from '../support/http-app';

/**
 * Two DurinModule instances in one app: the default one for members (default data source, table
 * `members`) and `admin` with its own user entity and data source. Ids overlap on purpose (both
 * first users are id 1): a token must only ever mean something to the instance that issued it.
 */

@Entity('members')
class Member {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: 64 })
  nickname!: string;

  @Column({ type: 'boolean', default: true })
  isActive!: boolean;
}

@Entity('admins')
class Admin {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: 64 })
  login!: string;

  @Column({ type: 'boolean', default: true })
  isActive!: boolean;
}

@UseGuards(DurinAuthGuard)
@Controller('member')
class MemberController {
  @Get('me')
  me(@CurrentUser() member: Member): { nickname: string } {
    return { nickname: member.nickname };
  }
}

@Controller('admin')
class AdminController {
  constructor(
    @InjectTokenService('admin') private readonly adminTokens: TokenService<Admin>,
    private readonly memberTokens: TokenService<Member>,
  ) {}

  /** Login stays in the app; here it trusts the id, which is enough to issue the right tokens. */
  @Post('login')
  async login(@Body() body: { id: number }): Promise<{ accessToken: string }> {
    const set = await this.adminTokens.generateHeaderToken({ id: body.id });
    return { accessToken: set.accessToken };
  }

  @UseGuards(DurinAuthGuard.for('admin'))
  @Get('me')
  me(@CurrentUser() admin: Admin): { login: string } {
    return { login: admin.login };
  }

  /** Both instances' guards: each must check the request itself. */
  @UseGuards(DurinAuthGuard, DurinAuthGuard.for('admin'))
  @Get('both')
  both(): { ok: true } {
    return { ok: true };
  }

  /** The default service is still injected by its class, next to the named one. */
  @Get('services')
  services(): { distinct: boolean } {
    return { distinct: (this.adminTokens as object) !== this.memberTokens };
  }
}

function sqlite(db: TestDatabase, extra: Partial<TypeOrmModuleOptions>): TypeOrmModuleOptions {
  return {
    ...db.options,
    autoLoadEntities: true,
    synchronize: true,
    ...extra,
  } as TypeOrmModuleOptions;
}

describe.each(HTTP_ADAPTER_KINDS)('two DurinModule instances in one app on %s', (adapter) => {
  let app: INestApplication;
  let mainDb: TestDatabase;
  let adminDb: TestDatabase;
  let member: Member;
  let admin: Admin;

  beforeAll(async () => {
    mainDb = await createTestDatabase('sqlite');
    adminDb = await createTestDatabase('sqlite');
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot(sqlite(mainDb, { entities: [Member] })),
        TypeOrmModule.forRoot(sqlite(adminDb, { name: 'admin', entities: [Admin] })),
        DurinModule.forRoot({ userEntity: Member, isGlobal: true, routes: { path: 'auth' } }),
        DurinModule.forRoot({
          name: 'admin',
          userEntity: Admin,
          dataSource: 'admin',
          isGlobal: true,
          routes: { path: 'admin/auth' },
          cookie: { refreshPath: '/admin/auth/refresh' },
        }),
        // The same instance's routes once more, mounted as a module.
        DurinRoutesModule.register({ path: 'admin/mounted', name: 'admin' }),
      ],
      controllers: [MemberController, AdminController],
    }).compile();
    app = await startHttpApp(moduleRef, adapter);
    const members = app.get<DataSource>(getDataSourceToken()).getRepository(Member);
    const admins = app.get<DataSource>(getDataSourceToken('admin')).getRepository(Admin);
    member = await members.save(members.create({ nickname: 'mia' }));
    admin = await admins.save(admins.create({ login: 'root' }));
  });

  afterAll(async () => {
    await app?.close();
    await mainDb?.drop();
    await adminDb?.drop();
  });

  const get = (path: string, token: string) =>
    request(app.getHttpServer()).get(path).set('Authorization', `Token ${token}`);

  const memberToken = async () =>
    (await app.get(TokenService).generateHeaderToken(member)).accessToken;

  const adminToken = async () => {
    const res = await request(app.getHttpServer()).post('/admin/login').send({ id: admin.id });
    expect(res.status).toBe(201);
    return (res.body as { accessToken: string }).accessToken;
  };

  it('uses the same ids in both user tables (what makes the test meaningful)', () => {
    expect(admin.id).toBe(member.id);
  });

  it('injects two distinct services', async () => {
    const res = await request(app.getHttpServer()).get('/admin/services');
    expect(res.body).toEqual({ distinct: true });
    expect(app.get(getTokenServiceToken('admin'))).not.toBe(app.get(TokenService));
  });

  it('an admin token opens the admin guard only', async () => {
    const token = await adminToken();
    const ok = await get('/admin/me', token);
    expect({ status: ok.status, body: ok.body as unknown }).toEqual({
      status: 200,
      body: { login: 'root' },
    });
    const refused = await get('/member/me', token);
    expect({ status: refused.status, code: (refused.body as { code?: string }).code }).toEqual({
      status: 401,
      code: 'token_invalid',
    });
  });

  it('a member token opens the default guard only', async () => {
    const token = await memberToken();
    expect((await get('/member/me', token)).body).toEqual({ nickname: 'mia' });
    const refused = await get('/admin/me', token);
    expect({ status: refused.status, code: (refused.body as { code?: string }).code }).toEqual({
      status: 401,
      code: 'token_invalid',
    });
  });

  it('with both guards on a route, passing the first does not excuse the second', async () => {
    expect((await get('/admin/both', await memberToken())).status).toBe(401);
    expect((await get('/admin/both', await adminToken())).status).toBe(401);
  });

  it('each instance lists its own sessions through its own routes', async () => {
    const adminSet = await app
      .get<TokenService<Admin>>(getTokenServiceToken('admin'))
      .generateHeaderToken(admin);
    const memberSet = await app.get<TokenService<Member>>(TokenService).generateHeaderToken(member);

    const adminSessions = await get('/admin/auth/sessions', adminSet.accessToken);
    const memberSessions = await get('/auth/sessions', memberSet.accessToken);
    expect(adminSessions.status).toBe(200);
    expect(memberSessions.status).toBe(200);
    const ids = (res: request.Response) => (res.body as Array<{ id: string }>).map((s) => s.id);
    expect(ids(adminSessions)).toContain(adminSet.token.id);
    expect(ids(adminSessions)).not.toContain(memberSet.token.id);
    expect(ids(memberSessions)).toContain(memberSet.token.id);
    expect(ids(memberSessions)).not.toContain(adminSet.token.id);

    const mounted = await get('/admin/mounted/sessions', adminSet.accessToken);
    expect(mounted.status).toBe(200);
    expect(ids(mounted)).toEqual(ids(adminSessions));

    // And neither instance's routes accept the other's token.
    expect((await get('/admin/mounted/sessions', memberSet.accessToken)).status).toBe(401);
    expect((await get('/admin/auth/sessions', memberSet.accessToken)).status).toBe(401);
    expect((await get('/auth/sessions', adminSet.accessToken)).status).toBe(401);
  });

  it('stores each instance’s tokens in its own data source, tied to its own user entity', async () => {
    const adminService = app.get<TokenService<Admin>>(getTokenServiceToken('admin'));
    const set = await adminService.generateHeaderToken(admin);
    const verified = await adminService.verifyToken(set.accessToken);
    const owner: Admin | undefined = verified?.user;
    expect(owner).toBeInstanceOf(Admin);
    expect(owner?.login).toBe('root');

    const adminSource = app.get<DataSource>(getDataSourceToken('admin'));
    const mainSource = app.get<DataSource>(getDataSourceToken());
    const adminTokenMeta = adminSource.entityMetadatas.find((m) => m.tableName === 'auth_token');
    expect(adminTokenMeta?.findRelationWithPropertyPath('user')?.inverseEntityMetadata.target).toBe(
      Admin,
    );
    expect(mainSource.getMetadata(AuthTokenEntity).findRelationWithPropertyPath('user')?.type).toBe(
      Member,
    );
    expect(adminSource.hasMetadata(AuthTokenEntity)).toBe(false);
    const stored = await adminSource
      .createQueryBuilder()
      .select('COUNT(*)', 'count')
      .from('auth_token', 't')
      .where('t.id = :id', { id: set.token.id })
      .getRawOne<{ count: number }>();
    expect(Number(stored?.count)).toBe(1);
    expect(
      await mainSource.getRepository(AuthTokenEntity).findOneBy({ id: set.token.id }),
    ).toBeNull();
  });

  it('keeps AbstractAuthToken usable as the type of either instance’s tokens', async () => {
    const set = await app.get(TokenService).generateHeaderToken(member);
    const token: AbstractAuthToken = set.token;
    expect(token.id).toBe(set.token.id);
  });
});
