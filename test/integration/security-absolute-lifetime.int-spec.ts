import { AuthTokenEntity, TokenSet } from '../../lib';
import { describeEachDb } from '../support/databases';
import {
  DAY,
  DurinTestApp,
  HOUR,
  MINUTE,
  SECOND,
  START,
  startDurinApp,
} from './support/durin-test-app';
import { User } from './support/user.entity';

/**
 * REQ-EXP-02 / invariant I2 (no over-life): neither sliding auto-refresh, `renewToken`, rotation nor
 * the rotation grace window lets a login outlive its `absoluteExpiresAt`.
 */
describeEachDb('absolute lifetime (%s)', (kind) => {
  let app: DurinTestApp;
  let user: User;
  const ABSOLUTE = START + 3 * DAY;

  beforeAll(async () => {
    app = await startDurinApp(kind, {
      tokenTtl: '1h',
      refreshTokenTtl: '1d',
      autoRefresh: true,
      autoRefreshInterval: '1m',
      autoRefreshMaxTtl: '3d',
    });
  });
  afterAll(() => app.close());

  beforeEach(async () => {
    app.clock.set(START);
    user = await app.createUser();
  });

  /** I2 in the table: no row of the family ends later than the family's absolute expiry. */
  async function expectNoRowPastAbsolute(familyId: string, absolute: number): Promise<void> {
    const rows = await app.tokens.find({ where: { familyId } });
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.absoluteExpiresAt).toEqual(new Date(absolute));
      expect(row.expiresAt!.getTime()).toBeLessThanOrEqual(absolute);
      if (row.refreshExpiresAt !== null) {
        expect(row.refreshExpiresAt.getTime()).toBeLessThanOrEqual(absolute);
      }
    }
  }

  it('REQ-EXP-02: requests every 30 min for twice the cap slide up to, never past, the cap', async () => {
    const set = await app.service.generateHeaderToken(user);
    expect(set.token.absoluteExpiresAt).toEqual(new Date(ABSOLUTE));
    let lastOk = 0;
    for (let t = 30 * MINUTE; t <= 6 * DAY; t += 30 * MINUTE) {
      app.clock.set(START + t);
      const result = await app.service.authenticate(set.accessToken, 'header');
      if (START + t < ABSOLUTE) {
        expect(result.ok).toBe(true);
        if (result.ok) expect(result.token.expiresAt!.getTime()).toBeLessThanOrEqual(ABSOLUTE);
        lastOk = START + t;
      } else {
        expect(result).toEqual({ ok: false, reason: 'token_expired' });
      }
    }
    expect(lastOk).toBe(ABSOLUTE - 30 * MINUTE);
    await expectNoRowPastAbsolute(set.token.familyId, ABSOLUTE);
    // The slide reached the cap exactly: the access token ends with the login.
    const [row] = await app.tokens.find({ where: { id: set.token.id } });
    expect(row.expiresAt).toEqual(new Date(ABSOLUTE));
    expect(row.refreshExpiresAt).toEqual(new Date(ABSOLUTE));
  });

  it('REQ-EXP-02: 1 ms before the cap is valid, at the cap it is expired (inclusive bound)', async () => {
    const set = await app.service.generateHeaderToken(user);
    for (let t = HOUR / 2; t < 3 * DAY; t += HOUR / 2) {
      app.clock.set(START + t);
      await app.service.authenticate(set.accessToken, 'header');
    }
    app.clock.set(ABSOLUTE - 1);
    expect((await app.service.authenticate(set.accessToken, 'header')).ok).toBe(true);
    app.clock.set(ABSOLUTE);
    expect(await app.service.authenticate(set.accessToken, 'header')).toEqual({
      ok: false,
      reason: 'token_expired',
    });
    expect(await app.service.refreshToken(set.refreshToken)).toBeNull();
  });

  it('REQ-EXP-02: renewToken is capped at the absolute expiry and refused from it on', async () => {
    const set = await app.service.generateHeaderToken(user);
    const token = set.token;
    for (let t = 50 * MINUTE; t < 3 * DAY; t += 50 * MINUTE) {
      app.clock.set(START + t);
      const expiresAt = await app.service.renewToken(token);
      expect(expiresAt).not.toBeNull();
      expect(expiresAt!.getTime()).toBe(Math.min(START + t + HOUR, ABSOLUTE));
    }
    app.clock.set(ABSOLUTE - SECOND);
    expect(await app.service.renewToken(token)).toEqual(new Date(ABSOLUTE));
    app.clock.set(ABSOLUTE);
    expect(await app.service.renewToken(token)).toBeNull();
    expect(await app.service.verifyToken(set.accessToken)).toBeNull();
    await expectNoRowPastAbsolute(token.familyId, ABSOLUTE);
  });

  it('REQ-EXP-02: every rotated pair keeps the family absolute; refresh at the cap fails', async () => {
    let current: TokenSet<AuthTokenEntity> = await app.service.generateHeaderToken(user);
    const familyId = current.token.familyId;
    for (let t = 20 * HOUR; t < 3 * DAY; t += 20 * HOUR) {
      app.clock.set(START + t);
      const next = await app.service.refreshToken(current.refreshToken);
      expect(next).not.toBeNull();
      expect(next!.token.absoluteExpiresAt).toEqual(new Date(ABSOLUTE));
      expect(next!.accessTokenExpiresAt!.getTime()).toBeLessThanOrEqual(ABSOLUTE);
      expect(next!.refreshTokenExpiresAt!.getTime()).toBeLessThanOrEqual(ABSOLUTE);
      current = next!;
    }
    await expectNoRowPastAbsolute(familyId, ABSOLUTE);
    app.clock.set(ABSOLUTE);
    expect(await app.service.refreshToken(current.refreshToken)).toBeNull();
    expect(await app.service.verifyToken(current.accessToken)).toBeNull();
  });

  it('REQ-EXP-02: slide, renew and rotation mixed on one family never pass the cap', async () => {
    let current: TokenSet<AuthTokenEntity> = await app.service.generateHeaderToken(user);
    const familyId = current.token.familyId;
    let step = 0;
    for (let t = 40 * MINUTE; t < 3 * DAY + HOUR; t += 40 * MINUTE, step++) {
      app.clock.set(START + t);
      const action = step % 3;
      if (action === 0) {
        await app.service.authenticate(current.accessToken, 'header');
      } else if (action === 1) {
        await app.service.renewToken(current.token);
      } else {
        const next = await app.service.refreshToken(current.refreshToken);
        if (START + t >= ABSOLUTE) expect(next).toBeNull();
        if (next !== null) current = next;
      }
      await expectNoRowPastAbsolute(familyId, ABSOLUTE);
    }
    expect(await app.service.verifyToken(current.accessToken)).toBeNull();
  });

  it('REQ-EXP-02 / F11: a clock jumping back and forth never extends past the cap', async () => {
    const set = await app.service.generateHeaderToken(user);
    app.clock.set(ABSOLUTE - 10 * MINUTE);
    await app.service.authenticate(set.accessToken, 'header');
    // Back by a day, then a slide from there: the later expiry already granted is kept, no more.
    app.clock.set(ABSOLUTE - DAY);
    await app.service.renewToken(set.token);
    app.clock.set(ABSOLUTE - 2 * MINUTE);
    await app.service.authenticate(set.accessToken, 'header');
    await expectNoRowPastAbsolute(set.token.familyId, ABSOLUTE);
    app.clock.set(ABSOLUTE + DAY);
    expect(await app.service.verifyToken(set.accessToken)).toBeNull();
    app.clock.set(ABSOLUTE);
    expect(await app.service.verifyToken(set.accessToken)).toBeNull();
  });

  it('REQ-EXP-02: the grace window does not hand out a pair at or after the cap', async () => {
    let set: TokenSet<AuthTokenEntity> = await app.service.generateHeaderToken(user);
    for (let t = 20 * HOUR; t < 3 * DAY; t += 20 * HOUR) {
      app.clock.set(START + t);
      set = (await app.service.refreshToken(set.refreshToken))!;
    }
    app.clock.set(ABSOLUTE - 2 * SECOND);
    const child = await app.service.refreshToken(set.refreshToken);
    expect(child).not.toBeNull();
    expect(child!.accessTokenExpiresAt).toEqual(new Date(ABSOLUTE));
    app.clock.set(ABSOLUTE);
    expect(await app.service.refreshToken(set.refreshToken)).toBeNull();
    expect(await app.service.verifyToken(child!.accessToken)).toBeNull();
  });

  it('REQ-EXP-02: a grant longer than the cap is honoured, and is the cap', async () => {
    const set = await app.service.generateHeaderToken(user, {
      accessExpiresIn: '4d',
      refreshExpiresIn: '5d',
    });
    const absolute = START + 5 * DAY;
    expect(set.token.absoluteExpiresAt).toEqual(new Date(absolute));
    for (let t = 12 * HOUR; t < 6 * DAY; t += 12 * HOUR) {
      app.clock.set(START + t);
      await app.service.authenticate(set.accessToken, 'header');
      await app.service.renewToken(set.token);
    }
    await expectNoRowPastAbsolute(set.token.familyId, absolute);
    expect(await app.service.verifyToken(set.accessToken)).toBeNull();
  });
});
