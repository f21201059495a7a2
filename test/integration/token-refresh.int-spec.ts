import { AuthTokenEntity, InvalidTokenOptionsError, TokenService, TokenSet } from '../../lib';
import { TokenFormat } from '../../lib/tokens/token-format';
import { describeEachDb } from '../support/databases';
import { DAY, DurinTestApp, HOUR, MINUTE, START, startDurinApp } from './support/durin-test-app';
import { User } from './support/user.entity';

describeEachDb('TokenService.refreshToken (%s)', (kind) => {
  let app: DurinTestApp;
  let service: TokenService<AuthTokenEntity>;
  let user: User;

  beforeAll(async () => {
    app = await startDurinApp(kind, {
      tokenTtl: '1h',
      refreshTokenTtl: '1d',
      autoRefreshMaxTtl: '3d',
    });
    service = app.service;
    await service.createClient({ name: 'web' });
  });
  afterAll(() => app.close());

  beforeEach(async () => {
    app.clock.set(START);
    user = await app.createUser();
  });

  const family = (familyId: string) =>
    app.tokens.find({ where: { familyId }, order: { createdAt: 'ASC' } });

  it('rotates: the old pair stops working and the new pair carries the session on', async () => {
    const first = await service.generateCookieToken(user, {
      client: 'web',
      context: { device: 'phone' },
    });
    app.clock.advance(30 * MINUTE);

    const next = await service.refreshToken(first.refreshToken);

    expect(next).not.toBeNull();
    expect(next!.accessToken).not.toBe(first.accessToken);
    expect(next!.refreshToken).not.toBe(first.refreshToken);
    expect(next!.accessTokenExpiresAt).toEqual(new Date(START + 30 * MINUTE + HOUR));
    expect(next!.refreshTokenExpiresAt).toEqual(new Date(START + 30 * MINUTE + DAY));

    expect(await service.verifyToken(first.accessToken)).toBeNull();
    const verified = await service.verifyToken(next!.accessToken, 'cookie');
    expect(verified).not.toBeNull();
    expect(verified!.user).toMatchObject({ id: user.id });
    expect(verified!.client?.name).toBe('web');
    expect(verified!.contextObj.device).toBe('phone');
    expect(verified!.authType).toBe('cookie');
    expect(verified!.familyId).toBe(first.token.familyId);
    expect(verified!.absoluteExpiresAt).toEqual(first.token.absoluteExpiresAt);
    expect(verified!.absoluteExpiresAt).toEqual(new Date(START + 3 * DAY));

    const [parent, child] = await family(first.token.familyId);
    expect(parent.id).toBe(first.token.id);
    expect(parent.revokedAt).toEqual(new Date(START + 30 * MINUTE));
    expect(parent.revokedReason).toBe('rotated');
    expect(parent.replacedById).toBe(child.id);
    expect(child.id).toBe(next!.token.id);
    expect(child.parentId).toBe(parent.id);
    expect(child.revokedAt).toBeNull();
    expect(child.lastRefreshedAt).toEqual(new Date(START + 30 * MINUTE));
  });

  it('merges new context keys into the session context', async () => {
    const first = await service.generateHeaderToken(user, {
      context: { device: 'phone', ip: 'a' },
    });
    const next = await service.refreshToken(first.refreshToken, { context: { ip: 'b' } });
    expect(next!.token.context).toEqual({ device: 'phone', ip: 'b' });
  });

  it('refuses a non-object context with a typed error and keeps the old pair', async () => {
    const first = await service.generateHeaderToken(user);
    await expect(
      service.refreshToken(first.refreshToken, { context: [] as never }),
    ).rejects.toThrow(InvalidTokenOptionsError);
    expect(await service.verifyToken(first.accessToken)).not.toBeNull();
    expect(await service.refreshToken(first.refreshToken)).not.toBeNull();
  });

  it('keeps the absolute expiry through a chain of rotations, and ends there', async () => {
    const first = await service.generateHeaderToken(user);
    const absolute = START + 3 * DAY;
    let current: TokenSet<AuthTokenEntity> = first;
    for (let step = 1; step <= 5; step++) {
      app.clock.set(START + step * 14 * HOUR);
      const next = await service.refreshToken(current.refreshToken);
      expect(next).not.toBeNull();
      expect(next!.token.absoluteExpiresAt).toEqual(new Date(absolute));
      expect(next!.accessTokenExpiresAt!.getTime()).toBeLessThanOrEqual(absolute);
      expect(next!.refreshTokenExpiresAt!.getTime()).toBeLessThanOrEqual(absolute);
      current = next!;
    }
    // Step 5 was at 70 h: its refresh expiry is capped at 72 h.
    expect(current.refreshTokenExpiresAt).toEqual(new Date(absolute));
    app.clock.set(absolute);
    expect(await service.refreshToken(current.refreshToken)).toBeNull();
    expect(await service.verifyToken(current.accessToken)).toBeNull();
  });

  it('works after the access token expired, until the refresh token expires (inclusive)', async () => {
    const first = await service.generateHeaderToken(user);
    const second = await service.generateHeaderToken(user);
    app.clock.set(START + 2 * HOUR);
    expect(await service.verifyToken(first.accessToken)).toBeNull();
    expect(await service.refreshToken(first.refreshToken)).not.toBeNull();

    app.clock.set(START + DAY);
    expect(await service.refreshToken(second.refreshToken)).toBeNull();
  });

  it('is valid 1 ms before the refresh expiry', async () => {
    const first = await service.generateHeaderToken(user);
    app.clock.set(START + DAY - 1);
    expect(await service.refreshToken(first.refreshToken)).not.toBeNull();
  });

  it('gives null for an access token, and leaves the session untouched', async () => {
    const first = await service.generateHeaderToken(user);
    app.recorder.reset();
    expect(await service.refreshToken(first.accessToken)).toBeNull();
    expect(app.recorder.queries).toEqual([]);
    expect(await service.verifyToken(first.accessToken)).not.toBeNull();
    const [row] = await family(first.token.familyId);
    expect(row.revokedAt).toBeNull();
    expect(await service.refreshToken(first.refreshToken)).not.toBeNull();
  });

  it.each([
    ['undefined', undefined],
    ['an array', ['durin_rt_x']],
    ['a long string', 'x'.repeat(10_000)],
    ['a foreign prefix', new TokenFormat('other').generate('refresh')],
  ])('gives null for junk (%s) without any query', async (_name, raw) => {
    app.recorder.reset();
    await expect(service.refreshToken(raw)).resolves.toBeNull();
    expect(app.recorder.queries).toEqual([]);
  });

  it('gives null for a well-formed refresh token that was never issued', async () => {
    expect(await service.refreshToken(new TokenFormat('durin').generate('refresh'))).toBeNull();
  });

  it('refuses the other auth type when asked to', async () => {
    const first = await service.generateHeaderToken(user);
    expect(await service.refreshToken(first.refreshToken, { authType: 'cookie' })).toBeNull();
    expect(await service.verifyToken(first.accessToken)).not.toBeNull();
    expect(await service.refreshToken(first.refreshToken, { authType: 'header' })).not.toBeNull();
  });

  it('gives null when the user is inactive, and nothing rotates', async () => {
    const first = await service.generateHeaderToken(user);
    await app.users.update(user.id, { isActive: false });
    expect(await service.refreshToken(first.refreshToken)).toBeNull();
    expect(await family(first.token.familyId)).toHaveLength(1);
    await app.users.update(user.id, { isActive: true });
    expect(await service.refreshToken(first.refreshToken)).not.toBeNull();
  });

  it('gives null when the user was deleted', async () => {
    const first = await service.generateHeaderToken(user);
    await app.users.delete(user.id);
    expect(await service.refreshToken(first.refreshToken)).toBeNull();
  });

  it('gives null after logout (revokeToken)', async () => {
    const first = await service.generateHeaderToken(user);
    await service.revokeToken(first.token.id);
    expect(await service.refreshToken(first.refreshToken)).toBeNull();
  });

  it('gives null when refresh tokens are disabled for the token', async () => {
    const first = await service.generateHeaderToken(user, { refreshExpiresIn: null });
    expect(first.refreshToken).toBeNull();
    expect(await service.refreshToken(first.refreshToken)).toBeNull();
  });

  describe('reuse of a rotated refresh token', () => {
    it('revokes the whole family, including its live access token', async () => {
      const r1 = await service.generateHeaderToken(user);
      app.clock.advance(MINUTE);
      const r2 = (await service.refreshToken(r1.refreshToken))!;
      app.clock.advance(MINUTE);
      const r3 = (await service.refreshToken(r2.refreshToken))!;
      const bystander = await service.generateHeaderToken(user);

      app.clock.advance(MINUTE);
      expect(await service.refreshToken(r1.refreshToken)).toBeNull();

      expect(await service.refreshToken(r3.refreshToken)).toBeNull();
      expect(await service.verifyToken(r3.accessToken)).toBeNull();
      expect(await service.verifyToken(r2.accessToken)).toBeNull();
      expect(await family(r1.token.familyId)).toEqual([]);
      // Another session of the same user is not part of the family.
      expect(await service.verifyToken(bystander.accessToken)).not.toBeNull();
    });

    it('is recorded as reuse_detected with keepExpiredTokens', async () => {
      // No grace window: the immediate re-presentation below is reuse (the window has its own
      // tests in security-refresh-reuse.int-spec.ts).
      const audit = await startDurinApp(kind, {
        keepExpiredTokens: true,
        refreshReuseGraceSeconds: 0,
      });
      try {
        const owner = await audit.createUser();
        const r1 = await audit.service.generateHeaderToken(owner);
        const r2 = (await audit.service.refreshToken(r1.refreshToken))!;
        expect(await audit.service.refreshToken(r1.refreshToken)).toBeNull();
        expect(await audit.service.verifyToken(r2.accessToken)).toBeNull();
        const rows = await audit.tokens.find({ where: { familyId: r1.token.familyId } });
        const byId = new Map(rows.map((row) => [row.id, row]));
        expect(byId.get(r1.token.id)!.revokedReason).toBe('rotated');
        expect(byId.get(r2.token.id)!.revokedReason).toBe('reuse_detected');
        expect(rows.every((row) => row.revokedAt !== null)).toBe(true);
      } finally {
        await audit.close();
      }
    });
  });

  describe('concurrency', () => {
    it('of 20 parallel refreshes with one refresh token, exactly one pair is minted', async () => {
      const first = await service.generateHeaderToken(user);
      const outcomes = await Promise.allSettled(
        Array.from({ length: 20 }, () => service.refreshToken(first.refreshToken)),
      );
      const rejected = outcomes.filter((outcome) => outcome.status === 'rejected');
      expect(rejected).toEqual([]);
      const sets = outcomes
        .map((outcome) => (outcome as PromiseFulfilledResult<TokenSet | null>).value)
        .filter((value): value is TokenSet => value !== null);
      // Within the default grace window the losers get the winner's pair (REQ-RT-04).
      expect(sets.length).toBeGreaterThanOrEqual(1);
      expect(new Set(sets.map((set) => set.token.id)).size).toBe(1);

      const rows = await family(first.token.familyId);
      const live = rows.filter((row) => row.revokedAt === null);
      expect(live.length).toBeLessThanOrEqual(1);
      expect(live.map((row) => row.id)).toEqual(live.length === 1 ? [sets[0].token.id] : []);
      expect(await service.verifyToken(first.accessToken)).toBeNull();
    });
  });

  describe('with the access token presented alongside (opts.accessToken)', () => {
    it('rotates when both belong to one session, also for a racing tab in the grace window', async () => {
      const first = await service.generateCookieToken(user);
      const next = await service.refreshToken(first.refreshToken, {
        accessToken: first.accessToken,
      });
      expect(next).not.toBeNull();
      const again = await service.refreshToken(first.refreshToken, {
        accessToken: first.accessToken,
      });
      expect(again?.token.id).toBe(next!.token.id);
    });

    it("refuses another session's access token and writes nothing, spent tokens included", async () => {
      const mine = await service.generateCookieToken(user);
      const theirs = await service.generateCookieToken(user);
      const before = await family(mine.token.familyId);
      expect(
        await service.refreshToken(mine.refreshToken, { accessToken: theirs.accessToken }),
      ).toBeNull();
      expect(
        await service.refreshToken(mine.refreshToken, { accessToken: 'not a token' }),
      ).toBeNull();
      expect(await family(mine.token.familyId)).toEqual(before);

      // A spent refresh token with a foreign access token is not reuse: the family lives on.
      const rotated = (await service.refreshToken(mine.refreshToken))!;
      app.clock.advance(MINUTE);
      expect(
        await service.refreshToken(mine.refreshToken, { accessToken: theirs.accessToken }),
      ).toBeNull();
      expect(await service.verifyToken(rotated.accessToken)).not.toBeNull();
    });
  });
});
