import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DataSource } from 'typeorm';
import { mariadbOptions } from './databases';
import { getFreePort } from './free-port';
import { isAlive, OWNER_FILE, readPid, removeStaleServerDirs, withTimeout } from './server-process';
import { MARIADB_DEBUG_ENV, MARIADB_SERVER } from './mariadb-env';
import { findSystemBinary, missingBinaryMessage, systemBinariesRequired } from './system-binary';

// Only the jest global hooks import this file; tests use databases.ts.
export { MARIADB_URL_ENV } from './mariadb-env';

/** `--user` of the installer and the server: whoever runs the tests. */
const RUN_AS = `--user=${userInfo().username}`;

/** Hand-over from globalSetup to globalTeardown (see SERVER_HANDLE in postgres.ts for why). */
export const MARIADB_HANDLE = Symbol.for('nestjs-durin.test.mariadb');

const DIR_PREFIX = 'durin-mariadb-';
const PID_FILE = 'mariadbd.pid';
const TEST_USER = 'durin';
const INSTALL_TIMEOUT_MS = 60_000;
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;
const START_ATTEMPTS = 3;

/** A running MariaDB server started for this jest run. */
export interface TestMariadbServer {
  /** mariadb://durin:password@127.0.0.1:port/ (all privileges, no default database). */
  readonly url: string;
  readonly port: number;
  readonly version: string;
  readonly startupMs: number;
  stop(): Promise<void>;
}

/**
 * Starts a throwaway MariaDB server for one jest run, or returns `undefined` when `mariadbd` is
 * not installed (its tests are then reported as not run by the test files themselves).
 *
 * @throws when the binary is missing under CI=true, or when it is there but will not start: an
 * installed server that fails must fail the run, never turn into skipped tests.
 */
