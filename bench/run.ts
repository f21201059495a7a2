/**
 * `npm run bench`: nestjs-durin against the no-auth route, the passport-jwt peer and a naive
 * TypeORM guard, on the same machine in the same run (issue 5).
 *
 * 1. Starts the embedded PostgreSQL the tests use, creates three databases (main: 10 000 tokens;
 *    1k: 1 000 tokens; 1m: the same 1 000 tokens among 1 000 000 rows, seeded with
 *    generate_series) and seeds users and tokens directly (hashes computed here).
 * 2. Starts the app process (bench/app/server.ts): the sample app plus bench routes, once per
 *    configuration (cache on/off, autoRefresh on/off, database), each on 127.0.0.1.
 * 3. Drives autocannon (50 connections) from this process, interleaving the cases round by round
 *    (A B C … then … C B A), and reads each app's SQL statement counter before and after a run.
 * 4. Prints medians and ratios to the no-auth route of the same round; writes
 *    bench/results/latest.json and latest.md.
 *
 * Environment: BENCH_ROUNDS (default 6), BENCH_DURATION seconds per run (default 4).
 */
import 'reflect-metadata';
import { ChildProcess, spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { sign } from 'jsonwebtoken';
import { DataSource } from 'typeorm';
import { AuthTokenEntity, ClientEntity, registerDurinUserEntity } from '../lib';
import { TokenFormat } from '../lib/tokens/token-format';
import { SAMPLE_MIGRATIONS } from '../sample-app/src/database/database.options';
import { User } from '../sample-app/src/users/user.entity';
import { startTestPostgres, TestPostgresServer } from '../test/support/postgres';
import { JWT_SECRET } from './app/bench-routes.module';
import type { BenchAppConfig } from './app/server';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 4);
const CONNECTIONS = 50;
const USERS = 1_000;
const HOT_SET = 100;
const COLD_SET = 10_000;
const SMALL_TABLE = 1_000;
const LARGE_TABLE = Number(process.env.BENCH_LARGE_TABLE ?? 1_000_000);
const FLOOD_DISTINCT = 100_000;
const DAY_MS = 86_400_000;
const RESULTS_DIR = join(__dirname, 'results');

const format = new TokenFormat('durin');
const sha256 = (raw: string) => createHash('sha256').update(raw, 'utf8').digest('hex');

// ------------------------------------------------------------------ database set-up

async function createDatabase(adminUrl: string, name: string): Promise<string> {
  const admin = new DataSource({ type: 'postgres', url: adminUrl });
  await admin.initialize();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.destroy();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function openMigrated(url: string): Promise<DataSource> {
  const dataSource = new DataSource({
    type: 'postgres',
    url,
    entities: [User, AuthTokenEntity, ClientEntity],
    migrations: SAMPLE_MIGRATIONS,
    migrationsRun: true,
  });
  return dataSource.initialize();
}

interface SeedToken {
  raw: string;
  userId: number;
  authType: 'header' | 'cookie';
}

async function seedUsers(dataSource: DataSource): Promise<void> {
  await dataSource.query(
    `INSERT INTO app_user (username, password_hash, is_active)
     SELECT 'bench' || i, 'not-a-hash', true FROM generate_series(1, $1::int) AS i`,
    [USERS],
  );
}

async function insertTokens(dataSource: DataSource, tokens: SeedToken[]): Promise<void> {
  const now = Date.now();
  for (let start = 0; start < tokens.length; start += 1000) {
    const batch = tokens.slice(start, start + 1000);
    const values: unknown[] = [];
    const rows = batch.map((token, i) => {
      const family = randomUUID();
      values.push(randomUUID(), token.userId, token.authType, sha256(token.raw), family);
      const p = i * 5;
      return `($${p + 1}, $${p + 2}, $${p + 3}, '{}', $${p + 4}, ${now}, ${now + 7 * DAY_MS}, ${7 * DAY_MS}, $${p + 5})`;
    });
    await dataSource.query(
      `INSERT INTO auth_token (id, user_id, auth_type, context, token_hash, created_at, expires_at, access_ttl_ms, family_id)
       VALUES ${rows.join(', ')}`,
      values,
    );
  }
}

async function insertFiller(dataSource: DataSource, count: number): Promise<void> {
  const now = Date.now();
  // Unknown secrets (hash of a counter): rows nobody can present, as in a large real table.
  for (let start = 1; start <= count; start += 200_000) {
    const end = Math.min(count, start + 199_999);
    await dataSource.query(
      `INSERT INTO auth_token (id, user_id, auth_type, context, token_hash, created_at, expires_at, access_ttl_ms, family_id)
       SELECT md5('filler' || i)::uuid::text, 1 + i % $3::int, 'header', '{}',
              encode(sha256(('filler-' || i)::bytea), 'hex'), $4::bigint, $4::bigint + $5::bigint, $5::bigint,
              md5('family' || i)::uuid::text
         FROM generate_series($1::int, $2::int) AS i`,
      [start, end, USERS, now, 7 * DAY_MS],
    );
  }
}

// ------------------------------------------------------------------ app process

interface AppProcess {
  child: ChildProcess;
  ports: Record<string, number>;
}

async function startApps(configs: BenchAppConfig[]): Promise<AppProcess> {
  const child = spawn(
    process.execPath,
    [
      // Each run starts from a collected heap (see GET /bench/stats?gc=1).
      '--expose-gc',
      // e.g. BENCH_NODE_ARGS=--cpu-prof to profile the app process
      ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
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
      () => reject(new Error('the bench app did not start in 120 s')),
      120_000,
    );
    child.once('exit', (code) => reject(new Error(`the bench app exited (${code})`)));
    lines.on('line', (line) => {
      if (line.startsWith('READY ')) {
        clearTimeout(timer);
        resolve(JSON.parse(line.slice(6)) as Record<string, number>);
      }
    });
  });
  return { child, ports };
}

