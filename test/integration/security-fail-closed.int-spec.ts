import { AuthTokenEntity, TokenSet, TokenStoreUnavailableError } from '../../lib';
import { TokenStore } from '../../lib/store/token-store';
import { createTestDatabase, describeEachDb, TestDatabase } from '../support/databases';
import { TcpProxy, withPgThroughProxy } from '../support/tcp-proxy';
import { DurinTestApp, MINUTE, START, startDurinApp } from './support/durin-test-app';
import { User } from './support/user.entity';

const DURIN = { tokenTtl: '1h', refreshTokenTtl: '1d', storeTimeout: '2s' } as const;

/**
 * Fail closed and commit semantics (REQ-FAIL-01, REQ-FAIL-03, invariants I1/I4/I6): revocations
 * resolve only after their write committed and throw `TokenStoreUnavailableError` when the store
 * fails; a refresh that fails between consume and insert leaves the parent usable.
 */
describe('revocations with PostgreSQL cut off (TCP proxy)', () => {
  let app: DurinTestApp;
  let proxy: TcpProxy;
  let db: TestDatabase;
  let user: User;

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    const proxied = await withPgThroughProxy(db);
    proxy = proxied.proxy;
    app = await startDurinApp(
      'postgres',
      // Every decision from the database: what is tested here is the write, not the cache.
      { ...DURIN, cache: false },
      { db: { ...db, options: proxied.options } },
    );
  });
  afterAll(async () => {
    await app.close({ keepDatabase: true });
    await proxy.close();
    await db.drop();
  });

  beforeEach(async () => {
    proxy.restore();
    app.clock.set(START);
    user = await app.createUser();
  });

  type Attempt = [string, (set: TokenSet<AuthTokenEntity>) => Promise<unknown>];
  const attempts: Attempt[] = [
    ['revokeToken(token)', (set) => app.service.revokeToken(set.token)],
    ['revokeToken(id)', (set) => app.service.revokeToken(set.token.id)],
    ['revokeUserSession', (set) => app.service.revokeUserSession(user, set.token.id)],
    ['revokeAllUserTokens', () => app.service.revokeAllUserTokens(user)],
    ['expireToken', (set) => app.service.expireToken(set.token)],
    ['renewToken', (set) => app.service.renewToken(set.token)],
    ['refreshToken', (set) => app.service.refreshToken(set.refreshToken)],
  ];

  it.each(attempts)(
    'I6: %s throws TokenStoreUnavailableError instead of reporting success',
    async (_name, attempt) => {
      const set = await app.service.generateHeaderToken(user);
      proxy.cutAll();
      await expect(attempt(set)).rejects.toBeInstanceOf(TokenStoreUnavailableError);
      // Authentication fails closed as well (503 upstream), never "not authenticated".
      await expect(app.service.verifyToken(set.accessToken)).rejects.toBeInstanceOf(
        TokenStoreUnavailableError,
      );
      proxy.restore();
      // Nothing was committed: the session still works, and the call now succeeds.
      expect(await app.service.verifyToken(set.accessToken)).not.toBeNull();
      await expect(attempt(set)).resolves.toBeDefined();
    },
  );

  it('I1: once revokeToken resolved, the token is dead, also for a new connection', async () => {
    const set = await app.service.generateHeaderToken(user);
    expect(await app.service.revokeToken(set.token)).toBe(true);
    proxy.cutAll(); // every pooled connection is gone
    proxy.restore();
    // While the pool replaces its dead connections a lookup may fail (closed, 503), but no
    // answer is ever "authenticated".
    let verdict: unknown = 'unavailable';
    for (let attempt = 0; attempt < 5 && verdict === 'unavailable'; attempt++) {
      verdict = await app.service.verifyToken(set.accessToken).catch((error: unknown) => {
        expect(error).toBeInstanceOf(TokenStoreUnavailableError);
        return 'unavailable';
      });
    }
    expect(verdict).toBeNull();
  });

  it('REQ-FAIL-03 / F7: the connection dying between consume and insert leaves the parent usable', async () => {
    const parent = await app.service.generateHeaderToken(user);
    const store = app.module.get(TokenStore);
    const insert = store.insert.bind(store);
    const spy = jest.spyOn(store, 'insert').mockImplementationOnce(async (token, manager) => {
      // The consume UPDATE ran in this transaction; now the network goes.
      proxy.cutAll();
      return insert(token, manager);
    });
    try {
      await expect(app.service.refreshToken(parent.refreshToken)).rejects.toBeInstanceOf(
        TokenStoreUnavailableError,
      );
    } finally {
      spy.mockRestore();
    }
    proxy.restore();
    const [row] = await app.tokens.find({ where: { familyId: parent.token.familyId } });
    expect(row).toMatchObject({ id: parent.token.id, revokedAt: null, replacedById: null });
    expect(await app.service.verifyToken(parent.accessToken)).not.toBeNull();
    const child = await app.service.refreshToken(parent.refreshToken);
    expect(child).not.toBeNull();
    expect(await app.service.verifyToken(child!.accessToken)).not.toBeNull();
  });
});

describeEachDb('commit semantics (%s)', (kind) => {
  let app: DurinTestApp;
  let store: TokenStore<AuthTokenEntity>;
  let user: User;

  beforeAll(async () => {
    app = await startDurinApp(kind, DURIN);
    store = app.module.get(TokenStore);
  });
  afterAll(() => app.close());
  beforeEach(async () => {
    app.clock.set(START);
    user = await app.createUser();
  });
  afterEach(() => jest.restoreAllMocks());

  it('REQ-FAIL-03: an error after the consume and before the insert rolls back; retrying the parent succeeds', async () => {
    const parent = await app.service.generateHeaderToken(user);
    app.clock.advance(MINUTE);
    jest.spyOn(store, 'insert').mockRejectedValueOnce(new Error('injected: insert failed'));

    await expect(app.service.refreshToken(parent.refreshToken)).rejects.toBeInstanceOf(
      TokenStoreUnavailableError,
    );

    // The consume was rolled back with the failed insert: no tombstone, no child.
    const rows = await app.tokens.find({ where: { familyId: parent.token.familyId } });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ revokedAt: null, revokedReason: null, replacedById: null });
    expect(await app.service.verifyToken(parent.accessToken)).not.toBeNull();

    // A retry is a normal first rotation, not a reuse.
    const child = await app.service.refreshToken(parent.refreshToken);
    expect(child).not.toBeNull();
    const after = await app.tokens.find({ where: { familyId: parent.token.familyId } });
    expect(after.filter((row) => row.revokedAt === null).map((row) => row.id)).toEqual([
      child!.token.id,
    ]);
  });

  it.each([
    ['revokeToken', (set: TokenSet<AuthTokenEntity>) => app.service.revokeToken(set.token)],
    ['revokeAllUserTokens', () => app.service.revokeAllUserTokens(user)],
    [
      'revokeUserSession',
      (set: TokenSet<AuthTokenEntity>) => app.service.revokeUserSession(user, set.token.id),
    ],
  ])('I6: %s throws TokenStoreUnavailableError when the revoking write fails', async (_n, call) => {
    const set = await app.service.generateHeaderToken(user);
    jest.spyOn(store, 'revokeWhere').mockRejectedValueOnce(new Error('injected: disk full'));
    await expect(call(set)).rejects.toBeInstanceOf(TokenStoreUnavailableError);
    // The caller learnt that it failed; it did not, so the token still works and a retry ends it.
    expect(await app.service.verifyToken(set.accessToken)).not.toBeNull();
    await call(set);
    expect(await app.service.verifyToken(set.accessToken)).toBeNull();
  });
});
