import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * A program from the system (not from npm) that some tests need, such as redis-server.
 *
 * The rule: `npm test` needs nothing installed by hand, so when the program is missing its tests
 * are skipped (counted in jest's summary, and named in one line at the end of the run by
 * not-run-reporter.js), except under `CI=true`, where they are required and a missing program
 * fails the run.
 */
export interface SystemBinary {
  /** The program's file name, e.g. `redis-server`. */
  readonly name: string;
  /** Where it was found, or undefined. */
  readonly path: string | undefined;
  /** The environment variable that points at it explicitly. */
  readonly override: string;
  /** How to install it, for messages. */
  readonly install: string;
}

/** Places searched after PATH: a login shell for a non-root user often lacks the sbin ones. */
const FALLBACK_DIRS = ['/usr/local/bin', '/usr/bin', '/usr/local/sbin', '/usr/sbin'];

/**
 * Finds a program: the `override` variable if set, else the first match on PATH, else the usual
 * system directories.
 *
 * @throws when `override` is set but does not name an executable file: an explicit setting that
 * is wrong must not turn into skipped tests.
 */
export function findSystemBinary(name: string, override: string, install: string): SystemBinary {
  const explicit = process.env[override];
  if (explicit !== undefined && explicit !== '') {
    if (!isExecutableFile(explicit)) {
      throw new Error(`${override}=${explicit} is not an executable file`);
    }
    return { name, path: explicit, override, install };
  }
  const dirs = (process.env.PATH ?? '').split(delimiter).filter((dir) => dir !== '');
  const found = [...dirs, ...FALLBACK_DIRS]
    .map((dir) => join(dir, name))
    .find((candidate) => isExecutableFile(candidate));
  return { name, path: found, override, install };
}

/** True when this run must have every system binary (CI sets CI=true). */
export function systemBinariesRequired(): boolean {
  return process.env.CI === 'true';
}

/** The message of a required binary that is missing. */
export function missingBinaryMessage(binary: SystemBinary): string {
  return (
    `${binary.name} not found (searched ${binary.override}, PATH and ${FALLBACK_DIRS.join(', ')}): ` +
    `${binary.install}, or set ${binary.override}; its tests are required when CI=true`
  );
}

/**
 * A `describe` for tests that need `binary`: the real `describe` when it is there; when it is
 * not, `describe.skip` with the reason appended to the title (which not-run-reporter.js counts
 * and reports), or, under CI=true, an error that fails the test file.
 *
 * @example
 * const describeRedis = describeNeeding(REDIS_SERVER);
 * describeRedis('over Redis pub/sub', () => { ... });
 */
export function describeNeeding(binary: SystemBinary): (name: string, fn: () => void) => void {
  return (name, fn) => {
    if (binary.path !== undefined) {
      describe(name, fn);
    } else if (systemBinariesRequired()) {
      throw new Error(missingBinaryMessage(binary));
    } else {
      // Keep in step with the pattern in not-run-reporter.js.
      describe.skip(`${name} (not run: ${binary.name} not found; ${binary.install})`, fn);
    }
  };
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
