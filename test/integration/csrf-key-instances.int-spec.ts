import request from 'supertest';
import { ManualClock } from '../../lib';
import type { TestDatabase, TestDbKind } from '../support/databases';
import {
  type AdapterKind,
  CookieJar,
  type CookieSessionApp,
  startCookieSessionApp,
} from './support/cookie-session-app';
import { createPersistentDatabase, START } from './support/durin-test-app';

const HOST = 'app.example';

const MATRIX: Array<[AdapterKind, TestDbKind]> = [
  ['express', 'sqlite'],
  ['fastify', 'sqlite'],
  ['express', 'postgres'],
  ['fastify', 'postgres'],
];

/**
 * The CSRF token of a cookie session works on every instance and after a restart, with no
 * `csrf.secret`: a random key per process used to answer 403 `csrf_failed` there.
 */
describe.each(MATRIX)('CSRF tokens across instances and restarts (%s, %s)', (adapter, kind) => {
  let db: TestDatabase;
  let clock: ManualClock;
  const running: CookieSessionApp[] = [];

  const start = async () => {
    const app = await startCookieSessionApp(adapter, db, clock);
    running.push(app);
    return app;
  };
  const stop = async (app: CookieSessionApp) => {
    running.splice(running.indexOf(app), 1);
    await app.close();
  };

  beforeEach(async () => {
    db = await createPersistentDatabase(kind);
    clock = new ManualClock(START);
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((app) => app.close()));
    await db.drop();
  });

  async function login(app: CookieSessionApp): Promise<{ jar: CookieJar; csrf: string }> {
    const user = await app.users.save({ email: `key-${Date.now()}-${Math.random()}@example.com` });
    const res = await request(app.http).post('/login/cookie').send({ userId: user.id }).expect(201);
    return { jar: new CookieJar().store(res), csrf: (res.body as { csrfToken: string }).csrfToken };
  }

  const post = (app: CookieSessionApp, path: string, jar: CookieJar, csrf: string) =>
    request(app.http)
      .post(path)
      .set('Host', HOST)
      .set('Origin', `https://${HOST}`)
      .set('Cookie', jar.header(path))
      .set('X-CSRF-Token', csrf);

  it('a session from instance A refreshes and logs out on instance B (same database)', async () => {
    const a = await start();
    const b = await start();
    const session = await login(a);

    const refreshed = await post(b, '/auth/refresh', session.jar, session.csrf).expect(200);
    session.jar.store(refreshed);
    const csrf = (refreshed.body as { csrfToken: string }).csrfToken;

    const logout = await post(b, '/auth/logout', session.jar, csrf);
    expect(logout.status).toBe(204);
    session.jar.store(logout);
    expect(session.jar.names()).toEqual([]);
  });

  it('a session survives a restart of its instance: logout on the new process -> 204', async () => {
    const first = await start();
    const session = await login(first);
    await stop(first);

    const restarted = await start();
    await request(restarted.http).get('/me').set('Cookie', session.jar.header('/me')).expect(200);
    const res = await post(restarted, '/auth/logout', session.jar, session.csrf);
    expect(res.status).toBe(204);
    await request(restarted.http).get('/me').set('Cookie', session.jar.header('/me')).expect(401);
  });

  it('a wrong CSRF token is still refused on the other instance', async () => {
    const a = await start();
    const b = await start();
    const one = await login(a);
    const two = await login(a);
    const res = await post(b, '/auth/logout', one.jar, two.csrf);
    expect({ status: res.status, code: (res.body as { code: string }).code }).toEqual({
      status: 403,
      code: 'csrf_failed',
    });
  });
});
