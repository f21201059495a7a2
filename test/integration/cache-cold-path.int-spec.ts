import { EntitySubscriberInterface, EventSubscriber, LoadEvent } from 'typeorm';
import { AuthTokenEntity, DurinModuleRootOptions } from '../../lib';
import { TokenStore } from '../../lib/store/token-store';
import { describeEachDb } from '../support/databases';
import { DurinTestApp, startDurinApp } from './support/durin-test-app';

/**
 * The uncached path (issue 5, "cold path"): one round trip per authentication, built once from
 * entity metadata (PreparedAccessLookup), hydrating exactly like TypeORM's query builder.
 */

const UNCACHED: Partial<DurinModuleRootOptions> = {
  tokenTtl: '1h',
  refreshTokenTtl: '1d',
  autoRefreshInterval: '1m',
  cache: false,
};

function reference(app: DurinTestApp, hash: string): Promise<AuthTokenEntity | null> {
  return app.tokens
    .createQueryBuilder('token')
    .innerJoinAndSelect('token.user', 'owner')
    .leftJoinAndSelect('token.client', 'client')
    .where('token.tokenHash IN (:...hashes)', { hashes: [hash] })
    .getOne();
}

describeEachDb('the cold path (%s)', (kind) => {
  let app: DurinTestApp;

  beforeAll(async () => {
    app = await startDurinApp(kind, UNCACHED);
    await app.service.createClient({ name: 'web', tokenTtl: '30m' });
  });
  afterAll(() => app.close());

  it('one SELECT per authentication, and no write within the interval', async () => {
    const user = await app.createUser();
    const set = await app.service.generateHeaderToken(user);
    // The first use also records lastUsedAt (one UPDATE); every use after it within the interval
    // is the one SELECT.
    app.recorder.reset();
    await app.service.authenticate(set.accessToken, 'header');
    expect(app.recorder.statements.map((sql) => sql.slice(0, 6))).toEqual(['SELECT', 'UPDATE']);
    for (let i = 0; i < 5; i += 1) {
      app.recorder.reset();
      expect((await app.service.authenticate(set.accessToken, 'header')).ok).toBe(true);
      expect(app.recorder.statements).toHaveLength(1);
      expect(app.recorder.statements[0]).toMatch(/^SELECT/);
    }
  });

  it.each([
    ['without a client', undefined],
    ['with a client', 'web'],
  ])('hydrates exactly like the query builder (%s)', async (_name, client) => {
    const user = await app.createUser();
    const set = await app.service.generateHeaderToken(user, {
      client,
      context: { device: 'phone', nested: { a: [1, 2] } },
    });
    const store = app.module.get(TokenStore);
    const prepared = await store.findByAccessHash([set.token.tokenHash]);
    const expected = await reference(app, set.token.tokenHash);
    expect(prepared).toBeInstanceOf(AuthTokenEntity);
    expect(prepared).toEqual(expected);
    expect(prepared!.user).toBeInstanceOf(expected!.user.constructor);
    expect(prepared!.expiresAt).toBeInstanceOf(Date);
    expect(await store.findByAccessHash(['0'.repeat(64)])).toBeNull();
  });

  it('with several peppers, still one round trip', async () => {
    const peppered = await startDurinApp(kind, {
      ...UNCACHED,
      pepper: ['a-new-pepper-0123456789', 'an-old-pepper-0123456789'],
    });
    try {
      const set = await peppered.service.generateHeaderToken(await peppered.createUser());
      await peppered.service.authenticate(set.accessToken, 'header'); // the first use writes
      peppered.recorder.reset();
      expect((await peppered.service.authenticate(set.accessToken, 'header')).ok).toBe(true);
      expect(peppered.recorder.statements).toHaveLength(1);
    } finally {
      await peppered.close();
    }
  });

  it("keeps TypeORM's load events: with a subscriber, the query builder is used", async () => {
    const loaded: string[] = [];
    @EventSubscriber()
    class Watcher implements EntitySubscriberInterface {
      afterLoad(entity: unknown, event?: LoadEvent<unknown>): void {
        loaded.push(event?.metadata.tableName ?? typeof entity);
      }
    }
    const watched = await startDurinApp(kind, UNCACHED, {
      typeorm: { subscribers: [Watcher] },
    });
    try {
      const set = await watched.service.generateHeaderToken(await watched.createUser());
      await watched.service.authenticate(set.accessToken, 'header'); // the first use writes
      loaded.length = 0;
      watched.recorder.reset();
      expect((await watched.service.authenticate(set.accessToken, 'header')).ok).toBe(true);
      expect(watched.recorder.statements).toHaveLength(1);
      expect(watched.dataSource.subscribers.length).toBe(1);
      expect(loaded).toContain('auth_token');
    } finally {
      await watched.close();
    }
  });
});

describe('the cold path on PostgreSQL behind a pooler without named statements', () => {
  it('falls back to unnamed statements when the server refuses them (26000)', async () => {
    const app = await startDurinApp('postgres', UNCACHED);
    try {
      const set = await app.service.generateHeaderToken(await app.createUser());
      const pool = (app.dataSource.driver as unknown as { master: { query: jest.Mock } }).master;
      const query = pool.query.bind(pool) as (config: unknown) => Promise<unknown>;
      const spy = jest.spyOn(pool, 'query').mockImplementation((config: unknown) => {
        if (typeof config === 'object' && config !== null && 'name' in config) {
          return Promise.reject(
            Object.assign(new Error('prepared statement does not exist'), { code: '26000' }),
          );
        }
        return query(config);
      });
      try {
        for (let i = 0; i < 3; i += 1) {
          expect((await app.service.authenticate(set.accessToken, 'header')).ok).toBe(true);
        }
        // Each statement (the lookup, the first use's write) tried once, then never again.
        const names = spy.mock.calls
          .map(([config]) => (config as { name?: string }).name)
          .filter((name) => name !== undefined);
        expect(names.length).toBeGreaterThanOrEqual(1);
        expect(new Set(names).size).toBe(names.length);
      } finally {
        spy.mockRestore();
      }
    } finally {
      await app.close();
    }
  });
});
