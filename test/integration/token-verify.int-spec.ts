import { AuthTokenEntity, TokenService, TokenStoreUnavailableError } from '../../lib';
import { TokenFormat } from '../../lib/tokens/token-format';
import { describeEachDb } from '../support/databases';
import { DurinTestApp, HOUR, START, startDurinApp } from './support/durin-test-app';
import { User } from './support/user.entity';

describeEachDb('TokenService.verifyToken (%s)', (kind) => {
  let app: DurinTestApp;
  let service: TokenService<AuthTokenEntity>;
  let user: User;

  beforeAll(async () => {
    app = await startDurinApp(kind, { tokenTtl: '1h', refreshTokenTtl: '1d' });
    service = app.service;
    await service.createClient({ name: 'web' });
  });
  afterAll(() => app.close());

  beforeEach(async () => {
    app.clock.set(START);
    user = await app.createUser();
  });

  it('returns the stored token with its user and client', async () => {
    const set = await service.generateHeaderToken(user, {
      client: 'web',
      context: { device: 'phone' },
    });
    const token = await service.verifyToken(set.accessToken);
    expect(token).toBeInstanceOf(AuthTokenEntity);
    expect(token!.id).toBe(set.token.id);
    expect(token!.user).toMatchObject({ id: user.id, email: user.email, isActive: true });
    expect(token!.client?.name).toBe('web');
    expect(token!.contextObj.device).toBe('phone');
    expect(token!.expiresAt).toEqual(new Date(START + HOUR));
  });

  it('loads token, user and client in exactly one query', async () => {
    const set = await service.generateHeaderToken(user, { client: 'web' });
    app.recorder.reset();
    expect(await service.verifyToken(set.accessToken)).not.toBeNull();
    expect(app.recorder.queries).toHaveLength(1);
    const [query] = app.recorder.queries;
    expect(query).toMatch(/^SELECT/);
    expect(query).toMatch(/JOIN ["`]users["`]/);
    expect(query).toMatch(/JOIN ["`]auth_client["`]/);
  });

  it('does not write when only verifying', async () => {
    const set = await service.generateHeaderToken(user);
    app.clock.advance(HOUR / 2);
    app.recorder.reset();
    await service.verifyToken(set.accessToken);
    await service.verifyToken(set.accessToken);
    expect(app.recorder.statements.every((query) => query.startsWith('SELECT'))).toBe(true);
  });

  describe('the auth type', () => {
    it('is enforced when given (enableAuthRestriction is on by default)', async () => {
      const header = await service.generateHeaderToken(user);
      const cookie = await service.generateCookieToken(user);
      expect(await service.verifyToken(header.accessToken, 'header')).not.toBeNull();
      expect(await service.verifyToken(header.accessToken, 'cookie')).toBeNull();
      expect(await service.verifyToken(cookie.accessToken, 'cookie')).not.toBeNull();
      expect(await service.verifyToken(cookie.accessToken, 'header')).toBeNull();
    });

    it('is not checked when not given', async () => {
      const cookie = await service.generateCookieToken(user);
      expect(await service.verifyToken(cookie.accessToken)).not.toBeNull();
    });

    it('is not enforced with enableAuthRestriction: false', async () => {
      const open = await startDurinApp(kind, { enableAuthRestriction: false });
      try {
        const owner = await open.createUser();
        const cookie = await open.service.generateCookieToken(owner);
        expect(await open.service.verifyToken(cookie.accessToken, 'header')).not.toBeNull();
      } finally {
        await open.close();
      }
    });
  });

  describe('expiry', () => {
    it('is valid 1 ms before expiresAt and expired exactly at it', async () => {
      const set = await service.generateHeaderToken(user);
      const expiresAt = set.accessTokenExpiresAt!.getTime();
      app.clock.set(expiresAt - 1);
      expect(await service.verifyToken(set.accessToken)).not.toBeNull();
      app.clock.set(expiresAt);
      expect(await service.verifyToken(set.accessToken)).toBeNull();
      app.clock.set(expiresAt + HOUR);
      expect(await service.verifyToken(set.accessToken)).toBeNull();
    });

    it('never goes past the absolute expiry', async () => {
      const capped = await startDurinApp(kind, {
        tokenTtl: '1h',
        refreshTokenTtl: '2h',
        autoRefreshMaxTtl: '3h',
      });
      try {
        const owner = await capped.createUser();
        const set = await capped.service.generateHeaderToken(owner);
        expect(set.token.absoluteExpiresAt).toEqual(new Date(START + 3 * HOUR));
        // Push the access expiry beyond the cap behind the library's back: the cap still holds.
        await capped.tokens.update(set.token.id, { expiresAt: new Date(START + 10 * HOUR) });
        capped.clock.set(START + 3 * HOUR - 1);
        expect(await capped.service.verifyToken(set.accessToken)).not.toBeNull();
        capped.clock.set(START + 3 * HOUR);
        expect(await capped.service.verifyToken(set.accessToken)).toBeNull();
      } finally {
        await capped.close();
      }
    });
  });

  it('gives null for a revoked token', async () => {
    const set = await service.generateHeaderToken(user);
    await service.revokeToken(set.token);
    expect(await service.verifyToken(set.accessToken)).toBeNull();
  });

  describe('the user', () => {
    it('must be active (isActive = false fails, and re-enabling works again)', async () => {
      const set = await service.generateHeaderToken(user);
      await app.users.update(user.id, { isActive: false });
      expect(await service.verifyToken(set.accessToken)).toBeNull();
      await app.users.update(user.id, { isActive: true });
      expect(await service.verifyToken(set.accessToken)).not.toBeNull();
    });

    it('must still exist: deleting the user ends the token (and its row)', async () => {
      const set = await service.generateHeaderToken(user);
      await app.users.delete(user.id);
      expect(await service.verifyToken(set.accessToken)).toBeNull();
      expect(await app.tokens.countBy({ id: set.token.id })).toBe(0);
    });

    it('is checked with a custom isUserActive', async () => {
      const custom = await startDurinApp(kind, {
        isUserActive: (candidate) => !(candidate as User).email.endsWith('@blocked.example'),
      });
      try {
        const allowed = await custom.createUser();
        const blocked = await custom.createUser({ email: 'eve@blocked.example' });
        // The default rule would refuse this one; the custom rule does not look at isActive.
        const inactiveButAllowed = await custom.createUser({ isActive: false });
        const a = await custom.service.generateHeaderToken(allowed);
        const b = await custom.service.generateHeaderToken(blocked);
        const c = await custom.service.generateHeaderToken(inactiveButAllowed);
        expect(await custom.service.verifyToken(a.accessToken)).not.toBeNull();
        expect(await custom.service.verifyToken(b.accessToken)).toBeNull();
        expect(await custom.service.verifyToken(c.accessToken)).not.toBeNull();
      } finally {
        await custom.close();
      }
    });
  });

  describe('bad input gives null without any query', () => {
    const format = new TokenFormat('durin');
    const valid = format.generate('access');
    const cases: Array<[string, unknown]> = [
      ['undefined', undefined],
      ['null', null],
      ['a number', 12345],
      ['an object', { token: valid }],
      ['an empty string', ''],
      ['a random word', 'hello'],
      ['a wrong checksum', valid.slice(0, -1) + (valid.endsWith('A') ? 'B' : 'A')],
      ['a token of another prefix', new TokenFormat('other').generate('access')],
      ['a refresh token', format.generate('refresh')],
      ['10 000 characters', 'durin_at_' + 'A'.repeat(9991)],
      ['unicode', valid.slice(0, 20) + 'é' + valid.slice(21)],
      ['a NUL byte', valid.slice(0, 20) + '\u0000' + valid.slice(21)],
      ['SQL', "' OR 1=1 --"],
      ['the token with a space', ` ${valid}`],
    ];

    it.each(cases)('%s', async (_name, raw) => {
      app.recorder.reset();
      await expect(service.verifyToken(raw)).resolves.toBeNull();
      await expect(service.verifyToken(raw, 'header')).resolves.toBeNull();
      expect(app.recorder.queries).toEqual([]);
    });
  });

  it('gives null for a well-formed token that was never issued, in one read and no write', async () => {
    const before = await app.tokens.count();
    app.recorder.reset();
    expect(await service.verifyToken(new TokenFormat('durin').generate('access'))).toBeNull();
    expect(app.recorder.queries).toHaveLength(1);
    expect(app.recorder.queries[0]).toMatch(/^SELECT/);
    expect(await app.tokens.count()).toBe(before);
  });

  it('does not accept a refresh token as an access token', async () => {
    const set = await service.generateHeaderToken(user);
    expect(await service.verifyToken(set.refreshToken)).toBeNull();
  });

  it('honours strictContextAccess on the returned token', async () => {
    const strict = await startDurinApp(kind, { strictContextAccess: true });
    try {
      const owner = await strict.createUser();
      const set = await strict.service.generateHeaderToken(owner, { context: { device: 'tv' } });
      const token = await strict.service.verifyToken(set.accessToken);
      expect(token!.contextObj.device).toBe('tv');
      expect(() => token!.contextObj.missing).toThrow(/no key "missing"/);
      // The default app of this file is not strict: a missing key reads as undefined.
      const lenient = await service.verifyToken(
        (await service.generateHeaderToken(user)).accessToken,
      );
      expect(lenient!.contextObj.missing).toBeUndefined();
    } finally {
      await strict.close();
    }
  });

  it('fails closed when the store is down: a typed error, never null or a raw driver error', async () => {
    const broken = await startDurinApp(kind);
    try {
      const owner = await broken.createUser();
      const set = await broken.service.generateHeaderToken(owner);
      await broken.dataSource.destroy();
      await expect(broken.service.verifyToken(set.accessToken)).rejects.toThrow(
        TokenStoreUnavailableError,
      );
      await expect(broken.service.authenticate(set.accessToken, 'header')).rejects.toThrow(
        TokenStoreUnavailableError,
      );
      await expect(broken.service.refreshToken(set.refreshToken)).rejects.toThrow(
        TokenStoreUnavailableError,
      );
      // Junk is still refused without asking the store.
      await expect(broken.service.verifyToken('junk')).resolves.toBeNull();
    } finally {
      await broken.close();
    }
  });
});
