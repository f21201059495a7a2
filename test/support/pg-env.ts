// Names shared by the jest global hooks and the test-side helpers. Kept apart from postgres.ts on
// purpose: test files need these names, not the code that starts the server.

/** Environment variable through which globalSetup hands the server URL to every test file. */
export const PG_URL_ENV = 'DURIN_TEST_PG_URL';

/** Set to `off` to run without PostgreSQL (e.g. unit tests only); PG helpers then throw. */
export const PG_SWITCH_ENV = 'DURIN_TEST_PG';

/** Set to `1` to see initdb/postgres output while debugging the harness. */
export const PG_DEBUG_ENV = 'DURIN_TEST_PG_DEBUG';
