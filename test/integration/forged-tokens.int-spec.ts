import { DurinCacheService, DurinModuleRootOptions } from '../../lib';
import { TAG_CHARS } from '../../lib/tokens/token-tag';
import {
  ALL_DB_KINDS,
  describeEachDb,
  describeEachRow,
  TestDatabase,
  TestDbKind,
} from '../support/databases';
import { forgedTagged, forgedUntagged, randomBase62, withChecksum } from '../support/forged-tokens';
import { createPersistentDatabase, DurinTestApp, startDurinApp } from './support/durin-test-app';

/**
 * Issue 12, "forged tokens cost no query": with `tokenTagKey`, a token this application never
 * issued is refused in memory by its tag, before the cache and the store, on every path that takes
 * a raw token (authenticate, verifyToken, refreshToken).
 */

const KEY_A = 'tag-key-a-0123456789abcdef0123456789';
const KEY_B = 'tag-key-b-fedcba9876543210fedcba9876';
const TAGGED_ACCESS = /^durin_at2_[0-9A-Za-z]{60}$/;
const TAGGED_REFRESH = /^durin_rt2_[0-9A-Za-z]{60}$/;

/** A genuine tagged token with its tag replaced (and the checksum made valid again). */
function retagged(token: string): string {
  const tagStart = token.length - 6 - TAG_CHARS;
  const tag = token.slice(tagStart, tagStart + TAG_CHARS);
  const other = randomBase62(TAG_CHARS);
  return withChecksum(token.slice(0, tagStart) + (other === tag ? randomBase62(TAG_CHARS) : other));
}

const CACHE_ROWS = ALL_DB_KINDS.flatMap((kind): [TestDbKind, 'cache on' | 'cache off'][] => [
  [kind, 'cache on'],
  [kind, 'cache off'],
]);

