import { randomBytes } from 'node:crypto';
import { AuthTokenEntity } from '../../lib';
import { TokenCache } from '../../lib/cache/token-cache';
import { UnknownTokenCache } from '../../lib/cache/unknown-token-cache';

const NOW = Date.UTC(2030, 0, 1);
const HOUR = 3_600_000;

let counter = 0;
function token(fields: Partial<AuthTokenEntity> & { userId?: number } = {}): AuthTokenEntity {
  counter += 1;
  const entity = new AuthTokenEntity();
  Object.assign(entity, {
    id: `id-${counter}`,
    familyId: `family-${counter}`,
    user: { id: fields.userId ?? counter, isActive: true },
    client: null,
    context: { device: 'phone' },
    createdAt: new Date(NOW),
    expiresAt: new Date(NOW + HOUR),
    absoluteExpiresAt: null,
    lastUsedAt: null,
    revokedAt: null,
    ...fields,
  });
  return entity;
}

function hash(): string {
  return randomBytes(32).toString('hex');
}

function cache(max = 100, ttlMs = HOUR): TokenCache<AuthTokenEntity> {
  return new TokenCache<AuthTokenEntity>(max, ttlMs, (t) => String((t.user as { id: number }).id));
}

describe('TokenCache (REQ-CACHE-03, REQ-CACHE-04)', () => {
  it('returns a copy: changing what a request got never changes the cached entry', () => {
    const c = cache();
    const key = hash();
    c.set(key, token(), c.ticket(), NOW);
    const first = c.get(key, NOW)!;
    (first.user as { isActive: boolean }).isActive = false;
    first.context.device = 'tampered';
    first.expiresAt = new Date(NOW + 100 * HOUR);
    const second = c.get(key, NOW)!;
    expect(second).toBeInstanceOf(AuthTokenEntity);
    expect((second.user as { isActive: boolean }).isActive).toBe(true);
    expect(second.context.device).toBe('phone');
    expect(second.expiresAt).toEqual(new Date(NOW + HOUR));
  });

  it('copies any own property name safely (names are embedded as string literals)', () => {
    const c = cache();
    const key = hash();
    const odd = token();
    const names = [
      'a"b',
      "c'd",
      'e\\f',
      'g\nh',
      '\u2028',
      '${x}',
      '`',
      '); throw 1; (',
      '__proto__x',
    ];
    names.forEach((name, i) => ((odd as unknown as Record<string, number>)[name] = i));
    c.set(key, odd, c.ticket(), NOW);
    const copy = c.get(key, NOW) as unknown as Record<string, number>;
    names.forEach((name, i) => expect(copy[name]).toBe(i));
  });

  it('never serves an entry at or after the token expiry, whatever the ttl', () => {
    const c = cache(10, 100 * HOUR);
    const key = hash();
    c.set(key, token({ expiresAt: new Date(NOW + 1000) }), c.ticket(), NOW);
    expect(c.get(key, NOW + 999)).toBeDefined();
    expect(c.get(key, NOW + 1000)).toBeUndefined();
  });

  it('never serves an entry at or after the absolute expiry', () => {
    const c = cache(10, 100 * HOUR);
    const key = hash();
    c.set(key, token({ absoluteExpiresAt: new Date(NOW + 500) }), c.ticket(), NOW);
    expect(c.get(key, NOW + 499)).toBeDefined();
    expect(c.get(key, NOW + 500)).toBeUndefined();
  });

  it('drops an entry ttl after the read (injectable clock)', () => {
    const c = cache(10, 5000);
    const key = hash();
    c.set(key, token({ expiresAt: null }), c.ticket(), NOW);
    expect(c.get(key, NOW + 4999)).toBeDefined();
    expect(c.get(key, NOW + 5000)).toBeUndefined();
  });

  it('drops an entry ttl after the read by the monotonic clock too (wall clock moved back)', async () => {
    const c = cache(10, 30);
    const key = hash();
    c.set(key, token({ expiresAt: null }), c.ticket(), NOW);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(c.get(key, NOW - HOUR)).toBeUndefined();
  });

  it('refuses an entry that is already dead', () => {
    const c = cache();
    expect(c.set(hash(), token({ expiresAt: new Date(NOW) }), c.ticket(), NOW)).toBe(false);
    expect(c.size).toBe(0);
  });

  it('evicts the least recently used entry when full', () => {
    const c = cache(3);
    const keys = [hash(), hash(), hash()];
    for (const key of keys) c.set(key, token(), c.ticket(), NOW);
    c.get(keys[0], NOW);
    const fourth = hash();
    c.set(fourth, token(), c.ticket(), NOW);
    expect(c.keys()).toEqual([keys[2], keys[0], fourth]);
    expect(c.stats().evictions).toBe(1);
  });

  it('invalidates precisely by token id, family and user', () => {
    const c = cache();
    const a = token({ userId: 1, familyId: 'f1' });
    const b = token({ userId: 1, familyId: 'f2' });
    const d = token({ userId: 2, familyId: 'f3' });
    const [ka, kb, kd] = [hash(), hash(), hash()];
    c.set(ka, a, c.ticket(), NOW);
    c.set(kb, b, c.ticket(), NOW);
    c.set(kd, d, c.ticket(), NOW);

    c.invalidateFamily('f2');
    expect(c.keys().sort()).toEqual([ka, kd].sort());
    c.invalidateToken(d.id);
    expect(c.keys()).toEqual([ka]);
    c.set(kb, b, c.ticket(), NOW);
    c.invalidateUser('1');
    expect(c.keys()).toEqual([]);
  });

  describe('a read racing a revocation never caches the row it read', () => {
    it.each([
      ['token', (c: TokenCache<AuthTokenEntity>, t: AuthTokenEntity) => c.invalidateToken(t.id)],
      [
        'family',
        (c: TokenCache<AuthTokenEntity>, t: AuthTokenEntity) => c.invalidateFamily(t.familyId),
      ],
      ['user', (c: TokenCache<AuthTokenEntity>) => c.invalidateUser('42')],
      ['everything', (c: TokenCache<AuthTokenEntity>) => c.clear()],
    ])('by %s', (_name, invalidate) => {
      const c = cache();
      const t = token({ userId: 42 });
      const ticket = c.ticket(); // the read starts
      invalidate(c, t); // the revocation commits and invalidates
      expect(c.set(hash(), t, ticket, NOW)).toBe(false); // the read ends with the old row
      expect(c.size).toBe(0);
      expect(c.set(hash(), t, c.ticket(), NOW)).toBe(true); // a read after it may fill
    });

    it('but an unrelated invalidation does not refuse the fill', () => {
      const c = cache();
      const ticket = c.ticket();
      c.invalidateFamily('someone-else');
      c.invalidateUser('999');
      expect(c.set(hash(), token(), ticket, NOW)).toBe(true);
    });

    it('and stays safe when more invalidations happen than it remembers', () => {
      const c = cache();
      const t = token();
      const ticket = c.ticket();
      c.invalidateFamily(t.familyId);
      for (let i = 0; i < 20_000; i += 1) c.invalidateFamily(`other-${i}`);
      expect(c.set(hash(), t, ticket, NOW)).toBe(false);
    });
  });

  it('update() applies a committed write, keeping the max age from the original read', () => {
    const c = cache(10, 10_000);
    const key = hash();
    c.set(key, token({ expiresAt: new Date(NOW + 5000) }), c.ticket(), NOW);
    c.update(key, { lastUsedAt: new Date(NOW + 1), expiresAt: new Date(NOW + HOUR) });
    expect(c.get(key, NOW + 6000)?.lastUsedAt).toEqual(new Date(NOW + 1));
    expect(c.get(key, NOW + 10_000)).toBeUndefined();
  });

  it('a flood of unknown keys is only ever misses: valid entries stay (REQ-CACHE-04)', () => {
    const c = cache(1000);
    const valid = Array.from({ length: 1000 }, () => hash());
    for (const key of valid) c.set(key, token(), c.ticket(), NOW);
    for (let i = 0; i < 100_000; i += 1) {
      expect(c.get(hash(), NOW)).toBeUndefined();
    }
    expect(c.size).toBe(1000);
    expect(valid.every((key) => c.get(key, NOW) !== undefined)).toBe(true);
  });

  it('prune() frees entries past their deadline', () => {
    const c = cache();
    c.set(hash(), token({ expiresAt: new Date(NOW + 10) }), c.ticket(), NOW);
    c.set(hash(), token(), c.ticket(), NOW);
    expect(c.prune(NOW + 10)).toBe(1);
    expect(c.size).toBe(1);
  });
});

