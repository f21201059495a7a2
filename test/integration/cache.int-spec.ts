import { createHash } from 'node:crypto';
import {
  AuthTokenEntity,
  DurinCacheService,
  DurinModuleRootOptions,
  GenerateTokenOptions,
  TokenService,
  TokenSet,
} from '../../lib';
import { TokenStore } from '../../lib/store/token-store';
import { TokenFormat } from '../../lib/tokens/token-format';
import { describeEachDb, TestDbKind } from '../support/databases';
import { DurinTestApp, HOUR, MINUTE, SECOND, START, startDurinApp } from './support/durin-test-app';
import { User } from './support/user.entity';

/**
 * The token cache on one instance (SECURITY-CHECKLIST REQ-CACHE-01, -03, -04; F10): hits cost no
 * SQL, and every revocation path makes the very next request on this instance fail, with a cache
 * ttl of an hour so that only the invalidation can explain the refusal.
 */

const format = new TokenFormat('durin');
const BASE: Partial<DurinModuleRootOptions> = {
  tokenTtl: '1h',
  refreshTokenTtl: '1d',
  autoRefreshInterval: '1m',
  refreshReuseGraceSeconds: 0,
  cache: { ttl: '1h' },
};

function sha256(raw: string): string {
  return createHash('sha256').update(raw, 'utf8').digest('hex');
}

interface Harness {
  app: DurinTestApp;
  service: TokenService<AuthTokenEntity>;
  cache: DurinCacheService;
  /** Authenticates (header) and says how many SQL statements it took. */
  auth(raw: string): Promise<{ ok: boolean; reason?: string; queries: string[] }>;
  /** Logs in and makes sure the token is cached (the second authentication costs nothing). */
  warmLogin(user: User, opts?: GenerateTokenOptions): Promise<TokenSet<AuthTokenEntity>>;
}

async function harness(
  kind: TestDbKind,
  options: Partial<DurinModuleRootOptions> = {},
): Promise<Harness> {
  const app = await startDurinApp(kind, { ...BASE, ...options });
  const service = app.service;
  const cache = app.module.get(DurinCacheService);
  const auth: Harness['auth'] = async (raw) => {
    app.recorder.reset();
    const result = await service.authenticate(raw, 'header');
    const queries = [...app.recorder.statements];
    return result.ok ? { ok: true, queries } : { ok: false, reason: result.reason, queries };
  };
  const warmLogin: Harness['warmLogin'] = async (user, opts) => {
    const set = await service.generateHeaderToken(user, opts);
    expect((await auth(set.accessToken)).ok).toBe(true);
    expect(await auth(set.accessToken)).toEqual({ ok: true, queries: [] });
    return set;
  };
  return { app, service, cache, auth, warmLogin };
}

/**
 * `raw` with its last (checksum) character replaced by a different one. Always another character:
 * overwriting it with a fixed '0' left the token valid whenever it already ended in '0' (1 in 62).
 */
function withLastCharChanged(raw: string): string {
  return `${raw.slice(0, -1)}${raw.endsWith('0') ? '1' : '0'}`;
}

