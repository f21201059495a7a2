import { Injectable, Module } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  ApiKeyIssuer,
  ClientRegistry,
  DURIN_CLOCK,
  DurinModule,
  ManualClock,
  SessionLister,
  TokenAuthenticator,
  TokenExpiry,
  TokenIssuer,
  TokenRevoker,
  TokenRotator,
  TokenService,
} from '../../lib';
import { createTestDatabase, describeEachDb, TestDatabase, TestDbKind } from '../support/databases';
import { silentLogger, START, typeOrmOptions } from './support/durin-test-app';
import { User } from './support/user.entity';

/** A login service that needs only the issuer, as an app would write it. */
@Injectable()
class LoginOnly {
  constructor(readonly issuer: TokenIssuer) {}
}

@Module({ imports: [DurinModule.forRoot({ userEntity: User })], providers: [LoginOnly] })
class LoginModule {}

/** The units `TokenService` delegates to can be injected one by one, sharing its state. */
describeEachDb('TokenService units injected alone (%s)', (kind: TestDbKind) => {
  let db: TestDatabase;
  let module: TestingModule;
  let user: User;

  beforeEach(async () => {
    db = await createTestDatabase(kind);
    module = await Test.createTestingModule({
      imports: [TypeOrmModule.forRoot(typeOrmOptions(db)), LoginModule],
    })
      .overrideProvider(DURIN_CLOCK)
      .useValue(new ManualClock(START))
      .setLogger(silentLogger)
      .compile();
    await module.init();
    const dataSource = module.get<DataSource>(getDataSourceToken());
    user = await dataSource.getRepository(User).save({ email: 'unit@example.com' });
  });

  afterEach(async () => {
    await module.close();
    await db.drop();
  });

  it('issues through the issuer alone; the other units and the facade see the same session', async () => {
    const set = await module.get(LoginOnly).issuer.generateHeaderToken(user);
    const get = <U>(unit: new (...args: never[]) => U): U => module.get(unit, { strict: false });

    const checked = await get(TokenAuthenticator).authenticate(set.accessToken, 'header');
    expect(checked).toMatchObject({ ok: true, token: { id: set.token.id } });
    expect((await get(SessionLister).listUserTokens(user)).map((s) => s.id)).toEqual([
      set.token.id,
    ]);
    const rotated = await get(TokenRotator).refreshToken(set.refreshToken);
    expect(rotated).not.toBeNull();

    expect(await get(TokenRevoker).revokeToken(rotated!.token.id)).toBe(true);
    const tokens = get(TokenService);
    expect(await tokens.verifyToken(rotated!.accessToken)).toBeNull();
    expect(await tokens.listUserTokens(user)).toEqual([]);
  });

  it('resolves every unit as one instance per module', () => {
    for (const unit of [
      TokenIssuer,
      ApiKeyIssuer,
      TokenAuthenticator,
      TokenRotator,
      TokenRevoker,
      TokenExpiry,
      SessionLister,
      ClientRegistry,
    ]) {
      expect(module.get<unknown>(unit, { strict: false })).toBeInstanceOf(unit);
    }
    expect(module.get(LoginOnly).issuer).toBe(module.get(TokenIssuer, { strict: false }));
  });
});
