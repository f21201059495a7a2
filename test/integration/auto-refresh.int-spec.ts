import { AbstractAuthToken } from '../../lib';
import { describeEachDb } from '../support/databases';
import { DAY, DurinTestApp, HOUR, MINUTE, START, startDurinApp } from './support/durin-test-app';

describeEachDb('TokenService.authenticate (%s)', (kind) => {
  describe('with autoRefresh', () => {
    let app: DurinTestApp;
    beforeAll(async () => {
      app = await startDurinApp(kind, {
        autoRefresh: true,
        autoRefreshInterval: '5m',
        tokenTtl: '1h',
        refreshTokenTtl: '1d',
        autoRefreshMaxTtl: '2d',
      });
    });
    afterAll(() => app.close());
    beforeEach(() => app.clock.set(START));

    const stored = (id: string) => app.tokens.findOneByOrFail({ id });

    it('does not write within the interval, then slides once it has passed', async () => {
      const set = await app.service.generateHeaderToken(await app.createUser());
      // The first use is recorded at once (lastUsedAt only, no slide); intervals count from it.
      await app.service.authenticate(set.accessToken, 'header');
      expect((await stored(set.token.id)).lastUsedAt).toEqual(new Date(START));

      app.clock.set(START + 4 * MINUTE);
      app.recorder.reset();
      for (let i = 0; i < 20; i++) {
        const result = await app.service.authenticate(set.accessToken, 'header');
        expect(result).toMatchObject({ ok: true, autoRefreshed: false });
      }
      expect(app.recorder.countOf('UPDATE')).toBe(0);
      expect((await stored(set.token.id)).expiresAt).toEqual(new Date(START + HOUR));

      app.clock.set(START + 5 * MINUTE);
      app.recorder.reset();
      const slid = await app.service.authenticate(set.accessToken, 'header');
      expect(slid).toMatchObject({ ok: true, autoRefreshed: true });
      expect(app.recorder.countOf('UPDATE')).toBe(1);
      const row = await stored(set.token.id);
      expect(row.expiresAt).toEqual(new Date(START + 5 * MINUTE + HOUR));
      expect(row.refreshExpiresAt).toEqual(new Date(START + 5 * MINUTE + DAY));
      expect(row.lastUsedAt).toEqual(new Date(START + 5 * MINUTE));
      expect(row.lastRefreshedAt).toEqual(new Date(START + 5 * MINUTE));
      if (slid.ok) expect(slid.token.expiresAt).toEqual(row.expiresAt);

      // The next interval starts at the last write.
      app.clock.set(START + 9 * MINUTE);
      app.recorder.reset();
      await app.service.authenticate(set.accessToken, 'header');
      expect(app.recorder.countOf('UPDATE')).toBe(0);
      app.clock.set(START + 10 * MINUTE);
      await app.service.authenticate(set.accessToken, 'header');
      expect(app.recorder.countOf('UPDATE')).toBe(1);
    });

    it('keeps an active session alive past its first expiry', async () => {
      const set = await app.service.generateHeaderToken(await app.createUser());
      for (let t = 30 * MINUTE; t <= 10 * HOUR; t += 30 * MINUTE) {
        app.clock.set(START + t);
        expect((await app.service.authenticate(set.accessToken, 'header')).ok).toBe(true);
      }
      // Left alone, it expires one lifetime after the last slide.
      app.clock.set(START + 11 * HOUR);
      expect(await app.service.authenticate(set.accessToken, 'header')).toEqual({
        ok: false,
        reason: 'token_expired',
      });
    });

    it('never slides past the absolute expiry', async () => {
      const set = await app.service.generateHeaderToken(await app.createUser());
      const absolute = START + 2 * DAY;
      let lastOk = 0;
      for (let t = 0; t <= 3 * DAY; t += 40 * MINUTE) {
        app.clock.set(START + t);
        const result = await app.service.authenticate(set.accessToken, 'header');
        if (result.ok) {
          lastOk = START + t;
          expect(result.token.expiresAt!.getTime()).toBeLessThanOrEqual(absolute);
          expect(result.token.refreshExpiresAt!.getTime()).toBeLessThanOrEqual(absolute);
        }
      }
      expect(lastOk).toBeLessThan(absolute);
      expect(lastOk).toBeGreaterThan(absolute - HOUR);
      const row = await stored(set.token.id);
      expect(row.expiresAt!.getTime()).toBeLessThanOrEqual(absolute);
      app.clock.set(absolute);
      expect((await app.service.authenticate(set.accessToken, 'header')).ok).toBe(false);
    });

    it('of concurrent requests due for a write, exactly one slides', async () => {
      const set = await app.service.generateHeaderToken(await app.createUser());
      app.clock.set(START + 30 * MINUTE);
      const results = await Promise.all(
        Array.from({ length: 10 }, () => app.service.authenticate(set.accessToken, 'header')),
      );
      expect(results.every((result) => result.ok)).toBe(true);
      expect(results.filter((result) => result.ok && result.autoRefreshed)).toHaveLength(1);
    });

    it('does not touch a token that fails', async () => {
      const set = await app.service.generateHeaderToken(await app.createUser());
      app.clock.set(START + 30 * MINUTE);
      app.recorder.reset();
      expect(await app.service.authenticate(set.accessToken, 'cookie')).toEqual({
        ok: false,
        reason: 'token_invalid',
      });
      expect(app.recorder.countOf('UPDATE')).toBe(0);
    });
  });

  describe('without autoRefresh', () => {
    let app: DurinTestApp;
    beforeAll(async () => {
      app = await startDurinApp(kind, { tokenTtl: '1h', refreshTokenTtl: '1d' });
    });
    afterAll(() => app.close());
    beforeEach(() => app.clock.set(START));

    it('writes lastUsedAt at most once per interval (default 1m) and never slides', async () => {
      const set = await app.service.generateHeaderToken(await app.createUser());
      app.recorder.reset();
      for (let t = 0; t < 3 * MINUTE; t += 10 * 1000) {
        app.clock.set(START + t);
        const result = await app.service.authenticate(set.accessToken, 'header');
        expect(result).toMatchObject({ ok: true, autoRefreshed: false });
      }
      // The first use at +0, then due at +1m and at +2m (each one interval after the previous write).
      expect(app.recorder.countOf('UPDATE')).toBe(3);
      const row = await app.tokens.findOneByOrFail({ id: set.token.id });
      expect(row.lastUsedAt).toEqual(new Date(START + 2 * MINUTE));
      expect(row.expiresAt).toEqual(new Date(START + HOUR));
      expect(row.lastRefreshedAt).toBeNull();
    });

    it('records the first use at once, without sliding, then once per interval', async () => {
      const set = await app.service.generateHeaderToken(await app.createUser());
      app.clock.set(START + 5 * 1000);
      app.recorder.reset();
      await app.service.authenticate(set.accessToken, 'header');
      let row = await app.tokens.findOneByOrFail({ id: set.token.id });
      expect(row.lastUsedAt).toEqual(new Date(START + 5 * 1000));
      expect(row.lastRefreshedAt).toBeNull();
      app.clock.set(START + 30 * 1000);
      await app.service.authenticate(set.accessToken, 'header');
      expect(app.recorder.countOf('UPDATE')).toBe(1);
      row = await app.tokens.findOneByOrFail({ id: set.token.id });
      expect(row.lastUsedAt).toEqual(new Date(START + 5 * 1000));
    });

    it('reports why it failed', async () => {
      const user = await app.createUser();
      const set = await app.service.generateHeaderToken(user);
      expect(await app.service.authenticate('junk', 'header')).toEqual({
        ok: false,
        reason: 'token_invalid',
      });
      await app.users.update(user.id, { isActive: false });
      expect(await app.service.authenticate(set.accessToken, 'header')).toEqual({
        ok: false,
        reason: 'user_inactive',
      });
      await app.users.update(user.id, { isActive: true });
      app.clock.set(START + HOUR);
      expect(await app.service.authenticate(set.accessToken, 'header')).toEqual({
        ok: false,
        reason: 'token_expired',
      });
    });
  });

  describe('autoRefreshInterval: 0', () => {
    it('writes on every request', async () => {
      const app = await startDurinApp(kind, { autoRefresh: true, autoRefreshInterval: 0 });
      try {
        const set = await app.service.generateHeaderToken(await app.createUser());
        app.recorder.reset();
        for (let i = 1; i <= 3; i++) {
          app.clock.set(START + i);
          expect(await app.service.authenticate(set.accessToken, 'header')).toMatchObject({
            ok: true,
            autoRefreshed: true,
          });
        }
        expect(app.recorder.countOf('UPDATE')).toBe(3);
      } finally {
        await app.close();
      }
    });
  });

  describe('post-auth hooks', () => {
    it('run after authentication, and the auto-refresh hook only after a slide', async () => {
      const calls: string[] = [];
      const app = await startDurinApp(kind, {
        autoRefresh: true,
        autoRefreshInterval: '1m',
        postAutoRefreshHandler: async (user: object, token: AbstractAuthToken, raw: string) => {
          calls.push(`slid:${raw.slice(0, 9)}`);
          return [user, token];
        },
        postAuthHandler: (user: object, token: AbstractAuthToken) => {
          calls.push('auth');
          return [{ ...user, decorated: true }, token];
        },
      });
      try {
        const set = await app.service.generateHeaderToken(await app.createUser());
        const first = await app.service.authenticate(set.accessToken, 'header');
        expect(first.ok && (first.user as { decorated?: boolean }).decorated).toBe(true);
        app.clock.set(START + 2 * MINUTE);
        await app.service.authenticate(set.accessToken, 'header');
        expect(calls).toEqual(['auth', 'slid:durin_at_', 'auth']);
        await app.service.authenticate('junk', 'header');
        expect(calls).toHaveLength(3);
      } finally {
        await app.close();
      }
    });
  });
});
