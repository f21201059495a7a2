/**
 * What a forged token costs `TokenService.authenticate` (issue 12), in one process on the embedded
 * PostgreSQL, 50 calls in flight:
 *
 * - without `tokenTagKey`: a well-formed never-issued token (valid CRC) is one indexed SELECT;
 * - with `tokenTagKey`: a forged tagged token is refused in memory, no SQL;
 * - for scale, a cache hit of a genuine token with and without the key (the tag check is on the
 *   hit path too, before the cache).
 *
 * Reports SQL per call, wall µs per call (throughput: 50 in flight) and the process's CPU µs per
 * call. Standalone, not part of `npm run bench`. Run:
 *   npx ts-node --transpile-only bench/forged-request-micro.ts
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { DurinModuleRootOptions } from '../lib';
import { startDurinApp, DurinTestApp } from '../test/integration/support/durin-test-app';
import { forgedTagged, forgedUntagged } from '../test/support/forged-tokens';
import { PG_URL_ENV, startTestPostgres } from '../test/support/postgres';

const CALLS = 20_000;
const IN_FLIGHT = 50;
const TAG_KEY = randomBytes(32).toString('base64url');

interface Row {
  name: string;
  sqlPerCall: number;
  wallUs: number;
  cpuUs: number;
}

async function measure(app: DurinTestApp, name: string, tokens: string[]): Promise<Row> {
  const run = async (count: number) => {
    let next = 0;
    const worker = async () => {
      while (next < count) {
        const raw = tokens[next++ % tokens.length];
        await app.service.authenticate(raw, 'header');
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  };
  await run(2_000);
  const sqlBefore = app.recorder.count;
  const cpu = process.cpuUsage();
  const start = performance.now();
  await run(CALLS);
  const wallMs = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return {
    name,
    sqlPerCall: (app.recorder.count - sqlBefore) / CALLS,
    wallUs: (wallMs * 1000) / CALLS,
    cpuUs: (used.user + used.system) / CALLS,
  };
}

async function main(): Promise<void> {
  const server = await startTestPostgres();
  process.env[PG_URL_ENV] = server.url;
  const rows: Row[] = [];
  const base: Partial<DurinModuleRootOptions> = { tokenTtl: '1h', refreshTokenTtl: '1d' };
  try {
    for (const tagged of [false, true]) {
      const app = await startDurinApp(
        'postgres',
        tagged ? { ...base, tokenTagKey: TAG_KEY } : base,
      );
      try {
        const user = await app.createUser();
        const genuine = await app.service.generateHeaderToken(user);
        await app.service.authenticate(genuine.accessToken, 'header');
        const forged = Array.from({ length: CALLS }, () =>
          tagged ? forgedTagged('at2') : forgedUntagged('at'),
        );
        rows.push(
          await measure(
            app,
            tagged ? 'forged tagged token, tokenTagKey set' : 'never-issued token, no tokenTagKey',
            forged,
          ),
        );
        rows.push(
          await measure(
            app,
            `cache hit of a genuine token, ${tagged ? 'tokenTagKey set' : 'no tokenTagKey'}`,
            [genuine.accessToken],
          ),
        );
      } finally {
        await app.close();
      }
    }
  } finally {
    await server.stop();
  }
  console.log(
    `node ${process.version}, ${CALLS} calls, ${IN_FLIGHT} in flight, embedded PostgreSQL`,
  );
  console.log(`${'case'.padEnd(44)} SQL/call  wall µs/call  CPU µs/call`);
  for (const row of rows) {
    console.log(
      `${row.name.padEnd(44)} ${row.sqlPerCall.toFixed(3).padStart(8)}  ${row.wallUs
        .toFixed(1)
        .padStart(12)}  ${row.cpuUs.toFixed(1).padStart(11)}`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
