import { Controller, Get, INestApplication, UseGuards } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { Column, DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { AuthGuard, CurrentUser, DurinAuthGuard, DurinModule, TokenService } from '../../lib';
import { createTestDatabase, type TestDatabase } from '../support/databases';
import { HTTP_ADAPTER_KINDS, startHttpApp, syncedTypeOrm } from '../support/http-app';

/**
 * `DurinAuthGuard` exists so an app that also imports `@nestjs/passport`'s `AuthGuard` needs no
 * alias; it must be the very same guard, not a look-alike with its own behaviour.
 */

@Entity('alias_user')
class AliasUser {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'boolean', default: true })
  isActive!: boolean;
}

@UseGuards(DurinAuthGuard)
@Controller('aliased')
class AliasedController {
  @Get()
  me(@CurrentUser() user: AliasUser): { id: number } {
    return { id: user.id };
  }
}

it('DurinAuthGuard is AuthGuard', () => {
  expect(DurinAuthGuard).toBe(AuthGuard);
});

describe.each(HTTP_ADAPTER_KINDS)('@UseGuards(DurinAuthGuard) on %s', (adapter) => {
  let app: INestApplication;
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    const moduleRef = await Test.createTestingModule({
      imports: [syncedTypeOrm(db, [AliasUser]), DurinModule.forRoot({ userEntity: AliasUser })],
      controllers: [AliasedController],
    }).compile();
    app = await startHttpApp(moduleRef, adapter);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('refuses a request without a token and lets a valid one through', async () => {
    const users = app.get(DataSource).getRepository(AliasUser);
    const user = await users.save(users.create({}));
    const set = await app.get(TokenService).generateHeaderToken(user);

    const refused = await request(app.getHttpServer()).get('/aliased');
    expect({ status: refused.status, code: (refused.body as { code?: string }).code }).toEqual({
      status: 401,
      code: 'token_missing',
    });
    const allowed = await request(app.getHttpServer())
      .get('/aliased')
      .set('Authorization', `Token ${set.accessToken}`);
    expect({ status: allowed.status, body: allowed.body as unknown }).toEqual({
      status: 200,
      body: { id: user.id },
    });
  });
});
