import { PG_SWITCH_ENV, PG_URL_ENV, SERVER_HANDLE, startTestPostgres } from './postgres';

/**
 * Starts the one PostgreSQL server shared by the whole jest run.
 *
 * The URL goes into process.env before jest spawns any worker, so it reaches test files both with
 * `--runInBand` (same process) and with workers (they inherit the environment).
 */
export default async function globalSetup(): Promise<void> {
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
