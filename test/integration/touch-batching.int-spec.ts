import { TokenStore } from '../../lib/store/token-store';
import { describeEachDb } from '../support/databases';
import { DurinTestApp, HOUR, MINUTE, startDurinApp } from './support/durin-test-app';

/**
 * Issue 12: the due writes of concurrent requests (`lastUsedAt`, and the slide under
 * `autoRefresh`) go to PostgreSQL as one statement, with exactly the per-row conditions of a lone
 * write. The same expectations run on SQLite and MariaDB, which keep one statement per write:
 * the outcome must not depend on the engine.
 */

const updatesSince = (app: DurinTestApp, from: number) =>
  app.recorder.queries.slice(from).filter((sql) => /^UPDATE/i.test(sql));

describeEachDb('batched due writes (%s)', (kind) => {
  const batched = kind === 'postgres';
  let app: DurinTestApp;
  let store: TokenStore;

  beforeAll(async () => {
    app = await startDurinApp(kind, { cache: false, tokenTtl: '1h', autoRefreshInterval: '1m' });
    store = app.module.get(TokenStore);
  });
  afterAll(() => app.close());

  async function issue(): Promise<{ id: string; raw: string }> {
    const set = await app.service.generateHeaderToken(await app.createUser());
    const token = await app.service.verifyToken(set.accessToken);
    return { id: token!.id, raw: set.accessToken };
  }

  const stored = async (id: string) => (await app.tokens.findOneByOrFail({ id })).lastUsedAt;

  it('writes lastUsedAt of 30 first uses in one statement, each row its own', async () => {
    const tokens = await Promise.all(Array.from({ length: 30 }, () => issue()));
    app.clock.advance(MINUTE);
    const before = app.recorder.count;
    const results = await Promise.all(
      tokens.map((token) => app.service.authenticate(token.raw, 'header')),
    );
    expect(results.every((result) => result.ok)).toBe(true);
    expect(updatesSince(app, before)).toHaveLength(batched ? 1 : 30);
    for (const token of tokens) {
      expect((await stored(token.id))?.getTime()).toBe(app.clock.now());
    }
  });

  it('keeps the conditions of a lone write for each row of one statement', async () => {
    const [live, revoked, expired, recent, twice] = await Promise.all(
      Array.from({ length: 5 }, () => issue()),
    );
    const now = app.clock.now();
    // Marked revoked, as `keepExpiredTokens` keeps it (a plain revocation deletes the row).
    await app.tokens.update(revoked.id, { revokedAt: new Date(now - 1) });
    await app.tokens.update(expired.id, { expiresAt: new Date(now - 1) });
    await app.tokens.update(recent.id, { lastUsedAt: new Date(now - 30_000) });
    const touch = (id: string, at = now) =>
      store.touch(id, { lastUsedAt: new Date(at) }, at, MINUTE);
    const before = app.recorder.count;
    const written = await Promise.all([
      touch(live.id),
      touch(revoked.id),
      touch(expired.id),
      touch(recent.id),
      touch(twice.id),
      touch(twice.id),
    ]);
    expect(written.slice(0, 4)).toEqual([true, false, false, false]);
    // One token written twice at once: exactly one write matches, batched or not (unbatched, the
    // one that runs second finds the row written within the interval).
    expect(written.slice(4).filter(Boolean)).toHaveLength(1);
    expect(updatesSince(app, before)).toHaveLength(batched ? 1 : 6);
    expect((await stored(live.id))?.getTime()).toBe(now);
    expect((await stored(revoked.id))?.getTime()).not.toBe(now);
    expect((await stored(expired.id))?.getTime()).not.toBe(now);
    expect((await stored(recent.id))?.getTime()).toBe(now - 30_000);
    expect((await stored(twice.id))?.getTime()).toBe(now);
  });

  it('slides the expiries of each row to its own values, and leaves the others alone', async () => {
    const [sliding, plain] = await Promise.all([issue(), issue()]);
    const now = app.clock.now();
    const before = await app.tokens.findOneByOrFail({ id: plain.id });
    const [a, b] = await Promise.all([
      store.touch(
        sliding.id,
        {
          lastUsedAt: new Date(now),
          expiresAt: new Date(now + 2 * HOUR),
          refreshExpiresAt: new Date(now + 3 * HOUR),
          lastRefreshedAt: new Date(now),
        },
        now,
        MINUTE,
      ),
      store.touch(plain.id, { lastUsedAt: new Date(now) }, now, MINUTE),
    ]);
    expect([a, b]).toEqual([true, true]);
    const slid = await app.tokens.findOneByOrFail({ id: sliding.id });
    expect(slid.expiresAt?.getTime()).toBe(now + 2 * HOUR);
    expect(slid.refreshExpiresAt?.getTime()).toBe(now + 3 * HOUR);
    expect(slid.lastRefreshedAt?.getTime()).toBe(now);
    const untouched = await app.tokens.findOneByOrFail({ id: plain.id });
    expect(untouched.expiresAt).toEqual(before.expiresAt);
    expect(untouched.refreshExpiresAt).toEqual(before.refreshExpiresAt);
    expect(untouched.lastRefreshedAt).toEqual(before.lastRefreshedAt);
    expect(untouched.lastUsedAt?.getTime()).toBe(now);
  });

  it('authenticates under autoRefresh with the slides of concurrent requests written together', async () => {
    const sliding = await startDurinApp(
      kind,
      { cache: false, tokenTtl: '1h', autoRefresh: true, autoRefreshInterval: '1m' },
      { db: app.db, clock: app.clock },
    );
    try {
      const sets = [];
      for (let i = 0; i < 10; i++) {
        sets.push(await sliding.service.generateHeaderToken(await sliding.createUser()));
      }
      app.clock.advance(10 * MINUTE);
      const before = sliding.recorder.count;
      const results = await Promise.all(
        sets.map((set) => sliding.service.authenticate(set.accessToken, 'header')),
      );
      expect(results.every((result) => result.ok && result.autoRefreshed)).toBe(true);
      expect(updatesSince(sliding, before)).toHaveLength(batched ? 1 : 10);
      for (const result of results) {
        if (!result.ok) continue;
        const row = await sliding.tokens.findOneByOrFail({ id: result.token.id });
        expect(row.expiresAt?.getTime()).toBe(app.clock.now() + HOUR);
        expect(result.token.expiresAt?.getTime()).toBe(app.clock.now() + HOUR);
      }
    } finally {
      await sliding.close({ keepDatabase: true });
    }
  });
});
