import { randomUUID } from 'node:crypto';
import { DataSource, DataSourceOptions } from 'typeorm';
import {
  AuthTokenEntity,
  DURIN_ENTITIES,
  DURIN_MIGRATIONS,
  InvalidAbilitiesError,
  InvalidClientError,
  registerDurinUserEntity,
  TokenService,
} from '../../lib';
import { describeEachDb } from '../support/databases';
import { QueryCounter } from '../support/query-counter';
import {
  createPersistentDatabase,
  DurinTestApp,
  MINUTE,
  START,
  startDurinApp,
} from './support/durin-test-app';
import { CreateUsers1700000000000, User } from './support/user.entity';

/**
 * Abilities in the store (issue 11): issued with the token (call, client default, `['*']`), kept
 * and narrowed by refresh, never widened, given to API keys, listed with the sessions, and read
 * as `['*']` on rows from before the migration. Bad input is refused before anything is written.
 */
describeEachDb('abilities in the token store (%s)', (kind) => {
  let app: DurinTestApp;
  let service: TokenService<AuthTokenEntity>;
  let user: User;

  beforeAll(async () => {
    app = await startDurinApp(kind, { tokenTtl: '1h', refreshTokenTtl: '1d' });
    service = app.service;
    await service.createClient({ name: 'reader', abilities: ['orders:read', 'orders:read'] });
  });
  afterAll(() => app.close());

  beforeEach(async () => {
    app.clock.set(START);
    user = await app.createUser();
  });

  const stored = async (id: string) => (await app.tokens.findOneByOrFail({ id })).abilities;
  const rowCount = () => app.tokens.count();

  it('stores the abilities given, and ["*"] by default, as the store reads them back', async () => {
    const scoped = await service.generateHeaderToken(user, {
      abilities: ['orders:read', 'orders:*', 'orders:read'],
    });
    const full = await service.generateCookieToken(user);
    expect(scoped.token.abilities).toEqual(['orders:read', 'orders:*']);
    expect(await stored(scoped.token.id)).toEqual(['orders:read', 'orders:*']);
    expect(await stored(full.token.id)).toEqual(['*']);

    const verified = await service.verifyToken(scoped.accessToken);
    expect(verified!.abilities).toEqual(['orders:read', 'orders:*']);
    expect(verified!.can('orders:write')).toBe(true);
    expect(verified!.can('users:read')).toBe(false);
    expect((await service.verifyToken(full.accessToken))!.can('durin:sessions')).toBe(true);

    const none = await service.generateHeaderToken(user, { abilities: [] });
    expect(await stored(none.token.id)).toEqual([]);
    expect((await service.verifyToken(none.accessToken))!.cannot('orders:read')).toBe(true);
  });

  it("gives tokens of a client the client's default abilities unless the call names its own", async () => {
    const client = await service.getClient('reader');
    expect(client!.abilities).toEqual(['orders:read']);
    const byDefault = await service.generateHeaderToken(user, { client: 'reader' });
    const own = await service.generateHeaderToken(user, {
      client: 'reader',
      abilities: ['orders:write'],
    });
    expect(await stored(byDefault.token.id)).toEqual(['orders:read']);
    expect(await stored(own.token.id)).toEqual(['orders:write']);

    await service.createClient({ name: `plain-${kind}` });
    expect((await service.getClient(`plain-${kind}`))!.abilities).toBeNull();
    const plain = await service.generateHeaderToken(user, { client: `plain-${kind}` });
    expect(await stored(plain.token.id)).toEqual(['*']);
  });

  it.each<[string, unknown]>([
    ['not an array', 'orders:read'],
    ['upper case', ['Orders:Read']],
    ['too many', Array.from({ length: 65 }, (_, i) => `a${i}`)],
    ['too long', ['a'.repeat(65)]],
  ])('refuses abilities that are %s with 400 invalid_scope, without a query', async (_n, bad) => {
    const rows = await rowCount();
    const mark = app.recorder.count;
    const attempts = [
      service.generateHeaderToken(user, { abilities: bad as string[] }),
      service.generateCookieToken(user, { client: 'reader', abilities: bad as string[] }),
      service.createApiKey(user, { abilities: bad as string[] }),
    ];
    for (const attempt of attempts) {
      await expect(attempt).rejects.toMatchObject({
        constructor: InvalidAbilitiesError,
        code: 'invalid_scope',
        reason: 'malformed',
      });
    }
    expect(app.recorder.queries.slice(mark)).toEqual([]);
    expect(await rowCount()).toBe(rows);
    await expect(
      service.createClient({ name: `bad-${kind}`, abilities: bad as string[] }),
    ).rejects.toBeInstanceOf(InvalidAbilitiesError);
    expect(await service.getClient(`bad-${kind}`)).toBeNull();
  });

  it('an invalid client field is still an invalid_client, abilities or not', async () => {
    await expect(
      service.createClient({ name: '', abilities: ['orders:read'] }),
    ).rejects.toBeInstanceOf(InvalidClientError);
  });

  it('refresh keeps the abilities; a refresh may narrow them', async () => {
    const first = await service.generateHeaderToken(user, {
      abilities: ['orders:*', 'users:read'],
    });
    const kept = await service.refreshToken(first.refreshToken);
    expect(await stored(kept!.token.id)).toEqual(['orders:*', 'users:read']);

    const narrowed = await service.refreshToken(kept!.refreshToken, {
      abilities: ['orders:read', 'orders:read'],
    });
    expect(narrowed!.token.abilities).toEqual(['orders:read']);
    expect(await stored(narrowed!.token.id)).toEqual(['orders:read']);
    const verified = await service.verifyToken(narrowed!.accessToken);
    expect(verified!.can('orders:read')).toBe(true);
    expect(verified!.can('orders:write')).toBe(false);
    expect(verified!.can('users:read')).toBe(false);

    // And the narrowed pair stays narrow.
    const next = await service.refreshToken(narrowed!.refreshToken);
    expect(await stored(next!.token.id)).toEqual(['orders:read']);
    const empty = await service.refreshToken(next!.refreshToken, { abilities: [] });
    expect(await stored(empty!.token.id)).toEqual([]);
  });

  it.each<[string, string[], string[]]>([
    ['["*"] from a scoped token', ['orders:read'], ['*']],
    ['a wildcard over what is held', ['orders:read'], ['orders:*']],
    ['another ability', ['orders:read'], ['orders:read', 'users:read']],
    ['anything from a token without abilities', [], ['orders:read']],
  ])('refuses to widen: %s is 400 invalid_scope, nothing written', async (_n, held, asked) => {
    const first = await service.generateHeaderToken(user, { abilities: held });
    const rows = await rowCount();
    const mark = app.recorder.count;
    await expect(
      service.refreshToken(first.refreshToken, { abilities: asked }),
    ).rejects.toMatchObject({
      constructor: InvalidAbilitiesError,
      code: 'invalid_scope',
      reason: 'not_granted',
    });
    expect(app.recorder.writesSince(mark)).toEqual([]);
    expect(await rowCount()).toBe(rows);
    // Not spent, and not counted as reuse: the same refresh token still works.
    const next = await service.refreshToken(first.refreshToken);
    expect(next).not.toBeNull();
    expect(await stored(next!.token.id)).toEqual(held);
  });

  it('refuses malformed narrowing before looking the refresh token up', async () => {
    const first = await service.generateHeaderToken(user);
    const mark = app.recorder.count;
    await expect(
      service.refreshToken(first.refreshToken, { abilities: ['*', 'Bad'] }),
    ).rejects.toMatchObject({ code: 'invalid_scope', reason: 'malformed' });
    expect(app.recorder.queries.slice(mark)).toEqual([]);
  });

  it('a ["*"] token may narrow to anything, ["*"] itself included', async () => {
    const first = await service.generateHeaderToken(user);
    const same = await service.refreshToken(first.refreshToken, { abilities: ['*'] });
    expect(await stored(same!.token.id)).toEqual(['*']);
    const scoped = await service.refreshToken(same!.refreshToken, {
      abilities: ['durin:sessions', 'orders:*'],
    });
    expect(await stored(scoped!.token.id)).toEqual(['durin:sessions', 'orders:*']);
  });

  it('API keys hold nothing by default, or the abilities they are given', async () => {
    const plain = await service.createApiKey(user);
    expect(await stored(plain.token.id)).toEqual([]);
    const other = await app.createUser();
    const scoped = await service.createApiKey(other, { abilities: ['orders:read'] });
    expect(await stored(scoped.token.id)).toEqual(['orders:read']);
    const listed = await service.listUserTokens(other);
    expect(listed.map((session) => session.abilities)).toEqual([['orders:read']]);
  });

  it('listUserTokens returns each session with its abilities', async () => {
    const a = await service.generateHeaderToken(user, { abilities: ['orders:read'] });
    app.clock.advance(MINUTE);
    const b = await service.generateCookieToken(user);
    const sessions = await service.listUserTokens(user);
    expect(sessions.map((session) => [session.id, session.abilities])).toEqual([
      [b.token.id, ['*']],
      [a.token.id, ['orders:read']],
    ]);
  });

  it('a row without abilities (issued before the migration) holds ["*"] and keeps it on refresh', async () => {
    const legacy = await service.generateHeaderToken(user);
    await app.tokens.update({ id: legacy.token.id }, { abilities: null });
    expect(await stored(legacy.token.id)).toBeNull();
    const verified = await service.verifyToken(legacy.accessToken);
    expect(verified!.abilities).toBeNull();
    expect(verified!.can('durin:sessions')).toBe(true);
    expect((await service.listUserTokens(user))[0].abilities).toEqual(['*']);

    const next = await service.refreshToken(legacy.refreshToken);
    expect(await stored(next!.token.id)).toBeNull();
    const narrowed = await service.refreshToken(next!.refreshToken, { abilities: ['orders:*'] });
    expect(await stored(narrowed!.token.id)).toEqual(['orders:*']);
  });
});

