import { Injectable, Module, ModuleMetadata } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Test, TestingModule } from '@nestjs/testing';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import { createHmac } from 'node:crypto';
import { DataSource } from 'typeorm';
import {
  AuthTokenEntity,
  ClientEntity,
  DURIN_CLOCK,
  DURIN_ENTITIES,
  DurinConfigurationError,
  DurinModule,
  DurinModuleOptions,
  DurinOptionsFactory,
  ManualClock,
  TokenService,
} from '../../lib';
import { createTestDatabase, describeEachDb, TestDatabase, TestDbKind } from '../support/databases';
import { DAY, HOUR, MINUTE, silentLogger, START, typeOrmOptions } from './support/durin-test-app';
import { User } from './support/user.entity';

const PEPPER = 'config-pepper-0123456789';

@Injectable()
class SessionsReader {
  constructor(readonly tokens: TokenService) {}
}

/** A feature module that does not import DurinModule itself. */
@Module({ providers: [SessionsReader], exports: [SessionsReader] })
class FeatureModule {}

@Injectable()
class DurinConfig implements DurinOptionsFactory {
  createDurinOptions(): DurinModuleOptions {
    return { tokenTtl: '5m', refreshTokenTtl: '10m' };
  }
}

describeEachDb('DurinModule configuration (%s)', (kind: TestDbKind) => {
  const databases: TestDatabase[] = [];
  const modules: TestingModule[] = [];

  async function database(): Promise<TestDatabase> {
    const db = await createTestDatabase(kind);
    databases.push(db);
    return db;
  }

  function build(imports: ModuleMetadata['imports']) {
    return Test.createTestingModule({ imports })
      .overrideProvider(DURIN_CLOCK)
      .useValue(new ManualClock(START))
      .setLogger(silentLogger);
  }

  async function boot(imports: ModuleMetadata['imports']): Promise<TestingModule> {
    const module = await build(imports).compile();
    modules.push(module);
    await module.init();
    return module;
  }

  async function bootError(imports: ModuleMetadata['imports']): Promise<unknown> {
    try {
      const module = await build(imports).compile();
      modules.push(module);
    } catch (error) {
      return error;
    }
    throw new Error('the app booted, but it should not have');
  }

  async function issueAndVerify(module: TestingModule, dataSourceName?: string) {
    const dataSource = module.get<DataSource>(getDataSourceToken(dataSourceName));
    const user = await dataSource.getRepository(User).save({ email: 'a@example.com' });
    const service = module.get(TokenService);
    const set = await service.generateHeaderToken(user);
    expect(await service.verifyToken(set.accessToken)).not.toBeNull();
    return { set, dataSource, service };
  }

  afterEach(async () => {
    for (const module of modules.splice(0)) await module.close();
    for (const db of databases.splice(0)) await db.drop();
  });

  describe('forRootAsync', () => {
    it('takes its options from ConfigService (useFactory)', async () => {
      const db = await database();
      const module = await boot([
        TypeOrmModule.forRoot(typeOrmOptions(db)),
        ConfigModule.forRoot({
          ignoreEnvFile: true,
          load: [() => ({ durin: { tokenTtl: '2h', refreshTokenTtl: '3d', pepper: PEPPER } })],
        }),
        DurinModule.forRootAsync({
          userEntity: User,
          imports: [ConfigModule],
          inject: [ConfigService],
          useFactory: (config: ConfigService) => config.getOrThrow<DurinModuleOptions>('durin'),
        }),
      ]);
      const { set, dataSource } = await issueAndVerify(module);
      expect(set.accessTokenExpiresAt).toEqual(new Date(START + 2 * HOUR));
      expect(set.refreshTokenExpiresAt).toEqual(new Date(START + 3 * DAY));
      const row = await dataSource
        .getRepository(AuthTokenEntity)
        .findOneByOrFail({ id: set.token.id });
      expect(row.tokenHash).toBe(
        createHmac('sha256', PEPPER).update(set.accessToken).digest('hex'),
      );
    });

    it('takes its options from a class (useClass)', async () => {
      const db = await database();
      const module = await boot([
        TypeOrmModule.forRoot(typeOrmOptions(db)),
        DurinModule.forRootAsync({ userEntity: User, useClass: DurinConfig }),
      ]);
      const { set } = await issueAndVerify(module);
      expect(set.accessTokenExpiresAt).toEqual(new Date(START + 5 * MINUTE));
      expect(set.refreshTokenExpiresAt).toEqual(new Date(START + 10 * MINUTE));
    });

    it('refuses to boot when the configuration holds a bad value', async () => {
      const db = await database();
      const error = await bootError([
        TypeOrmModule.forRoot(typeOrmOptions(db)),
        ConfigModule.forRoot({
          ignoreEnvFile: true,
          load: [() => ({ durin: { autoRefreshInterval: 'soon' } })],
        }),
        DurinModule.forRootAsync({
          userEntity: User,
          imports: [ConfigModule],
          inject: [ConfigService],
          useFactory: (config: ConfigService) => config.getOrThrow<DurinModuleOptions>('durin'),
        }),
      ]);
      expect(error).toBeInstanceOf(DurinConfigurationError);
      expect(error).toMatchObject({ option: 'autoRefreshInterval' });
    });
  });

  describe('isGlobal', () => {
    it('makes TokenService injectable in modules that do not import DurinModule', async () => {
      const db = await database();
      const module = await boot([
        TypeOrmModule.forRoot(typeOrmOptions(db)),
        DurinModule.forRoot({ userEntity: User, isGlobal: true }),
        FeatureModule,
      ]);
      expect(module.get(SessionsReader).tokens).toBe(module.get(TokenService));
      await issueAndVerify(module);
    });

    it('works with forRootAsync too', async () => {
      const db = await database();
      const module = await boot([
        TypeOrmModule.forRoot(typeOrmOptions(db)),
        DurinModule.forRootAsync({ userEntity: User, isGlobal: true, useFactory: () => ({}) }),
        FeatureModule,
      ]);
      expect(module.get(SessionsReader).tokens).toBeInstanceOf(TokenService);
    });

    it('is off by default: the feature module cannot resolve TokenService', async () => {
      const db = await database();
      const error = await bootError([
        TypeOrmModule.forRoot(typeOrmOptions(db)),
        DurinModule.forRoot({ userEntity: User }),
        FeatureModule,
      ]);
      expect(String(error)).toMatch(/SessionsReader.*TokenService|TokenService.*SessionsReader/s);
    });
  });

  describe('entities', () => {
    it('are registered for autoLoadEntities', async () => {
      const db = await database();
      const module = await boot([
        TypeOrmModule.forRoot(typeOrmOptions(db, { autoLoadEntities: true, entities: [User] })),
        DurinModule.forRoot({ userEntity: User }),
      ]);
      const { dataSource } = await issueAndVerify(module);
      expect(dataSource.hasMetadata(AuthTokenEntity)).toBe(true);
      expect(dataSource.hasMetadata(ClientEntity)).toBe(true);
    });

    it('can be listed explicitly with DURIN_ENTITIES', async () => {
      const db = await database();
      const module = await boot([
        TypeOrmModule.forRoot(
          typeOrmOptions(db, { autoLoadEntities: false, entities: [User, ...DURIN_ENTITIES] }),
        ),
        DurinModule.forRoot({ userEntity: User }),
      ]);
      await issueAndVerify(module);
    });

    it('are required: without them the app does not boot', async () => {
      const db = await database();
      const error = await bootError([
        TypeOrmModule.forRoot(typeOrmOptions(db, { autoLoadEntities: false, entities: [User] })),
        DurinModule.forRoot({ userEntity: User }),
      ]);
      expect(String(error)).toMatch(/AuthTokenEntity|auth_token/);
    });
  });

  describe('bad options stop the app from booting', () => {
    const savedNodeEnv = process.env.NODE_ENV;
    afterEach(() => {
      process.env.NODE_ENV = savedNodeEnv;
    });

    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['an invalid duration', { tokenTtl: '10 hours' }, 'tokenTtl'],
      [
        'a refresh lifetime not above the access one',
        { tokenTtl: '1h', refreshTokenTtl: '1h' },
        'refreshTokenTtl',
      ],
      ['a short pepper', { pepper: 'short' }, 'pepper'],
      ['an API-key lifetime of zero', { apiAccessTokenTtl: 0 }, 'apiAccessTokenTtl'],
      ['an API-key lifetime in words', { apiAccessTokenTtl: '90 days' }, 'apiAccessTokenTtl'],
      ['an unknown option', { tokenTTL: '1h' }, 'tokenTTL'],
      ['a bad token prefix', { tokenPrefix: 'My-App' }, 'tokenPrefix'],
      ['userIdField that is not the primary key', { userIdField: 'email' }, 'userIdField'],
      ['userIdField that does not exist', { userIdField: 'uuid' }, 'userIdField'],
    ];

    it.each(cases)('%s', async (_name, options, option) => {
      const db = await database();
      const error = await bootError([
        TypeOrmModule.forRoot(typeOrmOptions(db)),
        DurinModule.forRoot({ userEntity: User, ...options }),
      ]);
      expect(error).toBeInstanceOf(DurinConfigurationError);
      expect((error as DurinConfigurationError).option).toBe(option);
      expect((error as Error).message).toContain(`'${option}'`);
    });

    it('cookie.secure: false under NODE_ENV=production', async () => {
      process.env.NODE_ENV = 'production';
      const db = await database();
      const error = await bootError([
        TypeOrmModule.forRoot(typeOrmOptions(db)),
        DurinModule.forRoot({ userEntity: User, cookie: { secure: false } }),
      ]);
      expect(error).toMatchObject({ option: 'cookie.secure' });
    });

    it('a userEntity that is not a class, already when the module is declared', () => {
      expect(() => DurinModule.forRoot({ userEntity: 'User' as never })).toThrow(
        DurinConfigurationError,
      );
    });
  });
});
