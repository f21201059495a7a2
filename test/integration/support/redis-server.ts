import { ChildProcess, spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { getFreePort } from '../../support/free-port';
import {
  describeNeeding,
  findSystemBinary,
  missingBinaryMessage,
} from '../../support/system-binary';

/** redis-server from DURIN_REDIS_SERVER, PATH or the system directories (`.ci/run` installs it). */
export const REDIS_SERVER = findSystemBinary(
  'redis-server',
  'DURIN_REDIS_SERVER',
  'apt-get install redis-server',
);

/**
 * `describe` for every test that starts a Redis server: skipped and reported when redis-server is
 * missing, required (a failure) when CI=true.
 */
export const describeRedis = describeNeeding(REDIS_SERVER);

/** A throwaway Redis server for one test file: no persistence, loopback only. */
export interface TestRedisServer {
  readonly port: number;
  readonly url: string;
  /** Stops it (SIGTERM, then SIGKILL); safe to call twice. */
  stop(): Promise<void>;
  /** Stops it hard (SIGKILL), as in a crash. */
  kill(): Promise<void>;
}

function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = createConnection({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.end();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`redis-server did not listen on ${port}`));
        else setTimeout(attempt, 25);
      });
    };
    attempt();
  });
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Starts `redis-server --port <free> --save '' --appendonly no`. Call it inside
 * {@link describeRedis}; it throws when the binary is missing.
 */
export async function startRedisServer(port?: number): Promise<TestRedisServer> {
  const binary = REDIS_SERVER.path;
  if (binary === undefined) throw new Error(missingBinaryMessage(REDIS_SERVER));
  const chosen = port ?? (await getFreePort());
  const child = spawn(
    binary,
    ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  // Without a listener a failed spawn (EACCES) would be thrown as an uncaught 'error' event.
  child.once('error', (error) => (output += `\n${binary}: ${error.message}`));
  child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  try {
    await waitForPort(chosen, 10_000);
  } catch (error) {
    await stopChild(child, 'SIGKILL');
    throw new Error(`${(error as Error).message}\n${output}`);
  }
  return {
    port: chosen,
    url: `redis://127.0.0.1:${chosen}`,
    stop: () => stopChild(child, 'SIGTERM'),
    kill: () => stopChild(child, 'SIGKILL'),
  };
}
