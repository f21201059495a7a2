import { INestApplication, ValidationPipe } from '@nestjs/common';
import { APP_PIPE } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { Column, DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { DurinModule, TokenService } from '../../lib';
import { createTestDatabase, type TestDatabase } from '../support/databases';
import { startHttpApp, syncedTypeOrm } from '../support/http-app';

/**
 * The ready-made refresh route validates its own body, whatever global pipe the app installs: an
 * app-wide `ValidationPipe` runs before any route-level pipe and could otherwise answer in its own
 * format, strip the unknown fields the route refuses, or convert a number into a string.
 */

@Entity('pipe_user')
class PipeUser {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: 64 })
  username!: string;

  @Column({ type: 'boolean', default: true })
  isActive!: boolean;
}

type AdapterKind = 'express' | 'fastify';

const GLOBAL_PIPES: Array<[string, () => ValidationPipe]> = [
  ['ValidationPipe({ whitelist: true })', () => new ValidationPipe({ whitelist: true })],
  [
    'ValidationPipe({ whitelist, forbidNonWhitelisted, transform, implicit conversion })',
    () =>
      new ValidationPipe({
        whitelist: true,
        forbidNonWhitelisted: true,
        transform: true,
        transformOptions: { enableImplicitConversion: true },
      }),
  ],
];

const MATRIX = (['express', 'fastify'] as const).flatMap((adapter) =>
  GLOBAL_PIPES.map(([name, pipe]): [AdapterKind, string, () => ValidationPipe] => [
    adapter,
    name,
    pipe,
  ]),
);

const INVALID_REQUEST = {
  statusCode: 400,
  error: 'Bad Request',
  message: expect.stringMatching(/\w/),
  code: 'invalid_request',
};

describe.each(MATRIX)('POST /auth/refresh on %s under a global %s', (adapter, _name, pipe) => {
  let app: INestApplication;
  let db: TestDatabase;
  let tokens: TokenService;
  let user: PipeUser;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    const moduleRef = await Test.createTestingModule({
      imports: [
        syncedTypeOrm(db, [PipeUser]),
        DurinModule.forRoot({ userEntity: PipeUser, routes: { path: 'auth' } }),
      ],
      providers: [{ provide: APP_PIPE, useFactory: pipe }],
    }).compile();
    app = await startHttpApp(moduleRef, adapter);
    tokens = app.get(TokenService);
    const users = app.get(DataSource).getRepository(PipeUser);
    user = await users.save(users.create({ username: 'alice' }));
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const refresh = () => request(app.getHttpServer()).post('/auth/refresh');

  it('still rotates a valid refresh token', async () => {
    const pair = await tokens.generateHeaderToken(user);
    const res = await refresh().send({ refreshToken: pair.refreshToken });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      accessToken: expect.stringMatching(/^durin_at_/),
      refreshToken: expect.stringMatching(/^durin_rt_/),
      accessTokenExpiresAt: expect.any(String),
      refreshTokenExpiresAt: expect.any(String),
    });
  });

  it.each<[string, unknown]>([
    ['an empty object', {}],
    ['a number', { refreshToken: 123 }],
    ['a boolean', { refreshToken: true }],
    ['an array', { refreshToken: ['durin_rt_x'] }],
    ['an object', { refreshToken: { toString: 'x' } }],
    ['an empty string', { refreshToken: '' }],
    ['a 10 KB string', { refreshToken: 'x'.repeat(10_240) }],
    ['snake case', { refresh_token: 'durin_rt_x' }],
    ['a JSON array body', ['durin_rt_x']],
  ])('400 invalid_request for %s, in the library’s error format', async (_case, body) => {
    const res = await refresh().send(body as object);
    expect({ status: res.status, body: res.body as unknown }).toEqual({
      status: 400,
      body: INVALID_REQUEST,
    });
  });

  it('400 invalid_request for a missing body and for a body that is not JSON', async () => {
    for (const res of [
      await refresh(),
      await refresh().set('content-type', 'text/plain').send('durin_rt_x'),
    ]) {
      expect({ status: res.status, body: res.body as unknown }).toEqual({
        status: 400,
        body: INVALID_REQUEST,
      });
    }
  });

  it('refuses unknown fields the global pipe would strip, without spending the token', async () => {
    const pair = await tokens.generateHeaderToken(user);
    const res = await refresh().send({ refreshToken: pair.refreshToken, isAdmin: true });
    expect({ status: res.status, body: res.body as unknown }).toEqual({
      status: 400,
      body: { ...INVALID_REQUEST, message: expect.stringContaining('isAdmin') },
    });
    // Refused before the store: the refresh token was not consumed.
    expect((await refresh().send({ refreshToken: pair.refreshToken })).status).toBe(200);
  });
});
