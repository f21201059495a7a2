import { AuthTokenEntity, DurinEvent, TokenSet } from '../../lib';
import { resolveDurinOptions } from '../../lib/options/resolve-options';
import { TokenStore } from '../../lib/store/token-store';
import { openGracePair, sealGracePair } from '../../lib/tokens/grace-payload';
import { TokenFormat } from '../../lib/tokens/token-format';
import { describeEachDb } from '../support/databases';
import { DurinTestApp, SECOND, START, startDurinApp } from './support/durin-test-app';
import { waitForBlockedQuery } from './support/lock-waits';
import { User } from './support/user.entity';

/**
 * Refresh-token rotation with reuse detection and a grace window (RFC 9700 §4.14.2,
 * SECURITY-CHECKLIST REQ-RT-01..06, F1, F5).
 */
describeEachDb('refresh rotation, reuse detection and grace window (%s)', (kind) => {
  let app: DurinTestApp;
  let user: User;
  const events: DurinEvent[] = [];

  beforeAll(async () => {
    app = await startDurinApp(kind, {
      tokenTtl: '1h',
      refreshTokenTtl: '1d',
      autoRefreshMaxTtl: '3d',
      refreshReuseGraceSeconds: 10,
      onEvent: (event) => {
        events.push(event);
      },
    });
  });
  afterAll(() => app.close());

  beforeEach(async () => {
    app.clock.set(START);
    events.length = 0;
    user = await app.createUser();
  });

  const family = (familyId: string) =>
    app.tokens.find({ where: { familyId }, order: { createdAt: 'ASC', id: 'ASC' } });
  const liveHeads = async (familyId: string) =>
    (await family(familyId)).filter((row) => row.revokedAt === null);
  const gracePayloadOf = async (id: string) =>
    (
      await app.tokens
        .createQueryBuilder('token')
        .select(['token.id'])
        .addSelect('token.gracePayload')
        .where('token.id = :id', { id })
        .getOne()
    )?.gracePayload ?? null;

  async function expectFamilyRevoked(familyId: string, ...sets: TokenSet[]): Promise<void> {
    expect(await liveHeads(familyId)).toEqual([]);
    for (const set of sets) {
      expect(await app.service.verifyToken(set.accessToken)).toBeNull();
      expect(await app.service.refreshToken(set.refreshToken)).toBeNull();
    }
  }

  it('REQ-RT-01: rotation links parent and child in one family', async () => {
    const r1 = await app.service.generateHeaderToken(user);
    app.clock.advance(SECOND);
    const r2 = (await app.service.refreshToken(r1.refreshToken))!;
    const [parent, child] = await family(r1.token.familyId);
    expect(parent).toMatchObject({
      id: r1.token.id,
      revokedReason: 'rotated',
      replacedById: r2.token.id,
    });
    expect(child).toMatchObject({ id: r2.token.id, parentId: r1.token.id, revokedAt: null });
  });

  describe('REQ-RT-04: the immediate parent within the grace window', () => {
    it.each([
      ['at once', 0],
      ['after 100 ms', 100],
      ['1 ms before the window ends', 10 * SECOND - 1],
    ])('%s gets the same current pair back and the family survives', async (_name, delay) => {
      const r1 = await app.service.generateHeaderToken(user);
      app.clock.advance(SECOND);
      const r2 = (await app.service.refreshToken(r1.refreshToken))!;
      app.clock.advance(delay);

      const again = await app.service.refreshToken(r1.refreshToken);

      expect(again).not.toBeNull();
      expect(again!.accessToken).toBe(r2.accessToken);
      expect(again!.refreshToken).toBe(r2.refreshToken);
      expect(again!.token.id).toBe(r2.token.id);
      expect(again!.accessTokenExpiresAt).toEqual(r2.accessTokenExpiresAt);
      expect((await liveHeads(r1.token.familyId)).map((row) => row.id)).toEqual([r2.token.id]);
      expect(await app.service.verifyToken(r2.accessToken)).not.toBeNull();
      // The replayed pair is the live one: it rotates on as usual.
      const r3 = await app.service.refreshToken(again!.refreshToken);
      expect(r3).not.toBeNull();
      expect(events.map((event) => [event.type, event.reason])).toContainEqual([
        'token_refreshed',
        'grace_replay',
      ]);
      expect(events.some((event) => event.type === 'refresh_reuse_detected')).toBe(false);
    });

    it('stores the pair only encrypted (REQ-STO-01): no raw token in the row', async () => {
      const r1 = await app.service.generateHeaderToken(user);
      const r2 = (await app.service.refreshToken(r1.refreshToken))!;
      const payload = await gracePayloadOf(r1.token.id);
      expect(payload).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
      const [row] = await app.dataSource.query(
        kind === 'postgres'
          ? 'SELECT * FROM auth_token WHERE id = $1'
          : 'SELECT * FROM auth_token WHERE id = ?',
        [r1.token.id],
      );
      const dump = JSON.stringify(row);
      for (const secret of [r1.accessToken, r1.refreshToken!, r2.accessToken, r2.refreshToken!]) {
        expect(dump).not.toContain(secret);
        expect(dump).not.toContain(Buffer.from(secret).toString('base64'));
      }
      // Another token's secret cannot open it.
      expect(openGracePair(r2.refreshToken!, r1.token.id, r2.token.id, payload!)).toBeNull();
      expect(openGracePair(r1.refreshToken!, r1.token.id, r2.token.id, payload!)).toEqual({
        access: r2.accessToken,
        refresh: r2.refreshToken,
      });
    });

    it('a tampered payload is no replay: the presentation counts as reuse', async () => {
      const r1 = await app.service.generateHeaderToken(user);
      const r2 = (await app.service.refreshToken(r1.refreshToken))!;
      const payload = (await gracePayloadOf(r1.token.id))!;
      const parts = payload.split('.');
      const flipped = Buffer.from(parts[2], 'base64url');
      flipped[0] ^= 1;
      parts[2] = flipped.toString('base64url');
      await app.tokens.update(r1.token.id, { gracePayload: parts.join('.') });

      expect(await app.service.refreshToken(r1.refreshToken)).toBeNull();
      await expectFamilyRevoked(r1.token.familyId, r2);
    });
  });

  describe('REQ-RT-02 / REQ-RT-04: reuse outside the window revokes the whole family', () => {
    it('the parent exactly when the window ends', async () => {
      const r1 = await app.service.generateHeaderToken(user);
      const r2 = (await app.service.refreshToken(r1.refreshToken))!;
      app.clock.advance(10 * SECOND);
      expect(await app.service.refreshToken(r1.refreshToken)).toBeNull();
      await expectFamilyRevoked(r1.token.familyId, r1, r2);
    });

    it('the parent after T + 1 s, with every access and refresh token of the family', async () => {
      const r1 = await app.service.generateHeaderToken(user);
      const bystander = await app.service.generateHeaderToken(user);
      const r2 = (await app.service.refreshToken(r1.refreshToken))!;
      app.clock.advance(11 * SECOND);
      expect(await app.service.refreshToken(r1.refreshToken)).toBeNull();
      await expectFamilyRevoked(r1.token.familyId, r1, r2);
      // Another login of the same user is another family.
      expect(await app.service.verifyToken(bystander.accessToken)).not.toBeNull();
      const reuse = events.filter((event) => event.type === 'refresh_reuse_detected');
      expect(reuse).toHaveLength(1);
      expect(reuse[0]).toMatchObject({ familyId: r1.token.familyId, userId: user.id });
    });

    it('a grandparent, even within the window', async () => {
      const r1 = await app.service.generateHeaderToken(user);
      const r2 = (await app.service.refreshToken(r1.refreshToken))!;
      const r3 = (await app.service.refreshToken(r2.refreshToken))!;
      app.clock.advance(SECOND);
      expect(await app.service.refreshToken(r1.refreshToken)).toBeNull();
      await expectFamilyRevoked(r1.token.familyId, r2, r3);
    });

    it('the parent once its child was rotated further, even within the window', async () => {
      const r1 = await app.service.generateHeaderToken(user);
      const r2 = (await app.service.refreshToken(r1.refreshToken))!;
      const r3 = (await app.service.refreshToken(r2.refreshToken))!;
      // r2 is r3's immediate parent and within the window: that one still replays.
      expect((await app.service.refreshToken(r2.refreshToken))!.token.id).toBe(r3.token.id);
      // The grandparent's pair was dropped when its child rotated: at most one per family.
      expect(await gracePayloadOf(r1.token.id)).toBeNull();
      expect(await gracePayloadOf(r2.token.id)).not.toBeNull();
      expect(await app.service.refreshToken(r1.refreshToken)).toBeNull();
      await expectFamilyRevoked(r1.token.familyId, r3);
    });

    it('the parent after the child was logged out is no replay and no new pair', async () => {
      const r1 = await app.service.generateHeaderToken(user);
      const r2 = (await app.service.refreshToken(r1.refreshToken))!;
      await app.service.revokeToken(r2.token);
      expect(await app.service.refreshToken(r1.refreshToken)).toBeNull();
      expect(await app.service.verifyToken(r2.accessToken)).toBeNull();
    });

    it('REQ-RT-05: the parent within the window for a deactivated user', async () => {
      const r1 = await app.service.generateHeaderToken(user);
      await app.service.refreshToken(r1.refreshToken);
      await app.users.update(user.id, { isActive: false });
      expect(await app.service.refreshToken(r1.refreshToken)).toBeNull();
    });
  });

  it('REQ-RT-04: with refreshReuseGraceSeconds: 0 any second presentation is reuse', async () => {
    const strict = await startDurinApp(kind, { refreshReuseGraceSeconds: 0 });
    try {
      const owner = await strict.createUser();
      const r1 = await strict.service.generateHeaderToken(owner);
      const r2 = (await strict.service.refreshToken(r1.refreshToken))!;
      expect(
        await strict.tokens
          .createQueryBuilder('token')
          .addSelect('token.gracePayload')
          .where('token.id = :id', { id: r1.token.id })
          .getOne(),
      ).toMatchObject({ gracePayload: null });
      expect(await strict.service.refreshToken(r1.refreshToken)).toBeNull();
      expect(await strict.service.verifyToken(r2.accessToken)).toBeNull();
      expect(await strict.service.refreshToken(r2.refreshToken)).toBeNull();
    } finally {
      await strict.close();
    }
  });

  it('keepExpiredTokens: reuse marks the family and clears the kept pair', async () => {
    const audit = await startDurinApp(kind, { keepExpiredTokens: true });
    try {
      const owner = await audit.createUser();
      const r1 = await audit.service.generateHeaderToken(owner);
      const r2 = (await audit.service.refreshToken(r1.refreshToken))!;
      audit.clock.advance(11 * SECOND);
      expect(await audit.service.refreshToken(r1.refreshToken)).toBeNull();
      const rows = await audit.tokens
        .createQueryBuilder('token')
        .addSelect('token.gracePayload')
        .where('token.familyId = :familyId', { familyId: r1.token.familyId })
        .getMany();
      expect(rows).toHaveLength(2);
      expect(rows.every((row) => row.revokedAt !== null && row.gracePayload === null)).toBe(true);
      expect(rows.find((row) => row.id === r2.token.id)!.revokedReason).toBe('reuse_detected');
    } finally {
      await audit.close();
    }
  });

  it('REQ-RT-03 / F1: 50 parallel refreshes mint one pair; every success is that pair', async () => {
    const r1 = await app.service.generateHeaderToken(user);
    const before = await app.tokens.count();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 50 }, () => app.service.refreshToken(r1.refreshToken)),
    );
    expect(outcomes.filter((outcome) => outcome.status === 'rejected')).toEqual([]);
    const sets = outcomes
      .map((outcome) => (outcome as PromiseFulfilledResult<TokenSet<AuthTokenEntity> | null>).value)
      .filter((set): set is TokenSet<AuthTokenEntity> => set !== null);
    // Within the window every request gets the winner's pair (nobody is logged out).
    expect(sets).toHaveLength(50);
    expect(new Set(sets.map((set) => set.token.id)).size).toBe(1);
    expect(new Set(sets.map((set) => set.accessToken)).size).toBe(1);
    expect(new Set(sets.map((set) => set.refreshToken)).size).toBe(1);
    // I3: exactly one live head, and exactly one row was inserted.
    expect((await liveHeads(r1.token.familyId)).map((row) => row.id)).toEqual([sets[0].token.id]);
    expect(await app.tokens.count()).toBe(before + 1);
    expect(
      events.filter((event) => event.type === 'token_refreshed' && event.reason === 'rotation'),
    ).toHaveLength(1);
  });

  it('REQ-RT-03: without a window, parallel refreshes never leave two live heads', async () => {
    const strict = await startDurinApp(kind, { refreshReuseGraceSeconds: 0 });
    try {
      const owner = await strict.createUser();
      const r1 = await strict.service.generateHeaderToken(owner);
      const outcomes = await Promise.allSettled(
        Array.from({ length: 20 }, () => strict.service.refreshToken(r1.refreshToken)),
      );
      expect(outcomes.filter((outcome) => outcome.status === 'rejected')).toEqual([]);
      const sets = outcomes
        .map((outcome) => (outcome as PromiseFulfilledResult<TokenSet | null>).value)
        .filter((set): set is TokenSet => set !== null);
      expect(sets.length).toBeLessThanOrEqual(1);
      const live = (await strict.tokens.find({ where: { familyId: r1.token.familyId } })).filter(
        (row) => row.revokedAt === null,
      );
      // The losers presented a spent token: that is reuse, so the family ends (none live).
      expect(live.length).toBeLessThanOrEqual(1);
      expect(live).toEqual([]);
    } finally {
      await strict.close();
    }
  });

  it.each([
    ['a logout of the session', 'logout'],
    ['a logout-all of the user', 'logout_all'],
  ] as const)(
    'I1 / F2 / F3: a revocation that starts between consume and insert still ends the child (%s)',
    async (_name, revocation) => {
      // Marked rows are the hard case: an UPDATE whose snapshot predates the child cannot see it,
      // unless rotations and revocations of a user are ordered (the user's lock).
      const audit = await startDurinApp(kind, { keepExpiredTokens: true, cache: false });
      const store = audit.module.get(TokenStore);
      const insert = store.insert.bind(store);
      try {
        const owner = await audit.createUser();
        const set = await audit.service.generateHeaderToken(owner);
        let revoked: Promise<unknown> = Promise.resolve();
        jest.spyOn(store, 'insert').mockImplementationOnce(async (token, manager) => {
          // The parent is consumed in this transaction; the revocation starts now and must wait.
          revoked =
            revocation === 'logout'
              ? audit.service.revokeToken(set.token)
              : audit.service.revokeAllUserTokens(owner);
          await waitForBlockedQuery(audit);
          return insert(token, manager);
        });
        const rotated = await audit.service.refreshToken(set.refreshToken);
        expect(rotated).not.toBeNull();
        await revoked;
        const rows = await audit.tokens.find({ where: { familyId: set.token.familyId } });
        expect(rows).toHaveLength(2);
        expect(rows.filter((row) => row.revokedAt === null)).toEqual([]);
        expect(await audit.service.verifyToken(rotated!.accessToken)).toBeNull();
        expect(await audit.service.refreshToken(rotated!.refreshToken)).toBeNull();
      } finally {
        jest.restoreAllMocks();
        await audit.close();
      }
    },
  );

  it('a never-issued or unknown refresh token is no reuse and revokes nothing', async () => {
    const r1 = await app.service.generateHeaderToken(user);
    expect(await app.service.refreshToken(new TokenFormat('durin').generate('refresh'))).toBeNull();
    expect(await app.service.verifyToken(r1.accessToken)).not.toBeNull();
    expect(events.some((event) => event.type === 'refresh_reuse_detected')).toBe(false);
  });
});

