import {
  CallHandler,
  CanActivate,
  ExecutionContext,
  INestApplication,
  Injectable,
  type ModuleMetadata,
  NestInterceptor,
  VersioningType,
} from '@nestjs/common';
import { RouterModule } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { Column, DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { Observable } from 'rxjs';
import {
  DURIN_RESOLVED_OPTIONS,
  DurinModule,
  type DurinModuleRootOptions,
  type DurinRequest,
  DurinRoutesModule,
  type ResolvedDurinOptions,
  TokenService,
} from '../../lib';
import { createTestDatabase, type TestDatabase } from '../support/databases';
import {
  HTTP_ADAPTER_KINDS,
  type HttpAdapterKind,
  startHttpApp,
  syncedTypeOrm,
} from '../support/http-app';

/**
 * The ready-made routes mounted as a module (RouterModule, URI versioning, the app's own guards
 * and interceptors) answer exactly like the `routes: { path }` shorthand, which stays as it was.
 */

@Entity('routes_module_user')
class RoutesUser {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'boolean', default: true })
  isActive!: boolean;
}

/** Records the user it saw: the app's guards must run after durin's. */
@Injectable()
class SeesUserGuard implements CanActivate {
  static seen: unknown[] = [];
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<DurinRequest<RoutesUser>>();
    SeesUserGuard.seen.push(request.user?.id);
    return request.headers?.['x-deny'] === undefined;
  }
}

@Injectable()
class MarkInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const response = context.switchToHttp().getResponse<{ header(n: string, v: string): void }>();
    // Express and Fastify both have `header(name, value)`.
    response.header('x-mounted', 'yes');
    return next.handle();
  }
}

interface Mounting {
  name: string;
  durin: Partial<DurinModuleRootOptions>;
  imports: ModuleMetadata['imports'];
  uriVersioning?: boolean;
  /** Where the routes end up. */
  base: string;
  refreshPath: string;
}

const MOUNTINGS: Mounting[] = [
  {
    name: 'the shorthand routes: { path }',
    durin: { routes: { path: 'auth' } },
    imports: [],
    base: '/auth',
    refreshPath: '/auth/refresh',
  },
  {
    name: 'DurinRoutesModule under RouterModule',
    durin: { isGlobal: true, cookie: { refreshPath: '/api/auth/refresh' } },
    imports: [
      DurinRoutesModule.register({ path: 'auth' }),
      RouterModule.register([{ path: 'api', module: DurinRoutesModule }]),
    ],
    base: '/api/auth',
    refreshPath: '/api/auth/refresh',
  },
  {
    name: 'DurinRoutesModule with URI versioning, guards and interceptors',
    durin: { isGlobal: true, cookie: { refreshPath: '/v1/session/refresh' } },
    imports: [
      DurinRoutesModule.register({
        path: 'session',
        version: '1',
        guards: [SeesUserGuard],
        interceptors: [MarkInterceptor],
      }),
    ],
    uriVersioning: true,
    base: '/v1/session',
    refreshPath: '/v1/session/refresh',
  },
];

const CASES = HTTP_ADAPTER_KINDS.flatMap((adapter) =>
  MOUNTINGS.map((mounting): [HttpAdapterKind, string, Mounting] => [
    adapter,
    mounting.name,
    mounting,
  ]),
);

describe.each(CASES)('ready-made routes on %s, %s', (adapter, _name, mounting) => {
  let app: INestApplication;
  let db: TestDatabase;
  let tokens: TokenService;
  let user: RoutesUser;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    const moduleRef = await Test.createTestingModule({
      imports: [
        syncedTypeOrm(db, [RoutesUser]),
        DurinModule.forRoot({ userEntity: RoutesUser, ...mounting.durin }),
        ...(mounting.imports ?? []),
      ],
    }).compile();
    app = await startHttpApp(moduleRef, adapter, {
      configure: (created) => {
        if (mounting.uriVersioning === true) created.enableVersioning({ type: VersioningType.URI });
      },
    });
    tokens = app.get(TokenService);
    const users = app.get(DataSource).getRepository(RoutesUser);
    user = await users.save(users.create({}));
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const server = () => app.getHttpServer() as Parameters<typeof request>[0];

  it('rotates a refresh token at <base>/refresh', async () => {
    const pair = await tokens.generateHeaderToken(user);
    const res = await request(server())
      .post(`${mounting.base}/refresh`)
      .send({ refreshToken: pair.refreshToken });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(
      expect.objectContaining({ accessToken: expect.stringMatching(/^durin_at_/) }),
    );
  });

  it('protects <base>/sessions with the durin guard and lists the user’s sessions', async () => {
    const pair = await tokens.generateHeaderToken(user);
    const refused = await request(server()).get(`${mounting.base}/sessions`);
    expect({ status: refused.status, code: (refused.body as { code?: string }).code }).toEqual({
      status: 401,
      code: 'token_missing',
    });
    const listed = await request(server())
      .get(`${mounting.base}/sessions`)
      .set('Authorization', `Token ${pair.accessToken}`);
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: pair.token.id, isCurrent: true })]),
    );
  });

  it('answers an unparseable body with 400 invalid_request', async () => {
    const res = await request(server())
      .post(`${mounting.base}/refresh`)
      .set('Content-Type', 'application/json')
      .send('{"refreshToken":');
    expect({ status: res.status, body: res.body as unknown }).toEqual({
      status: 400,
      body: {
        statusCode: 400,
        error: 'Bad Request',
        message: 'The request body is not valid JSON.',
        code: 'invalid_request',
      },
    });
  });

  it('scopes the refresh cookie to the refresh route', () => {
    const options = app.get<ResolvedDurinOptions>(DURIN_RESOLVED_OPTIONS);
    expect(options.cookie.refreshPath).toBe(mounting.refreshPath);
  });

  it('serves the routes only where they are mounted', async () => {
    const res = await request(server()).post('/auth/refresh').send({ refreshToken: 'x' });
    // A refresh token that does not exist is a 401 where the route is; elsewhere nothing answers.
    expect(res.status).toBe(mounting.base === '/auth' ? 401 : 404);
  });
});

describe.each(HTTP_ADAPTER_KINDS)('DurinRoutesModule guards and interceptors on %s', (adapter) => {
  let app: INestApplication;
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    const moduleRef = await Test.createTestingModule({
      imports: [
        syncedTypeOrm(db, [RoutesUser]),
        DurinModule.forRoot({ userEntity: RoutesUser, isGlobal: true }),
        DurinRoutesModule.register({
          path: 'auth',
          guards: [SeesUserGuard],
          interceptors: [MarkInterceptor],
        }),
      ],
    }).compile();
    app = await startHttpApp(moduleRef, adapter);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('runs the app’s guard after durin’s (it sees the user) and its interceptor', async () => {
    const users = app.get(DataSource).getRepository(RoutesUser);
    const user = await users.save(users.create({}));
    const pair = await app.get(TokenService).generateHeaderToken(user);
    SeesUserGuard.seen = [];
    const ok = await request(app.getHttpServer())
      .get('/auth/sessions')
      .set('Authorization', `Token ${pair.accessToken}`);
    expect({ status: ok.status, mark: ok.headers['x-mounted'] }).toEqual({
      status: 200,
      mark: 'yes',
    });
    expect(SeesUserGuard.seen).toEqual([user.id]);

    const denied = await request(app.getHttpServer())
      .get('/auth/sessions')
      .set('Authorization', `Token ${pair.accessToken}`)
      .set('x-deny', '1');
    expect(denied.status).toBe(403);
  });
});
