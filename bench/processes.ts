/** The app processes of the benchmark (bench/app/server.ts) and their statistics route. */
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { DurinCacheStats } from '../lib';
import type { BenchAppConfig } from './app/server';

export interface AppProcess {
  child: ChildProcess;
  /** App name → port on 127.0.0.1. */
  ports: Record<string, number>;
}

/** Starts one process hosting one Nest app per config; resolves once every app listens. */
export async function startAppProcess(
  configs: BenchAppConfig[],
  nodeArgs: string[],
): Promise<AppProcess> {
  const child = spawn(
    process.execPath,
    [
      // Each run starts from a collected heap (see GET /bench/stats?gc=1).
      '--expose-gc',
      // e.g. BENCH_NODE_ARGS=--cpu-prof to profile the app processes
      ...nodeArgs,
      '-r',
      'ts-node/register/transpile-only',
      join(__dirname, 'app', 'server.ts'),
    ],
    {
      cwd: join(__dirname, '..'),
      env: { ...process.env, NODE_ENV: 'production', BENCH_APPS: JSON.stringify(configs) },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: child.stdout! });
  const ports = await new Promise<Record<string, number>>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('a bench app process did not start in 180 s')),
      180_000,
    );
    child.once('exit', (code) => reject(new Error(`a bench app process exited (${code})`)));
    lines.on('line', (line) => {
      if (line.startsWith('READY ')) {
        clearTimeout(timer);
        resolve(JSON.parse(line.slice(6)) as Record<string, number>);
      }
    });
  });
  return { child, ports };
}

export async function stopAppProcess(app: AppProcess): Promise<void> {
  if (app.child.exitCode !== null) return;
  const exited = new Promise((resolve) => app.child.once('exit', resolve));
  app.child.kill('SIGTERM');
  await exited;
}

export interface AppStats {
  queries: number;
  cache: DurinCacheStats;
  cookieName: string;
  rssBytes: number;
  /** CPU time of the whole process hosting the app. */
  cpuMicros: number;
}

/** The app's counters; `gc`: after a full collection in its process. */
export async function appStats(port: number, gc = false): Promise<AppStats> {
  const response = await fetch(`http://127.0.0.1:${port}/bench/stats${gc ? '?gc=1' : ''}`);
  return (await response.json()) as AppStats;
}

/** POSTs to a bench route and returns its JSON. */
export async function post<T>(port: number, path: string): Promise<T> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST' });
  if (!response.ok) throw new Error(`POST ${path}: ${response.status}`);
  return (await response.json()) as T;
}
