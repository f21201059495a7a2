/**
 * The apps and the cases of the benchmark. Adding a case is one entry in {@link benchCases} (plus
 * one in {@link BENCH_APPS} when it needs a configuration no app has yet); its report row follows.
 */
import type { BenchAppConfig } from './app/server';
import type { BenchData, DatabaseName } from './datasets';
import { HOT_SET, SMALL_TABLE } from './datasets';
import { cycle, drawn } from './draws';
import { BENCH_TAG_KEY } from './seed';
import type { LoadSpec } from './measure';

/** The process hosting an app: `main` hosts every app but the two of the multi-process cases. */
export type ProcessName = 'main' | 'peer-a' | 'peer-b';

export interface BenchApp extends Omit<BenchAppConfig, 'databaseUrl'> {
  database: DatabaseName;
  process: ProcessName;
}

const cached = { cache: true, autoRefresh: false, process: 'main' } as const;
// The cold cases read their tokens about once every few seconds: `1h` shows the lookup alone (one
// statement, no write due); the `-due` apps, with a 1 s interval, show the lookup plus the due
// lastUsedAt write (and slide) on every request.
const uncached = {
  cache: false,
  autoRefresh: false,
  autoRefreshInterval: '1h',
  process: 'main',
} as const;

/** Every app of the benchmark; an app starts (and its database is seeded) only if a case uses it. */
export const BENCH_APPS: BenchApp[] = [
  // Cache on with the defaults (max 10 000, ttl 5 s, invalidation 'auto': LISTEN/NOTIFY).
  { name: 'cached', database: 'main', ...cached },
  { name: 'cached-ar', database: 'main', ...cached, autoRefresh: true },
  // Own apps for the working-set cases, so that no other case's tokens sit in their caches.
  { name: 'cached-zipf', database: 'main', ...cached },
  { name: 'cached-uniform', database: 'main', ...cached },
  // What a longer ttl buys the skewed working set (the staleness bound grows with it).
  { name: 'cached-zipf-60s', database: 'main', ...cached, cacheTtl: '60s' },
  // The forged-token flood: a `tokenTagKey`, so never-issued tagged tokens are refused in memory.
  { name: 'cached-tagged', database: 'main', ...cached, tokenTagKey: BENCH_TAG_KEY },
  { name: 'uncached-main', database: 'main', ...uncached },
  { name: 'uncached-small', database: 'small', ...uncached },
  { name: 'uncached-large', database: 'large', ...uncached },
  { name: 'uncached-due', database: 'main', ...uncached, autoRefreshInterval: '1s' },
  {
    name: 'uncached-due-ar',
    database: 'main',
    ...uncached,
    autoRefresh: true,
    autoRefreshInterval: '1s',
  },
  // The cleanup phase: cold path, so that every request reads the table being cleaned.
  { name: 'uncached-cleanup', database: 'cleanup', ...uncached },
  // Two instances of one app on one database, each its own process, cache on with the defaults.
  { name: 'multi-a', database: 'main', ...cached, process: 'peer-a' },
  { name: 'multi-b', database: 'main', ...cached, process: 'peer-b' },
];

export interface BenchCase extends LoadSpec {
  id: string;
  label: string;
  /** The app, or several apps in separate processes sharing the load (connections split). */
  app: string | readonly string[];
  /**
   * Seconds of unmeasured load right before each measured run. The rounds visit every other case
   * in between, so a cache with a 5 s ttl starts each run empty; priming starts it near the state
   * it keeps under steady load (entries of every age below the ttl).
   */
  primeS?: number;
}

/** The apps a case loads. */
export const appsOf = (c: { app: string | readonly string[] }): readonly string[] =>
  typeof c.app === 'string' ? [c.app] : c.app;

const bearer = (raw: string) => ({ authorization: `Bearer ${raw}` });
const bearerOf = (token: { raw: string }) => bearer(token.raw);

/** The loads of the phases (phases/), which are not rows of their own. */
export function phaseLoads(data: BenchData): { revocation: LoadSpec; cleanup: LoadSpec } {
  return {
    // Both processes of the pair serve the cached hot set while tokens are revoked.
    revocation: { path: '/bench/durin', expect: 200, next: cycle(data.hot, bearerOf) },
    // Cold path over the live tokens of the cleanup database: every request reads the table.
    cleanup: { path: '/bench/durin', expect: 200, next: cycle(data.cleanupLive, bearerOf) },
  };
}

