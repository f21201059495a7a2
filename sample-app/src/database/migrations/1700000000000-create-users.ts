import { MigrationInterface, QueryRunner, Table } from 'typeorm';

/**
 * The app's user table. Its timestamp is older than nestjs-durin's migrations, so it runs first:
 * the token table's foreign key references it.
 */
export class CreateUsers1700000000000 implements MigrationInterface {
  name = 'CreateUsers1700000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'app_user',
        columns: [
          {
            name: 'id',
            type: 'integer',
            isPrimary: true,
            isGenerated: true,
            generationStrategy: 'increment',
          },
          { name: 'username', type: 'varchar', length: '150' },
          { name: 'password_hash', type: 'varchar', length: '100' },
          { name: 'is_active', type: 'boolean' },
        ],
        indices: [{ columnNames: ['username'], isUnique: true }],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('app_user');
  }
}
