import { MigrationInterface, QueryRunner, TableIndex } from 'typeorm';

const TOKEN_TABLE = 'auth_token';
/** Column lists of the indexes, as `AbstractAuthToken` declares them (names are derived from them). */
const INDEXES = [
  ['revoked_at', 'refresh_expires_at', 'expires_at'],
  ['revoked_at', 'absolute_expires_at'],
];

/**
 * Adds the two indexes the expired-token cleanup reads its batches from (see
 * `lib/store/cleanup-plan.ts`): without them every batch scans the table, and a cleanup of a large
 * backlog is quadratic. Building them on a large `auth_token` takes a while and, on PostgreSQL,
 * blocks writes to the table meanwhile: run it in a quiet moment (or create the same indexes
 * `CONCURRENTLY` by hand first, with the names TypeORM gives them, and this migration is a no-op).
 */
export class AddDurinCleanupIndexes1764600000000 implements MigrationInterface {
  name = 'AddDurinCleanupIndexes1764600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const table = await queryRunner.getTable(TOKEN_TABLE);
    for (const columnNames of INDEXES) {
      const name = queryRunner.connection.namingStrategy.indexName(TOKEN_TABLE, columnNames);
      if (table?.indices.some((index) => index.name === name)) continue;
      await queryRunner.createIndex(TOKEN_TABLE, new TableIndex({ name, columnNames }));
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const columnNames of INDEXES) {
      const name = queryRunner.connection.namingStrategy.indexName(TOKEN_TABLE, columnNames);
      await queryRunner.dropIndex(TOKEN_TABLE, name);
    }
  }
}
