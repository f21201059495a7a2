import { MigrationInterface, QueryRunner, Table, TableColumnOptions } from 'typeorm';
import { AbstractAuthToken } from '../entities/abstract-auth-token.entity';

const TOKEN_TABLE = 'auth_token';
const CLIENT_TABLE = 'auth_client';

function timestamp(name: string, nullable = true): TableColumnOptions {
  return { name, type: 'bigint', isNullable: nullable };
}

/**
 * Creates `auth_client` and `auth_token` on PostgreSQL, SQLite and MySQL/MariaDB (one migration,
 * written with TypeORM's table API so each driver emits its own DDL).
 *
 * The type of `auth_token.user_id` and the table it references are taken from the data source's
 * metadata of the app's user entity, so the same migration fits integer and UUID user ids.
 */
export class CreateDurinTables1732406400000 implements MigrationInterface {
  name = 'CreateDurinTables1732406400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const userKey = findUserKey(queryRunner);
    const type = queryRunner.connection.options.type;
    // Client names are case-sensitive, as on PostgreSQL and SQLite ('web' is not 'WEB'). MySQL and
    // MariaDB compare strings with the database's collation, usually case-insensitive, which would
    // let a lookup of 'WEB' find 'web' and make the unique index refuse both.
    const exactText =
      type === 'mysql' || type === 'mariadb'
        ? { charset: 'utf8mb4', collation: 'utf8mb4_bin' }
        : {};

    await queryRunner.createTable(
      new Table({
        name: CLIENT_TABLE,
        columns: [
          {
            name: 'id',
            type: 'integer',
            isPrimary: true,
            isGenerated: true,
            generationStrategy: 'increment',
          },
          { name: 'name', type: 'varchar', length: '64', ...exactText },
          { name: 'token_ttl', type: 'integer', isNullable: true },
          { name: 'refresh_token_ttl', type: 'integer', isNullable: true },
          { name: 'throttle_rate', type: 'varchar', length: '32', isNullable: true },
          timestamp('created_at', false),
        ],
        indices: [{ columnNames: ['name'], isUnique: true }],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: TOKEN_TABLE,
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'user_id', type: userKey.type, length: userKey.length, isNullable: false },
          { name: 'auth_type', type: 'varchar', length: '8' },
          { name: 'client_id', type: 'integer', isNullable: true },
          { name: 'context', type: 'text' },
          { name: 'token_hash', type: 'varchar', length: '64' },
          { name: 'refresh_token_hash', type: 'varchar', length: '64', isNullable: true },
          timestamp('created_at', false),
          timestamp('expires_at'),
          timestamp('refresh_expires_at'),
          timestamp('absolute_expires_at'),
          { name: 'access_ttl_ms', type: 'bigint', isNullable: true },
          { name: 'refresh_ttl_ms', type: 'bigint', isNullable: true },
          timestamp('last_refreshed_at'),
          timestamp('last_used_at'),
          timestamp('revoked_at'),
          { name: 'revoked_reason', type: 'varchar', length: '32', isNullable: true },
          { name: 'family_id', type: 'varchar', length: '36' },
          { name: 'parent_id', type: 'varchar', length: '36', isNullable: true },
          { name: 'replaced_by_id', type: 'varchar', length: '36', isNullable: true },
        ],
        indices: [
          { columnNames: ['user_id'] },
          { columnNames: ['token_hash'], isUnique: true },
          { columnNames: ['refresh_token_hash'], isUnique: true },
          { columnNames: ['expires_at'] },
          { columnNames: ['refresh_expires_at'] },
          { columnNames: ['family_id'] },
        ],
        foreignKeys: [
          {
            columnNames: ['user_id'],
            referencedTableName: userKey.table,
            referencedColumnNames: [userKey.column],
            onDelete: 'CASCADE',
            // What the entities declare. Left out, MySQL/MariaDB would record RESTRICT and every
            // schema diff would want to recreate the key (the other engines default to this).
            onUpdate: 'NO ACTION',
          },
          {
            columnNames: ['client_id'],
            referencedTableName: CLIENT_TABLE,
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
            onUpdate: 'NO ACTION',
          },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable(TOKEN_TABLE);
    await queryRunner.dropTable(CLIENT_TABLE);
  }
}

function findUserKey(queryRunner: QueryRunner): {
  table: string;
  column: string;
  type: string;
  length?: string;
} {
  const connection = queryRunner.connection;
  const tokenMetadata = connection.entityMetadatas.find(
    (metadata) =>
      typeof metadata.target === 'function' &&
      metadata.target.prototype instanceof AbstractAuthToken &&
      metadata.tableName === TOKEN_TABLE,
  );
  const joinColumn = tokenMetadata?.findRelationWithPropertyPath('user')?.joinColumns[0];
  const referenced = joinColumn?.referencedColumn;
  if (!tokenMetadata || !joinColumn || !referenced) {
    throw new Error(
      'nestjs-durin migration: the data source has no auth_token entity with its user relation. Add ' +
        'AuthTokenEntity and ClientEntity (DURIN_ENTITIES) and your user entity to its entities, and call ' +
        'registerDurinUserEntity(User) before creating it outside Nest.',
    );
  }
  // The join column holds the type and length TypeORM derives for this driver (a varchar or UUID
  // key gets no default length on PostgreSQL and SQLite), so the table matches the entity exactly.
  const length = joinColumn.length;
  return {
    table: referenced.entityMetadata.tablePath,
    column: referenced.databaseName,
    type: connection.driver.normalizeType(joinColumn),
    length: length ? String(length) : undefined,
  };
}
