import { Controller, Get, INestApplication, Post, UseGuards } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { getDataSourceToken, TypeOrmModule, type TypeOrmModuleOptions } from '@nestjs/typeorm';
import request from 'supertest';
import { Column, DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm';
import {
  AllowClients,
  AuthGuard,
  DenyClients,
  DurinAuthGuard,
  DurinModule,
  getTokenServiceToken,
  Public,
  TokenService,
} from '../../lib';
import { createTestDatabase, describeEachRow, type TestDatabase } from '../support/databases';
import { HTTP_ADAPTER_KINDS, type HttpAdapterKind, startHttpApp } from '../support/http-app';
import { QueryCounter } from '../support/query-counter';

/**
 * `@AllowClients()` / `@DenyClients()` over HTTP: checked by the durin guard after authentication,
 * with the client loaded with the token (no extra SQL), with route guards, a global guard (and
 * both at once), `@Public()` and a named instance's guard.
 */

@Entity('perm_user')
class PermUser {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'boolean', default: true })
  isActive!: boolean;
}

@Entity('perm_admin')
class PermAdmin {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'boolean', default: true })
  isActive!: boolean;
}

@UseGuards(AuthGuard)
@AllowClients('web', 'mobile')
@Controller('app')
class AppOnlyController {
  @Get()
  list(): { ok: true } {
    return { ok: true };
  }

  /** The handler's policy replaces the controller's. */
  @AllowClients('cli')
  @Get('export')
  export(): { ok: true } {
    return { ok: true };
  }

  @DenyClients('web')
  @Post('native')
  native(): { ok: true } {
    return { ok: true };
  }

  @Public()
  @Get('status')
  status(): { ok: true } {
    return { ok: true };
  }
}

@UseGuards(AuthGuard)
@DenyClients('cli')
@Controller('account')
class NoCliController {
  @Get()
  show(): { ok: true } {
    return { ok: true };
  }
}

@UseGuards(AuthGuard)
@Controller('plain')
class PlainController {
  @Get()
  show(): { ok: true } {
    return { ok: true };
  }
}

@UseGuards(DurinAuthGuard.for('admin'))
@AllowClients('ops')
@Controller('admin')
class AdminController {
  @Public()
  @Get('status')
  status(): { ok: true } {
    return { ok: true };
  }

  @Get()
  show(): { ok: true } {
    return { ok: true };
  }
}

const FORBIDDEN = {
  statusCode: 403,
  error: 'Forbidden',
  message: 'This client may not use this route.',
  code: 'client_forbidden',
};

type GuardSetup = 'route guards' | 'a global guard and route guards';
const SETUPS: GuardSetup[] = ['route guards', 'a global guard and route guards'];
const MATRIX = HTTP_ADAPTER_KINDS.flatMap((adapter) =>
  (['sqlite', 'postgres'] as const).flatMap((kind) =>
    SETUPS.map((setup): [HttpAdapterKind, 'sqlite' | 'postgres', GuardSetup] => [
      adapter,
      kind,
      setup,
    ]),
  ),
);

