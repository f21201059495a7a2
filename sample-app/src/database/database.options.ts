import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { TypeOrmModuleOptions } from '@nestjs/typeorm';
import type { BetterSqlite3ConnectionOptions } from 'typeorm/driver/better-sqlite3/BetterSqlite3ConnectionOptions';
import type { MysqlConnectionOptions } from 'typeorm/driver/mysql/MysqlConnectionOptions';
import type { PostgresConnectionOptions } from 'typeorm/driver/postgres/PostgresConnectionOptions';
import { DURIN_MIGRATIONS } from '../../../lib';
import { DatabaseSettings } from '../config/settings';
import { User } from '../users/user.entity';
import { CreateUsers1700000000000 } from './migrations/1700000000000-create-users';

type SchemaKeys = 'entities' | 'synchronize' | 'migrations' | 'migrationsRun' | 'subscribers';

/** Where to connect: the app decides the schema (entities, migrations) itself. */
export type ConnectionOptions =
  | Omit<BetterSqlite3ConnectionOptions, SchemaKeys>
  | Omit<PostgresConnectionOptions, SchemaKeys>
  | Omit<MysqlConnectionOptions, SchemaKeys>;

/** The app's migrations, oldest first: its user table, then nestjs-durin's tables. */
export const SAMPLE_MIGRATIONS = [CreateUsers1700000000000, ...DURIN_MIGRATIONS];

/** Connection options for the configured database; creates the SQLite file's folder if needed. */
export function connectionFromSettings(settings: DatabaseSettings): ConnectionOptions {
  if (settings.type === 'postgres') {
    return { type: 'postgres', url: settings.url };
  }
  if (settings.path !== ':memory:') {
    mkdirSync(dirname(settings.path), { recursive: true });
  }
  return { type: 'better-sqlite3', database: settings.path };
}

/**
 * The full TypeORM options: the schema is only ever changed by migrations, which run at start-up
 * (a fresh SQLite file is created and migrated on the first `npm start`).
 */
export function typeOrmOptions(connection: ConnectionOptions): TypeOrmModuleOptions {
  return {
    ...connection,
    entities: [User],
    // Picks up nestjs-durin's token and client entities, registered with forFeature.
    autoLoadEntities: true,
    synchronize: false,
    migrations: SAMPLE_MIGRATIONS,
    migrationsRun: true,
  };
}
