import { ModuleMetadata } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { getDataSourceToken, TypeOrmModule, TypeOrmModuleOptions } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource, Repository } from 'typeorm';
import {
  AbstractAuthToken,
  AuthTokenEntity,
  DURIN_CLOCK,
  DURIN_MIGRATIONS,
  DurinModule,
  DurinModuleRootOptions,
  ManualClock,
  TokenService,
} from '../../../lib';
import { createTestDatabase, TestDatabase, TestDbKind } from '../../support/databases';
import { QueryCounter } from '../../support/query-counter';
import { CreateUsers1700000000000, User } from './user.entity';

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** 2030-01-01T00:00:00Z: far from the real clock, so nothing passes by accident of wall time. */
export const START = Date.UTC(2030, 0, 1);

/** Nest's logger, silenced: expected boot failures would otherwise fill the test output. */
export const silentLogger = {
  log: () => undefined,
  error: () => undefined,
  warn: () => undefined,
  debug: () => undefined,
  verbose: () => undefined,
};

/**
 * A database for a test that may outlive one app (a restart). SQLite uses a temporary file
 * instead of `:memory:`, which would vanish with the first app's connection.
 */
export async function createPersistentDatabase(kind: TestDbKind): Promise<TestDatabase> {
  if (kind !== 'sqlite') {
    return createTestDatabase(kind);
  }
  const file = join(tmpdir(), `durin-test-${randomBytes(6).toString('hex')}.sqlite`);
  return {
    kind,
    name: file,
    options: { type: 'better-sqlite3', database: file },
    drop: () => rm(file, { force: true }),
  };
}

/**
 * TypeORM options for the app: PostgreSQL and MariaDB get their schema from the migrations (the app's users
 * table, then DURIN_MIGRATIONS), SQLite from `synchronize`, as the README recommends.
 */
export function typeOrmOptions(
  db: TestDatabase,
  extra: Partial<TypeOrmModuleOptions> = {},
): TypeOrmModuleOptions {
  const schema =
    db.kind !== 'sqlite'
      ? { migrations: [CreateUsers1700000000000, ...DURIN_MIGRATIONS], migrationsRun: true }
      : { synchronize: true };
  return {
    ...db.options,
    ...schema,
    entities: [User],
    autoLoadEntities: true,
    retryAttempts: 1,
    // Quiet by default: TypeORM's console logger would print expected failures of boot tests.
    logger: new QueryCounter(),
    ...extra,
  } as TypeOrmModuleOptions;
}

export interface DurinTestApp<T extends AbstractAuthToken = AuthTokenEntity> {
  readonly kind: TestDbKind;
  readonly db: TestDatabase;
  readonly module: TestingModule;
  readonly service: TokenService<T>;
  readonly dataSource: DataSource;
  readonly clock: ManualClock;
  readonly recorder: QueryCounter;
  readonly users: Repository<User>;
  readonly tokens: Repository<T>;
  createUser(fields?: Partial<User>): Promise<User>;
  /** Closes the app; drops the database unless `keepDatabase`. */
  close(options?: { keepDatabase?: boolean }): Promise<void>;
}

export interface StartOptions {
  /** Reuse a database (for restarts); a fresh one is created otherwise. */
  db?: TestDatabase;
  clock?: ManualClock;
  typeorm?: Partial<TypeOrmModuleOptions>;
  imports?: ModuleMetadata['imports'];
}

let userCounter = 0;

/**
 * Boots a real Nest testing module with TypeORM and DurinModule.forRoot on the given engine, with
 * the clock replaced by a {@link ManualClock}.
 */
export async function startDurinApp<T extends AbstractAuthToken = AuthTokenEntity>(
  kind: TestDbKind,
  durin: Partial<DurinModuleRootOptions> = {},
  start: StartOptions = {},
): Promise<DurinTestApp<T>> {
  const db = start.db ?? (await createTestDatabase(kind));
  const clock = start.clock ?? new ManualClock(START);
  const recorder = new QueryCounter();
  let module: TestingModule;
  try {
    module = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot(typeOrmOptions(db, { logger: recorder, ...start.typeorm })),
        DurinModule.forRoot({ userEntity: User, ...durin }),
        ...(start.imports ?? []),
      ],
    })
      .overrideProvider(DURIN_CLOCK)
      .useValue(clock)
      .setLogger(silentLogger)
      .compile();
    await module.init();
  } catch (error) {
    if (!start.db) await db.drop();
    throw error;
  }
  const dataSource = module.get<DataSource>(getDataSourceToken());
  const tokenEntity = durin.tokenEntity ?? AuthTokenEntity;
  return {
    kind,
    db,
    module,
    service: module.get<TokenService<T>>(TokenService),
    dataSource,
    clock,
    recorder,
    users: dataSource.getRepository(User),
    tokens: dataSource.getRepository(tokenEntity) as Repository<T>,
    createUser: (fields = {}) =>
      dataSource.getRepository(User).save({ email: `user${++userCounter}@example.com`, ...fields }),
    close: async ({ keepDatabase = false } = {}) => {
      await module.close();
      if (!keepDatabase) await db.drop();
    },
  };
}
