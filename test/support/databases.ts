import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { BetterSqlite3ConnectionOptions } from 'typeorm/driver/better-sqlite3/BetterSqlite3ConnectionOptions';
import type { PostgresConnectionOptions } from 'typeorm/driver/postgres/PostgresConnectionOptions';
import { PG_SWITCH_ENV, PG_URL_ENV } from './pg-env';

/** The database engines every integration and e2e suite runs against. */
export type TestDbKind = 'sqlite' | 'postgres';

/** Iterate over this (e.g. `describe.each(DB_KINDS)`) so each suite covers both engines. */
export const DB_KINDS: TestDbKind[] = ['sqlite', 'postgres'];

/** Schema-related options are left to the caller, who knows which entities and migrations apply. */
type ConnectionOnly<T> = Omit<
  T,
  'entities' | 'synchronize' | 'migrations' | 'migrationsRun' | 'subscribers'
>;

export type PostgresTestOptions = ConnectionOnly<PostgresConnectionOptions>;
export type SqliteTestOptions = ConnectionOnly<BetterSqlite3ConnectionOptions>;

/**
 * Connection options for a test database. Spread them into `new DataSource({...})` or
 * `TypeOrmModule.forRoot({...})` and add entities/synchronize/migrations.
 */
export type TestDbOptions = PostgresTestOptions | SqliteTestOptions;

/** A database that belongs to one test (file); call `drop()` in `afterAll`/`afterEach`. */
export interface TestDatabase {
  readonly kind: TestDbKind;
  /** The database name (`:memory:` for SQLite). */
  readonly name: string;
  readonly options: TestDbOptions;
  /** Removes the database. Destroy your DataSource/app first; safe to call twice. */
  drop(): Promise<void>;
}

/**
 * Time limits applied to every PostgreSQL test connection. Without them a stalled connection (see
 * `TcpProxy.pause`) hangs until the jest timeout and reports nothing useful.
 */
export const PG_TEST_TIMEOUTS = {
  connectTimeoutMS: 5_000,
  queryTimeoutMS: 15_000,
} as const;

/**
 * URL of the shared server's maintenance database, as published by globalSetup.
 *
 * @throws when globalSetup did not start PostgreSQL, so a PostgreSQL test fails instead of
 * silently passing or being skipped.
 */
export function pgAdminUrl(): string {
  const url = process.env[PG_URL_ENV];
  if (url === undefined || url === '') {
    const why =
      process.env[PG_SWITCH_ENV] === 'off'
        ? `${PG_SWITCH_ENV}=off was set for this run`
        : 'jest globalSetup (test/support/global-setup.ts) did not run or did not finish';
    throw new Error(`${PG_URL_ENV} is not set: ${why}. PostgreSQL tests cannot run.`);
  }
  return url;
}

/**
 * Creates an empty database of the given kind.
 *
 * For PostgreSQL this is a fresh `durin_test_<hex>` database on the shared server, so suites
 * never see each other's rows and need no cleanup between files.
 *
 * @example
 * const db = await createTestDatabase('postgres');
 * const dataSource = new DataSource({ ...db.options, entities: [User], synchronize: true });
 * // ...
 * await dataSource.destroy();
 * await db.drop();
 */
export async function createTestDatabase(kind: TestDbKind): Promise<TestDatabase> {
  switch (kind) {
    case 'sqlite':
      return {
        kind,
        name: ':memory:',
        options: { type: 'better-sqlite3', database: ':memory:' },
        // The database lives and dies with its DataSource's connection.
        drop: async () => undefined,
      };
    case 'postgres':
      return createPostgresDatabase();
  }
}

async function createPostgresDatabase(): Promise<TestDatabase> {
  const adminUrl = pgAdminUrl();
  const name = `durin_test_${randomBytes(6).toString('hex')}`;
  await withAdmin(adminUrl, (admin) => admin.query(`CREATE DATABASE ${quoteIdent(name)}`));

  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    kind: 'postgres',
    name,
    options: postgresOptions(url.toString()),
    drop: async () => {
      if (dropped) return;
      dropped = true;
      await withAdmin(adminUrl, async (admin) => {
        // A test that forgot to close its pool must not make every later drop fail.
        await admin.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity ' +
            'WHERE datname = $1 AND pid <> pg_backend_pid()',
          [name],
        );
        // FORCE closes the gap in which a pool reconnects between the terminate and the drop.
        await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
      });
    },
  };
}

/** Options for a PostgreSQL connection to `url`, with the test time limits applied. */
export function postgresOptions(url: string): PostgresTestOptions {
  return {
    type: 'postgres',
    url,
    applicationName: 'nestjs-durin-test',
    connectTimeoutMS: PG_TEST_TIMEOUTS.connectTimeoutMS,
    // Passed straight to pg's Pool/Client: makes a query with no answer reject instead of hang.
    extra: { query_timeout: PG_TEST_TIMEOUTS.queryTimeoutMS },
  };
}

async function withAdmin<T>(adminUrl: string, work: (admin: DataSource) => Promise<T>): Promise<T> {
  // TypeORM rather than a bare pg Client: pg ships no type declarations in this repo.
  const admin = new DataSource({
    ...postgresOptions(adminUrl),
    extra: { max: 1, query_timeout: PG_TEST_TIMEOUTS.queryTimeoutMS },
  });
  await admin.initialize();
  try {
    return await work(admin);
  } finally {
    await admin.destroy();
  }
}

function quoteIdent(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}