describe('refreshReuseGraceSeconds validation', () => {
  class U {}
  it('defaults to 10 s and accepts 0 (off) up to 300', () => {
    expect(resolveDurinOptions({ userEntity: U }).refreshReuseGraceMs).toBe(10_000);
    expect(resolveDurinOptions({ userEntity: U, refreshReuseGraceSeconds: 0 })).toMatchObject({
      refreshReuseGraceMs: 0,
    });
    expect(resolveDurinOptions({ userEntity: U, refreshReuseGraceSeconds: 300 })).toMatchObject({
      refreshReuseGraceMs: 300_000,
    });
  });

  it.each([-1, 1.5, '10', 301, null, Number.POSITIVE_INFINITY])('refuses %p', (value) => {
    expect(() =>
      resolveDurinOptions({ userEntity: U, refreshReuseGraceSeconds: value as never }),
    ).toThrow(expect.objectContaining({ option: 'refreshReuseGraceSeconds' }));
  });
});

describe('grace payload sealing (unit)', () => {
  const format = new TokenFormat('durin');
  const parentRefresh = format.generate('refresh');
  const pair = { access: format.generate('access'), refresh: format.generate('refresh') };

  it('opens only with the parent secret, parent id and child id it was sealed for', () => {
    const box = sealGracePair(parentRefresh, 'parent', 'child', pair);
    expect(openGracePair(parentRefresh, 'parent', 'child', box)).toEqual(pair);
    expect(openGracePair(format.generate('refresh'), 'parent', 'child', box)).toBeNull();
    expect(openGracePair(parentRefresh, 'other', 'child', box)).toBeNull();
    expect(openGracePair(parentRefresh, 'parent', 'other', box)).toBeNull();
  });

  it('uses a fresh IV each time', () => {
    expect(sealGracePair(parentRefresh, 'p', 'c', pair)).not.toBe(
      sealGracePair(parentRefresh, 'p', 'c', pair),
    );
  });

  it.each([
    '',
    'v1',
    'v2.a.b.c',
    'v1.a.b.c',
    'v1...',
    'v1.AAAAAAAAAAAAAAAA.AA.AAAAAAAAAAAAAAAAAAAAAA',
  ])('rejects junk %j without throwing', (box) => {
    expect(openGracePair(parentRefresh, 'p', 'c', box)).toBeNull();
  });
});
