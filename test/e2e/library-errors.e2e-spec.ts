import { Body, Controller, INestApplication, Post } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { Column, DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { DurinModule, TokenService } from '../../lib';
import { createTestDatabase, type TestDatabase } from '../support/databases';
import { startHttpApp, syncedTypeOrm } from '../support/http-app';

/**
 * A real app's own code calls the TokenService and lets library errors escape, with no exception
 * handling of its own: each must reach the client as its documented status and code, never a 500.
 * And the ready-made routes answer bodies the platform cannot parse in the library's format.
 */

@Entity('errors_user')
class ErrorsUser {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: 64 })
  username!: string;

  @Column({ type: 'boolean', default: true })
  isActive!: boolean;
}

@Controller()
class AppLoginController {
  constructor(
    private readonly tokens: TokenService,
    private readonly dataSource: DataSource,
  ) {}

  @Post('login')
  async login(@Body() body: { user: number; client?: string; accessExpiresIn?: string }) {
    const user = await this.dataSource.getRepository(ErrorsUser).findOneByOrFail({ id: body.user });
    const set = await this.tokens.generateHeaderToken(user, {
      client: body.client,
      accessExpiresIn: body.accessExpiresIn,
    });
    return { accessToken: set.accessToken };
  }

  @Post('clients')
  async createClient(@Body() body: { name: string }) {
    const client = await this.tokens.createClient({ name: body.name });
    return { name: client.name };
  }
}

const ERROR_BODY = (statusCode: number, error: string, code: string) => ({
  statusCode,
  error,
  message: expect.stringMatching(/\w/),
  code,
});

describe.each(['express', 'fastify'] as const)('library errors over HTTP (%s)', (adapter) => {
  let app: INestApplication;
  let db: TestDatabase;
  let user: ErrorsUser;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    const moduleRef = await Test.createTestingModule({
      imports: [
        syncedTypeOrm(db, [ErrorsUser]),
        DurinModule.forRoot({
          userEntity: ErrorsUser,
          routes: { path: 'auth' },
          maxSessionsPerUser: 2,
          sessionLimitStrategy: 'refuse',
        }),
      ],
      controllers: [AppLoginController],
    }).compile();
    app = await startHttpApp(moduleRef, adapter);
    const users = app.get(DataSource).getRepository(ErrorsUser);
    user = await users.save(users.create({ username: 'alice' }));
    await app.get(TokenService).createClient({ name: 'web' });
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const http = () => request(app.getHttpServer());

  it('unknown client: 400 unknown_client, without echoing the name', async () => {
    const res = await http().post('/login').send({ user: user.id, client: '<b>nope</b>' });
    expect({ status: res.status, body: res.body as unknown }).toEqual({
      status: 400,
      body: ERROR_BODY(400, 'Bad Request', 'unknown_client'),
    });
    expect(res.text).not.toContain('nope');
  });

  it('bad token options: 400 invalid_token_options', async () => {
    const res = await http().post('/login').send({ user: user.id, accessExpiresIn: 'soon' });
    expect({ status: res.status, body: res.body as unknown }).toEqual({
      status: 400,
      body: ERROR_BODY(400, 'Bad Request', 'invalid_token_options'),
    });
  });

  it('a client name the database cannot hold: 400, not a driver error', async () => {
    const res = await http().post('/login').send({ user: user.id, client: 'web\u0000' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual(ERROR_BODY(400, 'Bad Request', 'invalid_token_options'));
  });

  it('duplicate client: 409 client_exists; invalid client: 400 invalid_client', async () => {
    const dup = await http().post('/clients').send({ name: 'web' });
    expect({ status: dup.status, body: dup.body as unknown }).toEqual({
      status: 409,
      body: ERROR_BODY(409, 'Conflict', 'client_exists'),
    });
    const bad = await http().post('/clients').send({ name: '' });
    expect(bad.body).toEqual(ERROR_BODY(400, 'Bad Request', 'invalid_client'));
  });

  it('session limit with refuse: 403 session_limit', async () => {
    const limited = await app.get(DataSource).getRepository(ErrorsUser).save({ username: 'bob' });
    for (let i = 0; i < 2; i++) {
      expect((await http().post('/login').send({ user: limited.id })).status).toBe(201);
    }
    const res = await http().post('/login').send({ user: limited.id });
    expect({ status: res.status, body: res.body as unknown }).toEqual({
      status: 403,
      body: ERROR_BODY(403, 'Forbidden', 'session_limit'),
    });
  });

  it.each<[string, string]>([
    ['truncated JSON', '{"refreshToken":'],
    ['null', 'null'],
    ['a bare string', '"durin_rt_x"'],
    ['a number', '42'],
    ['an empty body with a JSON content type', ''],
  ])('POST /auth/refresh with %s: 400 invalid_request, quoting nothing', async (_name, raw) => {
    const res = await http()
      .post('/auth/refresh')
      .set('content-type', 'application/json')
      .send(raw);
    expect({ status: res.status, body: res.body as unknown }).toEqual({
      status: 400,
      body: ERROR_BODY(400, 'Bad Request', 'invalid_request'),
    });
    expect(res.headers['cache-control']).toBe('no-store');
    if (raw.length > 0) expect(res.text).not.toContain(raw);
  });

  it('leaves parse errors of the app’s own routes to the app', async () => {
    const res = await http().post('/login').set('content-type', 'application/json').send('{"a":');
    expect(res.status).toBe(400);
    expect(res.body).not.toHaveProperty('code');
  });

  it('session data is never cached: GET sessions is no-store', async () => {
    const set = await app
      .get(TokenService)
      .generateHeaderToken(
        await app.get(DataSource).getRepository(ErrorsUser).save({ username: 'carol' }),
      );
    const res = await http().get('/auth/sessions').set('authorization', `Token ${set.accessToken}`);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
  });
});
