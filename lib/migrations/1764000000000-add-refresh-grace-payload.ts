import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

const TOKEN_TABLE = 'auth_token';
const COLUMN = 'grace_payload';

/**
 * Adds `auth_token.grace_payload`: the encrypted pair a rotated parent hands out again within
 * `refreshReuseGraceSeconds` (a racing tab), instead of the whole login being revoked as reuse.
 */
export class AddDurinRefreshGracePayload1764000000000 implements MigrationInterface {
  name = 'AddDurinRefreshGracePayload1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(
      TOKEN_TABLE,
      new TableColumn({ name: COLUMN, type: 'text', isNullable: true }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn(TOKEN_TABLE, COLUMN);
  }
}
