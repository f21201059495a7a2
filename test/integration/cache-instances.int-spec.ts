import { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AuthTokenEntity,
  DurinCacheService,
  DurinInvalidationOption,
  DurinModuleRootOptions,
  ManualClock,
  TokenSet,
} from '../../lib';
import { describeEachRow, type TestDbKind } from '../support/databases';
import { TcpProxy } from '../support/tcp-proxy';
import { DurinTestApp, START, startDurinApp } from './support/durin-test-app';
import { describeRedis, startRedisServer, TestRedisServer } from './support/redis-server';
import { User } from './support/user.entity';

/**
 * Two app instances on one PostgreSQL, each with its own in-process token cache
 * (SECURITY-CHECKLIST REQ-CACHE-02, REQ-CACHE-05, F9, F10).
 *
 * The cache ttl is an hour, so a refusal on B within the bound below can only come from the
 * invalidation channel (or from B noticing the channel is down and bypassing its cache).
 *
 * Documented staleness bound S: the channel's delivery latency while it is up; when the channel
 * breaks silently, the health check interval + timeout (about 2 s); never more than the ttl.
 */
const S_CHANNEL_UP_MS = 2_000;
const S_CHANNEL_SILENT_MS = 6_000;
const POLL_MS = 50;

interface Instance {
  app: DurinTestApp;
  cache: DurinCacheService;
  ok(raw: string): Promise<boolean>;
}

function instance(app: DurinTestApp): Instance {
  return {
    app,
    cache: app.module.get(DurinCacheService),
    ok: async (raw) => (await app.service.authenticate(raw, 'header')).ok,
  };
}

async function pair(
  invalidationA: DurinInvalidationOption,
  invalidationB: DurinInvalidationOption = invalidationA,
): Promise<[Instance, Instance]> {
  const clock = new ManualClock(START);
  const options = (invalidation: DurinInvalidationOption): Partial<DurinModuleRootOptions> => ({
    tokenTtl: '1h',
    refreshTokenTtl: '1d',
    refreshReuseGraceSeconds: 0,
    cache: { ttl: '1h', invalidation },
  });
  const a = await startDurinApp('postgres', options(invalidationA), { clock });
  const b = await startDurinApp('postgres', options(invalidationB), { clock, db: a.db });
  return [instance(a), instance(b)];
}

async function closePair(a: Instance | undefined, b: Instance | undefined): Promise<void> {
  await b?.app.close({ keepDatabase: true });
  await a?.app.close();
}

/** Polls until `check` holds; returns the time it took, or throws after `boundMs`. */
async function within(
  boundMs: number,
  check: () => Promise<boolean>,
  what: string,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > boundMs) throw new Error(`${what}: not within ${boundMs} ms`);
    await sleep(POLL_MS);
  }
}

/** A token cached on both instances: each has read it once, the next read is a hit. */
async function cachedOnBoth(
  a: Instance,
  b: Instance,
  user: User,
): Promise<TokenSet<AuthTokenEntity>> {
  const set = await a.app.service.generateHeaderToken(user);
  for (const side of [a, b]) {
    expect(await side.ok(set.accessToken)).toBe(true);
    side.app.recorder.reset();
    expect(await side.ok(set.accessToken)).toBe(true);
    expect(side.app.recorder.queries).toEqual([]);
  }
  return set;
}

/** The revocation paths, as run on instance A. */
const REVOCATIONS: [
  string,
  (a: Instance, set: TokenSet<AuthTokenEntity>, user: User) => Promise<unknown>,
][] = [
  ['logout (revokeToken)', (a, set) => a.app.service.revokeToken(set.token)],
  ['logout-all (revokeAllUserTokens)', (a, _set, user) => a.app.service.revokeAllUserTokens(user)],
  ['rotation (refreshToken)', (a, set) => a.app.service.refreshToken(set.refreshToken)],
  ['expireToken', (a, set) => a.app.service.expireToken(set.token)],
  [
    'deactivation (invalidateUser)',
    async (a, _set, user) => {
      await a.app.users.update(user.id, { isActive: false });
      await a.app.service.invalidateUser(user);
    },
  ],
];

