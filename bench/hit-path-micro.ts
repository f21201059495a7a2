/**
 * The cached hit path through `AuthGuard.canActivate` (issue 12): a real DurinModule on SQLite, one
 * issued header token, then N cache hits with a fake HTTP ExecutionContext, each on a fresh
 * request object as Express would give it. Prints, per configuration (no tag key / with
 * `tokenTagKey`), the best-of-rounds CPU ns per hit and the bytes allocated per hit (heap growth
 * over a run that no GC interrupted; run with a large young generation so none does).
 *
 * Standalone, not part of `npm run bench`. Run:
 *   node --expose-gc --max-semi-space-size=256 -r ts-node/register/transpile-only bench/hit-path-micro.ts
 * For a profile add `--cpu-prof --cpu-prof-dir=/tmp/prof` (and HIT_PROFILE=1 for a longer run).
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { PerformanceObserver } from 'node:perf_hooks';
import type { ExecutionContext } from '@nestjs/common';
import { AuthGuard, DurinModuleRootOptions } from '../lib';
import { startDurinApp } from '../test/integration/support/durin-test-app';

const HITS = process.env.HIT_PROFILE === '1' ? 500_000 : 20_000;
const ROUNDS = 7;
const ALLOC_HITS = 10_000;

class Handler {}
function handler(): void {}

function contextFor(request: object): ExecutionContext {
  const http = { getRequest: () => request, getResponse: () => ({}), getNext: () => undefined };
  return {
    getType: () => 'http',
    getHandler: () => handler,
    getClass: () => Handler,
    getArgs: () => [request, {}],
    switchToHttp: () => http,
  } as unknown as ExecutionContext;
}

let gcs = 0;
new PerformanceObserver((list) => {
  gcs += list.getEntries().length;
}).observe({ entryTypes: ['gc'] });

async function run(guard: AuthGuard, token: string, count: number): Promise<void> {
  const authorization = `Bearer ${token}`;
  for (let i = 0; i < count; i += 1) {
    const request = { headers: { authorization }, rawHeaders: ['Authorization', authorization] };
    if (!(await guard.canActivate(contextFor(request)))) throw new Error('refused');
  }
}

/** Bytes allocated by the harness alone (request object, context, closures). */
async function baseline(count: number): Promise<void> {
  const authorization = 'Bearer x';
  for (let i = 0; i < count; i += 1) {
    const request = { headers: { authorization }, rawHeaders: ['Authorization', authorization] };
    const context = contextFor(request);
    if (context.getType() !== 'http') throw new Error('unreachable');
    await Promise.resolve(true);
  }
}

async function allocatedPerCall(fn: () => Promise<void>, count: number): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return NaN;
  for (let attempt = 0; attempt < 5; attempt += 1) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    const before = gcs;
    const start = process.memoryUsage().heapUsed;
    await fn();
    const used = process.memoryUsage().heapUsed - start;
    if (gcs === before) return used / count;
  }
  return NaN;
}

async function measure(name: string, durin: Partial<DurinModuleRootOptions>): Promise<void> {
  const app = await startDurinApp('sqlite', {
    tokenTtl: '1h',
    refreshTokenTtl: '1d',
    // A hit that writes nothing: lastUsedAt was recorded on the first use.
    autoRefreshInterval: '1h',
    ...durin,
  });
  try {
    const user = await app.createUser();
    const { accessToken } = await app.service.generateHeaderToken(user);
    const guard = app.module.get(AuthGuard);
    await run(guard, accessToken, 20_000); // first use writes lastUsedAt, fills the cache, warms up
    const sql = app.recorder.count;
    const times: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      const cpu = process.cpuUsage();
      await run(guard, accessToken, HITS);
      const used = process.cpuUsage(cpu);
      times.push(((used.user + used.system) * 1000) / HITS);
    }
    if (app.recorder.count !== sql) throw new Error('a hit ran SQL: not the cached path');
    const bytes = await allocatedPerCall(() => run(guard, accessToken, ALLOC_HITS), ALLOC_HITS);
    const harness = await allocatedPerCall(() => baseline(ALLOC_HITS), ALLOC_HITS);
    times.sort((a, b) => a - b);
    console.log(
      `${name.padEnd(16)} cpu ns/hit min ${times[0].toFixed(0)} median ${times[ROUNDS >> 1].toFixed(0)}` +
        `  bytes/hit ${(bytes - harness).toFixed(0)} (harness ${harness.toFixed(0)} excluded)`,
    );
  } finally {
    await app.close();
  }
}

async function main(): Promise<void> {
  await measure('no tag key', {});
  await measure('tokenTagKey', { tokenTagKey: randomBytes(32).toString('base64url') });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
