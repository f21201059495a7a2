/**
 * Cache sizing (issue 12): the hit rate, SQL per call and CPU per call of `TokenService.authenticate`
 * for a working set of live tokens drawn uniformly, for several `cache.max` and `cache.ttl`, in one
 * process on the embedded PostgreSQL (no HTTP: the cache alone decides). Standalone, not part of
 * `npm run bench`; its table goes to docs/performance.md. Run:
 *   npx ts-node --transpile-only bench/cache-sizing.ts
 * Knobs: SIZING_TOKENS (100000), SIZING_CALLS (300000 measured per configuration, after as many
 * unmeasured ones to fill the cache).
 */
import 'reflect-metadata';
import { createHash, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { DurinCacheService, type DurinModuleRootOptions } from '../lib';
import { TokenFormat } from '../lib/tokens/token-format';
import {
  createPersistentDatabase,
  DurinTestApp,
  startDurinApp,
} from '../test/integration/support/durin-test-app';
import { PG_URL_ENV } from '../test/support/pg-env';
import { startTestPostgres } from '../test/support/postgres';
import { uniformDraws } from './draws';

const TOKENS = Number(process.env.SIZING_TOKENS ?? 100_000);
const CALLS = Number(process.env.SIZING_CALLS ?? 300_000);
const IN_FLIGHT = 50;

const CONFIGS: Array<{ max: number; ttl: string }> = [
  { max: 10_000, ttl: '5s' },
  { max: 10_000, ttl: '60s' },
  { max: 25_000, ttl: '60s' },
  { max: 50_000, ttl: '60s' },
  { max: 100_000, ttl: '5s' },
  { max: 100_000, ttl: '60s' },
];

interface Row {
  max: number;
  ttl: string;
  hitRate: number;
  sqlPerCall: number;
  cpuUs: number;
  callsPerSecond: number;
}

async function seed(app: DurinTestApp, raws: string[]): Promise<void> {
  const owner = await app.createUser();
  // On the test app's manual clock, which every app of the run starts from.
  const now = app.clock.now();
  for (let start = 0; start < raws.length; start += 10_000) {
    const batch = raws.slice(start, start + 10_000);
    await app.dataSource.query(
      `INSERT INTO auth_token (id, user_id, auth_type, context, token_hash, created_at,
                               expires_at, access_ttl_ms, last_used_at, family_id)
       SELECT id, $2, 'header', '{}', hash, $3::bigint, $3::bigint + 86400000, 86400000,
              $3::bigint, id
         FROM unnest($1::text[], $4::text[]) AS t(id, hash)`,
      [
        batch.map(() => randomUUID()),
        owner.id,
        now,
        batch.map((raw) => createHash('sha256').update(raw).digest('hex')),
      ],
    );
  }
  await app.dataSource.query('ANALYZE auth_token');
}

async function measure(app: DurinTestApp, raws: string[], draws: Uint32Array): Promise<Row> {
  let cursor = 0;
  const run = async (count: number) => {
    let done = 0;
    const worker = async () => {
      while (done < count) {
        done++;
        const raw = raws[draws[cursor++ % draws.length] % raws.length];
        const outcome = await app.service.authenticate(raw, 'header');
        if (!outcome.ok) throw new Error(`a live token was refused: ${outcome.reason}`);
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  };
  await run(CALLS);
  const cache = app.module.get(DurinCacheService);
  const before = cache.stats();
  const sqlBefore = app.recorder.count;
  const cpu = process.cpuUsage();
  const start = performance.now();
  await run(CALLS);
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  const after = cache.stats();
  const hits = after.hits - before.hits;
  const misses = after.misses - before.misses;
  return {
    max: 0,
    ttl: '',
    hitRate: hits / Math.max(1, hits + misses),
    sqlPerCall: (app.recorder.count - sqlBefore) / CALLS,
    cpuUs: (used.user + used.system) / CALLS,
    callsPerSecond: CALLS / seconds,
  };
}

async function main(): Promise<void> {
  const server = await startTestPostgres();
  process.env[PG_URL_ENV] = server.url;
  const db = await createPersistentDatabase('postgres');
  const format = new TokenFormat('durin');
  const raws = Array.from({ length: TOKENS }, () => format.generate('access'));
  const draws = uniformDraws(TOKENS, 2 * CALLS + 1, 12);
  const rows: Row[] = [];
  try {
    const seeder = await startDurinApp('postgres', {}, { db });
    await seed(seeder, raws);
    await seeder.close({ keepDatabase: true });
    for (const config of CONFIGS) {
      const options: Partial<DurinModuleRootOptions> = {
        cache: { max: config.max, ttl: config.ttl },
        // One lastUsedAt write per token and hour at most: the lookup alone is measured.
        autoRefreshInterval: '1h',
      };
      const app = await startDurinApp('postgres', options, { db });
      // The manual clock of the test app stays still; the cache's ttl runs on it too, so it is
      // moved along with the real time of the run.
      const started = Date.now();
      const clockStart = app.clock.now();
      const ticker = setInterval(() => app.clock.set(clockStart + (Date.now() - started)), 50);
      try {
        const row = await measure(app, raws, draws);
        rows.push({ ...row, max: config.max, ttl: config.ttl });
        process.stdout.write(`${JSON.stringify(rows[rows.length - 1])}\n`);
      } finally {
        clearInterval(ticker);
        await app.close({ keepDatabase: true });
      }
    }
  } finally {
    await db.drop();
    await server.stop();
  }
  const lines = [
    `Uniform draws over ${TOKENS} live tokens, ${CALLS} measured calls per configuration after ${CALLS} unmeasured, ${IN_FLIGHT} in flight, one process, embedded PostgreSQL on the same machine.`,
    '',
    '| cache.max | cache.ttl | hit rate | SQL / call | CPU µs / call | calls / s |',
    '| ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.max} | ${r.ttl} | ${(100 * r.hitRate).toFixed(1)} % | ${r.sqlPerCall.toFixed(3)} | ${r.cpuUs.toFixed(1)} | ${r.callsPerSecond.toFixed(0)} |`,
    ),
  ];
  process.stdout.write(`\n${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : error}\n`);
  process.exit(1);
});
