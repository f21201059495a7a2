import { MARIADB_HANDLE, MARIADB_URL_ENV, startTestMariadb } from './mariadb';
import {
  PG_SWITCH_ENV,
  PG_URL_ENV,
  SERVER_HANDLE,
  startTestPostgres,
  type TestPostgresServer,
} from './postgres';

/**
 * Starts the one PostgreSQL server, and the one MariaDB server when `mariadbd` is installed,
 * shared by the whole jest run.
 *
 * The URL goes into process.env before jest spawns any worker, so it reaches test files both with
 * `--runInBand` (same process) and with workers (they inherit the environment).
 */
export default async function globalSetup(): Promise<void> {
  await setupPostgres();
  try {
    await setupMariadb();
  } catch (err) {
    // Jest skips globalTeardown when globalSetup throws: stop PostgreSQL here instead.
    const postgres = (globalThis as Record<symbol, unknown>)[SERVER_HANDLE] as
      TestPostgresServer | undefined;
    await postgres?.stop().catch(() => undefined);
    throw err;
  }
}

async function setupPostgres(): Promise<void> {
  if (process.env[PG_SWITCH_ENV] === 'off') {
    // An explicit opt-out for quick unit runs. PG helpers throw without the URL, so a PostgreSQL
    // test that runs anyway fails loudly instead of being skipped.
    delete process.env[PG_URL_ENV];
    process.stderr.write(`[durin-test] ${PG_SWITCH_ENV}=off: PostgreSQL not started\n`);
    return;
  }

  const server = await startTestPostgres();
  (globalThis as Record<symbol, unknown>)[SERVER_HANDLE] = server;
  process.env[PG_URL_ENV] = server.url;
  process.stderr.write(
    `\n[durin-test] PostgreSQL ready on 127.0.0.1:${server.port} ` +
      `in ${(server.startupMs / 1000).toFixed(1)} s\n`,
  );
}

async function setupMariadb(): Promise<void> {
  // Without mariadbd this is undefined (or throws under CI=true); the test files then report their
  // MariaDB variants as not run, so no line is printed here.
  const server = await startTestMariadb();
  if (server === undefined) {
    delete process.env[MARIADB_URL_ENV];
    return;
  }
  (globalThis as Record<symbol, unknown>)[MARIADB_HANDLE] = server;
  process.env[MARIADB_URL_ENV] = server.url;
  process.stderr.write(
    `[durin-test] MariaDB ${server.version} ready on 127.0.0.1:${server.port} ` +
      `in ${(server.startupMs / 1000).toFixed(1)} s\n`,
  );
}
