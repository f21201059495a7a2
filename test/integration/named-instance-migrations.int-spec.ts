import { Test } from '@nestjs/testing';
import { getDataSourceToken, TypeOrmModule, type TypeOrmModuleOptions } from '@nestjs/typeorm';
import {
  Column,
  DataSource,
  Entity,
  type MigrationInterface,
  PrimaryGeneratedColumn,
  type QueryRunner,
  Table,
} from 'typeorm';
import {
  DURIN_MIGRATIONS,
  DurinModule,
  DurinModuleAsyncOptions,
  getTokenServiceToken,
  TokenService,
} from '../../lib';
import { createTestDatabase, describeEachDb, type TestDatabase } from '../support/databases';
import { silentLogger, typeOrmOptions } from './support/durin-test-app';
import { User } from './support/user.entity';

/**
 * A named instance on its own database, built by the shipped migrations as the README tells apps
 * to: the migration reads the user key from the instance's token entity, so `auth_token.user_id`
 * must reference that instance's user table (here `staff`, with UUID keys unlike `users`).
 */

@Entity('staff')
class Staff {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 64 })
  login!: string;

  @Column({ name: 'is_active', type: 'boolean', default: true })
  isActive!: boolean;
}

class CreateStaff1700000000001 implements MigrationInterface {
  name = 'CreateStaff1700000000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.options.type === 'postgres';
    // The key as TypeORM maps `@PrimaryGeneratedColumn('uuid')` on this engine (a native `uuid`
    // on PostgreSQL and MariaDB 10.7+, a varchar elsewhere), as an app's own migration would.
    const { driver } = queryRunner.connection;
    const key = queryRunner.connection.getMetadata(Staff).primaryColumns[0];
    await queryRunner.createTable(
      new Table({
        name: 'staff',
        columns: [
          {
            name: 'id',
            type: driver.normalizeType(key),
            length: driver.getColumnLength(key) || undefined,
            isPrimary: true,
            isGenerated: true,
            generationStrategy: 'uuid',
          },
          { name: 'login', type: 'varchar', length: '64' },
          { name: 'is_active', type: 'boolean', default: postgres ? true : 1 },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('staff');
  }
}

describeEachDb('a named instance on its own migrated database (%s)', (kind) => {
  let mainDb: TestDatabase;
  let staffDb: TestDatabase;

  beforeAll(async () => {
    mainDb = await createTestDatabase(kind);
    staffDb = await createTestDatabase(kind);
  });

  afterAll(async () => {
    await mainDb?.drop();
    await staffDb?.drop();
  });

  it('points auth_token.user_id at its own users, with their key type, and cascades', async () => {
    const staffOptions: DurinModuleAsyncOptions = {
      name: 'staff',
      userEntity: Staff,
      dataSource: 'staff',
      useFactory: () => ({ tokenTtl: '1h' }),
    };
    const module = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot(typeOrmOptions(mainDb)),
        TypeOrmModule.forRoot({
          ...staffDb.options,
          name: 'staff',
          entities: [Staff],
          autoLoadEntities: true,
          migrations: [CreateStaff1700000000001, ...DURIN_MIGRATIONS],
          migrationsRun: true,
        } as TypeOrmModuleOptions),
        DurinModule.forRoot({ userEntity: User }),
        DurinModule.forRootAsync(staffOptions),
      ],
    })
      .setLogger(silentLogger)
      .compile();
    try {
      await module.init();
      const staffSource = module.get<DataSource>(getDataSourceToken('staff'));
      const runner = staffSource.createQueryRunner();
      try {
        const table = await runner.getTable('auth_token');
        const userKey = table?.foreignKeys.find((fk) => fk.columnNames.includes('user_id'));
        expect(userKey?.referencedTableName).toMatch(/(^|\.)staff$/);
        expect(userKey?.onDelete).toBe('CASCADE');
        // `users` has integer keys: a column typed after the default instance's user would differ.
        const staffKey = (await runner.getTable('staff'))?.findColumnByName('id');
        expect(table?.findColumnByName('user_id')?.type).toBe(staffKey?.type);
        expect(staffKey?.type).toBe(kind === 'sqlite' ? 'varchar' : 'uuid');
      } finally {
        await runner.release();
      }

      const staff = await staffSource.getRepository(Staff).save({ login: 'ops' });
      const service = module.get<TokenService<Staff>>(getTokenServiceToken('staff'));
      const set = await service.generateHeaderToken(staff);
      expect(set.accessTokenExpiresAt).not.toBeNull();
      const verified = await service.verifyToken(set.accessToken);
      expect(verified?.user.login).toBe('ops');

      // The default instance still works on its own database, and does not know the token.
      const mainUsers = module.get<DataSource>(getDataSourceToken()).getRepository(User);
      const member = await mainUsers.save({ email: 'm@example.com' });
      const memberSet = await module.get(TokenService).generateHeaderToken(member);
      expect(await module.get(TokenService).verifyToken(memberSet.accessToken)).not.toBeNull();
      expect(await module.get(TokenService).verifyToken(set.accessToken)).toBeNull();

      await staffSource.getRepository(Staff).delete({ id: staff.id });
      expect(await service.listUserTokens(staff.id)).toEqual([]);
    } finally {
      await module.close();
    }
  });
});
