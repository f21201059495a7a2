import { DurinConfigurationError, type DurinEvent, type TokenSet } from '../../lib';
import { resolveDurinOptions } from '../../lib/options/resolve-options';
import { describeEachDb } from '../support/databases';
import { type DurinTestApp, MINUTE, START, startDurinApp } from './support/durin-test-app';
import { User } from './support/user.entity';

/** `oneTokenPerClient`: a login ends the user's earlier sessions of the same client, atomically. */
describeEachDb('oneTokenPerClient (%s)', (kind) => {
  const live = async (app: DurinTestApp, user: User) =>
    (await app.service.listUserTokens(user)).map((session) => `${session.client}:${session.id}`);

  describe('deleting revoked tokens (default)', () => {
    let app: DurinTestApp;
    const events: DurinEvent[] = [];
    beforeAll(async () => {
      app = await startDurinApp(kind, {
        tokenTtl: '1h',
        refreshTokenTtl: '1d',
        oneTokenPerClient: true,
        onEvent: (event) => events.push(event),
      });
      await app.service.createClient({ name: 'web' });
      await app.service.createClient({ name: 'mobile' });
    });
    afterAll(() => app.close());
    beforeEach(() => {
      app.clock.set(START);
      events.length = 0;
    });

    it('a second login of (user, web) ends the first, access and refresh token included', async () => {
      const user = await app.createUser();
      const other = await app.createUser();
      const first = await app.service.generateHeaderToken(user, { client: 'web' });
      // Cached, so the revocation must also drop the cache entry.
      expect((await app.service.authenticate(first.accessToken, 'header')).ok).toBe(true);
      const mobile = await app.service.generateCookieToken(user, { client: 'mobile' });
      const bare = await app.service.generateHeaderToken(user);
      const othersWeb = await app.service.generateHeaderToken(other, { client: 'web' });
      app.clock.advance(MINUTE);

      const second = await app.service.generateHeaderToken(user, { client: 'web' });

      expect(await app.service.verifyToken(first.accessToken)).toBeNull();
      expect(await app.service.refreshToken(first.refreshToken)).toBeNull();
      expect(await app.service.verifyToken(second.accessToken)).not.toBeNull();
      expect(await app.service.verifyToken(mobile.accessToken, 'cookie')).not.toBeNull();
      expect(await app.service.verifyToken(bare.accessToken)).not.toBeNull();
      expect(await app.service.verifyToken(othersWeb.accessToken)).not.toBeNull();
      expect((await live(app, user)).sort()).toEqual(
        [`web:${second.token.id}`, `mobile:${mobile.token.id}`, `null:${bare.token.id}`].sort(),
      );
      // Deleted, the rotation history of the ended login included.
      expect(await app.tokens.count({ where: { familyId: first.token.familyId } })).toBe(0);
      expect(
        events
          .filter((event) => event.type === 'token_revoked')
          .map(({ tokenId, familyId, userId, client, reason }) => ({
            tokenId,
            familyId,
            userId,
            client,
            reason,
          })),
      ).toEqual([
        {
          tokenId: first.token.id,
          familyId: first.token.familyId,
          userId: user.id,
          client: 'web',
          reason: 'client_login',
        },
      ]);
    });

    it('ends a rotated login by its whole family', async () => {
      const user = await app.createUser();
      const first = await app.service.generateHeaderToken(user, { client: 'web' });
      const rotated = (await app.service.refreshToken(first.refreshToken))!;
      await app.service.generateHeaderToken(user, { client: 'web' });
      expect(await app.service.verifyToken(rotated.accessToken)).toBeNull();
      expect(await app.service.refreshToken(rotated.refreshToken)).toBeNull();
      expect(await live(app, user)).toHaveLength(1);
    });

    it('tokens without a client are not limited', async () => {
      const user = await app.createUser();
      await app.service.generateHeaderToken(user);
      await app.service.generateHeaderToken(user);
      expect(await live(app, user)).toHaveLength(2);
    });

    it('concurrent logins of one (user, client) leave exactly one live token per client', async () => {
      const user = await app.createUser();
      const logins = [
        ...Array.from({ length: 10 }, () => 'web'),
        ...Array.from({ length: 6 }, () => 'mobile'),
      ];
      const outcomes = await Promise.allSettled(
        logins.map((client) => app.service.generateHeaderToken(user, { client })),
      );
      expect(outcomes.filter((outcome) => outcome.status === 'rejected')).toEqual([]);
      const sets = outcomes.map((outcome) => (outcome as PromiseFulfilledResult<TokenSet>).value);
      const sessions = await live(app, user);
      expect(sessions.filter((session) => session.startsWith('web:'))).toHaveLength(1);
      expect(sessions.filter((session) => session.startsWith('mobile:'))).toHaveLength(1);
      const rows = await app.tokens.find({ where: { user: { id: user.id } } });
      expect(rows).toHaveLength(2);
      let working = 0;
      for (const set of sets) {
        if ((await app.service.verifyToken(set.accessToken)) !== null) working++;
      }
      expect(working).toBe(2);
    });
  });

  it('keepExpiredTokens keeps the ended session, marked client_login', async () => {
    const app = await startDurinApp(kind, { oneTokenPerClient: true, keepExpiredTokens: true });
    try {
      await app.service.createClient({ name: 'web' });
      const user = await app.createUser();
      const first = await app.service.generateHeaderToken(user, { client: 'web' });
      const second = await app.service.generateHeaderToken(user, { client: 'web' });
      const row = await app.tokens.findOneByOrFail({ id: first.token.id });
      expect(row.revokedReason).toBe('client_login');
      expect(row.revokedAt).not.toBeNull();
      expect(await app.service.verifyToken(first.accessToken)).toBeNull();
      expect(await app.service.verifyToken(second.accessToken)).not.toBeNull();
    } finally {
      await app.close();
    }
  });

  it('with maxSessionsPerUser, the client’s own session goes before any other', async () => {
    const app = await startDurinApp(kind, { oneTokenPerClient: true, maxSessionsPerUser: 2 });
    try {
      await app.service.createClient({ name: 'web' });
      await app.service.createClient({ name: 'mobile' });
      const user = await app.createUser();
      const mobile = await app.service.generateHeaderToken(user, { client: 'mobile' });
      app.clock.advance(MINUTE);
      await app.service.generateHeaderToken(user, { client: 'web' });
      app.clock.advance(MINUTE);
      const web = await app.service.generateHeaderToken(user, { client: 'web' });
      expect((await live(app, user)).sort()).toEqual(
        [`mobile:${mobile.token.id}`, `web:${web.token.id}`].sort(),
      );
    } finally {
      await app.close();
    }
  });

  it('off by default: two logins of one client both stay', async () => {
    const app = await startDurinApp(kind);
    try {
      await app.service.createClient({ name: 'web' });
      const user = await app.createUser();
      await app.service.generateHeaderToken(user, { client: 'web' });
      await app.service.generateHeaderToken(user, { client: 'web' });
      expect(await live(app, user)).toHaveLength(2);
    } finally {
      await app.close();
    }
  });
});

describe('oneTokenPerClient option', () => {
  class U {
    id = 1;
  }
  it.each(['yes', 1, null])('refuses %p', (value) => {
    expect(() => resolveDurinOptions({ userEntity: U, oneTokenPerClient: value as never })).toThrow(
      DurinConfigurationError,
    );
  });
  it('defaults to false', () => {
    expect(resolveDurinOptions({ userEntity: U }).oneTokenPerClient).toBe(false);
  });
});