export async function startTestMariadb(): Promise<TestMariadbServer | undefined> {
  if (MARIADB_SERVER.path === undefined) {
    if (systemBinariesRequired()) throw new Error(missingBinaryMessage(MARIADB_SERVER));
    return undefined;
  }
  const server = MARIADB_SERVER.path;
  // Debian puts mariadbd in /usr/sbin and the installer in /usr/bin; look next to the server
  // first so an explicit DURIN_MARIADB_SERVER build gets its own installer.
  const installer = findSystemBinary(
    'mariadb-install-db',
    'DURIN_MARIADB_INSTALL_DB',
    'apt-get install mariadb-server',
  );
  const siblingInstaller = join(dirname(dirname(server)), 'bin', 'mariadb-install-db');
  const installPath = (await isFile(siblingInstaller)) ? siblingInstaller : installer.path;
  if (installPath === undefined) throw new Error(missingBinaryMessage(installer));

  const startedAt = performance.now();
  const log = new Tail(process.env[MARIADB_DEBUG_ENV] === '1');
  await removeStaleServerDirs(DIR_PREFIX, (rootDir) => killOrphan(rootDir)).catch(
    (err: unknown) => {
      // Housekeeping only: a leftover directory must never stop a fresh run from starting.
      log.write(`stale directory cleanup failed: ${String(err)}`);
    },
  );

  const rootDir = await mkdtemp(join(tmpdir(), DIR_PREFIX));
  try {
    await writeFile(join(rootDir, OWNER_FILE), `${process.pid}\n`);
    const dataDir = join(rootDir, 'data');
    await mkdir(dataDir);
    await run(
      installPath,
      [
        '--no-defaults',
        `--datadir=${dataDir}`,
        // The owner of the data files: the user running the tests (root must be named, or
        // mariadbd refuses to run as root; any other user can only chown to itself).
        RUN_AS,
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
      ],
      log,
    );
    const password = randomBytes(16).toString('hex');
    // Executed by the server at start-up: a password user for TCP, so nothing depends on how the
    // installer set up root (socket auth, host names).
    const initFile = join(rootDir, 'init.sql');
    await writeFile(
      initFile,
      `CREATE USER IF NOT EXISTS '${TEST_USER}'@'127.0.0.1' IDENTIFIED BY '${password}';\n` +
        `GRANT ALL PRIVILEGES ON *.* TO '${TEST_USER}'@'127.0.0.1' WITH GRANT OPTION;\n`,
    );

    for (let attempt = 1; ; attempt += 1) {
      const port = await getFreePort();
      let child: ChildProcess;
      try {
        child = await withTimeout(
          startServer(server, rootDir, dataDir, initFile, port, log),
          START_TIMEOUT_MS,
          'mariadbd start',
        );
      } catch (err) {
        // Another process may have taken the port between the probe and the bind: try another.
        if (attempt < START_ATTEMPTS && /address already in use/i.test(String(err))) continue;
        throw err;
      }
      const url = `mariadb://${TEST_USER}:${password}@127.0.0.1:${port}/`;
      let version: string;
      try {
        version = await serverVersion(url);
      } catch (err) {
        await stopServer(child, rootDir);
        throw err;
      }
      return {
        url,
        port,
        version,
        startupMs: performance.now() - startedAt,
        stop: () => stopServer(child, rootDir),
      };
    }
  } catch (err) {
    process.stderr.write(`[durin-test] mariadbd output:\n${log.toString()}\n`);
    await rm(rootDir, { recursive: true, force: true });
    throw new Error(`MariaDB did not start: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function startServer(
  server: string,
  rootDir: string,
  dataDir: string,
  initFile: string,
  port: number,
  log: Tail,
): Promise<ChildProcess> {
  const child = spawn(
    server,
    [
      '--no-defaults',
      `--datadir=${dataDir}`,
      RUN_AS,
      `--port=${port}`,
      // TCP on loopback only; the socket file stays inside our own directory.
      '--bind-address=127.0.0.1',
      `--socket=${join(rootDir, 'mariadbd.sock')}`,
      `--pid-file=${join(rootDir, PID_FILE)}`,
      `--init-file=${initFile}`,
      '--skip-name-resolve',
      // Durability is worthless for a throwaway server and costs an fsync per commit.
      '--innodb-flush-log-at-trx-commit=0',
      '--innodb-doublewrite=0',
      '--skip-log-bin',
      '--performance-schema=OFF',
      '--innodb-buffer-pool-size=64M',
      // Every test database keeps a pool open while it runs (see max_connections in postgres.ts).
      '--max-connections=300',
      '--character-set-server=utf8mb4',
      '--collation-server=utf8mb4_unicode_ci',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (chunk: Buffer) => log.write(chunk.toString('utf8')));
  return new Promise<ChildProcess>((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      log.write(text);
      output = (output + text).slice(-4096);
      if (output.includes('ready for connections')) {
        child.stderr?.off('data', onData);
        // Keep draining: a full pipe would block the server.
        child.stderr?.on('data', (more: Buffer) => log.write(more.toString('utf8')));
        resolve(child);
      }
    };
    child.stderr?.on('data', onData);
    child.once('error', (err) => reject(new Error(`could not run ${server}: ${err.message}`)));
    child.once('exit', (code, signal) => {
      const last = output.trim().split('\n').at(-1) || 'no output';
      reject(new Error(`mariadbd exited during start-up (${signal ?? `code ${code}`}): ${last}`));
    });
  });
}

async function serverVersion(url: string): Promise<string> {
  const client = new DataSource({ ...mariadbOptions(url), extra: { connectionLimit: 1 } });
  await client.initialize();
  try {
    const [row] = (await client.query('SELECT VERSION() AS version')) as Array<{
      version: string;
    }>;
    return row.version;
  } finally {
    await client.destroy();
  }
}

async function stopServer(server: ChildProcess, rootDir: string): Promise<void> {
  try {
    if (server.exitCode === null && server.signalCode === null) {
      const exited = once(server, 'exit');
      // SIGTERM is mariadbd's normal shutdown.
      server.kill('SIGTERM');
      await withTimeout(exited, STOP_TIMEOUT_MS, 'mariadbd stop');
    }
  } catch {
    server.kill('SIGKILL');
  } finally {
    await rm(rootDir, { recursive: true, force: true });
  }
}

/** Stops the mariadbd of a dead run, after /proc confirms the pid is still that server. */
async function killOrphan(rootDir: string): Promise<void> {
  const pid = await readPid(join(rootDir, PID_FILE));
  if (pid === undefined || !isAlive(pid)) return;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!cmdline.includes(rootDir)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Gone already.
  }
}

async function run(program: string, args: string[], log: Tail): Promise<void> {
  const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (chunk: Buffer) => log.write(chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => log.write(chunk.toString('utf8')));
  const [code, signal] = (await withTimeout(once(child, 'exit'), INSTALL_TIMEOUT_MS, program)) as [
    number | null,
    NodeJS.Signals | null,
  ];
  if (code !== 0) throw new Error(`${program} exited with ${signal ?? `code ${code}`}`);
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}

/** The last lines of installer and server output, so a failed start can explain itself. */
class Tail {
  private readonly lines: string[] = [];

  constructor(private readonly echo: boolean) {}

  write(text: string): void {
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      if (this.echo) process.stderr.write(`[mariadb] ${line}\n`);
      this.lines.push(line);
      if (this.lines.length > 100) this.lines.shift();
    }
  }

  toString(): string {
    return this.lines.join('\n');
  }
}
