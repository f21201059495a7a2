import {
  Column,
  Entity,
  MigrationInterface,
  PrimaryGeneratedColumn,
  QueryRunner,
  Table,
} from 'typeorm';

/** The application's user, as an app using nestjs-durin would have it. */
@Entity('users')
export class User {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: 100 })
  email!: string;

  @Column({ name: 'is_active', type: 'boolean', default: true })
  isActive!: boolean;
}

/**
 * The app's own migration for `users`: it must run before the durin migration, whose foreign key
 * points at this table. Matches the entity exactly so schema diffs only ever show durin's tables.
 */
export class CreateUsers1700000000000 implements MigrationInterface {
  name = 'CreateUsers1700000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'users',
        columns: [
          {
            name: 'id',
            type: 'integer',
            isPrimary: true,
            isGenerated: true,
            generationStrategy: 'increment',
          },
          { name: 'email', type: 'varchar', length: '100' },
          // What TypeORM writes for `boolean, default: true`: SQLite keeps booleans as 0/1, and
          // MySQL/MariaDB get a plain `tinyint` (`boolean` there would be `tinyint(1)`, a diff).
          {
            name: 'is_active',
            type: queryRunner.connection.driver.normalizeType({ type: 'boolean' }),
            default: queryRunner.connection.options.type === 'postgres' ? true : 1,
          },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('users');
  }
}
