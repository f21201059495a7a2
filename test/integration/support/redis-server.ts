import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { getFreePort } from '../../support/free-port';

/** Debian's redis-server; `.ci/run` installs it, so its absence is a failure, never a skip. */
export const REDIS_SERVER_BINARY = process.env.DURIN_REDIS_SERVER ?? '/usr/bin/redis-server';

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
 * Starts `redis-server --port <free> --save '' --appendonly no`. Throws when the binary is
 * missing: CI installs it, and a Redis test that silently skipped would prove nothing.
 */
export async function startRedisServer(port?: number): Promise<TestRedisServer> {
  if (!existsSync(REDIS_SERVER_BINARY)) {
    throw new Error(
      `${REDIS_SERVER_BINARY} is missing: install redis-server (apt-get install redis-server; ` +
        '.ci/run does) or point DURIN_REDIS_SERVER at the binary. Redis tests do not skip.',
    );
  }
  const chosen = port ?? (await getFreePort());
  const child = spawn(
    REDIS_SERVER_BINARY,
    ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
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
