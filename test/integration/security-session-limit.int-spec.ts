import { HttpStatus } from '@nestjs/common';
import {
  DurinConfigurationError,
  SessionLimitExceededError,
  toDurinHttpException,
  TokenSet,
} from '../../lib';
import { resolveDurinOptions } from '../../lib/options/resolve-options';
import { describeEachDb } from '../support/databases';
import { DAY, DurinTestApp, HOUR, MINUTE, START, startDurinApp } from './support/durin-test-app';
import { User } from './support/user.entity';

/** `maxSessionsPerUser` and `sessionLimitStrategy` (REQ-SES-03). */
describeEachDb('maxSessionsPerUser (%s)', (kind) => {
  const live = async (app: DurinTestApp, user: User) =>
    (await app.service.listUserTokens(user)).map((session) => session.id);

  describe("'revoke_oldest' (default)", () => {
    let app: DurinTestApp;
    beforeAll(async () => {
      app = await startDurinApp(kind, {
        tokenTtl: '1h',
        refreshTokenTtl: '1d',
        maxSessionsPerUser: 3,
      });
    });
    afterAll(() => app.close());
    beforeEach(() => app.clock.set(START));

    it('REQ-SES-03: a 4th login ends the oldest session, family and access token included', async () => {
      const user = await app.createUser();
      const sets: TokenSet[] = [];
      for (let i = 0; i < 5; i++) {
        app.clock.advance(MINUTE);
        sets.push(await app.service.generateHeaderToken(user));
      }
      expect((await live(app, user)).sort()).toEqual(
        sets
          .slice(2)
          .map((s) => s.token.id)
          .sort(),
      );
      for (const old of sets.slice(0, 2)) {
        expect(await app.service.verifyToken(old.accessToken)).toBeNull();
        expect(await app.service.refreshToken(old.refreshToken)).toBeNull();
      }
      for (const kept of sets.slice(2)) {
        expect(await app.service.verifyToken(kept.accessToken)).not.toBeNull();
      }
    });

    it('counts a rotated login once, by its live head, and keeps its login time', async () => {
      const user = await app.createUser();
      const first = await app.service.generateHeaderToken(user);
      app.clock.advance(MINUTE);
      await app.service.generateHeaderToken(user); // the second login
      app.clock.advance(MINUTE);
      // Rotating the first login makes its live head newer than the second login.
      const rotated = (await app.service.refreshToken(first.refreshToken))!;
      app.clock.advance(MINUTE);
      const third = await app.service.generateHeaderToken(user);
      app.clock.advance(MINUTE);
      const fourth = await app.service.generateHeaderToken(user);
      // The oldest live head was `second` (the rotated head is younger).
      expect((await live(app, user)).sort()).toEqual(
        [rotated.token.id, third.token.id, fourth.token.id].sort(),
      );
    });

    it('does not count expired or revoked sessions, nor other users', async () => {
      const user = await app.createUser();
      const other = await app.createUser();
      await app.service.generateHeaderToken(other);
      const expiring = await app.service.generateHeaderToken(user, { refreshExpiresIn: null });
      const revoked = await app.service.generateHeaderToken(user);
      await app.service.revokeToken(revoked.token);
      const kept = await app.service.generateHeaderToken(user);
      app.clock.advance(2 * HOUR); // `expiring` is dead, `kept` still refreshable
      const a = await app.service.generateHeaderToken(user);
      const b = await app.service.generateHeaderToken(user);
      expect((await live(app, user)).sort()).toEqual(
        [kept.token.id, a.token.id, b.token.id].sort(),
      );
      expect(expiring.refreshToken).toBeNull();
      expect(await app.service.listUserTokens(other)).toHaveLength(1);
    });

    it('leaves personal API keys out, like the session list', async () => {
      await app.service.createClient({ name: 'api', tokenTtl: '90d', refreshTokenTtl: null });
      const user = await app.createUser();
      const key = await app.service.generateHeaderToken(user, { client: 'api' });
      for (let i = 0; i < 4; i++) {
        app.clock.advance(MINUTE);
        await app.service.generateHeaderToken(user);
      }
      expect(await app.service.verifyToken(key.accessToken)).not.toBeNull();
      expect(await live(app, user)).toHaveLength(4); // the key and three sessions
    });

    it('REQ-SES-03: limit 3, 20 parallel logins -> exactly 3 live sessions afterwards', async () => {
      const user = await app.createUser();
      const outcomes = await Promise.allSettled(
        Array.from({ length: 20 }, () => app.service.generateHeaderToken(user)),
      );
      expect(outcomes.filter((outcome) => outcome.status === 'rejected')).toEqual([]);
      expect(await live(app, user)).toHaveLength(3);
      const rows = await app.tokens.find({ where: { user: { id: user.id } } });
      expect(rows.filter((row) => row.revokedAt === null)).toHaveLength(3);
    });
  });

  describe("'refuse'", () => {
    let app: DurinTestApp;
    beforeAll(async () => {
      app = await startDurinApp(kind, {
        tokenTtl: '1h',
        refreshTokenTtl: '1d',
        maxSessionsPerUser: 3,
        sessionLimitStrategy: 'refuse',
      });
    });
    afterAll(() => app.close());
    beforeEach(() => app.clock.set(START));

    it('REQ-SES-03: a 4th login throws SessionLimitExceededError and writes nothing', async () => {
      const user = await app.createUser();
      const sets = [];
      for (let i = 0; i < 3; i++) sets.push(await app.service.generateCookieToken(user));
      const before = await app.tokens.count();
      app.recorder.reset();

      const refused = app.service.generateCookieToken(user);
      await expect(refused).rejects.toThrow(SessionLimitExceededError);
      await expect(refused).rejects.toMatchObject({ limit: 3 });

      expect(await app.tokens.count()).toBe(before);
      expect(app.recorder.countOf('INSERT')).toBe(0);
      for (const set of sets) expect(await app.service.verifyToken(set.accessToken)).not.toBeNull();
      // Logging out somewhere makes room again.
      await app.service.revokeToken(sets[0].token);
      await expect(app.service.generateCookieToken(user)).resolves.toBeDefined();
    });

    it('a session that expired makes room', async () => {
      const user = await app.createUser();
      for (let i = 0; i < 3; i++) await app.service.generateHeaderToken(user);
      app.clock.advance(DAY);
      await expect(app.service.generateHeaderToken(user)).resolves.toBeDefined();
    });

    it('REQ-SES-03: limit 3, 20 parallel logins -> exactly 3 succeed, 17 are refused', async () => {
      const user = await app.createUser();
      const outcomes = await Promise.allSettled(
        Array.from({ length: 20 }, () => app.service.generateHeaderToken(user)),
      );
      const refused = outcomes.filter((outcome) => outcome.status === 'rejected');
      expect(refused).toHaveLength(17);
      for (const outcome of refused) {
        expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(SessionLimitExceededError);
      }
      expect(await live(app, user)).toHaveLength(3);
      expect(await app.tokens.count({ where: { user: { id: user.id } } })).toBe(3);
    });
  });

  it('REQ-SES-03: enforceSingleLogin is atomic too: 10 parallel logins leave one session', async () => {
    const app = await startDurinApp(kind, { enforceSingleLogin: true });
    try {
      const user = await app.createUser();
      await Promise.all(Array.from({ length: 10 }, () => app.service.generateHeaderToken(user)));
      expect(await live(app, user)).toHaveLength(1);
    } finally {
      await app.close();
    }
  });
});

describe('session limit errors and options', () => {
  it("maps SessionLimitExceededError to 403 code 'session_limit'", () => {
    const mapped = toDurinHttpException(new SessionLimitExceededError(3));
    expect(mapped?.getStatus()).toBe(HttpStatus.FORBIDDEN);
    expect(mapped?.getResponse()).toEqual({
      statusCode: 403,
      error: 'Forbidden',
      message: 'Too many active sessions: log out of another device first.',
      code: 'session_limit',
    });
  });

  class U {}
  it.each([0, -1, 1.5, '3', Number.NaN, 100_001])('refuses maxSessionsPerUser %p', (value) => {
    expect(() =>
      resolveDurinOptions({ userEntity: U, maxSessionsPerUser: value as never }),
    ).toThrow(DurinConfigurationError);
  });

  it('refuses an unknown sessionLimitStrategy, defaults to revoke_oldest and no limit', () => {
    expect(() =>
      resolveDurinOptions({ userEntity: U, sessionLimitStrategy: 'oldest' as never }),
    ).toThrow(/sessionLimitStrategy/);
    expect(resolveDurinOptions({ userEntity: U })).toMatchObject({
      maxSessionsPerUser: null,
      sessionLimitStrategy: 'revoke_oldest',
    });
  });
});
