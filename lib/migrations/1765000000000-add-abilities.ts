import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

const TOKEN_TABLE = 'auth_token';
const CLIENT_TABLE = 'auth_client';
const COLUMN = 'abilities';

/**
 * Adds `abilities` (a JSON array of strings, as TypeORM's `simple-json` stores it) to `auth_token`
 * and to `auth_client` (a client's default abilities). Nullable, with no default: the rows that
 * exist keep `NULL`, which reads as `['*']`, so every token issued before the upgrade keeps the
 * full power it had.
 */
export class AddDurinAbilities1765000000000 implements MigrationInterface {
  name = 'AddDurinAbilities1765000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const table of [TOKEN_TABLE, CLIENT_TABLE]) {
      await queryRunner.addColumn(
        table,
        new TableColumn({ name: COLUMN, type: 'text', isNullable: true }),
      );
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn(CLIENT_TABLE, COLUMN);
    await queryRunner.dropColumn(TOKEN_TABLE, COLUMN);
  }
}
