import type { HttpAdapterName } from '../../sample-app/src/config/settings';
import { TokenService } from '../../lib';
import { describeEachRow } from '../support/databases';
import { HTTP_ADAPTERS, SampleApp, startSampleApp } from './support/sample-app';

/**
 * The sample app's per-client policy (issues 10 and 11): abilities on the notes routes (a read-only
 * login, a write route), `@AllowClients` on the write route, each client's own request budget and
 * logins limited per IP.
 */

const DEMO = { username: 'demo', password: 'demo-password' };

const COMBINATIONS: Array<[HttpAdapterName, 'sqlite' | 'postgres']> = HTTP_ADAPTERS.flatMap(
  (adapter) =>
    (['sqlite', 'postgres'] as const).map((db): [HttpAdapterName, 'sqlite' | 'postgres'] => [
      adapter,
      db,
    ]),
);

describeEachRow(COMBINATIONS, 'sample app policy on %s with %s', (adapter, db) => {
  let sample: SampleApp;
  beforeAll(async () => {
    sample = await startSampleApp({ adapter, db, env: { LOGIN_RATE: '8/m' } });
  });
  afterAll(() => sample?.close());

  async function login(body: Record<string, unknown> = {}): Promise<string> {
    const response = await sample
      .http()
      .post('/auth/login')
      .send({ ...DEMO, client: 'web', ...body })
      .expect(200);
    return (response.body as { accessToken: string }).accessToken;
  }
  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

  it('a read-only login lists notes but cannot add one; a full login can', async () => {
    const full = await login();
    const readOnly = await login({ abilities: ['notes:read'] });

    await sample.http().post('/notes').set(bearer(full)).send({ text: 'first' }).expect(201);
    const listed = await sample.http().get('/notes').set(bearer(readOnly)).expect(200);
    expect((listed.body as Array<{ text: string }>).map((note) => note.text)).toContain('first');

    const refused = await sample
      .http()
      .post('/notes')
      .set(bearer(readOnly))
      .send({ text: 'nope' })
      .expect(403);
    expect(refused.body).toMatchObject({ statusCode: 403, code: 'insufficient_scope' });
    expect(refused.headers['www-authenticate']).toBe(
      'Bearer realm="api", error="insufficient_scope", scope="notes:write"',
    );
  });

  it('an unknown ability at login is a 400 invalid_scope, and nothing is issued', async () => {
    const response = await sample
      .http()
      .post('/auth/login')
      .send({ ...DEMO, client: 'web', abilities: ['Notes Read'] })
      .expect(400);
    expect(response.body).toMatchObject({ code: 'invalid_scope' });
  });

  it('an API key with notes:read reads notes, but writing needs an app login (@AllowClients)', async () => {
    const full = await login();
    await sample.http().delete('/auth/apiaccess').set(bearer(full));
    const created = await sample
      .http()
      .post('/auth/apiaccess')
      .set(bearer(full))
      .send({ abilities: ['notes:read', 'notes:write'] })
      .expect(201);
    const key = (created.body as { token: string }).token;
    await sample.http().get('/notes').set(bearer(key)).expect(200);
    const refused = await sample
      .http()
      .post('/notes')
      .set(bearer(key))
      .send({ text: 'from a script' })
      .expect(403);
    expect(refused.body).toMatchObject({ code: 'client_forbidden' });
  });

  it("each client has its own budget per user: mobile's is used up, web's is not", async () => {
    // The seeded rates (600/m, 300/m) are too large to reach in a test: lower mobile's, as an
    // operator would with `durin client:update mobile --throttle-rate 2/m`.
    await sample.app.get(TokenService).updateClient('mobile', { throttleRate: '2/m' });
    const mobile = await login({ client: 'mobile' });
    const web = await login({ client: 'web' });
    await sample.http().get('/me').set(bearer(mobile)).expect(200);
    await sample.http().get('/me').set(bearer(mobile)).expect(200);
    const limited = await sample.http().get('/me').set(bearer(mobile)).expect(429);
    expect(limited.body).toMatchObject({ statusCode: 429, code: 'rate_limited' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    await sample.http().get('/me').set(bearer(web)).expect(200);
  });

  it('logins are limited per client IP (LOGIN_RATE)', async () => {
    // Every login of this file so far counts: keep trying until the budget of 8 is spent.
    let status = 0;
    for (let attempt = 0; attempt < 9 && status !== 429; attempt += 1) {
      const response = await sample
        .http()
        .post('/auth/login')
        .send({ ...DEMO, password: 'wrong', client: 'web' });
      status = response.status;
      if (status === 429) expect(response.body).toMatchObject({ code: 'rate_limited' });
      else expect(status).toBe(401);
    }
    expect(status).toBe(429);
  });
});
