import { Controller, Get, INestApplication, Post, UseGuards } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test, TestingModule } from '@nestjs/testing';
import { getDataSourceToken } from '@nestjs/typeorm';
import request from 'supertest';
import { DataSource } from 'typeorm';
import {
  AllowClients,
  AuthGuard,
  AuthToken,
  AuthTokenEntity,
  CurrentUser,
  DenyClients,
  Public,
  RequireAbilities,
  RequireAnyAbility,
  TokenContext,
} from '../../lib';
import { actingAs, actingAsAnonymous, type ActingAsGuard } from '../../lib/testing';
import { HTTP_ADAPTER_KINDS, startHttpApp } from '../support/http-app';

interface Member {
  id: number;
  name: string;
}

const ADA: Member = { id: 1, name: 'ada' };

/** A controller as an app writes it: the real guard, the library's decorators. */
@UseGuards(AuthGuard)
@Controller('orders')
class OrdersController {
  @Public()
  @Get('open')
  open() {
    return { open: true };
  }

  @Get()
  list(
    @CurrentUser() user: Member,
    @AuthToken() token: AuthTokenEntity,
    @TokenContext('device') device: string | undefined,
  ) {
    return {
      user: user.name,
      client: token.client?.name ?? null,
      canWrite: token.can('orders:write'),
      device: device ?? null,
    };
  }

  @RequireAbilities('orders:write')
  @Post()
  create() {
    return { created: true };
  }

  @RequireAnyAbility('orders:refund', 'orders:admin')
  @Post('refund')
  refund() {
    return { refunded: true };
  }

  @AllowClients('cli')
  @Get('export')
  export() {
    return { exported: true };
  }

  @DenyClients('kiosk')
  @Get('history')
  history() {
    return { history: [] };
  }
}

/** Behind a named instance's guard. */
@UseGuards(AuthGuard.for('admin'))
@Controller('admin')
class AdminController {
  @Get()
  me(@CurrentUser() user: Member) {
    return { admin: user.name };
  }
}

/** Under a global guard, as the sample app has it. */
@Controller('profile')
class ProfileController {
  @Get()
  me(@CurrentUser() user: Member) {
    return { user: user.name };
  }
}

function outcome(response: request.Response): unknown {
  return {
    status: response.status,
    code: (response.body as { code?: string }).code,
    challenge: response.headers['www-authenticate'],
  };
}

/** No database anywhere: nothing of TypeORM can be resolved from the testing module. */
function expectNoDatabase(moduleRef: TestingModule): void {
  expect(() => moduleRef.get(DataSource, { strict: false })).toThrow();
  expect(() => moduleRef.get(getDataSourceToken(), { strict: false })).toThrow();
}

/**
 * Controller tests "as" a user with `actingAs` (nestjs-durin/testing): `overrideGuard(AuthGuard)`
 * for `@UseGuards(AuthGuard)`, and the `useExisting` pattern for a global guard. No DurinModule,
 * no TypeORM: the stand-in attaches an in-memory token and still answers what the real guard
 * answers after authentication (`@Public`, client policies, abilities).
 */
describe.each(HTTP_ADAPTER_KINDS)('actingAs in controller tests over %s', (adapter) => {
  const apps: INestApplication[] = [];

  afterAll(async () => {
    for (const app of apps) await app.close();
  });

  async function ordersAs(guard: ActingAsGuard): Promise<request.Agent> {
    const moduleRef = await Test.createTestingModule({ controllers: [OrdersController] })
      .overrideGuard(AuthGuard)
      .useValue(guard)
      .compile();
    expectNoDatabase(moduleRef);
    const app = await startHttpApp(moduleRef, adapter);
    apps.push(app);
    return request.agent(app.getHttpServer());
  }

  it('authenticates as the user, with the token the handler reads', async () => {
    const guard = actingAs(ADA, {
      client: 'web',
      abilities: ['orders:read'],
      context: { device: 'ci' },
    });
    const http = await ordersAs(guard);
    const response = await http.get('/orders').expect(200);
    expect(response.body).toEqual({ user: 'ada', client: 'web', canWrite: false, device: 'ci' });
    expect(guard.token?.user).toBe(ADA);
  });

  it('answers missing abilities with the 403 and challenge of the real guard', async () => {
    const http = await ordersAs(actingAs(ADA, { abilities: ['orders:read'] }));
    expect(outcome(await http.post('/orders'))).toEqual({
      status: 403,
      code: 'insufficient_scope',
      challenge: 'Bearer realm="api", error="insufficient_scope", scope="orders:write"',
    });
    expect(outcome(await http.post('/orders/refund'))).toMatchObject({
      status: 403,
      code: 'insufficient_scope',
    });
    const admin = await ordersAs(actingAs(ADA, { abilities: ['orders:*'] }));
    await admin.post('/orders').expect(201, { created: true });
    await admin.post('/orders/refund').expect(201, { refunded: true });
  });

  it('applies @AllowClients and @DenyClients', async () => {
    const web = await ordersAs(actingAs(ADA, { client: 'web' }));
    expect(outcome(await web.get('/orders/export'))).toMatchObject({
      status: 403,
      code: 'client_forbidden',
    });
    await web.get('/orders/history').expect(200);
    const cli = await ordersAs(actingAs(ADA, { client: 'cli' }));
    await cli.get('/orders/export').expect(200, { exported: true });
    const kiosk = await ordersAs(actingAs(ADA, { client: 'kiosk' }));
    expect(outcome(await kiosk.get('/orders/history'))).toMatchObject({
      status: 403,
      code: 'client_forbidden',
    });
    // No client at all: refused where clients are listed, admitted where some are denied.
    const none = await ordersAs(actingAs(ADA));
    expect(outcome(await none.get('/orders/export'))).toMatchObject({ status: 403 });
    await none.get('/orders/history').expect(200);
  });

  it('answers an anonymous request 401 token_missing, except on @Public routes', async () => {
    const http = await ordersAs(actingAsAnonymous());
    expect(outcome(await http.get('/orders'))).toEqual({
      status: 401,
      code: 'token_missing',
      challenge: 'Bearer realm="api"',
    });
    await http.get('/orders/open').expect(200, { open: true });
  });

  it("replaces a named instance's guard", async () => {
    const moduleRef = await Test.createTestingModule({ controllers: [AdminController] })
      .overrideGuard(AuthGuard.for('admin'))
      .useValue(actingAs(ADA))
      .compile();
    expectNoDatabase(moduleRef);
    const app = await startHttpApp(moduleRef, adapter);
    apps.push(app);
    await request(app.getHttpServer()).get('/admin').expect(200, { admin: 'ada' });
  });

  it('replaces a global guard registered with useExisting', async () => {
    // overrideGuard cannot reach `{ provide: APP_GUARD, useClass: AuthGuard }` (Nest registers it
    // under a token of its own); an app that provides the class and points APP_GUARD at it can.
    const moduleRef = await Test.createTestingModule({
      controllers: [ProfileController],
      providers: [AuthGuard, { provide: APP_GUARD, useExisting: AuthGuard }],
    })
      .overrideProvider(AuthGuard)
      .useValue(actingAs(ADA))
      .compile();
    expectNoDatabase(moduleRef);
    const app = await startHttpApp(moduleRef, adapter);
    apps.push(app);
    await request(app.getHttpServer()).get('/profile').expect(200, { user: 'ada' });
  });
});
