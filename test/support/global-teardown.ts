import { MARIADB_HANDLE, MARIADB_URL_ENV, type TestMariadbServer } from './mariadb';
import { PG_URL_ENV, SERVER_HANDLE, type TestPostgresServer } from './postgres';

/** Stops the shared database servers and removes their data directories. */
export default async function globalTeardown(): Promise<void> {
  const registry = globalThis as Record<symbol, unknown>;
  const mariadb = registry[MARIADB_HANDLE] as TestMariadbServer | undefined;
  delete registry[MARIADB_HANDLE];
  delete process.env[MARIADB_URL_ENV];
  const postgres = registry[SERVER_HANDLE] as TestPostgresServer | undefined;
  delete registry[SERVER_HANDLE];
  delete process.env[PG_URL_ENV];
  // Both, even when one stop fails: neither server may outlive the run.
  const results = await Promise.allSettled([mariadb?.stop(), postgres?.stop()]);
  const failed = results.find((result) => result.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}