describe('UnknownTokenCache', () => {
  it('is bounded and forgets after its ttl', () => {
    const c = new UnknownTokenCache(3, 1000);
    const keys = [hash(), hash(), hash(), hash()];
    for (const key of keys) c.add(key, NOW);
    expect(c.size).toBe(3);
    expect(c.has(keys[0], NOW)).toBe(false);
    expect(c.has(keys[3], NOW + 999)).toBe(true);
    expect(c.has(keys[3], NOW + 1000)).toBe(false);
  });
});

describe('TokenCache order on hits (issue 12: no map move for a hit in the recent quarter)', () => {
  it('a hit in the most recent quarter keeps the order; an older hit moves to the recent end', () => {
    const c = cache(8);
    const keys = Array.from({ length: 8 }, () => hash());
    for (const key of keys) c.set(key, token(), c.ticket(), NOW);
    // keys[7] and keys[6] have at most one put after them (8 / 4 = 2): no move.
    expect(c.get(keys[6], NOW)).toBeDefined();
    expect(c.keys()).toEqual(keys);
    // keys[0] has seven: moved, so the next fill evicts keys[1], the least recently used.
    expect(c.get(keys[0], NOW)).toBeDefined();
    expect(c.keys()).toEqual([...keys.slice(1), keys[0]]);
    const ninth = hash();
    c.set(ninth, token(), c.ticket(), NOW);
    expect(c.keys()).toEqual([...keys.slice(2), keys[0], ninth]);
    expect(c.stats().evictions).toBe(1);
  });

  it('a token hit on every request survives any number of fills of other tokens', () => {
    const c = cache(16);
    const hot = hash();
    c.set(hot, token(), c.ticket(), NOW);
    for (let i = 0; i < 1_000; i++) {
      expect(c.get(hot, NOW)).toBeDefined();
      c.set(hash(), token(), c.ticket(), NOW);
    }
    expect(c.keys()).toContain(hot);
    expect(c.size).toBe(16);
  });
});
