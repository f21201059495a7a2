import { randomUUID } from 'node:crypto';
import {
  DataSource,
  Entity,
  MigrationInterface,
  PrimaryGeneratedColumn,
  QueryRunner,
  Repository,
  Table,
} from 'typeorm';
import {
  AuthTokenEntity,
  DURIN_ENTITIES,
  DURIN_MIGRATIONS,
  registerDurinUserEntity,
} from '../../lib';
import { createTestDatabase, describeEachDb, TestDatabase, TestDbKind } from '../support/databases';
import { QueryCounter } from '../support/query-counter';
import { CreateUsers1700000000000, User } from './support/user.entity';

const DURIN_TABLES = ['auth_token', 'auth_client'];

/** A user entity with UUID keys: the migration must take `user_id`'s type from it. */
@Entity('uuid_users')
class UuidUser {
  @PrimaryGeneratedColumn('uuid')
  id!: string;
}

class CreateUuidUsers1700000000001 implements MigrationInterface {
  name = 'CreateUuidUsers1700000000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    // SQLite has no uuid type; PostgreSQL has one, and so has MariaDB from 10.7 (TypeORM uses it).
    const uuidType = queryRunner.connection.options.type !== 'better-sqlite3';
    await queryRunner.createTable(
      new Table({
        name: 'uuid_users',
        columns: [
          uuidType
            ? {
                name: 'id',
                type: 'uuid',
                isPrimary: true,
                isGenerated: true,
                generationStrategy: 'uuid',
              }
            : { name: 'id', type: 'varchar', isPrimary: true },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('uuid_users');
  }
}

async function migratedDataSource(
  db: TestDatabase,
  userEntity: typeof User | typeof UuidUser,
  userMigration: new () => MigrationInterface,
): Promise<DataSource> {
  registerDurinUserEntity(userEntity);
  const dataSource = new DataSource({
    ...db.options,
    entities: [userEntity, ...DURIN_ENTITIES],
    migrations: [userMigration, ...DURIN_MIGRATIONS],
    logger: new QueryCounter(),
  });
  await dataSource.initialize();
  await dataSource.runMigrations();
  return dataSource;
}

async function pendingUpQueries(dataSource: DataSource): Promise<string[]> {
  const sql = await dataSource.driver.createSchemaBuilder().log();
  return sql.upQueries.map((query) => query.query);
}

async function tables(dataSource: DataSource): Promise<Record<string, boolean>> {
  const runner = dataSource.createQueryRunner();
  try {
    const found: Record<string, boolean> = {};
    for (const name of DURIN_TABLES) found[name] = await runner.hasTable(name);
    return found;
  } finally {
    await runner.release();
  }
}

describeEachDb('DURIN_MIGRATIONS (%s)', (kind: TestDbKind) => {
  let db: TestDatabase;
  let dataSource: DataSource | undefined;

  beforeEach(async () => {
    db = await createTestDatabase(kind);
  });
  afterEach(async () => {
    if (dataSource?.isInitialized) await dataSource.destroy();
    dataSource = undefined;
    await db.drop();
  });

  it('create exactly the schema the entities describe', async () => {
    dataSource = await migratedDataSource(db, User, CreateUsers1700000000000);
    expect(await tables(dataSource)).toEqual({ auth_token: true, auth_client: true });
    expect(await pendingUpQueries(dataSource)).toEqual([]);
  });

  it('give a schema that enforces the unique hash and cascades user deletion', async () => {
    dataSource = await migratedDataSource(db, User, CreateUsers1700000000000);
    const user = await dataSource.getRepository(User).save({ email: 'a@example.com' });
    const tokens: Repository<AuthTokenEntity> = dataSource.getRepository(AuthTokenEntity);
    const row = (tokenHash: string): AuthTokenEntity =>
      Object.assign(new AuthTokenEntity(), {
        id: randomUUID(),
        familyId: randomUUID(),
        user,
        authType: 'header',
        context: {},
        tokenHash,
        refreshTokenHash: null,
        createdAt: new Date(),
        expiresAt: null,
        refreshExpiresAt: null,
        absoluteExpiresAt: null,
        accessTtlMs: null,
        refreshTtlMs: null,
        lastRefreshedAt: null,
        lastUsedAt: null,
        revokedAt: null,
        revokedReason: null,
        parentId: null,
        replacedById: null,
      });
    await tokens.insert([row('a'.repeat(64))]);
    await expect(tokens.insert([row('a'.repeat(64))])).rejects.toThrow(/unique|duplicate/i);
    await dataSource.getRepository(User).delete(user.id);
    expect(await tokens.count()).toBe(0);
  });

  it('take the type of user_id from a UUID user entity', async () => {
    dataSource = await migratedDataSource(db, UuidUser, CreateUuidUsers1700000000001);
    const durinQueries = (await pendingUpQueries(dataSource)).filter((query) =>
      DURIN_TABLES.some((table) => query.includes(table)),
    );
    expect(durinQueries).toEqual([]);
    const column = (await dataSource.createQueryRunner().getTable('auth_token'))!.findColumnByName(
      'user_id',
    )!;
    expect(column.type).toBe(kind === 'sqlite' ? 'varchar' : 'uuid');
  });

  it('can be reverted (down), and applied again', async () => {
    dataSource = await migratedDataSource(db, User, CreateUsers1700000000000);
    // Newest first, each one's down() in turn.
    for (let i = 0; i < DURIN_MIGRATIONS.length; i++) {
      await dataSource.undoLastMigration();
    }
    expect(await tables(dataSource)).toEqual({ auth_token: false, auth_client: false });
    const runner = dataSource.createQueryRunner();
    try {
      expect(await runner.hasTable('users')).toBe(true);
    } finally {
      await runner.release();
    }
    const applied = await dataSource.runMigrations();
    expect(applied.map((migration) => migration.name)).toEqual(
      DURIN_MIGRATIONS.map((migration) => migration.name),
    );
    expect(applied[0].name).toBe('CreateDurinTables1732406400000');
    expect(await pendingUpQueries(dataSource)).toEqual([]);
  });
});