interface AppStats {
  queries: number;
  cache: { size: number; hits: number; misses: number; evictions: number };
  cookieName: string;
  rssBytes: number;
  cpuMicros: number;
}

async function stats(port: number, gc = false): Promise<AppStats> {
  const response = await fetch(`http://127.0.0.1:${port}/bench/stats${gc ? '?gc=1' : ''}`);
  return (await response.json()) as AppStats;
}

// ------------------------------------------------------------------ cases

interface BenchCase {
  id: string;
  label: string;
  app: string;
  path: string;
  /** Headers of the next request. */
  next: () => Record<string, string>;
  expect: 200 | 401;
}

function cycle<T>(
  items: T[],
  make: (item: T) => Record<string, string>,
): () => Record<string, string> {
  let i = 0;
  return () => make(items[i++ % items.length]);
}

interface Measurement {
  round: number;
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  queriesPerRequest: number;
  /** App-process CPU time per request: far less disturbed by other load on the machine than req/s. */
  cpuPerRequestUs: number;
  errors: number;
  unexpectedStatus: number;
}

async function measure(
  c: BenchCase,
  port: number,
  round: number,
  durationS: number,
): Promise<Measurement> {
  const before = await stats(port, true);
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: CONNECTIONS,
    duration: durationS,
    requests: [
      {
        method: 'GET',
        path: c.path,
        setupRequest: (request) => ({ ...request, headers: c.next() }),
      },
    ],
  });
  const after = await stats(port);
  const requests = result.requests.total;
  // Per request sent: the app also served the requests still in flight when the run stopped.
  const sent = Math.max(result.requests.sent, 1);
  const expected = c.expect === 200 ? result['2xx'] : (result.statusCodeStats['401']?.count ?? 0);
  return {
    round,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests,
    queriesPerRequest: (after.queries - before.queries) / sent,
    cpuPerRequestUs: (after.cpuMicros - before.cpuMicros) / sent,
    errors: result.errors + result.timeouts,
    unexpectedStatus: requests - expected,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

// ------------------------------------------------------------------ main

async function main(): Promise<void> {
  const startedAt = Date.now();
  registerDurinUserEntity(User);
  const log = (message: string) =>
    process.stdout.write(`[bench ${((Date.now() - startedAt) / 1000).toFixed(0)}s] ${message}\n`);

  log('starting PostgreSQL');
  const server: TestPostgresServer = await startTestPostgres();
  let apps: AppProcess | undefined;
  try {
    const urls = {
      main: await createDatabase(server.url, 'bench_main'),
      small: await createDatabase(server.url, 'bench_1k'),
      large: await createDatabase(server.url, 'bench_1m'),
    };

    log('seeding');
    const cold: SeedToken[] = Array.from({ length: COLD_SET }, (_, i) => ({
      raw: format.generate('access'),
      userId: 1 + (i % USERS),
      authType: 'header',
    }));
    const cookies: SeedToken[] = Array.from({ length: HOT_SET }, (_, i) => ({
      raw: format.generate('access'),
      userId: 1 + (i % USERS),
      authType: 'cookie',
    }));
    const hot = cold.slice(0, HOT_SET);
    const thousand = cold.slice(0, SMALL_TABLE);
    let pgVersion = '';
    for (const [url, tokens, filler] of [
      [urls.main, [...cold, ...cookies], 0],
      [urls.small, thousand, 0],
      [urls.large, thousand, LARGE_TABLE - SMALL_TABLE],
    ] as const) {
      const dataSource = await openMigrated(url);
      try {
        await seedUsers(dataSource);
        await insertTokens(dataSource, [...tokens]);
        if (filler > 0) {
          log(`seeding ${filler} more rows with generate_series`);
          await insertFiller(dataSource, filler);
        }
        await dataSource.query('VACUUM ANALYZE auth_token');
        const [row] = (await dataSource.query('SHOW server_version')) as {
          server_version: string;
        }[];
        pgVersion = row.server_version;
      } finally {
        await dataSource.destroy();
      }
    }
    const jwts = hot.map((token) =>
      sign({ sub: token.userId }, JWT_SECRET, { algorithm: 'HS256', expiresIn: '1d' }),
    );
    const floodWellFormed = Array.from({ length: FLOOD_DISTINCT }, () => format.generate('access'));
    const floodJunk = floodWellFormed.map((raw) => {
      // Same length and alphabet, checksum broken: rejected before any hashing or SQL.
      const last = raw[raw.length - 1] === 'a' ? 'b' : 'a';
      return raw.slice(0, -1) + last;
    });

    log('starting the app process');
    const configs: BenchAppConfig[] = [
      { name: 'cached', databaseUrl: urls.main, cache: true, autoRefresh: false },
      { name: 'cached-ar', databaseUrl: urls.main, cache: true, autoRefresh: true },
      // The cold cases read each of 10 000 tokens about once every few seconds: `1h` shows the
      // lookup alone (one statement, no write due); the `-due` apps, with a 1 s interval, show
      // the lookup plus the due lastUsedAt write (and slide) on every request.
      ...(['main', 'small', 'large'] as const).map((db) => ({
        name: `uncached-${db}`,
        databaseUrl: urls[db],
        cache: false,
        autoRefresh: false,
        autoRefreshInterval: '1h' as const,
      })),
      ...[false, true].map((autoRefresh) => ({
        name: autoRefresh ? 'uncached-due-ar' : 'uncached-due',
        databaseUrl: urls.main,
        cache: false,
        autoRefresh,
        autoRefreshInterval: '1s' as const,
      })),
    ];
    apps = await startApps(configs);
    const cookieName = (await stats(apps.ports.cached)).cookieName;

    const bearer = (raw: string) => ({ authorization: `Bearer ${raw}` });
    const dummy = `Bearer ${'x'.repeat(hot[0].raw.length)}`;
    const cases: BenchCase[] = [
      {
        id: 'noauth',
        label: 'no auth',
        app: 'cached',
        path: '/bench/noauth',
        next: () => ({ 'x-dummy': dummy }),
        expect: 200,
      },
      {
        id: 'noauth-req',
        label: 'no auth, handler reads @Req()',
        app: 'cached',
        path: '/bench/noauth-req',
        next: () => ({ 'x-dummy': dummy }),
        expect: 200,
      },
      {
        id: 'cached',
        label: `durin cached (hot set of ${HOT_SET})`,
        app: 'cached',
        path: '/bench/durin',
        next: cycle(
          hot.map((t) => t.raw),
          bearer,
        ),
        expect: 200,
      },
      {
        id: 'cached-ar',
        label: 'durin cached, autoRefresh on',
        app: 'cached-ar',
        path: '/bench/durin',
        next: cycle(
          hot.map((t) => t.raw),
          bearer,
        ),
        expect: 200,
      },
      {
        id: 'throttled',
        label: 'durin cached + DurinThrottlerGuard (in-memory storage)',
        app: 'cached',
        path: '/bench/durin-throttled',
        next: cycle(
          hot.map((t) => t.raw),
          bearer,
        ),
        expect: 200,
      },
      {
        id: 'cached-minimal',
        label: 'durin cached, TokenService behind a minimal guard (not AuthGuard)',
        app: 'cached',
        path: '/bench/durin-minimal',
        next: cycle(
          hot.map((t) => t.raw),
          bearer,
        ),
        expect: 200,
      },
      {
        id: 'cookie',
        label: 'durin cached, cookie auth',
        app: 'cached',
        path: '/bench/durin',
        next: cycle(
          cookies.map((t) => t.raw),
          (raw) => ({ cookie: `${cookieName}=${raw}` }),
        ),
        expect: 200,
      },
      {
        id: 'jwt-string',
        label: 'passport-jwt, string secret',
        app: 'cached',
        path: '/bench/jwt',
        next: cycle(jwts, bearer),
        expect: 200,
      },
      {
        id: 'jwt-key',
        label: 'passport-jwt, KeyObject',
        app: 'cached',
        path: '/bench/jwt-key',
        next: cycle(jwts, bearer),
        expect: 200,
      },
      {
        id: 'naive',
        label: `naive TypeORM guard (findOne + relation), ${COLD_SET} tokens`,
        app: 'uncached-main',
        path: '/bench/naive',
        next: cycle(
          cold.map((t) => t.raw),
          bearer,
        ),
        expect: 200,
      },
      {
        id: 'cold',
        label: `durin cold (cache off), ${COLD_SET} tokens, no write due`,
        app: 'uncached-main',
        path: '/bench/durin',
        next: cycle(
          cold.map((t) => t.raw),
          bearer,
        ),
        expect: 200,
      },
      {
        id: 'cold-due',
        label: 'durin cold, autoRefreshInterval 1s: lastUsedAt write due on every request',
        app: 'uncached-due',
        path: '/bench/durin',
        next: cycle(
          cold.map((t) => t.raw),
          bearer,
        ),
        expect: 200,
      },
      {
        id: 'cold-ar',
        label: 'durin cold, write due on every request, autoRefresh on (slides too)',
        app: 'uncached-due-ar',
        path: '/bench/durin',
        next: cycle(
          cold.map((t) => t.raw),
          bearer,
        ),
        expect: 200,
      },
      {
        id: 'table-1k',
        label: `durin cold, ${SMALL_TABLE} rows in the table`,
        app: 'uncached-small',
        path: '/bench/durin',
        next: cycle(
          thousand.map((t) => t.raw),
          bearer,
        ),
        expect: 200,
      },
      {
        id: 'table-1m',
        label: `durin cold, ${LARGE_TABLE} rows in the table`,
        app: 'uncached-large',
        path: '/bench/durin',
        next: cycle(
          thousand.map((t) => t.raw),
          bearer,
        ),
        expect: 200,
      },
      {
        id: 'flood-junk',
        label: 'flood: random tokens, bad checksum (cache on)',
        app: 'cached',
        path: '/bench/durin',
        next: cycle(floodJunk, bearer),
        expect: 401,
      },
      {
        id: 'flood-wellformed',
        label: `flood: ${FLOOD_DISTINCT} distinct well-formed unknown tokens (cache on)`,
        app: 'cached',
        path: '/bench/durin',
        next: cycle(floodWellFormed, bearer),
        expect: 401,
      },
    ];

    const only = process.env.BENCH_CASES?.split(',');
    if (only) {
      // BENCH_CASES=noauth,cached: a quick look at a few cases (the report is then partial).
      cases.splice(0, cases.length, ...cases.filter((c) => only.includes(c.id)));
    }
    log('warming up (1 s per case)');
    for (const c of cases) await measure(c, apps.ports[c.app], -1, 1);

    const results = new Map<string, Measurement[]>(cases.map((c) => [c.id, []]));
    for (let round = 0; round < ROUNDS; round += 1) {
      const order = round % 2 === 0 ? cases : [...cases].reverse();
      for (const c of order) {
        const m = await measure(c, apps.ports[c.app], round, DURATION_S);
        results.get(c.id)!.push(m);
        log(
          `round ${round + 1}/${ROUNDS} ${c.id.padEnd(17)} ${m.rps.toFixed(0).padStart(6)} req/s  p50 ${m.p50} ms  p99 ${m.p99} ms  ${m.queriesPerRequest.toFixed(3)} SQL/req` +
            (m.errors + m.unexpectedStatus > 0
              ? `  (errors ${m.errors}, unexpected status ${m.unexpectedStatus})`
              : ''),
        );
        await sleep(200);
      }
    }
    const cacheAfter = await stats(apps.ports.cached);

    // ---------------------------------------------------------------- report
    const baseline = results.get('noauth') ?? [];
    const rows = cases.map((c) => {
      const runs = results.get(c.id)!;
      const ratio = (pick: (m: Measurement) => number) => {
        if (baseline.length === 0) return NaN;
        return median(runs.map((m, i) => pick(m) / pick(baseline[i])));
      };
      return {
        id: c.id,
        label: c.label,
        rps: median(runs.map((m) => m.rps)),
        p50Ms: median(runs.map((m) => m.p50)),
        p99Ms: median(runs.map((m) => m.p99)),
        sqlPerRequest: median(runs.map((m) => m.queriesPerRequest)),
        cpuUs: median(runs.map((m) => m.cpuPerRequestUs)),
        cpuRatio: ratio((m) => m.cpuPerRequestUs),
        rpsRatio: ratio((m) => m.rps),
        p50Ratio: ratio((m) => m.p50),
        p99Ratio: ratio((m) => m.p99),
        errors: runs.reduce((sum, m) => sum + m.errors + m.unexpectedStatus, 0),
        runs,
      };
    });
    const missing = { rpsRatio: NaN, sqlPerRequest: NaN };
    const byId = (id: string) => rows.find((row) => row.id === id) ?? missing;
    const roundRatio = (a: string, b: string, pick: (m: Measurement) => number) => {
      const [runsA, runsB] = [results.get(a), results.get(b)];
      if (!runsA || !runsB) return NaN;
      return median(runsA.map((m, i) => pick(m) / pick(runsB[i])));
    };
    const targets = [
      {
        target: 'cached >= 0.95x no-auth (req/s)',
        value: byId('cached').rpsRatio,
        goal: 0.95,
        higherIsBetter: true,
      },
      {
        target: 'cached >= 1.2x passport-jwt with a KeyObject (req/s)',
        value: roundRatio('cached', 'jwt-key', (m) => m.rps),
        goal: 1.2,
        higherIsBetter: true,
      },
      {
        // Issue 10: the cost of counting per (user, client) on top of the cached guard, for
        // information. Adjacent runs of the same app.
        target: 'throttled: DurinThrottlerGuard + cached guard vs cached guard alone (req/s)',
        value: roundRatio('throttled', 'cached', (m) => m.rps),
        goal: 0.9,
        higherIsBetter: true,
      },
      {
        target: 'cold >= 2x naive TypeORM guard (req/s)',
        value: roundRatio('cold', 'naive', (m) => m.rps),
        goal: 2,
        higherIsBetter: true,
      },
      {
        target: 'cold: SQL statements per request = 1.0',
        value: byId('cold').sqlPerRequest,
        goal: 1,
        higherIsBetter: false,
      },
      {
        // Same code path on a hit; the slide is one write per token and minute. Adjacent runs.
        target: 'autoRefresh on within 5 % of off, defaults, cache on (req/s on/off)',
        value: roundRatio('cached-ar', 'cached', (m) => m.rps),
        goal: 0.95,
        higherIsBetter: true,
      },
      {
        // Worst case, for information: every request slides (interval 1s, cache off). A slide
        // rewrites the indexed expiry columns, so it is not a HOT update like lastUsedAt alone.
        target:
          'worst case: autoRefresh on vs off with a write due on every request (interval 1s, cache off)',
        value: roundRatio('cold-ar', 'cold-due', (m) => m.rps),
        goal: 0.95,
        higherIsBetter: true,
      },
      {
        target: 'p99 with 1M rows <= 1.2x p99 with 1k rows',
        value: roundRatio('table-1m', 'table-1k', (m) => m.p99),
        goal: 1.2,
        higherIsBetter: false,
      },
      {
        target: 'flood of junk tokens: SQL per request = 0',
        value: byId('flood-junk').sqlPerRequest,
        goal: 0,
        higherIsBetter: false,
      },
      {
        // Issue 5 asks for 0. A well-formed token nobody issued can only be told from a real one
        // by asking the database (its checksum is public); each distinct one costs its lookup.
        target:
          'flood of distinct well-formed unknown tokens: SQL per request (one lookup each; see docs/performance.md)',
        value: byId('flood-wellformed').sqlPerRequest,
        goal: 0,
        higherIsBetter: false,
      },
    ].map((t) => ({
      ...t,
      // Per-request SQL counts are exact up to requests cut off at the end of a run.
      met: t.higherIsBetter ? t.value >= t.goal : t.value <= t.goal * 1.01 + 0.001,
    }));

    const machine = {
      cores: cpus().length,
      cpu: cpus()[0]?.model ?? 'unknown',
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      postgres: pgVersion,
      loadAverageAtEnd: loadavg().map((v) => Number(v.toFixed(2))),
    };
    const method = {
      tool: `autocannon ${CONNECTIONS} connections, ${DURATION_S} s per run, ${ROUNDS} rounds, cases interleaved (order reversed every other round), 1 s warm-up per case, a full GC in the app process before each run`,
      app: 'sample-app AppModule (Express, global AuthGuard) + bench routes, NODE_ENV=production, one process hosting one Nest app per configuration, autocannon in a second process, all on 127.0.0.1',
      database:
        'embedded PostgreSQL (same as the tests: fsync off, synchronous_commit off), on the same machine',
      ratios:
        'median over rounds of (case / no-auth route of the same round); SQL per request = statements counted by a TypeORM logger in the app process / requests sent; app CPU per request = CPU time of the app process (process.cpuUsage) / requests sent, the figure least disturbed by other load on a shared machine',
      defaults:
        'nestjs-durin defaults unless stated: cache { max 10000, ttl 5s }, autoRefreshInterval 1m (lastUsedAt is written at most once a minute per token, with or without autoRefresh); the cold, naive and table cases run with autoRefreshInterval 1h so that they measure the lookup alone, the two "write due" cases with 1s so that every request also writes',
    };
    const output = {
      date: new Date().toISOString(),
      machine,
      method,
      rows: rows.map(({ runs, ...row }) => ({ ...row, runs })),
      targets,
      cacheAfterRun: cacheAfter.cache,
      durationSeconds: Math.round((Date.now() - startedAt) / 1000),
    };
    await mkdir(RESULTS_DIR, { recursive: true });
    await writeFile(join(RESULTS_DIR, 'latest.json'), `${JSON.stringify(output, null, 2)}\n`);
    const markdown = renderMarkdown(output.date, machine, method, rows, targets, cacheAfter);
    await writeFile(join(RESULTS_DIR, 'latest.md'), markdown);
    process.stdout.write(`\n${markdown}\n`);
  } finally {
    if (apps) {
      apps.child.kill('SIGTERM');
      await new Promise((resolve) => apps!.child.once('exit', resolve));
    }
    await server.stop();
  }
}

function fixed(value: number, digits = 2): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '-';
}