describeEachRow(CACHE_ROWS, 'forged tagged tokens (%s, %s)', (kind, cache) => {
  let app: DurinTestApp;

  beforeAll(async () => {
    app = await startDurinApp(kind, {
      tokenTagKey: KEY_A,
      tokenTtl: '1h',
      refreshTokenTtl: '1d',
      ...(cache === 'cache off' ? { cache: false } : {}),
    });
  });
  afterAll(() => app.close());

  it('issued tokens are tagged and authenticate, verify, refresh and rotate again', async () => {
    const user = await app.createUser();
    const set = await app.service.generateHeaderToken(user);
    expect(set.accessToken).toMatch(TAGGED_ACCESS);
    expect(set.refreshToken).toMatch(TAGGED_REFRESH);
    expect((await app.service.authenticate(set.accessToken, 'header')).ok).toBe(true);
    expect(await app.service.verifyToken(set.accessToken)).not.toBeNull();

    const next = await app.service.refreshToken(set.refreshToken);
    expect(next).not.toBeNull();
    expect(next!.accessToken).toMatch(TAGGED_ACCESS);
    expect(next!.refreshToken).toMatch(TAGGED_REFRESH);
    expect((await app.service.authenticate(next!.accessToken, 'header')).ok).toBe(true);
    expect(await app.service.verifyToken(set.accessToken)).toBeNull();

    const third = await app.service.refreshToken(next!.refreshToken, {
      accessToken: next!.accessToken,
    });
    expect(third!.accessToken).toMatch(TAGGED_ACCESS);
    expect((await app.service.authenticate(third!.accessToken, 'header')).ok).toBe(true);
  });

  it('a racing tab replaying a tagged refresh token within the grace window gets the same pair', async () => {
    const user = await app.createUser();
    const set = await app.service.generateHeaderToken(user);
    const first = await app.service.refreshToken(set.refreshToken);
    const replay = await app.service.refreshToken(set.refreshToken);
    expect(replay?.accessToken).toBe(first!.accessToken);
    expect(replay?.refreshToken).toBe(first!.refreshToken);
    expect((await app.service.authenticate(replay!.accessToken, 'header')).ok).toBe(true);
  });

  it('API keys and cookie sessions are tagged too', async () => {
    const user = await app.createUser();
    const key = await app.service.createApiKey(user);
    expect(key.accessToken).toMatch(TAGGED_ACCESS);
    expect((await app.service.authenticate(key.accessToken, 'header')).ok).toBe(true);
    const cookie = await app.service.generateCookieToken(user);
    expect(cookie.accessToken).toMatch(TAGGED_ACCESS);
    expect((await app.service.authenticate(cookie.accessToken, 'cookie')).ok).toBe(true);
  });

  it('a forged tagged token is token_invalid with 0 SQL statements on every path', async () => {
    for (let i = 0; i < 20; i++) {
      const before = app.recorder.count;
      expect(await app.service.authenticate(forgedTagged('at2'), 'header')).toEqual({
        ok: false,
        reason: 'token_invalid',
      });
      expect(await app.service.verifyToken(forgedTagged('at2'))).toBeNull();
      expect(await app.service.refreshToken(forgedTagged('rt2'))).toBeNull();
      expect(app.recorder.queries.slice(before)).toEqual([]);
    }
  });

  it('a genuine token with its tag replaced is refused without a query, and the same token again too', async () => {
    const user = await app.createUser();
    const set = await app.service.generateHeaderToken(user);
    const forgedAccess = retagged(set.accessToken);
    const forgedRefresh = retagged(set.refreshToken!);
    const before = app.recorder.count;
    for (let i = 0; i < 3; i++) {
      expect(await app.service.authenticate(forgedAccess, 'header')).toEqual({
        ok: false,
        reason: 'token_invalid',
      });
      expect(await app.service.refreshToken(forgedRefresh)).toBeNull();
    }
    expect(app.recorder.count).toBe(before);
    // The genuine pair is untouched by the attempts.
    expect((await app.service.authenticate(set.accessToken, 'header')).ok).toBe(true);
  });

  it('the tag is checked on a cache miss: a forged twin of a cached token costs 0 SQL and no unknown-token slot', async () => {
    const cacheService = app.module.get(DurinCacheService);
    const user = await app.createUser();
    const set = await app.service.generateHeaderToken(user);
    // Cached (when the cache is on) by this first use.
    expect((await app.service.authenticate(set.accessToken, 'header')).ok).toBe(true);
    const unknownBefore = cacheService.stats().unknownSize;
    const before = app.recorder.count;
    for (let i = 0; i < 5; i++) {
      expect(await app.service.authenticate(retagged(set.accessToken), 'header')).toEqual({
        ok: false,
        reason: 'token_invalid',
      });
      expect(await app.service.authenticate(forgedTagged('at2'), 'header')).toEqual({
        ok: false,
        reason: 'token_invalid',
      });
    }
    expect(app.recorder.queries.slice(before)).toEqual([]);
    expect(cacheService.stats().unknownSize).toBe(unknownBefore);
    // The genuine token still authenticates (from the cache when it is on: no query either).
    expect((await app.service.authenticate(set.accessToken, 'header')).ok).toBe(true);
    if (cache === 'cache on') expect(app.recorder.count).toBe(before);
  });

  it('a flood of 10 000 distinct forged tagged tokens costs 0 SQL statements', async () => {
    const flood = Array.from({ length: 10_000 }, () => forgedTagged('at2'));
    expect(new Set(flood).size).toBe(10_000);
    const before = app.recorder.count;
    let refused = 0;
    for (let i = 0; i < flood.length; i += 500) {
      const answers = await Promise.all(
        flood.slice(i, i + 500).map((raw) => app.service.authenticate(raw, 'header')),
      );
      refused += answers.filter((a) => !a.ok && a.reason === 'token_invalid').length;
    }
    expect(refused).toBe(10_000);
    expect(app.recorder.count - before).toBe(0);
  });

  it('an untagged forgery still costs its one lookup while untagged tokens are accepted', async () => {
    const before = app.recorder.count;
    expect(await app.service.verifyToken(forgedUntagged('at'))).toBeNull();
    const sent = app.recorder.queries.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatch(/^SELECT[\s\S]*token_hash/i);
  });
});

