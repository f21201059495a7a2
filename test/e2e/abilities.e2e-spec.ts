import request from 'supertest';
import { CookieJar } from '../integration/support/cookie-session-app';
import { createTestDatabase, type TestDatabase, type TestDbKind } from '../support/databases';
import { HTTP_ADAPTER_KINDS, type HttpAdapterKind } from '../support/http-app';
import { type AbilitiesApp, startAbilitiesApp } from './support/abilities-app';

const MATRIX: Array<[HttpAdapterKind, TestDbKind]> = HTTP_ADAPTER_KINDS.flatMap((adapter) =>
  (['sqlite', 'postgres'] as const).map((kind): [HttpAdapterKind, TestDbKind] => [adapter, kind]),
);
const HOST = 'app.example';

const insufficient = (scope: string) => ({
  status: 403,
  body: {
    statusCode: 403,
    error: 'Forbidden',
    message: 'This token lacks an ability this route requires.',
    code: 'insufficient_scope',
  },
  challenge: `Bearer realm="api", error="insufficient_scope", scope="${scope}"`,
});

/**
 * Abilities over HTTP (issue 11): `@RequireAbilities` / `@RequireAnyAbility` on an app's routes
 * (403 `insufficient_scope` with the RFC 6750 challenge, no extra SQL), the library's own routes
 * behind `durin:sessions`, least-privilege API keys, and narrowing on refresh, for header and
 * cookie sessions, over Express and Fastify on SQLite and PostgreSQL.
 */
