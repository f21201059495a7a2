import { TokenSet } from '../../lib';
import { DurinTestApp, startDurinApp } from './support/durin-test-app';

/**
 * Cleanup at scale (issue 5; SECURITY-CHECKLIST REQ-EXP-06, F12): `revokeExpiredTokens()` deletes
 * a large backlog of dead rows in short batches while authentication keeps being served. This is
 * a correctness test (nothing fails, everything dead goes, nothing live goes), not a timing one;
 * `npm run bench` measures the latency side.
 */
const DEAD_ROWS = 200_000;
const LIVE_TOKENS = 50;

describe('revokeExpiredTokens over a large backlog while authenticating (postgres)', () => {
  let app: DurinTestApp;

  beforeAll(async () => {
    // No cache: every authentication below really reads the table being cleaned.
    app = await startDurinApp('postgres', { tokenTtl: '1h', refreshTokenTtl: '1d', cache: false });
  });
  afterAll(() => app.close());

  it(`removes ${DEAD_ROWS} dead rows while concurrent authentication keeps succeeding`, async () => {
    const owner = await app.createUser();
    const now = app.clock.now();
    // Dead rows in one statement: access and refresh expired long ago (both parts dead).
    await app.dataSource.query(
      `INSERT INTO auth_token
         (id, user_id, auth_type, context, token_hash, refresh_token_hash, created_at,
          expires_at, refresh_expires_at, family_id)
       SELECT md5('dead' || i)::uuid::text, $1, 'header', '{}',
              encode(sha256(('dead-a-' || i)::bytea), 'hex'),
              encode(sha256(('dead-r-' || i)::bytea), 'hex'),
              $2::bigint - 7200000, $2::bigint - 3600000, $2::bigint - 1, md5('dead' || i)::uuid::text
         FROM generate_series(1, $3::int) AS i`,
      [owner.id, now, DEAD_ROWS],
    );
    await app.dataSource.query('ANALYZE auth_token');
    const live: TokenSet[] = [];
    for (let i = 0; i < LIVE_TOKENS; i += 1) {
      live.push(await app.service.generateHeaderToken(await app.createUser()));
    }

    let cleaning = true;
    let authentications = 0;
    const failures: string[] = [];
    const clients = Array.from({ length: 8 }, async (_, worker) => {
      // At least a few rounds each, and on until the cleanup is done.
      for (let round = 0; cleaning || round < 5; round += 1) {
        const set = live[(worker * 7 + round) % live.length];
        const result = await app.service.authenticate(set.accessToken, 'header');
        authentications += 1;
        if (!result.ok) failures.push(result.reason);
      }
    });
    const removed = await app.service.revokeExpiredTokens().finally(() => {
      cleaning = false;
    });
    await Promise.all(clients);

    expect(failures).toEqual([]);
    expect(authentications).toBeGreaterThan(8 * 5 - 1);
    expect(removed).toBe(DEAD_ROWS);
    const [{ count }] = (await app.dataSource.query(
      'SELECT count(*)::int AS count FROM auth_token',
    )) as [{ count: number }];
    expect(count).toBe(LIVE_TOKENS);
    for (const set of live) {
      expect((await app.service.authenticate(set.accessToken, 'header')).ok).toBe(true);
    }
  }, 300_000);
});