describeEachRow(MATRIX, 'client permissions over %s on %s with %s', (adapter, kind, setup) => {
  let app: INestApplication;
  let db: TestDatabase;
  const counter = new QueryCounter();
  /** `Bearer <token>` of one user per client; `none`: a token issued without a client. */
  const auth: Record<'web' | 'mobile' | 'cli' | 'none', string> = {
    web: '',
    mobile: '',
    cli: '',
    none: '',
  };
  const admin = { ops: '', web: '' };
  const http = () => request(app.getHttpServer());
  const routeGuardsOnly = setup === 'route guards';

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({
          ...db.options,
          entities: [PermUser],
          autoLoadEntities: true,
          synchronize: true,
          logger: counter,
        } as TypeOrmModuleOptions),
        TypeOrmModule.forRoot({
          name: 'admin',
          type: 'better-sqlite3',
          database: ':memory:',
          entities: [PermAdmin],
          autoLoadEntities: true,
          synchronize: true,
        }),
        // No cache: every request reaches the store, so the counts below show the check's cost.
        DurinModule.forRoot({ userEntity: PermUser, isGlobal: true, cache: false }),
        DurinModule.forRoot({
          name: 'admin',
          userEntity: PermAdmin,
          dataSource: 'admin',
          isGlobal: true,
        }),
      ],
      // A global guard of the default instance would refuse the admin instance's tokens (see the
      // README on named instances), so the admin routes are only mounted with route guards.
      controllers: [
        AppOnlyController,
        NoCliController,
        PlainController,
        ...(routeGuardsOnly ? [AdminController] : []),
      ],
      providers: routeGuardsOnly ? [] : [{ provide: APP_GUARD, useClass: AuthGuard }],
    }).compile();
    app = await startHttpApp(moduleRef, adapter);

    const tokens = app.get(TokenService);
    const member = await app.get<DataSource>(getDataSourceToken()).getRepository(PermUser).save({});
    for (const name of ['web', 'mobile', 'cli'] as const) {
      await tokens.createClient({ name });
      auth[name] =
        `Bearer ${(await tokens.generateHeaderToken(member, { client: name })).accessToken}`;
    }
    auth.none = `Bearer ${(await tokens.generateHeaderToken(member)).accessToken}`;

    const adminTokens = app.get<TokenService>(getTokenServiceToken('admin'));
    const operator = await app
      .get<DataSource>(getDataSourceToken('admin'))
      .getRepository(PermAdmin)
      .save({});
    for (const name of ['ops', 'web'] as const) {
      await adminTokens.createClient({ name });
      admin[name] =
        `Bearer ${(await adminTokens.generateHeaderToken(operator, { client: name })).accessToken}`;
    }
    // The first use of a token writes lastUsedAt; after this, a request costs the lookup alone.
    for (const header of Object.values(auth)) {
      await http().get('/plain').set('Authorization', header).expect(200);
    }
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('@AllowClients on a controller admits its clients and refuses the others with 403', async () => {
    await http().get('/app').set('Authorization', auth.web).expect(200, { ok: true });
    await http().get('/app').set('Authorization', auth.mobile).expect(200, { ok: true });
    await http().get('/app').set('Authorization', auth.cli).expect(403, FORBIDDEN);
    // A token without a client is no allowed client either.
    await http().get('/app').set('Authorization', auth.none).expect(403, FORBIDDEN);
  });

  it('authentication comes first: no token is 401, a bad one 401, never 403', async () => {
    const missing = await http().get('/app').expect(401);
    expect(missing.body).toMatchObject({ code: 'token_missing' });
    const invalid = await http()
      .get('/app')
      .set('Authorization', 'Bearer durin_at_nope')
      .expect(401);
    expect(invalid.body).toMatchObject({ code: 'token_invalid' });
  });

  it("a handler's decorator replaces the controller's", async () => {
    await http().get('/app/export').set('Authorization', auth.cli).expect(200);
    await http().get('/app/export').set('Authorization', auth.web).expect(403, FORBIDDEN);
    await http().post('/app/native').set('Authorization', auth.web).expect(403, FORBIDDEN);
    await http().post('/app/native').set('Authorization', auth.mobile).expect(201);
    await http().post('/app/native').set('Authorization', auth.cli).expect(201);
    await http().post('/app/native').set('Authorization', auth.none).expect(201);
  });

  it('@DenyClients refuses its clients only; tokens without a client pass', async () => {
    await http().get('/account').set('Authorization', auth.cli).expect(403, FORBIDDEN);
    await http().get('/account').set('Authorization', auth.web).expect(200);
    await http().get('/account').set('Authorization', auth.none).expect(200);
  });

  it('@Public() routes are open, whatever the client', async () => {
    await http().get('/app/status').expect(200, { ok: true });
    await http().get('/app/status').set('Authorization', auth.cli).expect(200, { ok: true });
  });

  it('costs no SQL: the same statements as an undecorated route, admitted or refused', async () => {
    const statementsOf = async (path: string, header: string, status: number) => {
      counter.reset();
      await http().get(path).set('Authorization', header).expect(status);
      return [...counter.statements];
    };
    const plain = await statementsOf('/plain', auth.web, 200);
    // One lookup, also when a global guard and the route's guard both apply.
    expect(plain).toHaveLength(1);
    expect(await statementsOf('/app', auth.web, 200)).toEqual(plain);
    expect(await statementsOf('/app', auth.cli, 403)).toEqual(plain);
    expect(await statementsOf('/account', auth.none, 200)).toEqual(plain);
  });

  if (routeGuardsOnly) {
    it("applies under a named instance's guard, to that instance's clients", async () => {
      // Twice: this instance caches tokens, so the second answer comes from a cache hit.
      for (let round = 0; round < 2; round++) {
        await http().get('/admin').set('Authorization', admin.ops).expect(200);
        await http().get('/admin').set('Authorization', admin.web).expect(403, FORBIDDEN);
      }
      // The default instance's token means nothing to the admin guard: 401, not 403.
      await http().get('/admin').set('Authorization', auth.web).expect(401);
      await http().get('/admin/status').expect(200);
    });
  }
});
