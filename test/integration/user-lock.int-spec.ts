import { FindOptionsWhere } from 'typeorm';
import { AuthTokenEntity, TokenSet } from '../../lib';
import { lockUserSessions } from '../../lib/store/security-queries';
import { TokenStore } from '../../lib/store/token-store';
import { describeEachDb } from '../support/databases';
import { DurinTestApp, startDurinApp } from './support/durin-test-app';
import { lockWaits, waitForBlockedQuery } from './support/lock-waits';

/**
 * The per-user lock (`lockUserSessions`) under real concurrency, on every engine: PostgreSQL's
 * advisory lock, MariaDB's row lock on the user, SQLite's single queue. These are the races of
 * F1 (parallel refreshes) and REQ-SES-03 (parallel logins against the session limit); on MariaDB
 * the session-limit one fails without the lock (each login counts the others' rows as absent).
 */
describeEachDb('the per-user lock (%s)', (kind) => {
  let app: DurinTestApp;
  beforeAll(async () => {
    app = await startDurinApp(kind, {
      tokenTtl: '1h',
      refreshTokenTtl: '1d',
      // No grace window: every loser of a refresh race gets nothing, so the winners can be counted.
      refreshReuseGraceSeconds: 0,
      maxSessionsPerUser: 3,
      cache: false,
    });
  });
  afterAll(() => app.close());

  const liveRows = async (where: FindOptionsWhere<AuthTokenEntity>) =>
    (await app.tokens.find({ where })).filter((row) => row.revokedAt === null);

  it('F1: 20 parallel refreshes of one refresh token mint exactly one TokenSet', async () => {
    const user = await app.createUser();
    const login = await app.service.generateHeaderToken(user);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, () => app.service.refreshToken(login.refreshToken)),
    );
    expect(outcomes.filter((outcome) => outcome.status === 'rejected')).toEqual([]);
    const sets = outcomes
      .map((outcome) => (outcome as PromiseFulfilledResult<TokenSet | null>).value)
      .filter((set): set is TokenSet => set !== null);
    expect(sets).toHaveLength(1);
    // The losers presented a spent token: that is reuse, so the family ends (nothing live).
    expect(await liveRows({ familyId: login.token.familyId })).toEqual([]);
  });

  it('REQ-SES-03: 10 concurrent logins leave exactly maxSessionsPerUser (3) live sessions', async () => {
    const user = await app.createUser();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, () => app.service.generateHeaderToken(user)),
    );
    expect(outcomes.filter((outcome) => outcome.status === 'rejected')).toEqual([]);
    expect(await liveRows({ user: { id: user.id } })).toHaveLength(3);
    expect((await app.service.listUserTokens(user)).length).toBe(3);
  });

  if (kind === 'sqlite') return; // One connection: there is no second transaction to block.

  it("blocks a second transaction on the same user until the first one's commit", async () => {
    const store = app.module.get(TokenStore);
    const [first, second] = [await app.createUser(), await app.createUser()];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const holding = new Promise<void>((resolve) => (locked = resolve));
    const holder = store.transaction(async (manager) => {
      await lockUserSessions(store, manager, first.id);
      locked();
      await held;
    });
    await holding;
    // Another user is not held up ...
    await store.transaction((manager) => lockUserSessions(store, manager, second.id));
    // ... the same user is, until the holder commits.
    let acquired = false;
    const waiter = store.transaction(async (manager) => {
      await lockUserSessions(store, manager, first.id);
      acquired = true;
    });
    await waitForBlockedQuery(app);
    expect(acquired).toBe(false);
    release();
    await Promise.all([holder, waiter]);
    expect(acquired).toBe(true);
    expect(await lockWaits(app)).toBe(0);
  });

  it('releases the lock on rollback', async () => {
    const store = app.module.get(TokenStore);
    const user = await app.createUser();
    await expect(
      store.transaction(async (manager) => {
        await lockUserSessions(store, manager, user.id);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    // Would wait for the lock wait timeout (50 s on MariaDB) if the lock outlived the rollback.
    await store.transaction((manager) => lockUserSessions(store, manager, user.id));
  });
});
