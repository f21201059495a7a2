import { Test } from '@nestjs/testing';
import { getDataSourceToken, TypeOrmModule, TypeOrmModuleOptions } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  AuthTokenEntity,
  ClientEntity,
  DURIN_CLOCK,
  DurinModule,
  ManualClock,
  TokenService,
} from '../../lib';
import { createTestDatabase, describeEachDb } from '../support/databases';
import { silentLogger, START, typeOrmOptions } from './support/durin-test-app';
import { CreateUsers1700000000000, User } from './support/user.entity';

// A file of its own: @nestjs/typeorm remembers forFeature() entities per data source name for the
// whole process, so an earlier module on the default data source would blur what is tested here.
describeEachDb('DurinModule on a named data source (%s)', (kind) => {
  it('registers its entities and runs its queries there, leaving the default one alone', async () => {
    const mainDb = await createTestDatabase(kind);
    const authDb = await createTestDatabase(kind);
    // The default data source has only the app's own schema.
    const mainOptions: Partial<TypeOrmModuleOptions> =
      kind === 'sqlite' ? {} : { migrations: [CreateUsers1700000000000] };
    const module = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot(typeOrmOptions(mainDb, mainOptions)),
        TypeOrmModule.forRoot(typeOrmOptions(authDb, { name: 'auth' })),
        DurinModule.forRoot({ userEntity: User, dataSource: 'auth' }),
      ],
    })
      .overrideProvider(DURIN_CLOCK)
      .useValue(new ManualClock(START))
      .setLogger(silentLogger)
      .compile();
    try {
      await module.init();
      const auth = module.get<DataSource>(getDataSourceToken('auth'));
      const main = module.get<DataSource>(getDataSourceToken());
      expect(main).not.toBe(auth);

      const user = await auth.getRepository(User).save({ email: 'a@example.com' });
      const service = module.get(TokenService);
      const set = await service.generateHeaderToken(user);
      expect(await service.verifyToken(set.accessToken)).not.toBeNull();
      expect(await auth.getRepository(AuthTokenEntity).count()).toBe(1);

      expect(auth.hasMetadata(AuthTokenEntity)).toBe(true);
      expect(main.hasMetadata(AuthTokenEntity)).toBe(false);
      expect(main.hasMetadata(ClientEntity)).toBe(false);
      const runner = main.createQueryRunner();
      try {
        expect(await runner.hasTable('auth_token')).toBe(false);
        expect(await runner.hasTable('auth_client')).toBe(false);
      } finally {
        await runner.release();
      }
    } finally {
      await module.close();
      await mainDb.drop();
      await authDb.drop();
    }
  });
});
