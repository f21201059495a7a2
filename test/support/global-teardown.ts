import { PG_URL_ENV, SERVER_HANDLE, type TestPostgresServer } from './postgres';

/** Stops the shared PostgreSQL server and removes its data directory. */
export default async function globalTeardown(): Promise<void> {
  const registry = globalThis as Record<symbol, unknown>;
  const server = registry[SERVER_HANDLE] as TestPostgresServer | undefined;
  if (server === undefined) return;
  delete registry[SERVER_HANDLE];
  delete process.env[PG_URL_ENV];
  await server.stop();
}