export function benchCases(data: BenchData, cookieName: string, largeTable: number): BenchCase[] {
  const dummy = { 'x-dummy': `Bearer ${'x'.repeat(data.hot[0].raw.length)}` };
  const n = data.workingSet.length;
  const durin = { path: '/bench/durin', expect: 200 } as const;
  return [
    {
      id: 'noauth',
      label: 'no auth',
      app: 'cached',
      path: '/bench/noauth',
      next: () => dummy,
      expect: 200,
    },
    {
      id: 'noauth-req',
      label: 'no auth, handler reads @Req()',
      app: 'cached',
      path: '/bench/noauth-req',
      next: () => dummy,
      expect: 200,
    },
    {
      id: 'cached',
      label: `durin cached, hot set of ${HOT_SET}`,
      app: 'cached',
      ...durin,
      next: cycle(data.hot, bearerOf),
    },
    {
      id: 'floor-accept',
      label: 'floor: a guard that only sets request.user (no token read)',
      app: 'cached',
      path: '/bench/floor-accept',
      next: cycle(data.hot, bearerOf),
      expect: 200,
    },
    {
      id: 'throttled',
      label: `durin cached + DurinThrottlerGuard (in-memory storage), hot set of ${HOT_SET}`,
      app: 'cached',
      ...durin,
      path: '/bench/durin-throttled',
      next: cycle(data.hot, bearerOf),
    },
    {
      id: 'cached-ar',
      label: `durin cached, hot set of ${HOT_SET}, autoRefresh on`,
      app: 'cached-ar',
      ...durin,
      next: cycle(data.hot, bearerOf),
    },
    {
      id: 'cached-minimal',
      label: 'durin cached, TokenService behind a minimal guard (not AuthGuard)',
      app: 'cached',
      path: '/bench/durin-minimal',
      next: cycle(data.hot, bearerOf),
      expect: 200,
    },
    {
      id: 'cookie',
      label: `durin cached, cookie auth, hot set of ${HOT_SET}`,
      app: 'cached',
      ...durin,
      next: cycle(data.cookies, (t) => ({ cookie: `${cookieName}=${t.raw}` })),
    },
    {
      id: 'zipf',
      label: `durin cached (defaults), ${n} tokens drawn Zipf(1)`,
      app: 'cached-zipf',
      ...durin,
      primeS: 2,
      next: drawn(data.workingSet, data.zipf, bearerOf),
    },
    {
      id: 'zipf-60s',
      label: `durin cached, cache.ttl 60s (else defaults), ${n} tokens drawn Zipf(1)`,
      app: 'cached-zipf-60s',
      ...durin,
      primeS: 2,
      next: drawn(data.workingSet, data.zipf, bearerOf),
    },
    {
      id: 'uniform',
      label: `durin cached (defaults), ${n} tokens drawn uniformly`,
      app: 'cached-uniform',
      ...durin,
      primeS: 2,
      next: drawn(data.workingSet, data.uniform, bearerOf),
    },
    {
      id: 'jwt-string',
      label: 'passport-jwt, string secret',
      app: 'cached',
      path: '/bench/jwt',
      next: cycle(data.jwts, bearer),
      expect: 200,
    },
    {
      id: 'jwt-key',
      label: 'passport-jwt, KeyObject',
      app: 'cached',
      path: '/bench/jwt-key',
      next: cycle(data.jwts, bearer),
      expect: 200,
    },
    {
      id: 'naive',
      label: `naive TypeORM guard, one query (query builder + join), ${n} tokens uniform`,
      app: 'uncached-main',
      path: '/bench/naive',
      next: drawn(data.workingSet, data.uniform, bearerOf),
      expect: 200,
    },
    {
      id: 'naive-find-one',
      label: `naive TypeORM guard, two queries (findOne + relation), ${n} tokens uniform`,
      app: 'uncached-main',
      path: '/bench/naive-find-one',
      next: drawn(data.workingSet, data.uniform, bearerOf),
      expect: 200,
    },
    {
      id: 'cold',
      label: `durin cold (cache off), ${n} tokens uniform, no write due`,
      app: 'uncached-main',
      ...durin,
      next: drawn(data.workingSet, data.uniform, bearerOf),
    },
    {
      id: 'cold-due',
      label: 'durin cold, autoRefreshInterval 1s: lastUsedAt write due on every request',
      app: 'uncached-due',
      ...durin,
      next: drawn(data.workingSet, data.uniform, bearerOf),
    },
    {
      id: 'cold-ar',
      label: 'durin cold, write due on every request, autoRefresh on (slides too)',
      app: 'uncached-due-ar',
      ...durin,
      next: drawn(data.workingSet, data.uniform, bearerOf),
    },
    {
      id: 'table-1k',
      label: `durin cold, ${SMALL_TABLE} rows, all ${SMALL_TABLE} read`,
      app: 'uncached-small',
      ...durin,
      next: cycle(data.small, bearerOf),
    },
    {
      id: 'table-1m',
      label: `durin cold, ${largeTable} rows, ${n} of them read (uniform)`,
      app: 'uncached-large',
      ...durin,
      next: drawn(data.workingSet, data.uniform, bearerOf),
    },
    {
      id: 'floor-refuse',
      label: "floor: a guard that only throws Nest's UnauthorizedException (no token read)",
      app: 'cached',
      path: '/bench/floor-refuse',
      next: cycle(data.junk, bearer),
      expect: 401,
    },
    {
      id: 'flood-junk',
      label: 'flood: random tokens, bad checksum (cache on)',
      app: 'cached',
      path: '/bench/durin',
      next: cycle(data.junk, bearer),
      expect: 401,
    },
    {
      id: 'flood-wellformed',
      label: `flood: ${data.forged.length} distinct well-formed unknown tokens, valid checksum (cache on)`,
      app: 'cached',
      path: '/bench/durin',
      next: cycle(data.forged, bearer),
      expect: 401,
    },
    {
      id: 'flood-forged',
      label: `flood: ${data.forgedTagged.length} distinct forged tagged tokens, tokenTagKey set (cache on)`,
      app: 'cached-tagged',
      path: '/bench/durin',
      next: cycle(data.forgedTagged, bearer),
      expect: 401,
    },
    {
      id: 'multi-1',
      label: `one process of the pair alone, cached, hot set of ${HOT_SET}`,
      app: 'multi-a',
      ...durin,
      next: cycle(data.hot, bearerOf),
    },
    {
      id: 'multi-2',
      label: `two processes, one PostgreSQL, LISTEN/NOTIFY, cached, hot set of ${HOT_SET}`,
      app: ['multi-a', 'multi-b'],
      ...durin,
      next: cycle(data.hot, bearerOf),
    },
  ];
}
