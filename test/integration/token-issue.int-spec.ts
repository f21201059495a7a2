import {
  AuthTokenEntity,
  InvalidTokenOptionsError,
  TokenService,
  UnknownClientError,
} from '../../lib';
import { describeEachDb } from '../support/databases';
import { DAY, DurinTestApp, HOUR, MINUTE, START, startDurinApp } from './support/durin-test-app';
import { User } from './support/user.entity';

describeEachDb('TokenService issuing tokens (%s)', (kind) => {
  let app: DurinTestApp;
  let service: TokenService<AuthTokenEntity>;
  let user: User;

  beforeAll(async () => {
    app = await startDurinApp(kind, {
      tokenTtl: '1h',
      refreshTokenTtl: '7d',
      autoRefreshMaxTtl: '30d',
    });
    service = app.service;
    await service.createClient({ name: 'mobile', tokenTtl: '2d', refreshTokenTtl: '90d' });
    await service.createClient({ name: 'cli', tokenTtl: '10m' });
  });
  afterAll(() => app.close());

  beforeEach(async () => {
    app.clock.set(START);
    user = await app.createUser();
  });

  const rowsOf = (owner: User) =>
    app.tokens.find({ where: { user: { id: owner.id } }, relations: { client: true } });

  it.each([
    ['generateHeaderToken', 'header'],
    ['generateCookieToken', 'cookie'],
  ] as const)(
    '%s stores one row of auth type %s and returns the raw tokens once',
    async (method, authType) => {
      const set = await service[method](user, { context: { device: 'phone', ip: '203.0.113.7' } });

      expect(set.accessToken).toMatch(/^durin_at_[0-9A-Za-z]{49}$/);
      expect(set.refreshToken).toMatch(/^durin_rt_[0-9A-Za-z]{49}$/);
      expect(set.accessTokenExpiresAt).toEqual(new Date(START + HOUR));
      expect(set.refreshTokenExpiresAt).toEqual(new Date(START + 7 * DAY));
      expect(set.token.authType).toBe(authType);

      const rows = await rowsOf(user);
      expect(rows).toHaveLength(1);
      const [row] = rows;
      expect(row.id).toBe(set.token.id);
      expect(row.id).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      expect(row.authType).toBe(authType);
      expect(row.context).toEqual({ device: 'phone', ip: '203.0.113.7' });
      expect(row.client).toBeNull();
      expect(row.createdAt).toEqual(new Date(START));
      expect(row.expiresAt).toEqual(new Date(START + HOUR));
      expect(row.refreshExpiresAt).toEqual(new Date(START + 7 * DAY));
      expect(row.absoluteExpiresAt).toEqual(new Date(START + 30 * DAY));
      expect(row.revokedAt).toBeNull();
      expect(row.lastUsedAt).toBeNull();
      expect(row.familyId).toMatch(/^[0-9a-f-]{36}$/);
      expect(row.parentId).toBeNull();

      // Only hashes are stored: neither raw token nor its secret part appears in any column.
      const stored = JSON.stringify(row);
      for (const raw of [set.accessToken, set.refreshToken!]) {
        expect(stored).not.toContain(raw);
        expect(stored).not.toContain(raw.slice(9, 52));
      }
      expect(row.tokenHash).toMatch(/^[0-9a-f]{64}$/);
      expect(row.refreshTokenHash).toMatch(/^[0-9a-f]{64}$/);
    },
  );

  it('issues a fresh token and a new row on every login', async () => {
    const first = await service.generateHeaderToken(user);
    const second = await service.generateHeaderToken(user);
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(second.token.familyId).not.toBe(first.token.familyId);
    expect(await rowsOf(user)).toHaveLength(2);
    expect(await service.verifyToken(first.accessToken)).not.toBeNull();
    expect(await service.verifyToken(second.accessToken)).not.toBeNull();
  });

  it('stores an empty context when none is given', async () => {
    const set = await service.generateHeaderToken(user);
    const [row] = await rowsOf(user);
    expect(row.context).toEqual({});
    expect(set.token.contextObj.anything).toBeUndefined();
  });

  it('applies the lifetimes of the named client', async () => {
    const set = await service.generateHeaderToken(user, { client: 'mobile' });
    expect(set.accessTokenExpiresAt).toEqual(new Date(START + 2 * DAY));
    expect(set.refreshTokenExpiresAt).toEqual(new Date(START + 90 * DAY));
    const [row] = await rowsOf(user);
    expect(row.client?.name).toBe('mobile');
    expect(row.absoluteExpiresAt).toEqual(new Date(START + 90 * DAY));
  });

  it('uses the module default for what the client leaves unset', async () => {
    const set = await service.generateCookieToken(user, { client: 'cli' });
    expect(set.accessTokenExpiresAt).toEqual(new Date(START + 10 * MINUTE));
    expect(set.refreshTokenExpiresAt).toEqual(new Date(START + 7 * DAY));
  });

  it('lets per-call lifetimes win over the client and the module', async () => {
    const set = await service.generateHeaderToken(user, {
      client: 'mobile',
      accessExpiresIn: '15m',
      refreshExpiresIn: 3600,
    });
    expect(set.accessTokenExpiresAt).toEqual(new Date(START + 15 * MINUTE));
    expect(set.refreshTokenExpiresAt).toEqual(new Date(START + HOUR));
  });

  it('accessExpiresIn: null gives a token that never expires and no refresh token', async () => {
    const set = await service.generateHeaderToken(user, { accessExpiresIn: null });
    expect(set.accessTokenExpiresAt).toBeNull();
    expect(set.refreshToken).toBeNull();
    const [row] = await rowsOf(user);
    expect(row.expiresAt).toBeNull();
    expect(row.refreshTokenHash).toBeNull();
    expect(row.absoluteExpiresAt).toBeNull();

    app.clock.advance(3650 * DAY);
    expect(await service.verifyToken(set.accessToken)).not.toBeNull();
  });

  it('refreshExpiresIn: null gives no refresh token', async () => {
    const set = await service.generateHeaderToken(user, { refreshExpiresIn: null });
    expect(set.refreshToken).toBeNull();
    expect(set.refreshTokenExpiresAt).toBeNull();
    expect(set.accessTokenExpiresAt).toEqual(new Date(START + HOUR));
    const [row] = await rowsOf(user);
    expect(row.refreshTokenHash).toBeNull();
  });

  describe('refuses bad arguments with a typed error and writes nothing', () => {
    const cases: Array<[string, () => Promise<unknown>, new (...args: never[]) => Error, RegExp]> =
      [
        [
          'an unknown client',
          () => service.generateHeaderToken(user, { client: 'nope' }),
          UnknownClientError,
          /unknown client "nope"/,
        ],
        [
          'a client that is not a string',
          () => service.generateHeaderToken(user, { client: 7 as never }),
          InvalidTokenOptionsError,
          /'client'/,
        ],
        [
          'a string context',
          () => service.generateHeaderToken(user, { context: 'phone' as never }),
          InvalidTokenOptionsError,
          /'context'/,
        ],
        [
          'an array context',
          () => service.generateCookieToken(user, { context: ['phone'] as never }),
          InvalidTokenOptionsError,
          /'context'/,
        ],
        [
          'a null context',
          () => service.generateHeaderToken(user, { context: null as never }),
          InvalidTokenOptionsError,
          /'context'/,
        ],
        [
          'a class-instance context',
          () => service.generateHeaderToken(user, { context: new Date() as never }),
          InvalidTokenOptionsError,
          /'context'/,
        ],
        [
          'an invalid access duration',
          () => service.generateHeaderToken(user, { accessExpiresIn: '1 hour' as never }),
          InvalidTokenOptionsError,
          /'accessExpiresIn'/,
        ],
        [
          'a zero access duration',
          () => service.generateHeaderToken(user, { accessExpiresIn: 0 }),
          InvalidTokenOptionsError,
          /'accessExpiresIn'/,
        ],
        [
          'an access duration no date can hold',
          () => service.generateHeaderToken(user, { accessExpiresIn: 1e15 }),
          InvalidTokenOptionsError,
          /'accessExpiresIn'/,
        ],
        [
          'an invalid refresh duration',
          () => service.generateHeaderToken(user, { refreshExpiresIn: -5 }),
          InvalidTokenOptionsError,
          /'refreshExpiresIn'/,
        ],
        [
          'a refresh lifetime not above the access lifetime',
          () =>
            service.generateHeaderToken(user, { accessExpiresIn: '2h', refreshExpiresIn: '1h' }),
          InvalidTokenOptionsError,
          /'refreshExpiresIn'/,
        ],
        [
          'options that are not an object',
          () => service.generateHeaderToken(user, 'web' as never),
          InvalidTokenOptionsError,
          /'opts'/,
        ],
        [
          'a user that was never saved',
          () => service.generateHeaderToken({ email: 'ghost@example.com' }),
          InvalidTokenOptionsError,
          /'user'/,
        ],
      ];

    it.each(cases)('%s', async (_name, issue, errorClass, message) => {
      const before = await app.tokens.count();
      await expect(issue()).rejects.toThrow(errorClass);
      await expect(issue()).rejects.toThrow(message);
      expect(await app.tokens.count()).toBe(before);
    });
  });

  describe('with enforceSingleLogin', () => {
    let single: DurinTestApp;
    beforeAll(async () => {
      single = await startDurinApp(kind, { enforceSingleLogin: true });
    });
    afterAll(() => single.close());

    it("revokes the user's earlier tokens, not other users'", async () => {
      const alice = await single.createUser();
      const bob = await single.createUser();
      const first = await single.service.generateHeaderToken(alice);
      const other = await single.service.generateCookieToken(alice);
      const bobs = await single.service.generateHeaderToken(bob);

      const latest = await single.service.generateHeaderToken(alice);

      expect(await single.service.verifyToken(first.accessToken)).toBeNull();
      expect(await single.service.verifyToken(other.accessToken)).toBeNull();
      expect(await single.service.refreshToken(first.refreshToken)).toBeNull();
      expect(await single.service.verifyToken(latest.accessToken)).not.toBeNull();
      expect(await single.service.verifyToken(bobs.accessToken)).not.toBeNull();
      const ids = (await single.tokens.find({ where: { user: { id: alice.id } } })).map(
        (t) => t.id,
      );
      expect(ids).toEqual([latest.token.id]);
    });

    it('writes nothing when the new login is refused', async () => {
      const alice = await single.createUser();
      const first = await single.service.generateHeaderToken(alice);
      await expect(
        single.service.generateHeaderToken(alice, { client: 'missing' }),
      ).rejects.toThrow(UnknownClientError);
      expect(await single.service.verifyToken(first.accessToken)).not.toBeNull();
    });
  });

  it('takes createdAt and the expiries from the injected clock', async () => {
    app.clock.advance(1234);
    const set = await service.generateHeaderToken(user);
    expect(set.token.createdAt.getTime()).toBe(START + 1234);
    expect(set.accessTokenExpiresAt!.getTime()).toBe(START + 1234 + HOUR);
  });
});
