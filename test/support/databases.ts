import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { BetterSqlite3ConnectionOptions } from 'typeorm/driver/better-sqlite3/BetterSqlite3ConnectionOptions';
import type { MysqlConnectionOptions } from 'typeorm/driver/mysql/MysqlConnectionOptions';
import type { PostgresConnectionOptions } from 'typeorm/driver/postgres/PostgresConnectionOptions';
import { MARIADB_SERVER, MARIADB_URL_ENV } from './mariadb-env';
import { PG_SWITCH_ENV, PG_URL_ENV } from './pg-env';
import { describeNeeding, missingBinaryMessage } from './system-binary';

/** The database engines every integration and e2e suite runs against. */
export type TestDbKind = 'sqlite' | 'postgres' | 'mariadb';

/** Every engine the suites are written for, whether or not it can run here. */
export const ALL_DB_KINDS: readonly TestDbKind[] = ['sqlite', 'postgres', 'mariadb'];

/**
 * The engines that run here. MariaDB is a system program (`mariadb-server`): without it, it is
 * left out, and {@link describeEachDb} / {@link describeEachRow} report its variants as not run.
 */
export const DB_KINDS: TestDbKind[] = ALL_DB_KINDS.filter(
  (kind) => kind !== 'mariadb' || MARIADB_SERVER.path !== undefined,
);

/**
 * `describe.each(rows)(title, fn)` for rows that name a database engine (a matrix of adapter and
 * engine, say). Rows on MariaDB when `mariadbd` is missing are described as not run (counted by
 * not-run-reporter.js), or fail the file under CI=true: see `describeNeeding`.
 *
 * @example
 * describeEachRow([['express', 'mariadb']] as const, 'over %s on %s', (adapter, kind) => { ... });
 */
export function describeEachRow<R extends readonly unknown[]>(
  rows: readonly R[],
  title: string,
  fn: (...row: R) => void,
): void {
  // A row is on MariaDB when one of its cells is that kind (rows hold adapter names, kinds and
  // options, never the string 'mariadb' for anything else).
  const missing = (row: R) => MARIADB_SERVER.path === undefined && row.includes('mariadb');
  const runnable = rows.filter((row) => !missing(row));
  // Jest spreads each array row into the callback's arguments; its typings cannot follow a generic
  // row type through that, hence the casts.
  if (runnable.length > 0) {
    describe.each(runnable as unknown as unknown[][])(title, (...row: unknown[]) =>
      fn(...(row as unknown as R)),
    );
  }
  for (const row of rows.filter(missing)) {
    let cell = 0;
    const name = title.replace(/%s/g, () => String(row[cell++]));
    describeNeeding(MARIADB_SERVER)(name, () => fn(...row));
  }
}

/**
 * `describe.each(DB_KINDS)(title, fn)` over every engine, MariaDB reported as not run when
 * `mariadbd` is missing (see {@link describeEachRow}).
 *
 * @example
 * describeEachDb('token issue (%s)', (kind) => { ... });
 */
export function describeEachDb(title: string, fn: (kind: TestDbKind) => void): void {
  describeEachRow(
    ALL_DB_KINDS.map((kind): [TestDbKind] => [kind]),
    title,
    fn,
  );
}

/** Schema-related options are left to the caller, who knows which entities and migrations apply. */
type ConnectionOnly<T> = Omit<
  T,
  'entities' | 'synchronize' | 'migrations' | 'migrationsRun' | 'subscribers'
>;

export type PostgresTestOptions = ConnectionOnly<PostgresConnectionOptions>;
export type SqliteTestOptions = ConnectionOnly<BetterSqlite3ConnectionOptions>;
export type MariadbTestOptions = ConnectionOnly<MysqlConnectionOptions>;

/**
 * Connection options for a test database. Spread them into `new DataSource({...})` or
 * `TypeOrmModule.forRoot({...})` and add entities/synchronize/migrations.
 */
export type TestDbOptions = PostgresTestOptions | SqliteTestOptions | MariadbTestOptions;

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
    case 'mariadb':
      return createMariadbDatabase();
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

/**
 * URL of the shared MariaDB server, as published by globalSetup.
 *
 * @throws when globalSetup did not start it, so a MariaDB test fails instead of passing.
 */
export function mariadbAdminUrl(): string {
  const url = process.env[MARIADB_URL_ENV];
  if (url === undefined || url === '') {
    const why =
      MARIADB_SERVER.path === undefined
        ? missingBinaryMessage(MARIADB_SERVER)
        : 'jest globalSetup (test/support/global-setup.ts) did not run or did not finish';
    throw new Error(`${MARIADB_URL_ENV} is not set: ${why}. MariaDB tests cannot run.`);
  }
  return url;
}

/** Options for a MariaDB connection to `url`, with time limits like {@link PG_TEST_TIMEOUTS}. */
export function mariadbOptions(url: string): MariadbTestOptions {
  return {
    type: 'mariadb',
    url,
    connectTimeout: PG_TEST_TIMEOUTS.connectTimeoutMS,
    // The suites run many short transactions in parallel (the race tests); mysql2's default pool
    // of 10 would make them queue in the pool instead of in the database, where the locks are.
    extra: { connectionLimit: 25 },
  };
}

async function createMariadbDatabase(): Promise<TestDatabase> {
  const adminUrl = mariadbAdminUrl();
  const name = `durin_test_${randomBytes(6).toString('hex')}`;
  await withMariadbAdmin(adminUrl, (admin) => admin.query(`CREATE DATABASE \`${name}\``));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    kind: 'mariadb',
    name,
    options: mariadbOptions(url.toString()),
    drop: async () => {
      if (dropped) return;
      dropped = true;
      await withMariadbAdmin(adminUrl, async (admin) => {
        // As on PostgreSQL: a pool a test forgot to close must not make the drop wait on its locks.
        const sessions = (await admin.query(
          'SELECT id FROM information_schema.PROCESSLIST WHERE db = ? AND id <> CONNECTION_ID()',
          [name],
        )) as Array<{ id: number | string }>;
        for (const { id } of sessions) {
          await admin.query(`KILL ${Number(id)}`).catch(() => undefined);
        }
        await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
      });
    },
  };
}

async function withMariadbAdmin<T>(
  adminUrl: string,
  work: (admin: DataSource) => Promise<T>,
): Promise<T> {
  const admin = new DataSource({ ...mariadbOptions(adminUrl), extra: { connectionLimit: 1 } });
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
