// Names shared by the jest global hooks and the test-side helpers, kept apart from mariadb.ts for
// the same reason as pg-env.ts: test files need these, not the code that starts the server.
import { findSystemBinary } from './system-binary';

/** Environment variable through which globalSetup hands the MariaDB server URL to test files. */
export const MARIADB_URL_ENV = 'DURIN_TEST_MARIADB_URL';

/** Set to `1` to see mariadb-install-db/mariadbd output while debugging the harness. */
export const MARIADB_DEBUG_ENV = 'DURIN_TEST_MARIADB_DEBUG';

/**
 * The MariaDB server from Debian's `mariadb-server` package (not from npm, hence the system-binary
 * rule: its tests are not run without it, and are required with CI=true).
 */
export const MARIADB_SERVER = findSystemBinary(
  'mariadbd',
  'DURIN_MARIADB_SERVER',
  'apt-get install mariadb-server',
);