function renderMarkdown(
  date: string,
  machine: Record<string, unknown>,
  method: Record<string, string>,
  rows: {
    label: string;
    rps: number;
    p50Ms: number;
    p99Ms: number;
    sqlPerRequest: number;
    cpuUs: number;
    cpuRatio: number;
    rpsRatio: number;
    p50Ratio: number;
    p99Ratio: number;
    errors: number;
  }[],
  targets: { target: string; value: number; goal: number; met: boolean }[],
  cacheAfter: AppStats,
): string {
  const lines = [
    `# nestjs-durin benchmark (${date})`,
    '',
    `Machine: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB, Node ${machine.node}, PostgreSQL ${machine.postgres}; load average at the end ${JSON.stringify(machine.loadAverageAtEnd)}.`,
    '',
    ...Object.entries(method).map(([key, value]) => `- ${key}: ${value}`),
    '',
    '| case | req/s | x no-auth | p50 ms | x no-auth | p99 ms | x no-auth | SQL/req | app CPU µs/req | x no-auth | bad responses |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (row) =>
        `| ${row.label} | ${row.rps.toFixed(0)} | ${fixed(row.rpsRatio)} | ${row.p50Ms} | ${fixed(row.p50Ratio)} | ${row.p99Ms} | ${fixed(row.p99Ratio)} | ${fixed(row.sqlPerRequest, 3)} | ${row.cpuUs.toFixed(0)} | ${fixed(row.cpuRatio)} | ${row.errors} |`,
    ),
    '',
    '| target | measured | goal | met |',
    '| --- | ---: | ---: | :---: |',
    ...targets.map(
      (t) => `| ${t.target} | ${fixed(t.value)} | ${t.goal} | ${t.met ? 'yes' : 'no'} |`,
    ),
    '',
    `Cache of the "cached" app after the run (floods included): ${JSON.stringify({
      size: cacheAfter.cache.size,
      evictions: cacheAfter.cache.evictions,
    })}.`,
    '',
  ];
  return lines.join('\n');
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
