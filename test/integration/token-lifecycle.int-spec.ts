import { AuthTokenEntity, SessionInfo, TokenService } from '../../lib';
import { TokenStore } from '../../lib/store/token-store';
import { describeEachDb } from '../support/databases';
import { DAY, DurinTestApp, HOUR, MINUTE, START, startDurinApp } from './support/durin-test-app';
import { User } from './support/user.entity';

describeEachDb('TokenService lifecycle (%s)', (kind) => {
  let app: DurinTestApp;
  let service: TokenService<AuthTokenEntity>;
  let user: User;

  beforeAll(async () => {
    app = await startDurinApp(kind, {
      tokenTtl: '1h',
      refreshTokenTtl: '1d',
      autoRefreshMaxTtl: '2d',
    });
    service = app.service;
    await service.createClient({ name: 'web' });
  });
  afterAll(() => app.close());

  beforeEach(async () => {
    app.clock.set(START);
    user = await app.createUser();
  });

  const row = (id: string) => app.tokens.findOneBy({ id });

  describe('renewToken', () => {
    it("extends the access expiry by the token's own lifetime from now", async () => {
      const set = await service.generateHeaderToken(user, { accessExpiresIn: '2h' });
      app.clock.set(START + 90 * MINUTE);
      const token = (await service.verifyToken(set.accessToken))!;

      const renewed = await service.renewToken(token);

      expect(renewed).toEqual(new Date(START + 90 * MINUTE + 2 * HOUR));
      expect(token.expiresAt).toEqual(renewed);
      const stored = (await row(set.token.id))!;
      expect(stored.expiresAt).toEqual(renewed);
      expect(stored.lastRefreshedAt).toEqual(new Date(START + 90 * MINUTE));
      expect(stored.refreshExpiresAt).toEqual(new Date(START + 90 * MINUTE + DAY));
      app.clock.set(START + 3 * HOUR);
      expect(await service.verifyToken(set.accessToken)).not.toBeNull();
    });

    it('never extends past the absolute expiry', async () => {
      const set = await service.generateHeaderToken(user);
      const absolute = START + 2 * DAY;
      expect(set.token.absoluteExpiresAt).toEqual(new Date(absolute));
      let token = (await service.verifyToken(set.accessToken))!;
      app.clock.set(absolute - 30 * MINUTE);
      await app.tokens.update(set.token.id, { expiresAt: new Date(absolute - 20 * MINUTE) });
      token = (await service.verifyToken(set.accessToken))!;

      expect(await service.renewToken(token)).toEqual(new Date(absolute));
      expect((await row(set.token.id))!.expiresAt).toEqual(new Date(absolute));
      expect((await row(set.token.id))!.refreshExpiresAt!.getTime()).toBeLessThanOrEqual(absolute);

      app.clock.set(absolute - 1);
      expect(await service.verifyToken(set.accessToken)).not.toBeNull();
      app.clock.set(absolute);
      expect(await service.verifyToken(set.accessToken)).toBeNull();
      expect(await service.renewToken(token)).toBeNull();
    });

    it('does not bring back an expired token', async () => {
      const set = await service.generateHeaderToken(user);
      const token = (await service.verifyToken(set.accessToken))!;
      app.clock.set(START + HOUR);
      expect(await service.renewToken(token)).toBeNull();
      expect((await row(set.token.id))!.expiresAt).toEqual(new Date(START + HOUR));
      expect(await service.verifyToken(set.accessToken)).toBeNull();
    });

    it('does not bring back a revoked token', async () => {
      const set = await service.generateHeaderToken(user);
      const token = (await service.verifyToken(set.accessToken))!;
      await service.revokeToken(token);
      expect(await service.renewToken(token)).toBeNull();
      expect(await row(set.token.id)).toBeNull();
      expect(await service.verifyToken(set.accessToken)).toBeNull();
    });
  });

  describe('expireToken', () => {
    it('makes the token and its refresh token expire now, keeping the row', async () => {
      const set = await service.generateHeaderToken(user);
      app.clock.set(START + 10 * MINUTE);
      expect(await service.expireToken(set.token)).toBe(true);

      expect(await service.verifyToken(set.accessToken)).toBeNull();
      expect(await service.refreshToken(set.refreshToken)).toBeNull();
      const stored = (await row(set.token.id))!;
      expect(stored.expiresAt).toEqual(new Date(START + 10 * MINUTE));
      expect(stored.refreshExpiresAt).toEqual(new Date(START + 10 * MINUTE));
      expect(stored.revokedAt).toBeNull();
      // Expired, not revoked: nothing ends up in the list of live sessions.
      expect((await service.listUserTokens(user)).map((s) => s.id)).not.toContain(set.token.id);
    });

    it('returns false for a token that is gone', async () => {
      const set = await service.generateHeaderToken(user);
      await service.revokeToken(set.token);
      expect(await service.expireToken(set.token)).toBe(false);
    });
  });

  describe('revokeToken', () => {
    it.each(['entity', 'id'] as const)(
      'by %s ends the access and the refresh token and removes the rows',
      async (by) => {
        const set = await service.generateCookieToken(user);
        const other = await service.generateCookieToken(user);
        expect(await service.revokeToken(by === 'id' ? set.token.id : set.token)).toBe(true);

        expect(await service.verifyToken(set.accessToken)).toBeNull();
        expect(await service.refreshToken(set.refreshToken)).toBeNull();
        expect(await row(set.token.id)).toBeNull();
        expect(await service.verifyToken(other.accessToken)).not.toBeNull();
      },
    );

    it('ends the rotation history with it, so an old refresh token cannot be replayed', async () => {
      const first = await service.generateHeaderToken(user);
      const second = (await service.refreshToken(first.refreshToken))!;
      expect(await service.revokeToken(second.token.id)).toBe(true);
      expect(await app.tokens.countBy({ familyId: first.token.familyId })).toBe(0);
      expect(await service.refreshToken(first.refreshToken)).toBeNull();
      expect(await service.verifyToken(second.accessToken)).toBeNull();
    });

    it('is idempotent and returns false for unknown ids', async () => {
      const set = await service.generateHeaderToken(user);
      expect(await service.revokeToken(set.token.id)).toBe(true);
      expect(await service.revokeToken(set.token.id)).toBe(false);
      expect(await service.revokeToken('00000000-0000-4000-8000-000000000000')).toBe(false);
      expect(await service.revokeToken('')).toBe(false);
    });

    it('two concurrent logouts of one session both settle without an error', async () => {
      const set = await service.generateHeaderToken(user);
      const results = await Promise.all([
        service.revokeToken(set.token.id),
        service.revokeToken(set.token.id),
      ]);
      expect(results.filter(Boolean).length).toBeGreaterThanOrEqual(1);
      expect(await service.verifyToken(set.accessToken)).toBeNull();
    });
  });

  describe('revokeAllUserTokens', () => {
    it("ends every session of the user (by entity or id) and counts them; others' stay", async () => {
      const other = await app.createUser();
      const a = await service.generateHeaderToken(user);
      const b = await service.generateCookieToken(user);
      const c = await service.generateHeaderToken(user);
      const c2 = (await service.refreshToken(c.refreshToken))!;
      const foreign = await service.generateHeaderToken(other);

      expect(await service.revokeAllUserTokens(user)).toBe(3);

      for (const set of [a, b, c2]) {
        expect(await service.verifyToken(set.accessToken)).toBeNull();
        expect(await service.refreshToken(set.refreshToken)).toBeNull();
      }
      expect(await service.refreshToken(c.refreshToken)).toBeNull();
      expect(await app.tokens.countBy({ user: { id: user.id } })).toBe(0);
      expect(await service.verifyToken(foreign.accessToken)).not.toBeNull();

      expect(await service.revokeAllUserTokens(user.id)).toBe(0);
      expect(await service.revokeAllUserTokens(other.id)).toBe(1);
    });

    it('lets the user log in again afterwards', async () => {
      await service.generateHeaderToken(user);
      await service.revokeAllUserTokens(user);
      const fresh = await service.generateHeaderToken(user);
      expect(await service.verifyToken(fresh.accessToken)).not.toBeNull();
    });
  });

  describe('listUserTokens', () => {
    it('lists the live sessions, newest first, without secrets or hashes', async () => {
      const oldest = await service.generateHeaderToken(user, { context: { device: 'phone' } });
      app.clock.advance(MINUTE);
      const middle = await service.generateCookieToken(user, { client: 'web' });
      app.clock.advance(MINUTE);
      const revoked = await service.generateHeaderToken(user);
      await service.revokeToken(revoked.token);
      app.clock.advance(MINUTE);
      const noRefresh = await service.generateHeaderToken(user, { refreshExpiresIn: null });
      app.clock.advance(MINUTE);
      const newest = await service.generateHeaderToken(user, { accessExpiresIn: '10m' });
      await service.generateHeaderToken(await app.createUser());

      // At +2h every access token has expired; those with a refresh token are still sessions.
      app.clock.set(START + 2 * HOUR);
      const sessions = await service.listUserTokens(user);

      expect(sessions.map((session) => session.id)).toEqual([
        newest.token.id,
        middle.token.id,
        oldest.token.id,
      ]);
      expect(sessions.map((session) => session.id)).not.toContain(noRefresh.token.id);
      const [, web, phone] = sessions;
      expect(web).toEqual<SessionInfo>({
        id: middle.token.id,
        authType: 'cookie',
        client: 'web',
        context: {},
        createdAt: new Date(START + MINUTE),
        lastUsedAt: null,
        expiresAt: new Date(START + MINUTE + HOUR),
        refreshExpiresAt: new Date(START + MINUTE + DAY),
        absoluteExpiresAt: new Date(START + MINUTE + 2 * DAY),
        abilities: ['*'],
      });
      expect(phone.context).toEqual({ device: 'phone' });
      expect(phone.client).toBeNull();

      const json = JSON.stringify(sessions);
      expect(json).not.toMatch(/hash/i);
      for (const set of [oldest, middle, newest]) {
        expect(json).not.toContain(set.accessToken);
        expect(json).not.toContain(set.refreshToken!);
      }
      expect(await service.listUserTokens(user.id)).toEqual(sessions);
    });

    it('leaves out sessions past their absolute expiry and gives [] for unknown users', async () => {
      await service.generateHeaderToken(user);
      app.clock.set(START + 2 * DAY);
      expect(await service.listUserTokens(user)).toEqual([]);
      expect(await service.listUserTokens(999_999)).toEqual([]);
    });

    it('shows a rotated session once, as its newest token', async () => {
      const first = await service.generateHeaderToken(user);
      const second = (await service.refreshToken(first.refreshToken))!;
      expect((await service.listUserTokens(user)).map((s) => s.id)).toEqual([second.token.id]);
    });
  });

  describe('with keepExpiredTokens', () => {
    let audit: DurinTestApp;
    beforeAll(async () => {
      audit = await startDurinApp(kind, { keepExpiredTokens: true });
    });
    afterAll(() => audit.close());

    it('keeps revoked rows with revokedAt and the reason, and they stay dead', async () => {
      const owner = await audit.createUser();
      const one = await audit.service.generateHeaderToken(owner);
      const two = await audit.service.generateHeaderToken(owner);
      const three = await audit.service.generateHeaderToken(owner);
      audit.clock.set(START + MINUTE);
      expect(await audit.service.revokeToken(one.token)).toBe(true);
      expect(await audit.service.revokeAllUserTokens(owner)).toBe(2);

      const rows = await audit.tokens.find({ where: { user: { id: owner.id } } });
      const reasons = Object.fromEntries(rows.map((r) => [r.id, r.revokedReason]));
      expect(reasons).toEqual({
        [one.token.id]: 'logout',
        [two.token.id]: 'logout_all',
        [three.token.id]: 'logout_all',
      });
      expect(rows.every((r) => r.revokedAt?.getTime() === START + MINUTE)).toBe(true);
      for (const set of [one, two, three]) {
        expect(await audit.service.verifyToken(set.accessToken)).toBeNull();
        expect(await audit.service.refreshToken(set.refreshToken)).toBeNull();
      }
      expect(await audit.service.listUserTokens(owner)).toEqual([]);
      // A revoked row is never extended again.
      const kept = (await audit.tokens.findOneBy({ id: two.token.id }))!;
      expect(await audit.service.renewToken(kept)).toBeNull();
      expect(await audit.service.expireToken(kept)).toBe(false);
    });

    it('a late sliding write cannot resurrect a revoked token', async () => {
      const owner = await audit.createUser();
      const set = await audit.service.generateHeaderToken(owner);
      await audit.service.revokeToken(set.token);
      const store = audit.module.get(TokenStore);
      const now = audit.clock.now();
      const written = await store.touch(
        set.token.id,
        { lastUsedAt: new Date(now), expiresAt: new Date(now + DAY) },
        now,
        0,
      );
      expect(written).toBe(false);
      const stored = (await audit.tokens.findOneBy({ id: set.token.id }))!;
      expect(stored.expiresAt).toEqual(set.token.expiresAt);
      expect(stored.lastUsedAt).toBeNull();
    });
  });
});
