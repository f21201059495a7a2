import { describeEachDb } from '../support/databases';
import { createPersistentDatabase, DurinTestApp, startDurinApp } from './support/durin-test-app';

/**
 * Issue 12: the token lookups of concurrent uncached requests go to the database together
 * (`batchStatements`, on by default) on PostgreSQL and MariaDB, and one by one on SQLite; every
 * request still gets exactly its own token, user and client.
 */

const CONCURRENT = 40;

/** The access-token lookups among the statements recorded since `from`. */
function lookupsSince(app: DurinTestApp, from: number): string[] {
  return app.recorder.queries
    .slice(from)
    .filter((sql) => /^SELECT/i.test(sql) && /token_hash/i.test(sql));
}

describeEachDb('lookup batching (%s)', (kind) => {
  const networked = kind !== 'sqlite';
  let app: DurinTestApp;

  beforeAll(async () => {
    app = await startDurinApp(kind, { cache: false, tokenTtl: '1h', autoRefreshInterval: '1h' });
    await app.service.createClient({ name: 'web' });
  });
  afterAll(() => app.close());

  it(`answers ${CONCURRENT} concurrent requests each with its own token, user and client`, async () => {
    const users = await Promise.all(Array.from({ length: CONCURRENT }, () => app.createUser()));
    const sets = [];
    for (const [i, user] of users.entries()) {
      sets.push(await app.service.generateHeaderToken(user, i % 2 ? { client: 'web' } : {}));
    }
    const before = app.recorder.count;
    const results = await Promise.all(
      sets.map((set) => app.service.authenticate(set.accessToken, 'header')),
    );
    for (const [i, result] of results.entries()) {
      if (!result.ok) throw new Error(`request ${i} refused: ${result.reason}`);
      expect((result.user as { id: number }).id).toBe(users[i].id);
      expect(result.token.client?.name ?? null).toBe(i % 2 ? 'web' : null);
    }
    const statements = lookupsSince(app, before);
    if (networked) {
      // All of them arrived in one turn of the event loop: one statement.
      expect(statements).toHaveLength(1);
      expect(statements[0]).toMatch(/\bIN\s*\(/i);
    } else {
      expect(statements).toHaveLength(CONCURRENT);
    }
    // Besides the lookups, only the first use's lastUsedAt writes: batched too on PostgreSQL
    // (touch-batching.int-spec.ts), one per token elsewhere.
    const others = app.recorder.queries.slice(before).filter((sql) => !statements.includes(sql));
    expect(others.every((sql) => /^UPDATE .*last_used_at/is.test(sql))).toBe(true);
    expect(others).toHaveLength(kind === 'postgres' ? 1 : CONCURRENT);
  });

  it('gives concurrent requests with one token objects of their own', async () => {
    const user = await app.createUser();
    const set = await app.service.generateHeaderToken(user);
    const results = await Promise.all(
      Array.from({ length: 5 }, () => app.service.authenticate(set.accessToken, 'header')),
    );
    const tokens = results.map((result) => (result.ok ? result.token : null));
    expect(tokens.every((token) => token?.id === tokens[0]?.id && token !== null)).toBe(true);
    expect(new Set(tokens).size).toBe(5);
    expect(new Set(tokens.map((token) => token!.user)).size).toBe(5);
  });

  it('refuses the unknown and the revoked in the same statement as the live ones', async () => {
    const user = await app.createUser();
    const live = await app.service.generateHeaderToken(user);
    const revoked = await app.service.generateHeaderToken(user);
    await app.service.revokeToken((await app.service.verifyToken(revoked.accessToken))!.id);
    const other = await app.service.generateHeaderToken(await app.createUser());
    await app.service.revokeToken((await app.service.verifyToken(other.accessToken))!.id);
    const unknown = other.accessToken.replace(/.{6}$/, (tail) => tail.split('').reverse().join(''));
    const before = app.recorder.count;
    const [a, b, c] = await Promise.all([
      app.service.authenticate(live.accessToken, 'header'),
      app.service.authenticate(revoked.accessToken, 'header'),
      app.service.authenticate(unknown, 'header'),
    ]);
    expect(a.ok).toBe(true);
    expect(b).toEqual({ ok: false, reason: 'token_invalid' });
    expect(c).toEqual({ ok: false, reason: 'token_invalid' });
    // The unknown one may fail its checksum before any query; the others share one statement.
    expect(lookupsSince(app, before)).toHaveLength(networked ? 1 : 2);
  });

  it('sends 200 concurrent lookups in statements of at most 64 hashes', async () => {
    const user = await app.createUser();
    const sets = [];
    for (let i = 0; i < 200; i++) sets.push(await app.service.generateHeaderToken(user));
    const before = app.recorder.count;
    const results = await Promise.all(
      sets.map((set) => app.service.authenticate(set.accessToken, 'header')),
    );
    expect(results.every((result) => result.ok)).toBe(true);
    const ids = new Set(results.map((result) => (result.ok ? result.token.id : '')));
    expect(ids.size).toBe(200);
    const statements = lookupsSince(app, before);
    if (networked) {
      expect(statements.length).toBeGreaterThanOrEqual(4);
      expect(statements.length).toBeLessThan(200);
    } else {
      expect(statements).toHaveLength(200);
    }
  });
});

describeEachDb('lookup batching across a pepper rotation (%s)', (kind) => {
  it('finds tokens of the old pepper and of the new one in one statement', async () => {
    const db = await createPersistentDatabase(kind);
    try {
      const first = await startDurinApp(
        kind,
        { cache: false, pepper: 'pepper-a-0123456789abcdef' },
        { db },
      );
      const old = await first.service.generateHeaderToken(await first.createUser());
      await first.close({ keepDatabase: true });
      const rotating = await startDurinApp(
        kind,
        { cache: false, pepper: ['pepper-b-fedcba9876543210', 'pepper-a-0123456789abcdef'] },
        { db },
      );
      try {
        const fresh = await rotating.service.generateHeaderToken(await rotating.createUser());
        const before = rotating.recorder.count;
        const [a, b] = await Promise.all([
          rotating.service.authenticate(old.accessToken, 'header'),
          rotating.service.authenticate(fresh.accessToken, 'header'),
        ]);
        expect(a.ok && b.ok).toBe(true);
        expect(lookupsSince(rotating, before)).toHaveLength(kind === 'sqlite' ? 2 : 1);
      } finally {
        await rotating.close({ keepDatabase: true });
      }
    } finally {
      await db.drop();
    }
  });
});

describeEachDb('batchStatements: false (%s)', (kind) => {
  it('sends one statement per lookup', async () => {
    const app = await startDurinApp(kind, { cache: false, batchStatements: false });
    try {
      const user = await app.createUser();
      const sets = [];
      for (let i = 0; i < 5; i++) sets.push(await app.service.generateHeaderToken(user));
      const before = app.recorder.count;
      const results = await Promise.all(
        sets.map((set) => app.service.authenticate(set.accessToken, 'header')),
      );
      expect(results.every((result) => result.ok)).toBe(true);
      expect(lookupsSince(app, before)).toHaveLength(5);
    } finally {
      await app.close();
    }
  });
});
