import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { DURIN_ENTITIES, registerDurinUserEntity } from '../../lib';
import { readSettings } from './config/settings';
import { connectionFromSettings, SAMPLE_MIGRATIONS } from './database/database.options';
import { User } from './users/user.entity';

// The app's DataSource outside Nest, from the same settings (DB_TYPE, SQLITE_PATH, DATABASE_URL):
// what the TypeORM CLI and the `durin` command load (`npm run durin -- client:list`).
registerDurinUserEntity(User);

export default new DataSource({
  ...connectionFromSettings(readSettings(process.env).database),
  entities: [User, ...DURIN_ENTITIES],
  migrations: SAMPLE_MIGRATIONS,
});
