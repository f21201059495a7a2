import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ThrottlerModule } from '@nestjs/throttler';
import { getDataSourceToken } from '@nestjs/typeorm';
import request from 'supertest';
import { Column, DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm';
import {
  type DurinLoginCredentials,
  DurinModule,
  type DurinModuleRootOptions,
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
 * The login route's own limits (`throttle.login`, REQ-RL-01): per client IP before the body is
 * read, per username (case-folded) before the app's password check runs.
 */

@Entity('login_throttle_user')
class LoginThrottleUser {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: 64 })
  username!: string;
}

/** How often the app's check ran: a limited attempt must not reach it. */
let checks = 0;
let users: { findOneBy(where: { username: string }): Promise<LoginThrottleUser | null> };
async function validateUser({
  username,
  password,
}: DurinLoginCredentials): Promise<LoginThrottleUser | null> {
  checks++;
  const user = await users.findOneBy({ username });
  return user !== null && password === 'right' ? user : null;
}

const MATRIX = HTTP_ADAPTER_KINDS.flatMap((adapter) =>
  (['sqlite', 'postgres'] as const).map((kind): [HttpAdapterKind, 'sqlite' | 'postgres'] => [
    adapter,
    kind,
  ]),
);

const RATE_LIMITED = {
  statusCode: 429,
  error: 'Too Many Requests',
  message: expect.any(String),
  code: 'rate_limited',
};

describeEachRow(MATRIX, 'login route limits over %s on %s', (adapter, kind) => {
  let app: INestApplication;
  let db: TestDatabase;
  const http = () => request(app.getHttpServer());
  const attempt = (username: string, password = 'wrong') =>
    http().post('/auth/login').send({ username, password, client: 'web' });

  async function start(throttle: DurinModuleRootOptions['throttle']): Promise<void> {
    db = await createTestDatabase(kind);
    const moduleRef = await Test.createTestingModule({
      imports: [
        syncedTypeOrm(db, [LoginThrottleUser]),
        ThrottlerModule.forRoot({ throttlers: [] }),
        DurinModule.forRoot({
          userEntity: LoginThrottleUser,
          throttle,
          routes: { path: 'auth', login: { validateUser } },
        }),
      ],
    }).compile();
    app = await startHttpApp(moduleRef, adapter);
    const dataSource = app.get<DataSource>(getDataSourceToken());
    users = dataSource.getRepository(LoginThrottleUser);
    await dataSource.getRepository(LoginThrottleUser).save({ username: 'ada' });
    await app.get(TokenService).createClient({ name: 'web' });
  }

  afterEach(async () => {
    await app?.close();
    await db?.drop();
  });

  it('per username: the third attempt in the window is 429, whatever the spelling, before the check runs', async () => {
    await start({ login: { perIp: '100/m', perUsername: '2/m' } });
    await attempt('ada').expect(400);
    await attempt('ada').expect(400);
    checks = 0;
    const limited = await attempt('ADA', 'right').expect(429);
    expect(limited.body).toEqual(RATE_LIMITED);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(checks).toBe(0);
    // Another account from the same address still gets its answer.
    await attempt('bob').expect(400);
    expect(checks).toBe(1);
  });

  it('per IP: every attempt counts, malformed ones too, whichever username', async () => {
    await start({ login: { perIp: '3/m', perUsername: null } });
    await http().post('/auth/login').send({ username: 42 }).expect(400);
    await attempt('ada').expect(400);
    await attempt('bob').expect(400);
    const limited = await attempt('carol').expect(429);
    expect(limited.body).toEqual(RATE_LIMITED);
    expect(limited.headers['retry-after']).toBeDefined();
  });

  it('login: false leaves the route unlimited', async () => {
    await start({ login: false });
    for (let i = 0; i < 12; i++) await attempt('ada').expect(400);
    await attempt('ada', 'right').expect(200);
  });
});