describeEachDb('tag keys and the untagged format across restarts (%s)', (kind) => {
  let db: TestDatabase;
  const apps: DurinTestApp[] = [];

  async function restart(options: Partial<DurinModuleRootOptions>): Promise<DurinTestApp> {
    const app = await startDurinApp(
      kind,
      { tokenTtl: '1h', refreshTokenTtl: '1d', ...options },
      {
        db,
      },
    );
    apps.push(app);
    return app;
  }

  beforeEach(async () => {
    db = await createPersistentDatabase(kind);
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close({ keepDatabase: true });
    await db.drop();
  });

  it('no key, then a key (old tokens keep working), then acceptUntaggedTokens: false', async () => {
    // 1. Before the key: today's format.
    const before = await restart({});
    const user = await before.createUser();
    const old = await before.service.generateHeaderToken(user);
    const oldToRotate = await before.service.generateHeaderToken(user);
    expect(old.accessToken).toMatch(/^durin_at_[0-9A-Za-z]{49}$/);
    await before.close({ keepDatabase: true });
    apps.length = 0;

    // 2. The key is configured: new tokens are tagged, the old ones still authenticate and
    // refresh (into tagged ones).
    const migrating = await restart({ tokenTagKey: KEY_A });
    expect((await migrating.service.authenticate(old.accessToken, 'header')).ok).toBe(true);
    const rotated = await migrating.service.refreshToken(oldToRotate.refreshToken);
    expect(rotated!.accessToken).toMatch(TAGGED_ACCESS);
    const fresh = await migrating.service.generateHeaderToken(user);
    expect(fresh.accessToken).toMatch(TAGGED_ACCESS);
    await migrating.close({ keepDatabase: true });
    apps.length = 0;

    // 3. Once the old tokens are gone: untagged tokens are refused without a query, live or not.
    const strict = await restart({ tokenTagKey: KEY_A, acceptUntaggedTokens: false });
    strict.recorder.reset();
    expect(await strict.service.authenticate(old.accessToken, 'header')).toEqual({
      ok: false,
      reason: 'token_invalid',
    });
    expect(await strict.service.refreshToken(old.refreshToken)).toBeNull();
    expect(await strict.service.verifyToken(forgedUntagged('at'))).toBeNull();
    expect(strict.recorder.count).toBe(0);
    expect((await strict.service.authenticate(fresh.accessToken, 'header')).ok).toBe(true);
    expect((await strict.service.authenticate(rotated!.accessToken, 'header')).ok).toBe(true);
  });

  it('A, then [B, A] (A-tagged tokens work, new ones under B), then [B]: A refused with no query', async () => {
    const first = await restart({ tokenTagKey: KEY_A });
    const user = await first.createUser();
    const underA = await first.service.generateHeaderToken(user);
    const underAToRotate = await first.service.generateHeaderToken(user);
    await first.close({ keepDatabase: true });
    apps.length = 0;

    const rotating = await restart({ tokenTagKey: [KEY_B, KEY_A] });
    expect((await rotating.service.authenticate(underA.accessToken, 'header')).ok).toBe(true);
    const child = await rotating.service.refreshToken(underAToRotate.refreshToken);
    expect(child).not.toBeNull();
    const underB = await rotating.service.generateHeaderToken(user);
    await rotating.close({ keepDatabase: true });
    apps.length = 0;

    // Without A, nothing tagged under A is looked up; B's tokens (new and rotated) still work.
    const rotated = await restart({ tokenTagKey: KEY_B });
    rotated.recorder.reset();
    expect(await rotated.service.verifyToken(underA.accessToken)).toBeNull();
    expect(await rotated.service.refreshToken(underA.refreshToken)).toBeNull();
    expect(rotated.recorder.count).toBe(0);
    expect((await rotated.service.authenticate(underB.accessToken, 'header')).ok).toBe(true);
    expect((await rotated.service.authenticate(child!.accessToken, 'header')).ok).toBe(true);
    expect(await rotated.service.refreshToken(child!.refreshToken)).not.toBeNull();
  });

  it('removing the key again refuses the tagged tokens (the format is unknown without it)', async () => {
    const tagged = await restart({ tokenTagKey: KEY_A });
    const user = await tagged.createUser();
    const set = await tagged.service.generateHeaderToken(user);
    await tagged.close({ keepDatabase: true });
    apps.length = 0;

    const plain = await restart({});
    plain.recorder.reset();
    expect(await plain.service.verifyToken(set.accessToken)).toBeNull();
    expect(plain.recorder.count).toBe(0);
    expect((await plain.service.generateHeaderToken(user)).accessToken).toMatch(/^durin_at_/);
  });
});