describeEachDb('abilities with the token cache (%s)', (kind) => {
  let app: DurinTestApp;

  beforeAll(async () => {
    app = await startDurinApp(kind, { cache: { ttl: '1h' } });
  });
  afterAll(() => app.close());

  it('a caller changing its token’s abilities cannot widen what the next request sees', async () => {
    const user = await app.createUser();
    const set = await app.service.generateHeaderToken(user, { abilities: ['orders:read'] });
    const first = await app.service.authenticate(set.accessToken, 'header');
    expect(first.ok).toBe(true);
    if (!first.ok) return;
    first.token.abilities!.push('*');
    const mark = app.recorder.count;
    const second = await app.service.authenticate(set.accessToken, 'header');
    expect(app.recorder.queries.slice(mark).filter((q) => /token_hash"? IN/i.test(q))).toEqual([]);
    expect(second.ok && second.token.abilities).toEqual(['orders:read']);
    expect(second.ok && second.token.can('users:read')).toBe(false);
  });
});

describeEachDb('AddDurinAbilities migration on existing rows (%s)', (kind) => {
  it('leaves tokens issued before it NULL, which read as ["*"]', async () => {
    const db = await createPersistentDatabase(kind);
    registerDurinUserEntity(User);
    const options = {
      ...db.options,
      entities: [User, ...DURIN_ENTITIES],
      logger: new QueryCounter(),
    };
    const before = new DataSource({
      ...options,
      migrations: [CreateUsers1700000000000, ...DURIN_MIGRATIONS.slice(0, -1)],
    } as DataSourceOptions);
    const after = new DataSource({
      ...options,
      migrations: [CreateUsers1700000000000, ...DURIN_MIGRATIONS],
    } as DataSourceOptions);
    try {
      await before.initialize();
      await before.runMigrations();
      const p = (i: number) => (kind === 'postgres' ? `$${i}` : '?');
      await before.query(`INSERT INTO users (email, is_active) VALUES (${p(1)}, ${p(2)})`, [
        'legacy@example.com',
        kind === 'postgres' ? true : 1,
      ]);
      const [{ id: userId }] = (await before.query('SELECT id FROM users')) as Array<{
        id: number;
      }>;
      const tokenId = randomUUID();
      await before.query(
        'INSERT INTO auth_token (id, user_id, auth_type, context, token_hash, created_at, family_id) ' +
          `VALUES (${[1, 2, 3, 4, 5, 6, 7].map(p).join(', ')})`,
        [tokenId, userId, 'header', '{}', 'f'.repeat(64), START, randomUUID()],
      );
      await before.destroy();

      await after.initialize();
      const applied = await after.runMigrations();
      expect(applied.map((migration) => migration.name)).toEqual([
        'AddDurinAbilities1765000000000',
      ]);
      const token = await after.getRepository(AuthTokenEntity).findOneByOrFail({ id: tokenId });
      expect(token.abilities).toBeNull();
      expect(token.can('durin:sessions')).toBe(true);
      expect(token.can('orders:write')).toBe(true);
    } finally {
      if (before.isInitialized) await before.destroy();
      if (after.isInitialized) await after.destroy();
      await db.drop();
    }
  });
});