describeEachDb('token cache on one instance (%s)', (kind) => {
  let h: Harness;
  let user: User;

  beforeAll(async () => {
    h = await harness(kind);
    await h.service.createClient({ name: 'cli' });
  });
  afterAll(() => h.app.close());
  beforeEach(async () => {
    h.app.clock.set(START);
    user = await h.app.createUser();
  });

  describe('cost', () => {
    it('a cold authentication is one SELECT, a warm one is no SQL at all', async () => {
      const set = await h.service.generateHeaderToken(user);
      // The very first use also records lastUsedAt (one UPDATE); measured from the second on.
      const first = await h.auth(set.accessToken);
      expect(first.queries.map((query) => query.slice(0, 6))).toEqual(['SELECT', 'UPDATE']);
      await h.cache.invalidateAll();
      const cold = await h.auth(set.accessToken);
      expect(cold.ok).toBe(true);
      expect(cold.queries).toHaveLength(1);
      expect(cold.queries[0]).toMatch(/^SELECT/);
      for (let i = 0; i < 5; i += 1) {
        expect(await h.auth(set.accessToken)).toEqual({ ok: true, queries: [] });
      }
    });

    it.each([
      ['empty', ''],
      ['bad checksum', withLastCharChanged(format.generate('access'))],
      ['refresh token', format.generate('refresh')],
      ['foreign prefix', format.generate('access').replace(/^durin/, 'other')],
      ['too long', 'a'.repeat(10_000)],
      ['sql', "' OR 1=1 --"],
    ])('a malformed token (%s) costs no SQL (REQ-GEN-03)', async (_name, raw) => {
      expect(await h.auth(raw)).toEqual({ ok: false, reason: 'token_invalid', queries: [] });
    });

    it('no write within autoRefreshInterval; one write when due, decided from the cached entry', async () => {
      const set = await h.warmLogin(user);
      h.app.clock.advance(MINUTE - 1);
      expect(await h.auth(set.accessToken)).toEqual({ ok: true, queries: [] });
      h.app.clock.advance(1);
      const due = await h.auth(set.accessToken);
      expect(due.ok).toBe(true);
      expect(due.queries).toHaveLength(1);
      expect(due.queries[0]).toMatch(/^UPDATE/);
      // The cached entry now carries the new lastUsedAt: no write until the next interval.
      for (let i = 0; i < 3; i += 1) {
        h.app.clock.advance(10 * SECOND);
        expect(await h.auth(set.accessToken)).toEqual({ ok: true, queries: [] });
      }
      const row = await h.app.tokens.findOneByOrFail({ id: set.token.id });
      expect(row.lastUsedAt?.getTime()).toBe(h.app.clock.now() - 30 * SECOND);
    });

    it('an entry never outlives its token: refused at the expiry (REQ-CACHE-03)', async () => {
      const set = await h.warmLogin(user);
      h.app.clock.set(set.accessTokenExpiresAt!.getTime() - 1);
      // A write is due here (an hour since login): one UPDATE, then the token is still good.
      expect((await h.auth(set.accessToken)).ok).toBe(true);
      // At the expiry the entry is past its deadline: the database decides (another instance may
      // have slid the expiry meanwhile), and says expired.
      h.app.clock.set(set.accessTokenExpiresAt!);
      expect(await h.auth(set.accessToken)).toMatchObject({ ok: false, reason: 'token_expired' });
      expect(h.cache.keys()).not.toContain(sha256(set.accessToken));
    });
  });

  describe('keys', () => {
    it('are the stored access-token hashes, never the raw tokens (REQ-CACHE-04)', async () => {
      const sets = [await h.warmLogin(user), await h.warmLogin(user)];
      const keys = h.cache.keys();
      for (const set of sets) {
        const row = await h.app.tokens.findOneByOrFail({ id: set.token.id });
        expect(keys).toContain(row.tokenHash);
        expect(row.tokenHash).toBe(sha256(set.accessToken));
      }
      for (const key of keys) {
        expect(key).toMatch(/^[0-9a-f]{64}$/);
        for (const set of sets) {
          expect(key).not.toContain(set.accessToken);
          expect(set.accessToken).not.toContain(key);
        }
      }
    });
  });

  describe('every revocation path invalidates before it returns (REQ-CACHE-01, F10)', () => {
    it('revokeToken(token): logout', async () => {
      const set = await h.warmLogin(user);
      await h.service.revokeToken(set.token);
      expect((await h.auth(set.accessToken)).ok).toBe(false);
    });

    it('revokeToken(id)', async () => {
      const set = await h.warmLogin(user);
      await h.service.revokeToken(set.token.id);
      expect((await h.auth(set.accessToken)).ok).toBe(false);
    });

    it('revokeUserSession(user, id): ending a listed session', async () => {
      const set = await h.warmLogin(user);
      expect(await h.service.revokeUserSession(user, set.token.id)).toBe(true);
      expect((await h.auth(set.accessToken)).ok).toBe(false);
    });

    it("revokeAllUserTokens: logout-all ends every cached token of the user, and only the user's", async () => {
      const a = await h.warmLogin(user);
      const b = await h.warmLogin(user);
      const other = await h.warmLogin(await h.app.createUser());
      await h.service.revokeAllUserTokens(user);
      expect((await h.auth(a.accessToken)).ok).toBe(false);
      expect((await h.auth(b.accessToken)).ok).toBe(false);
      expect(await h.auth(other.accessToken)).toEqual({ ok: true, queries: [] });
    });

    it("refreshToken: rotation ends the parent's access token", async () => {
      const parent = await h.warmLogin(user);
      const child = await h.service.refreshToken(parent.refreshToken);
      expect(child).not.toBeNull();
      expect((await h.auth(parent.accessToken)).ok).toBe(false);
      expect((await h.auth(child!.accessToken)).ok).toBe(true);
    });

    it('refreshToken: reuse detection ends the whole family, cached child included', async () => {
      const first = await h.service.generateHeaderToken(user);
      const second = (await h.service.refreshToken(first.refreshToken))!;
      expect((await h.auth(second.accessToken)).ok).toBe(true);
      expect(await h.auth(second.accessToken)).toEqual({ ok: true, queries: [] });
      h.app.clock.advance(SECOND);
      expect(await h.service.refreshToken(first.refreshToken)).toBeNull();
      expect((await h.auth(second.accessToken)).ok).toBe(false);
    });

    it('expireToken', async () => {
      const set = await h.warmLogin(user);
      expect(await h.service.expireToken(set.token)).toBe(true);
      expect(await h.auth(set.accessToken)).toMatchObject({ ok: false, reason: 'token_expired' });
    });

    it('renewToken: the next request reads the renewed row', async () => {
      const set = await h.warmLogin(user);
      h.app.clock.advance(30 * MINUTE);
      const renewed = await h.service.renewToken(set.token);
      expect(renewed).toEqual(new Date(h.app.clock.now() + HOUR));
      const next = await h.auth(set.accessToken);
      expect(next.ok).toBe(true);
      expect(next.queries.filter((query) => query.startsWith('SELECT'))).toHaveLength(1);
      // Valid past the original expiry, from the cache.
      h.app.clock.set(set.accessTokenExpiresAt!.getTime() + MINUTE);
      expect((await h.auth(set.accessToken)).ok).toBe(true);
    });

    it('deleteClient: tokens of the client are gone', async () => {
      await h.service.createClient({ name: 'doomed' });
      const set = await h.warmLogin(user, { client: 'doomed' });
      expect(await h.service.deleteClient('doomed')).toBe(true);
      expect((await h.auth(set.accessToken)).ok).toBe(false);
    });

    it('revokeExpiredTokens / revokeAllExpiredUserTokens prune what they removed', async () => {
      const set = await h.warmLogin(user);
      const sizeBefore = h.cache.stats().size;
      h.app.clock.set(set.token.refreshExpiresAt!.getTime() + 1);
      await h.service.revokeAllExpiredUserTokens(user);
      await h.service.revokeExpiredTokens();
      expect(h.cache.stats().size).toBeLessThan(sizeBefore);
      expect(h.cache.keys()).not.toContain(sha256(set.accessToken));
      expect((await h.auth(set.accessToken)).ok).toBe(false);
    });

    it('invalidateUser after deactivating a user (REQ-REV-05): the next request reads the user afresh', async () => {
      const set = await h.warmLogin(user);
      await h.app.users.update(user.id, { isActive: false });
      // Documented contract: the cached user snapshot is only re-read when the entry is refilled.
      expect((await h.auth(set.accessToken)).ok).toBe(true);
      await h.service.invalidateUser(user.id);
      expect(await h.auth(set.accessToken)).toMatchObject({ ok: false, reason: 'user_inactive' });
    });

    it('a user change is seen at the latest one cache ttl later, even without invalidateUser', async () => {
      const set = await h.warmLogin(user, { accessExpiresIn: '2h', refreshExpiresIn: '1d' });
      await h.app.users.update(user.id, { isActive: false });
      h.app.clock.advance(HOUR);
      expect(await h.auth(set.accessToken)).toMatchObject({ ok: false, reason: 'user_inactive' });
    });

    it('a read racing a logout never leaves the revoked token in the cache (I1)', async () => {
      const set = await h.service.generateHeaderToken(user);
      const store = h.app.module.get(TokenStore);
      const read = store.findByAccessHash.bind(store);
      jest.spyOn(store, 'findByAccessHash').mockImplementationOnce(async (hashes) => {
        const row = await read(hashes);
        // The logout commits and returns while this request still holds the live row.
        await h.service.revokeToken(set.token.id);
        return row;
      });
      // The racing request began before the logout returned: it may succeed...
      expect((await h.auth(set.accessToken)).ok).toBe(true);
      // ...but it must not have cached the row: the next request is refused.
      expect((await h.auth(set.accessToken)).ok).toBe(false);
      expect(h.cache.stats().refusedFills).toBeGreaterThan(0);
    });
  });

  describe('option variants', () => {
    it('enforceSingleLogin: a new login ends the cached earlier token', async () => {
      const single = await harness(kind, { enforceSingleLogin: true });
      try {
        const someone = await single.app.createUser();
        const first = await single.warmLogin(someone);
        await single.service.generateHeaderToken(someone);
        expect((await single.auth(first.accessToken)).ok).toBe(false);
      } finally {
        await single.app.close();
      }
    });

    it('maxSessionsPerUser: the session ended to make room is refused at once', async () => {
      const limited = await harness(kind, { maxSessionsPerUser: 1 });
      try {
        const someone = await limited.app.createUser();
        const first = await limited.warmLogin(someone);
        limited.app.clock.advance(SECOND);
        await limited.service.generateHeaderToken(someone);
        expect((await limited.auth(first.accessToken)).ok).toBe(false);
      } finally {
        await limited.app.close();
      }
    });

    it('isUserActive is applied on every hit, to the cached user', async () => {
      const banned = new Set<number>();
      const checked = await harness(kind, {
        isUserActive: (u) => !banned.has((u as User).id),
      });
      try {
        const someone = await checked.app.createUser();
        const set = await checked.warmLogin(someone);
        banned.add(someone.id);
        expect(await checked.auth(set.accessToken)).toEqual({
          ok: false,
          reason: 'user_inactive',
          queries: [],
        });
      } finally {
        await checked.app.close();
      }
    });

    it('autoRefresh: the slide is written once and the cached entry carries the new expiry', async () => {
      const sliding = await harness(kind, { autoRefresh: true, cache: { ttl: '1d' } });
      try {
        const someone = await sliding.app.createUser();
        const set = await sliding.warmLogin(someone);
        sliding.app.clock.advance(30 * MINUTE);
        const slid = await sliding.auth(set.accessToken);
        expect(slid.ok).toBe(true);
        expect(slid.queries.map((query) => query.slice(0, 6))).toEqual(['UPDATE']);
        // Past the original expiry: still valid, straight from the cache.
        sliding.app.clock.set(set.accessTokenExpiresAt!.getTime() + 5 * SECOND);
        const later = await sliding.auth(set.accessToken);
        expect(later.ok).toBe(true);
        expect(later.queries.filter((query) => query.startsWith('SELECT'))).toEqual([]);
      } finally {
        await sliding.app.close();
      }
    });

    it('cache: false always asks the database', async () => {
      const uncached = await harness(kind, { cache: false });
      try {
        const set = await uncached.service.generateHeaderToken(await uncached.app.createUser());
        // The first use records lastUsedAt; after it, one SELECT per request.
        expect((await uncached.auth(set.accessToken)).queries).toHaveLength(2);
        for (let i = 0; i < 3; i += 1) {
          const result = await uncached.auth(set.accessToken);
          expect(result.ok).toBe(true);
          expect(result.queries).toHaveLength(1);
        }
        expect(uncached.cache.stats()).toMatchObject({ enabled: false, size: 0 });
      } finally {
        await uncached.app.close();
      }
    });

    it('negativeMax: a repeated unknown or revoked token queries once, and never evicts valid entries', async () => {
      const negative = await harness(kind, { cache: { ttl: '1h', max: 10, negativeMax: 5 } });
      try {
        const someone = await negative.app.createUser();
        const valid = await negative.warmLogin(someone);
        const unknown = format.generate('access');
        expect((await negative.auth(unknown)).queries).toHaveLength(1);
        expect(await negative.auth(unknown)).toEqual({
          ok: false,
          reason: 'token_invalid',
          queries: [],
        });
        for (let i = 0; i < 50; i += 1) await negative.auth(format.generate('access'));
        expect(negative.cache.stats().unknownSize).toBe(5);
        expect(await negative.auth(valid.accessToken)).toEqual({ ok: true, queries: [] });
      } finally {
        await negative.app.close();
      }
    });
  });

  it('a flood of random well-formed tokens does not evict valid entries (REQ-CACHE-04)', async () => {
    const flood = await harness(kind, { cache: { ttl: '1h', max: 200 } });
    try {
      const someone = await flood.app.createUser();
      const valid: string[] = [];
      for (let i = 0; i < 200; i += 1) {
        valid.push((await flood.warmLogin(someone)).accessToken);
      }
      // Each unknown token costs its one lookup (it cannot be known unknown without asking), but
      // none of them takes a cache slot.
      const total = kind === 'sqlite' ? 100_000 : 20_000;
      const batch = 50;
      for (let sent = 0; sent < total; sent += batch) {
        const results = await Promise.all(
          Array.from({ length: batch }, () =>
            flood.service.authenticate(format.generate('access'), 'header'),
          ),
        );
        expect(results.every((result) => !result.ok)).toBe(true);
      }
      expect(flood.cache.stats()).toMatchObject({ size: 200, evictions: 0 });
      flood.app.recorder.reset();
      for (const raw of valid) {
        expect((await flood.service.authenticate(raw, 'header')).ok).toBe(true);
      }
      expect(flood.app.recorder.queries).toEqual([]);
    } finally {
      await flood.app.close();
    }
  }, 180_000);
});
