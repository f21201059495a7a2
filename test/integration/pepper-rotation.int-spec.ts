import { createHash, createHmac } from 'node:crypto';
import { describeEachDb, TestDatabase } from '../support/databases';
import { createPersistentDatabase, HOUR, startDurinApp } from './support/durin-test-app';

const PEPPER_A = 'pepper-a-0123456789abcdef';
const PEPPER_B = 'pepper-b-fedcba9876543210';

const hmac = (key: string, raw: string) => createHmac('sha256', key).update(raw).digest('hex');
const sha256 = (raw: string) => createHash('sha256').update(raw).digest('hex');

describeEachDb('pepper rotation across restarts (%s)', (kind) => {
  let db: TestDatabase;

  beforeEach(async () => {
    db = await createPersistentDatabase(kind);
  });
  afterEach(() => db.drop());

  it('A, then [B, A] re-hashes on use, then [B] alone still works', async () => {
    // 1. Issue under pepper A.
    const first = await startDurinApp(kind, { pepper: PEPPER_A }, { db });
    const user = await first.createUser();
    const set = await first.service.generateHeaderToken(user);
    const untouched = await first.service.generateHeaderToken(user);
    const stored = await first.tokens.findOneByOrFail({ id: set.token.id });
    expect(stored.tokenHash).toBe(hmac(PEPPER_A, set.accessToken));
    expect(stored.tokenHash).not.toBe(sha256(set.accessToken));
    await first.close({ keepDatabase: true });

    // 2. Restart with B as the new pepper and A kept for the transition.
    const rotating = await startDurinApp(kind, { pepper: [PEPPER_B, PEPPER_A] }, { db });
    rotating.clock.advance(HOUR / 2);
    rotating.recorder.reset();
    expect(await rotating.service.verifyToken(set.accessToken)).not.toBeNull();
    // One lookup with both candidate hashes, then the re-hash.
    expect(rotating.recorder.countOf('SELECT')).toBe(1);
    expect(rotating.recorder.countOf('UPDATE')).toBe(1);
    const rehashed = await rotating.tokens.findOneByOrFail({ id: set.token.id });
    expect(rehashed.tokenHash).toBe(hmac(PEPPER_B, set.accessToken));

    // A second use finds it under B at once: no more writes.
    rotating.recorder.reset();
    expect(await rotating.service.verifyToken(set.accessToken)).not.toBeNull();
    expect(rotating.recorder.countOf('UPDATE')).toBe(0);

    // New tokens are issued under B.
    const fresh = await rotating.service.generateHeaderToken(user);
    expect((await rotating.tokens.findOneByOrFail({ id: fresh.token.id })).tokenHash).toBe(
      hmac(PEPPER_B, fresh.accessToken),
    );
    await rotating.close({ keepDatabase: true });

    // 3. Restart with B only: the re-hashed token and the new one work; one never used during
    // the transition is still under A and is no longer recognised.
    const rotated = await startDurinApp(kind, { pepper: PEPPER_B }, { db });
    expect(await rotated.service.verifyToken(set.accessToken)).not.toBeNull();
    expect(await rotated.service.verifyToken(fresh.accessToken)).not.toBeNull();
    expect(await rotated.service.verifyToken(untouched.accessToken)).toBeNull();
    await rotated.close({ keepDatabase: true });
  });

  it('a refresh token issued under the old pepper rotates during the transition', async () => {
    const first = await startDurinApp(kind, { pepper: PEPPER_A }, { db });
    const user = await first.createUser();
    const set = await first.service.generateHeaderToken(user);
    await first.close({ keepDatabase: true });

    const rotating = await startDurinApp(kind, { pepper: [PEPPER_B, PEPPER_A] }, { db });
    const next = await rotating.service.refreshToken(set.refreshToken);
    expect(next).not.toBeNull();
    const child = await rotating.tokens.findOneByOrFail({ id: next!.token.id });
    expect(child.tokenHash).toBe(hmac(PEPPER_B, next!.accessToken));
    expect(child.refreshTokenHash).toBe(hmac(PEPPER_B, next!.refreshToken!));
    await rotating.close({ keepDatabase: true });

    const rotated = await startDurinApp(kind, { pepper: PEPPER_B }, { db });
    expect(await rotated.service.verifyToken(next!.accessToken)).not.toBeNull();
    expect(await rotated.service.refreshToken(next!.refreshToken)).not.toBeNull();
    await rotated.close({ keepDatabase: true });
  });
});
