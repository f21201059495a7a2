import { randomBytes, randomUUID } from 'node:crypto';
import { AuthTokenEntity, TokenSet } from '../../lib';
import { cleanupParts } from '../../lib/store/cleanup-plan';
import { describeEachDb } from '../support/databases';
import { DAY, DurinTestApp, HOUR, START, startDurinApp } from './support/durin-test-app';
import { User } from './support/user.entity';

/** Rows written straight to the table: thousands of logins through the service would be slow. */
async function insertDeadRows(app: DurinTestApp, owner: User, count: number): Promise<void> {
  const rows: Partial<AuthTokenEntity>[] = [];
  for (let i = 0; i < count; i++) {
    const created = START - 10 * DAY;
    // Three ways of being dead: both parts expired, no refresh token and access expired, or
    // past the absolute expiry.
    const variant = i % 3;
    rows.push({
      id: randomUUID(),
      familyId: randomUUID(),
      user: owner,
      authType: 'header',
      client: null,
      context: {},
      tokenHash: randomBytes(32).toString('hex'),
      refreshTokenHash: variant === 1 ? null : randomBytes(32).toString('hex'),
      createdAt: new Date(created),
      expiresAt: new Date(variant === 2 ? START + HOUR : START - DAY),
      refreshExpiresAt: variant === 1 ? null : new Date(variant === 2 ? START + DAY : START - HOUR),
      absoluteExpiresAt: new Date(variant === 2 ? START : START + DAY),
      accessTtlMs: HOUR,
      refreshTtlMs: DAY,
      lastRefreshedAt: null,
      lastUsedAt: null,
      revokedAt: null,
      revokedReason: null,
      parentId: null,
      replacedById: null,
    });
  }
  for (let i = 0; i < rows.length; i += 250) {
    await app.tokens.insert(rows.slice(i, i + 250) as AuthTokenEntity[]);
  }
}

describeEachDb('removing expired tokens (%s)', (kind) => {
  describe('default (delete)', () => {
    let app: DurinTestApp;
    beforeEach(async () => {
      app = await startDurinApp(kind, { tokenTtl: '1h', refreshTokenTtl: '1d' });
    });
    afterEach(() => app.close());

    it('revokeExpiredTokens removes every dead row in batches and keeps the live ones', async () => {
      const alice = await app.createUser();
      const bob = await app.createUser();
      app.clock.set(START - 2 * HOUR);
      // Access expired, refresh still valid at START: alive.
      const refreshable = await app.service.generateHeaderToken(alice);
      app.clock.set(START);
      const live: TokenSet[] = [
        refreshable,
        await app.service.generateHeaderToken(alice),
        await app.service.generateCookieToken(bob),
      ];
      await insertDeadRows(app, alice, 1500);
      await insertDeadRows(app, bob, 705);

      app.recorder.reset();
      expect(await app.service.revokeExpiredTokens()).toBe(2205);

      // One bounded statement per cleanup part (735 rows of each way of being dead, empty looks at
      // spent history); cleanup-plan.int-spec covers parts larger than one batch.
      const deletes = app.recorder.queries.filter((query) => query.startsWith('DELETE'));
      expect(deletes).toHaveLength(cleanupParts('delete', false).length);
      expect(deletes.every((query) => /LIMIT/i.test(query))).toBe(true);
      expect(await app.tokens.count()).toBe(3);
      for (const set of live.slice(1)) {
        expect(await app.service.verifyToken(set.accessToken)).not.toBeNull();
      }
      expect(await app.service.refreshToken(refreshable.refreshToken)).not.toBeNull();
      expect(await app.service.revokeExpiredTokens()).toBe(0);
    });

    it('removes rotated parents once their refresh window is over, not before', async () => {
      const owner = await app.createUser();
      const first = await app.service.generateHeaderToken(owner);
      const second = (await app.service.refreshToken(first.refreshToken))!;
      expect(await app.service.revokeExpiredTokens()).toBe(0);
      expect(await app.tokens.countBy({ familyId: first.token.familyId })).toBe(2);

      // The tombstone still catches a replay while its refresh token would have been valid.
      app.clock.set(START + DAY - 1);
      await app.service.revokeExpiredTokens();
      expect(await app.tokens.countBy({ id: first.token.id })).toBe(1);

      app.clock.set(START + DAY);
      expect(await app.service.revokeExpiredTokens()).toBe(2);
      expect(await app.tokens.countBy({ familyId: second.token.familyId })).toBe(0);
    });

    it("revokeAllExpiredUserTokens removes only that user's dead rows", async () => {
      const alice = await app.createUser();
      const bob = await app.createUser();
      const alive = await app.service.generateHeaderToken(alice);
      await insertDeadRows(app, alice, 30);
      await insertDeadRows(app, bob, 20);

      expect(await app.service.revokeAllExpiredUserTokens(alice)).toBe(30);
      expect(await app.tokens.countBy({ user: { id: alice.id } })).toBe(1);
      expect(await app.tokens.countBy({ user: { id: bob.id } })).toBe(20);
      expect(await app.service.verifyToken(alive.accessToken)).not.toBeNull();
      expect(await app.service.revokeAllExpiredUserTokens(bob.id)).toBe(20);
      expect(await app.service.revokeAllExpiredUserTokens(bob.id)).toBe(0);
    });
  });

  describe('with keepExpiredTokens', () => {
    let app: DurinTestApp;
    beforeEach(async () => {
      app = await startDurinApp(kind, {
        tokenTtl: '1h',
        refreshTokenTtl: '1d',
        keepExpiredTokens: true,
      });
    });
    afterEach(() => app.close());

    it('marks dead rows with revokedAt and revokedReason instead of deleting them', async () => {
      const owner = await app.createUser();
      const live = await app.service.generateHeaderToken(owner);
      await insertDeadRows(app, owner, 1203);

      app.clock.set(START + 1);
      expect(await app.service.revokeExpiredTokens()).toBe(1203);
      expect(await app.tokens.count()).toBe(1204);
      const marked = await app.tokens.findBy({ revokedReason: 'expired' });
      expect(marked).toHaveLength(1203);
      expect(marked.every((row) => row.revokedAt?.getTime() === START + 1)).toBe(true);
      expect((await app.tokens.findOneByOrFail({ id: live.token.id })).revokedAt).toBeNull();
      expect(await app.service.verifyToken(live.accessToken)).not.toBeNull();

      // Marked rows are not counted again.
      expect(await app.service.revokeExpiredTokens()).toBe(0);
      expect(await app.service.revokeAllExpiredUserTokens(owner)).toBe(0);
    });
  });
});
