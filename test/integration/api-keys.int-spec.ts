import { ApiKeyExistsError, AuthTokenEntity, DurinModuleRootOptions } from '../../lib';
import { describeEachDb } from '../support/databases';
import { DAY, DurinTestApp, MINUTE, SECOND, START, startDurinApp } from './support/durin-test-app';
import { User } from './support/user.entity';

/** `TokenService.createApiKey`: one live key per user, and the `apiAccessTokenTtl` lifetime. */
describeEachDb('personal API keys (%s)', (kind) => {
  const apps: DurinTestApp[] = [];
  async function start(options: Partial<DurinModuleRootOptions> = {}): Promise<DurinTestApp> {
    const app = await startDurinApp(kind, options);
    apps.push(app);
    return app;
  }
  afterAll(async () => {
    for (const app of apps) await app.close();
  });

  /** Rows that are API keys of `user` and not revoked, read from the table itself. */
  async function liveKeyRows(app: DurinTestApp, user: User): Promise<AuthTokenEntity[]> {
    const rows = await app.tokens.find({
      where: { user: { id: user.id }, authType: 'header' },
      relations: { client: true },
    });
    const now = app.clock.now();
    return rows.filter(
      (row) =>
        row.client?.name === 'api' &&
        row.revokedAt === null &&
        (row.expiresAt === null || row.expiresAt.getTime() > now),
    );
  }

  describe('with the defaults', () => {
    let app: DurinTestApp;
    beforeAll(async () => {
      app = await start({ tokenTtl: '1h', refreshTokenTtl: '1d' });
    });
    beforeEach(() => app.clock.set(START));

    it('serialises per user only: the first keys of ten users, created at once, all succeed', async () => {
      const users = await Promise.all(Array.from({ length: 10 }, () => app.createUser()));
      const keys = await Promise.all(users.map((user) => app.service.createApiKey(user)));
      expect(new Set(keys.map((key) => key.token.id)).size).toBe(10);
      for (const user of users) {
        expect(await liveKeyRows(app, user)).toHaveLength(1);
      }
    });

    it('10 concurrent calls for one user: one key, nine ApiKeyExistsError', async () => {
      // The client exists by now (previous test), so all ten take the same path at once.
      expect(await app.service.getClient('api')).not.toBeNull();
      const user = await app.createUser();
      const outcomes = await Promise.allSettled(
        Array.from({ length: 10 }, () => app.service.createApiKey(user)),
      );
      const created = outcomes.filter((outcome) => outcome.status === 'fulfilled');
      const refused = outcomes.filter((outcome) => outcome.status === 'rejected');
      expect(created).toHaveLength(1);
      expect(refused).toHaveLength(9);
      for (const outcome of refused) {
        expect(outcome.reason).toBeInstanceOf(ApiKeyExistsError);
      }
      const key = created[0].value;
      expect((await liveKeyRows(app, user)).map((row) => row.id)).toEqual([key.token.id]);
      // The refused calls wrote nothing at all, not even dead rows.
      expect(await app.tokens.count({ where: { user: { id: user.id } } })).toBe(1);
      expect(await app.service.verifyToken(key.accessToken)).not.toBeNull();
    });

    it('lives 90 days from creation, has no refresh token, and then makes room for a new key', async () => {
      const user = await app.createUser();
      const key = await app.service.createApiKey(user);
      expect(key.accessTokenExpiresAt).toEqual(new Date(START + 90 * DAY));
      expect(key.token.expiresAt).toEqual(new Date(START + 90 * DAY));
      expect(key.refreshToken).toBeNull();
      expect(key.refreshTokenExpiresAt).toBeNull();
      expect(key.token.client?.name).toBe('api');
      expect(key.token.authType).toBe('header');
      const listed = await app.service.listUserTokens(user);
      expect(listed).toEqual([
        expect.objectContaining({ id: key.token.id, expiresAt: new Date(START + 90 * DAY) }),
      ]);

      app.clock.set(START + 90 * DAY - SECOND);
      expect(await app.service.verifyToken(key.accessToken)).not.toBeNull();
      await expect(app.service.createApiKey(user)).rejects.toBeInstanceOf(ApiKeyExistsError);
      app.clock.set(START + 90 * DAY);
      expect(await app.service.verifyToken(key.accessToken)).toBeNull();
      // An expired key that cleanup has not removed yet does not block its successor.
      const next = await app.service.createApiKey(user);
      expect(next.accessTokenExpiresAt).toEqual(new Date(START + 180 * DAY));
    });

    it('a revoked key makes room for a new one', async () => {
      const user = await app.createUser();
      const first = await app.service.createApiKey(user);
      expect(await app.service.revokeUserSession(user, first.token.id)).toBe(true);
      const second = await app.service.createApiKey(user);
      expect(second.token.id).not.toBe(first.token.id);
      expect(await app.service.verifyToken(first.accessToken)).toBeNull();
      expect(await app.service.verifyToken(second.accessToken)).not.toBeNull();
    });

    it('is not counted as a key when it is an ordinary session of another client', async () => {
      await app.service.createClient({ name: 'web' });
      const user = await app.createUser();
      await app.service.generateHeaderToken(user, { client: 'web' });
      await app.service.generateCookieToken(user);
      await expect(app.service.createApiKey(user)).resolves.toBeDefined();
    });

    it('keeps the tokenTtl of a client row the app created itself', async () => {
      const own = await start({ apiAccessClientName: 'keys' });
      await own.service.createClient({ name: 'keys', tokenTtl: '30d' });
      const key = await own.service.createApiKey(await own.createUser());
      expect(key.accessTokenExpiresAt).toEqual(new Date(START + 30 * DAY));
      expect(key.refreshToken).toBeNull();
    });
  });

  it('apiAccessTokenTtl: null -> expiresAt null, still working a year later', async () => {
    const app = await start({ apiAccessTokenTtl: null });
    const user = await app.createUser();
    const key = await app.service.createApiKey(user);
    expect(key.accessTokenExpiresAt).toBeNull();
    expect(key.token.absoluteExpiresAt).toBeNull();
    app.clock.advance(366 * DAY);
    const verified = await app.service.verifyToken(key.accessToken);
    expect(verified?.id).toBe(key.token.id);
    await app.service.revokeExpiredTokens();
    expect(await app.service.verifyToken(key.accessToken)).not.toBeNull();
    await expect(app.service.createApiKey(user)).rejects.toBeInstanceOf(ApiKeyExistsError);
  });

  it('a custom apiAccessTokenTtl is honoured, also over a client row of its own', async () => {
    const app = await start({ apiAccessTokenTtl: '7d' });
    await app.service.createClient({ name: 'api', tokenTtl: '30d' });
    const user = await app.createUser();
    const key = await app.service.createApiKey(user);
    expect(key.accessTokenExpiresAt).toEqual(new Date(START + 7 * DAY));
    app.clock.set(START + 7 * DAY - SECOND);
    expect(await app.service.verifyToken(key.accessToken)).not.toBeNull();
    app.clock.set(START + 7 * DAY);
    expect(await app.service.verifyToken(key.accessToken)).toBeNull();
  });

  it('maxSessionsPerUser: a key neither counts nor ends a session', async () => {
    const app = await start({ maxSessionsPerUser: 1, sessionLimitStrategy: 'refuse' });
    const user = await app.createUser();
    const session = await app.service.generateHeaderToken(user);
    app.clock.advance(MINUTE);
    const key = await app.service.createApiKey(user);
    expect(await app.service.verifyToken(session.accessToken)).not.toBeNull();
    expect(await app.service.verifyToken(key.accessToken)).not.toBeNull();
  });

  it('enforceSingleLogin: a key is a login as before, and a refused one revokes nothing', async () => {
    const app = await start({ enforceSingleLogin: true });
    const user = await app.createUser();
    const session = await app.service.generateHeaderToken(user);
    const key = await app.service.createApiKey(user);
    expect(await app.service.verifyToken(session.accessToken)).toBeNull();
    // Had the refused call gone on to the single-login revocation, it would have ended the key.
    await expect(app.service.createApiKey(user)).rejects.toBeInstanceOf(ApiKeyExistsError);
    expect(await app.service.verifyToken(key.accessToken)).not.toBeNull();
  });
});
