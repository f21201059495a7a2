import request from 'supertest';
import { ManualClock } from '../../lib';
import { ALL_DB_KINDS, describeEachRow, type TestDbKind } from '../support/databases';
import {
  ADAPTERS,
  type AdapterKind,
  type SecurityApp,
  startSecurityApp,
} from '../security/support/security-app';

/** 2030-01-01T00:00:00Z, far from the real clock. */
const START = Date.UTC(2030, 0, 1);
const DAY = 24 * 3600 * 1000;
const MATRIX: Array<[AdapterKind, TestDbKind]> = ADAPTERS.flatMap((adapter) =>
  ALL_DB_KINDS.map((kind): [AdapterKind, TestDbKind] => [adapter, kind]),
);

/**
 * `POST <routes.path>/apiaccess` under concurrency (one live key per user, decided in the
 * database) and the key's lifetime as the routes show it, over Express and Fastify.
 */
describeEachRow(MATRIX, 'apiaccess over %s on %s', (adapter, kind) => {
  let app: SecurityApp;
  let clock: ManualClock;
  const http = () => request(app.app.getHttpServer());

  beforeAll(async () => {
    clock = new ManualClock(START);
    app = await startSecurityApp({ adapter, db: kind, clock });
  });
  afterAll(() => app?.close());

  /** Live (not revoked) rows of the user under the API-key client, from the table itself. */
  async function liveKeyIds(userId: number): Promise<string[]> {
    const placeholder = kind === 'postgres' ? '$1' : '?';
    const rows: Array<{ id: string }> = await app.dataSource.query(
      'SELECT t.id FROM auth_token t JOIN auth_client c ON c.id = t.client_id ' +
        `WHERE t.user_id = ${placeholder} AND c.name = 'api' AND t.auth_type = 'header' ` +
        'AND t.revoked_at IS NULL',
      [userId],
    );
    return rows.map((row) => row.id);
  }

  it('10 concurrent POSTs with one token: one 201, nine 400 api_key_exists, one live key', async () => {
    const user = await app.createUser();
    const session = await app.tokens.generateHeaderToken(user);
    const auth = `Bearer ${session.accessToken}`;

    const responses = await Promise.all(
      Array.from({ length: 10 }, () => http().post('/auth/apiaccess').set('Authorization', auth)),
    );
    const created = responses.filter((response) => response.status === 201);
    const refused = responses.filter((response) => response.status === 400);
    expect(responses.map((response) => response.status).sort()).toEqual([
      201, 400, 400, 400, 400, 400, 400, 400, 400, 400,
    ]);
    for (const response of refused) {
      expect(response.body).toMatchObject({ statusCode: 400, code: 'api_key_exists' });
    }
    const key = created[0].body as { id: string; token: string; client: string; expiresAt: string };
    expect(key).toMatchObject({
      client: 'api',
      expiresAt: new Date(START + 90 * DAY).toISOString(),
    });
    expect(await liveKeyIds(user.id)).toEqual([key.id]);

    const shown = await http().get('/auth/apiaccess').set('Authorization', auth).expect(200);
    expect(shown.body).toEqual({
      id: key.id,
      client: 'api',
      createdAt: new Date(START).toISOString(),
      lastUsedAt: null,
      expiresAt: new Date(START + 90 * DAY).toISOString(),
      // Least privilege by default (issue 11): a key made without `abilities` holds none.
      abilities: [],
    });
    const me = await http().get('/me').set('Authorization', `Bearer ${key.token}`).expect(200);
    expect(me.body).toMatchObject({ userId: user.id, tokenId: key.id });

    await http().delete('/auth/apiaccess').set('Authorization', auth).expect(204);
    const gone = await http().get('/auth/apiaccess').set('Authorization', auth).expect(404);
    expect(gone.body).toMatchObject({ code: 'api_key_not_found' });
    expect(await liveKeyIds(user.id)).toEqual([]);
    await http().get('/me').set('Authorization', `Bearer ${key.token}`).expect(401);
    // With the key gone there is room for exactly one new key again.
    await http().post('/auth/apiaccess').set('Authorization', auth).expect(201);
    expect(await liveKeyIds(user.id)).toHaveLength(1);
  });

  it('an expired key is no longer shown and makes room for a new one', async () => {
    clock.set(START);
    const user = await app.createUser();
    const auth = `Bearer ${(await app.tokens.generateHeaderToken(user, { accessExpiresIn: null })).accessToken}`;
    const first = await http().post('/auth/apiaccess').set('Authorization', auth).expect(201);
    clock.set(START + 90 * DAY - 1000);
    await http().get('/auth/apiaccess').set('Authorization', auth).expect(200);
    await http().post('/auth/apiaccess').set('Authorization', auth).expect(400);
    clock.set(START + 90 * DAY);
    await http().get('/auth/apiaccess').set('Authorization', auth).expect(404);
    const second = await http().post('/auth/apiaccess').set('Authorization', auth).expect(201);
    expect(second.body).toMatchObject({
      expiresAt: new Date(START + 180 * DAY).toISOString(),
    });
    expect((second.body as { id: string }).id).not.toBe((first.body as { id: string }).id);
  });
});