describe.each(MATRIX)('abilities over %s on %s', (adapter, kind) => {
  let db: TestDatabase;
  let h: AbilitiesApp;
  const http = () => request(h.http);

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    h = await startAbilitiesApp(adapter, db);
  });
  afterAll(async () => {
    await h?.close();
    await db?.drop();
  });

  async function login(abilities?: string[]) {
    const user = await h.users.save({ email: `ab-${Math.random()}@example.com` });
    const res = await http().post('/login/header').send({ userId: user.id, abilities }).expect(200);
    const body = res.body as { id: string; accessToken: string; refreshToken: string };
    return { ...body, userId: user.id, auth: `Bearer ${body.accessToken}` };
  }

  async function expectInsufficient(res: request.Response, scope: string): Promise<void> {
    const expected = insufficient(scope);
    expect(res.status).toBe(expected.status);
    expect(res.body).toEqual(expected.body);
    expect(res.headers['www-authenticate']).toBe(expected.challenge);
  }

  it('lets a token through with every ability a route requires, wildcards included', async () => {
    for (const abilities of [undefined, ['*'], ['orders:*'], ['orders:read', 'orders:write']]) {
      const { auth } = await login(abilities);
      await http().get('/orders').set('Authorization', auth).expect(200);
      await http().post('/orders').set('Authorization', auth).expect(201);
    }
    const refunder = await login(['orders:read', 'orders:refund']);
    await http().post('/orders/refund').set('Authorization', refunder.auth).expect(200);
    const admin = await login(['orders:read', 'orders:admin']);
    await http().post('/orders/refund').set('Authorization', admin.auth).expect(200);
  });

  it("refuses a missing ability with 403 insufficient_scope naming the route's abilities", async () => {
    const reader = await login(['orders:read']);
    const list = await http().get('/orders').set('Authorization', reader.auth).expect(200);
    expect(list.body).toEqual({ orders: [], canWrite: false });
    await expectInsufficient(
      await http().post('/orders').set('Authorization', reader.auth),
      'orders:write',
    );
    await expectInsufficient(
      await http().post('/orders/refund').set('Authorization', reader.auth),
      'orders:refund orders:admin',
    );
    // The controller's requirement holds for every handler, beside the handler's own.
    const writer = await login(['orders:write']);
    await expectInsufficient(
      await http().post('/orders').set('Authorization', writer.auth),
      'orders:read',
    );
    const none = await login([]);
    await expectInsufficient(
      await http().get('/orders').set('Authorization', none.auth),
      'orders:read',
    );
    // A route without requirements takes any valid token.
    const me = await http().get('/me').set('Authorization', none.auth).expect(200);
    expect(me.body).toMatchObject({ abilities: [] });
  });

  it('refuses malformed abilities at login with 400 invalid_scope from app code, writing nothing', async () => {
    const user = await h.users.save({ email: `abl-${Math.random()}@example.com` });
    for (const abilities of [['Orders:Read'], ['*:read'], 'orders:read', Array(65).fill('a')]) {
      const res = await http()
        .post('/login/header')
        .send({ userId: user.id, abilities })
        .expect(400);
      expect(res.body).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: expect.any(String),
        code: 'invalid_scope',
      });
    }
    expect(await h.tokens.listUserTokens(user.id)).toEqual([]);
  });

  it('a missing credential is still a 401, and a bad one too, before any ability is looked at', async () => {
    const missing = await http().post('/orders').expect(401);
    expect(missing.body).toMatchObject({ code: 'token_missing' });
    const bad = await http()
      .post('/orders')
      .set('Authorization', 'Bearer durin_at_nope')
      .expect(401);
    expect(bad.body).toMatchObject({ code: 'token_invalid' });
  });

  it('checks abilities without extra SQL: a refused request costs what an allowed one does', async () => {
    const reader = await login(['orders:read']);
    // Warm up: the first use of a token records it (lastUsedAt).
    await http().get('/me').set('Authorization', reader.auth).expect(200);
    let mark = h.counter.count;
    await http().get('/orders').set('Authorization', reader.auth).expect(200);
    const allowed = h.counter.queries.slice(mark);
    mark = h.counter.count;
    await http().post('/orders').set('Authorization', reader.auth).expect(403);
    const refused = h.counter.queries.slice(mark);
    expect(refused).toEqual(allowed);
    // One lookup however many guards ran (global and controller).
    expect(refused.filter((query) => /token_hash"? IN/i.test(query))).toHaveLength(1);
    expect(refused.filter((query) => /^\s*(INSERT|UPDATE|DELETE)/i.test(query))).toEqual([]);
  });

  it('works the same for cookie sessions', async () => {
    const user = await h.users.save({ email: `abc-${Math.random()}@example.com` });
    const res = await http()
      .post('/login/cookie')
      .send({ userId: user.id, abilities: ['orders:read'] })
      .expect(200);
    const jar = new CookieJar().store(res);
    const csrf = (res.body as { csrfToken: string }).csrfToken;
    await http().get('/orders').set('Cookie', jar.header('/orders')).expect(200);
    await expectInsufficient(
      await http()
        .post('/orders')
        .set('Host', HOST)
        .set('Origin', `https://${HOST}`)
        .set('Cookie', jar.header('/orders'))
        .set('X-CSRF-Token', csrf),
      'orders:write',
    );
  });

  describe('the library routes', () => {
    it('need durin:sessions: a scoped token gets 403 and changes nothing', async () => {
      const full = await login();
      const other = await h.tokens.generateHeaderToken({ id: full.userId });
      const scoped = await h.tokens.generateHeaderToken(
        { id: full.userId },
        { abilities: ['orders:*'] },
      );
      const auth = `Bearer ${scoped.accessToken}`;
      const live = () => h.tokens.listUserTokens(full.userId);
      const before = (await live()).length;
      const calls: Array<() => request.Test> = [
        () => http().get('/auth/sessions').set('Authorization', auth),
        () => http().delete(`/auth/sessions/${other.token.id}`).set('Authorization', auth),
        () => http().post('/auth/logoutall').set('Authorization', auth),
        () => http().get('/auth/apiaccess').set('Authorization', auth),
        () => http().post('/auth/apiaccess').set('Authorization', auth),
        () => http().delete('/auth/apiaccess').set('Authorization', auth),
      ];
      for (const call of calls) {
        await expectInsufficient(await call(), 'durin:sessions');
      }
      expect((await live()).length).toBe(before);

      // Renew and logout of the token itself always work.
      await http().post('/auth/renew').set('Authorization', auth).expect(200);
      await http().post('/auth/logout').set('Authorization', auth).expect(204);
      await http().get('/me').set('Authorization', auth).expect(401);
      expect((await live()).length).toBe(before - 1);
    });

    it('GET sessions lists each session with its abilities for a durin:sessions token', async () => {
      const holder = await login(['durin:sessions']);
      const scoped = await h.tokens.generateHeaderToken(
        { id: holder.userId },
        { abilities: ['orders:read'] },
      );
      const res = await http().get('/auth/sessions').set('Authorization', holder.auth).expect(200);
      const sessions = res.body as Array<{ id: string; abilities: string[]; isCurrent: boolean }>;
      expect(
        sessions.map(({ id, abilities, isCurrent }) => ({ id, abilities, isCurrent })),
      ).toEqual(
        expect.arrayContaining([
          { id: holder.id, abilities: ['durin:sessions'], isCurrent: true },
          { id: scoped.token.id, abilities: ['orders:read'], isCurrent: false },
        ]),
      );
      await http().post('/auth/logoutall').set('Authorization', holder.auth).expect(204);
    });
  });

  describe('POST apiaccess { abilities }', () => {
    it('a key holds nothing by default: no session management, no ability-protected route', async () => {
      const owner = await login();
      const res = await http().post('/auth/apiaccess').set('Authorization', owner.auth).expect(201);
      const key = res.body as { token: string; abilities: string[] };
      expect(key.abilities).toEqual([]);
      const auth = `Bearer ${key.token}`;
      await http().get('/me').set('Authorization', auth).expect(200);
      await expectInsufficient(
        await http().get('/orders').set('Authorization', auth),
        'orders:read',
      );
      await expectInsufficient(
        await http().post('/auth/logoutall').set('Authorization', auth),
        'durin:sessions',
      );
      const shown = await http()
        .get('/auth/apiaccess')
        .set('Authorization', owner.auth)
        .expect(200);
      expect(shown.body).toMatchObject({ abilities: [] });
    });

    it('a key holds the abilities asked for, within the caller’s', async () => {
      const owner = await login(['orders:*', 'durin:sessions']);
      const res = await http()
        .post('/auth/apiaccess')
        .set('Authorization', owner.auth)
        .send({ abilities: ['orders:read'] })
        .expect(201);
      const auth = `Bearer ${(res.body as { token: string }).token}`;
      expect(res.body).toMatchObject({ abilities: ['orders:read'] });
      await http().get('/orders').set('Authorization', auth).expect(200);
      await expectInsufficient(
        await http().post('/orders').set('Authorization', auth),
        'orders:write',
      );
    });

    it.each<[string, string[], unknown, number, string]>([
      ['["*"] even from a ["*"] token', ['*'], { abilities: ['*'] }, 400, 'invalid_scope'],
      [
        'an ability the caller lacks',
        ['orders:read', 'durin:sessions'],
        { abilities: ['orders:write'] },
        400,
        'invalid_scope',
      ],
      [
        'a wildcard over the caller’s',
        ['orders:read', 'durin:sessions'],
        { abilities: ['orders:*'] },
        400,
        'invalid_scope',
      ],
      ['malformed abilities', ['*'], { abilities: ['Orders'] }, 400, 'invalid_scope'],
      ['abilities that are not a list', ['*'], { abilities: 'orders:read' }, 400, 'invalid_scope'],
      ['an unknown field', ['*'], { abilities: [], admin: true }, 400, 'invalid_request'],
      ['an array body', ['*'], ['orders:read'], 400, 'invalid_request'],
    ])('refuses %s, creating nothing', async (_name, held, body, status, code) => {
      const owner = await login(held);
      const res = await http()
        .post('/auth/apiaccess')
        .set('Authorization', owner.auth)
        .send(body as object)
        .expect(status);
      expect(res.body).toMatchObject({ statusCode: status, code });
      const sessions = await h.tokens.listUserTokens(owner.userId);
      expect(sessions.map((session) => session.id)).toEqual([owner.id]);
    });
  });

  describe('POST refresh { abilities }', () => {
    it('narrows a header session; the narrowed pair stays narrow', async () => {
      const first = await login(['orders:read', 'orders:write']);
      const res = await http()
        .post('/auth/refresh')
        .send({ refreshToken: first.refreshToken, abilities: ['orders:read'] })
        .expect(200);
      const next = res.body as { accessToken: string; refreshToken: string };
      const auth = `Bearer ${next.accessToken}`;
      await http().get('/orders').set('Authorization', auth).expect(200);
      await expectInsufficient(
        await http().post('/orders').set('Authorization', auth),
        'orders:write',
      );
      const again = await http()
        .post('/auth/refresh')
        .send({ refreshToken: next.refreshToken })
        .expect(200);
      const me = await http()
        .get('/me')
        .set('Authorization', `Bearer ${(again.body as { accessToken: string }).accessToken}`)
        .expect(200);
      expect(me.body).toMatchObject({ abilities: ['orders:read'] });
    });

    it.each<[string, unknown, string]>([
      ['widening to ["*"]', ['*'], 'invalid_scope'],
      ['widening to another ability', ['orders:write'], 'invalid_scope'],
      ['malformed abilities', ['Orders:Read'], 'invalid_scope'],
      ['abilities that are not a list', 'orders:read', 'invalid_scope'],
    ])('refuses %s with 400; the refresh token keeps working', async (_n, abilities, code) => {
      const first = await login(['orders:read']);
      const res = await http()
        .post('/auth/refresh')
        .send({ refreshToken: first.refreshToken, abilities })
        .expect(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request', code });
      await http().get('/orders').set('Authorization', first.auth).expect(200);
      await http().post('/auth/refresh').send({ refreshToken: first.refreshToken }).expect(200);
    });

    it('narrows a cookie session with { abilities } and the refresh cookie', async () => {
      const user = await h.users.save({ email: `abr-${Math.random()}@example.com` });
      const login = await http().post('/login/cookie').send({ userId: user.id }).expect(200);
      const jar = new CookieJar().store(login);
      const csrf = (login.body as { csrfToken: string }).csrfToken;
      const refresh = (body: object) =>
        http()
          .post('/auth/refresh')
          .set('Host', HOST)
          .set('Origin', `https://${HOST}`)
          .set('Cookie', jar.header('/auth/refresh'))
          .set('X-CSRF-Token', csrf)
          .send(body);
      const widened = await refresh({ abilities: ['*', 'x:'] }).expect(400);
      expect(widened.body).toMatchObject({ code: 'invalid_scope' });
      const res = await refresh({ abilities: ['orders:read'] }).expect(200);
      jar.store(res);
      const me = await http().get('/me').set('Cookie', jar.header('/me')).expect(200);
      expect(me.body).toMatchObject({ abilities: ['orders:read'] });
      await http().get('/auth/sessions').set('Cookie', jar.header('/auth/sessions')).expect(403);
    });
  });
});