function sharedBehaviour(setup: () => { a: Instance; b: Instance }): void {
  it.each(REVOCATIONS)('%s on A: B refuses within S', async (_name, revoke) => {
    const { a, b } = setup();
    const user = await a.app.createUser();
    const set = await cachedOnBoth(a, b, user);
    await revoke(a, set, user);
    expect(await a.ok(set.accessToken)).toBe(false);
    await within(S_CHANNEL_UP_MS, async () => !(await b.ok(set.accessToken)), 'B refuses');
    expect(b.cache.stats().received).toBeGreaterThan(0);
  });

  it("other users' cached tokens stay cached on B", async () => {
    const { a, b } = setup();
    const user = await a.app.createUser();
    const bystander = await cachedOnBoth(a, b, await a.app.createUser());
    const set = await cachedOnBoth(a, b, user);
    await a.app.service.revokeAllUserTokens(user);
    await within(S_CHANNEL_UP_MS, async () => !(await b.ok(set.accessToken)), 'B refuses');
    b.app.recorder.reset();
    expect(await b.ok(bystander.accessToken)).toBe(true);
    expect(b.app.recorder.queries).toEqual([]);
  });
}

describe('cache invalidation across instances over PostgreSQL LISTEN/NOTIFY (the default)', () => {
  let a: Instance;
  let b: Instance;

  beforeAll(async () => {
    [a, b] = await pair('auto');
  });
  afterAll(() => closePair(a, b));

  it('uses LISTEN/NOTIFY without being configured', () => {
    expect(a.cache.stats()).toMatchObject({ channel: 'postgres', trusted: true });
    expect(b.cache.stats()).toMatchObject({ channel: 'postgres', trusted: true });
  });

  sharedBehaviour(() => ({ a, b }));

  it('a lost LISTEN connection makes B bypass its cache (never fail open), then recover (F9)', async () => {
    const user = await a.app.createUser();
    const set = await cachedOnBoth(a, b, user);
    const other = await cachedOnBoth(a, b, await a.app.createUser());
    // Kill every LISTEN session (A's and B's): notifications sent now reach nobody.
    await a.app.dataSource.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid()
          AND (query LIKE 'LISTEN%' OR query = 'SELECT 1')`,
    );
    await within(S_CHANNEL_SILENT_MS, async () => !b.cache.stats().trusted, 'B notices');
    await a.app.service.revokeToken(set.token);
    // B has missed the message but no longer trusts its cache: the database decides.
    expect(await b.ok(set.accessToken)).toBe(false);
    b.app.recorder.reset();
    expect(await b.ok(other.accessToken)).toBe(true);
    // It reconnects by itself and caches again, from an empty cache.
    await within(10_000, async () => b.cache.stats().trusted, 'B reconnects');
    expect(await b.ok(other.accessToken)).toBe(true);
    b.app.recorder.reset();
    expect(await b.ok(other.accessToken)).toBe(true);
    expect(b.app.recorder.queries).toEqual([]);
  });
});

describeRedis('cache invalidation across instances over Redis pub/sub', () => {
  let redis: TestRedisServer;

  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(() => redis?.stop());

  describe('with a redis:// URL', () => {
    let a: Instance;
    let b: Instance;

    beforeAll(async () => {
      [a, b] = await pair({ redis: redis.url });
    });
    afterAll(() => closePair(a, b));

    it('subscribes', () => {
      expect(b.cache.stats()).toMatchObject({ channel: 'redis', trusted: true });
    });

    sharedBehaviour(() => ({ a, b }));

    it('Redis down: B bypasses its cache (revoked -> refused, valid -> served by the DB), then recovers (REQ-CACHE-05, F9)', async () => {
      const user = await a.app.createUser();
      const set = await cachedOnBoth(a, b, user);
      const other = await cachedOnBoth(a, b, await a.app.createUser());
      await redis.kill();
      await within(S_CHANNEL_SILENT_MS, async () => !b.cache.stats().trusted, 'B notices');
      // The revocation commits and returns although it cannot be broadcast.
      expect(await a.app.service.revokeToken(set.token)).toBe(true);
      expect(a.cache.stats().publishFailures).toBeGreaterThan(0);
      expect(await b.ok(set.accessToken)).toBe(false);
      b.app.recorder.reset();
      expect(await b.ok(other.accessToken)).toBe(true);
      expect(b.app.recorder.queries.length).toBeGreaterThan(0);

      redis = await startRedisServer(redis.port);
      await within(15_000, async () => b.cache.stats().trusted, 'B resubscribes');
      await within(15_000, async () => a.cache.stats().trusted, 'A resubscribes');
      const again = await cachedOnBoth(a, b, user);
      await a.app.service.revokeToken(again.token);
      await within(S_CHANNEL_UP_MS, async () => !(await b.ok(again.accessToken)), 'B refuses');
    });

    it('FLUSHALL changes no decision (the database is the source of truth)', async () => {
      const user = await a.app.createUser();
      const set = await cachedOnBoth(a, b, user);
      const admin = new Redis(redis.url);
      try {
        await admin.flushall();
      } finally {
        admin.disconnect();
      }
      expect(await b.ok(set.accessToken)).toBe(true);
      await a.app.service.revokeToken(set.token);
      await within(S_CHANNEL_UP_MS, async () => !(await b.ok(set.accessToken)), 'B refuses');
    });
  });

  describe('with an app-supplied ioredis client, B partitioned from Redis', () => {
    let proxy: TcpProxy;
    let clientA: Redis;
    let clientB: Redis;
    let a: Instance;
    let b: Instance;

    beforeAll(async () => {
      proxy = new TcpProxy({ host: '127.0.0.1', port: redis.port });
      await proxy.start();
      clientA = new Redis(redis.url);
      clientB = new Redis({ host: '127.0.0.1', port: proxy.port });
      [a, b] = await pair({ redis: clientA }, { redis: clientB });
    });
    afterAll(async () => {
      await closePair(a, b);
      clientA?.disconnect();
      clientB?.disconnect();
      await proxy?.close();
    });

    it('leaves the app its own client open on shutdown', async () => {
      expect(b.cache.stats()).toMatchObject({ channel: 'redis', trusted: true });
      expect(await clientA.ping()).toBe('PONG');
    });

    it('a silent partition (no FIN, no RST) is caught by the health check: B stops trusting its cache (F9)', async () => {
      const user = await a.app.createUser();
      const set = await cachedOnBoth(a, b, user);
      proxy.pause();
      try {
        await a.app.service.revokeToken(set.token);
        // B never receives the message; its PING goes unanswered and it bypasses its cache.
        await within(S_CHANNEL_SILENT_MS, async () => !(await b.ok(set.accessToken)), 'B refuses');
      } finally {
        proxy.resume();
        proxy.cutAll();
        proxy.restore();
      }
      await within(15_000, async () => b.cache.stats().trusted, 'B resubscribes');
      expect(await b.ok(set.accessToken)).toBe(false);
    });
  });
});

// MySQL/MariaDB have no LISTEN/NOTIFY: 'auto' must not pretend to have a channel there.
describeEachRow([['mariadb']] as Array<[TestDbKind]>, 'cache invalidation on %s', (kind) => {
  it("'auto' is no channel: the cache is trusted on its ttl alone", async () => {
    const app = await startDurinApp(kind, { cache: { ttl: '5s' } });
    try {
      expect(app.module.get(DurinCacheService).stats()).toMatchObject({
        channel: null,
        trusted: true,
      });
    } finally {
      await app.close();
    }
  });

  it("'postgres' refuses to start", async () => {
    await expect(startDurinApp(kind, { cache: { invalidation: 'postgres' } })).rejects.toThrow(
      /'postgres' needs a PostgreSQL data source/,
    );
  });
});
