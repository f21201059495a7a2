import { randomBytes, randomUUID } from 'node:crypto';
import { AuthTokenEntity } from '../../lib';
import { cleanupParts } from '../../lib/store/cleanup-plan';
import { TokenStore } from '../../lib/store/token-store';
import { describeEachDb } from '../support/databases';
import { DAY, DurinTestApp, HOUR, START, startDurinApp } from './support/durin-test-app';
import { User } from './support/user.entity';

/** A moment relative to START: none, in the past, or in the future. */
type When = 'none' | 'past' | 'future';
const WHENS: When[] = ['none', 'past', 'future'];

function at(when: When, past: number, future: number): Date | null {
  if (when === 'none') return null;
  return new Date(START + (when === 'past' ? -past : future));
}

interface Shape {
  revoked: 'none' | 'long ago' | 'lately';
  expires: When;
  refresh: When;
  absolute: When;
}

/**
 * The rule the cleanup parts must add up to, written as plainly as possible (the single OR
 * predicate the cleanup used before it was split into index ranges).
 */
function isDead(shape: Shape): boolean {
  const accessOver = shape.expires === 'past' && shape.refresh !== 'future';
  return accessOver || shape.absolute === 'past';
}

function expectedAfterCleanup(
  shape: Shape,
  mode: 'delete' | 'mark' | 'mark-90d',
): 'gone' | 'marked' | 'kept' {
  const refreshWindowOver = shape.refresh !== 'future' || shape.absolute === 'past';
  if (mode === 'delete') {
    if (isDead(shape)) return 'gone';
    // Revoked rows (rotation history) go once their refresh window is over.
    return shape.revoked !== 'none' && refreshWindowOver ? 'gone' : 'kept';
  }
  if (shape.revoked === 'none') return isDead(shape) ? 'marked' : 'kept';
  // Already kept: only a retention removes it, and never inside its refresh window.
  if (mode === 'mark-90d' && shape.revoked === 'long ago' && shape.refresh !== 'future') {
    return 'gone';
  }
  return 'kept';
}

function everyShape(): Shape[] {
  const shapes: Shape[] = [];
  for (const revoked of ['none', 'long ago', 'lately'] as const) {
    for (const expires of WHENS) {
      for (const refresh of WHENS) {
        for (const absolute of WHENS) shapes.push({ revoked, expires, refresh, absolute });
      }
    }
  }
  return shapes;
}

function row(owner: User, shape: Shape): AuthTokenEntity {
  return {
    id: randomUUID(),
    familyId: randomUUID(),
    user: owner,
    authType: 'header',
    client: null,
    context: {},
    tokenHash: randomBytes(32).toString('hex'),
    refreshTokenHash: shape.refresh === 'none' ? null : randomBytes(32).toString('hex'),
    createdAt: new Date(START - 200 * DAY),
    expiresAt: at(shape.expires, HOUR, HOUR),
    refreshExpiresAt: at(shape.refresh, HOUR, DAY),
    absoluteExpiresAt: at(shape.absolute, 2 * HOUR, 2 * DAY),
    accessTtlMs: HOUR,
    refreshTtlMs: DAY,
    lastRefreshedAt: null,
    lastUsedAt: null,
    revokedAt:
      shape.revoked === 'none'
        ? null
        : new Date(START - (shape.revoked === 'long ago' ? 120 * DAY : DAY)),
    revokedReason: shape.revoked === 'none' ? null : 'rotated',
    parentId: null,
    replacedById: null,
  } as unknown as AuthTokenEntity;
}

describeEachDb('cleanup parts (%s)', (kind) => {
  const modes = [
    ['delete', {}],
    ['mark', { keepExpiredTokens: true }],
    ['mark-90d', { keepExpiredTokens: { for: '90d' } }],
  ] as const;

  describe.each(modes)('%s', (mode, options) => {
    let app: DurinTestApp;
    beforeEach(async () => {
      app = await startDurinApp(kind, { tokenTtl: '1h', refreshTokenTtl: '1d', ...options });
      app.clock.set(START);
    });
    afterEach(() => app.close());

    it('change exactly the rows the one-predicate rule names, for every combination', async () => {
      const owner = await app.createUser();
      const shapes = everyShape();
      const rows = shapes.map((shape) => row(owner, shape));
      await app.tokens.insert(rows);

      const changed = await app.service.revokeExpiredTokens();

      const after = new Map((await app.tokens.find()).map((token) => [token.id, token]));
      const expected = shapes.map((shape) => expectedAfterCleanup(shape, mode));
      const actual = rows.map((token): 'gone' | 'marked' | 'kept' => {
        const stored = after.get(token.id);
        if (stored === undefined) return 'gone';
        if (token.revokedAt === null && stored.revokedAt !== null) {
          expect(stored.revokedReason).toBe('expired');
          expect(stored.revokedAt.getTime()).toBe(START);
          return 'marked';
        }
        return 'kept';
      });
      expect(actual.map((outcome, i) => `${JSON.stringify(shapes[i])} ${outcome}`)).toEqual(
        expected.map((outcome, i) => `${JSON.stringify(shapes[i])} ${outcome}`),
      );
      expect(changed).toBe(expected.filter((outcome) => outcome !== 'kept').length);
      // A second run finds nothing left to do.
      expect(await app.service.revokeExpiredTokens()).toBe(0);
    });
  });

  describe('batches', () => {
    let app: DurinTestApp;
    beforeEach(async () => {
      app = await startDurinApp(kind, { tokenTtl: '1h', refreshTokenTtl: '1d' });
      app.clock.set(START);
    });
    afterEach(() => app.close());

    it('work through a part larger than one batch in bounded statements', async () => {
      const owner = await app.createUser();
      const dead = { revoked: 'none', expires: 'past', refresh: 'past', absolute: 'none' } as const;
      const rows = Array.from({ length: 2300 }, () => row(owner, dead));
      for (let i = 0; i < rows.length; i += 250) await app.tokens.insert(rows.slice(i, i + 250));

      app.recorder.reset();
      expect(await app.service.revokeExpiredTokens()).toBe(2300);

      const deletes = app.recorder.queries.filter((query) => query.startsWith('DELETE'));
      // 1000 + 1000 + 300 in the one part that has rows, one empty look into each other part.
      expect(deletes).toHaveLength(3 + cleanupParts('delete', false).length - 1);
      expect(deletes.every((query) => /LIMIT/i.test(query))).toBe(true);
      expect(await app.tokens.count()).toBe(0);
    });
  });
});

/**
 * The point of the parts: each batch is an index range, never a scan of the table, so a cleanup
 * stays linear however many live or kept rows there are (issue 12: a scan per batch made a run
 * quadratic). Checked on PostgreSQL's own plans over a table of a realistic shape.
 */
describe('cleanup plans on 200 000 rows (postgres)', () => {
  const LIVE = 150_000;
  const KEPT = 30_000;
  const DEAD = 20_000;
  let app: DurinTestApp;
  let store: TokenStore;

  beforeAll(async () => {
    app = await startDurinApp('postgres', { tokenTtl: '1h', refreshTokenTtl: '1d' });
    store = app.module.get(TokenStore);
    const owner = await app.createUser();
    // $2 = now. Live: access expired, refresh open (the usual state of a session between
    // requests). Kept: revoked long ago (audit rows and rotation history). Dead: the three ways.
    // In slices of 25 000 rows: each statement stays well inside the test client's query timeout
    // on a busy machine.
    const all = LIVE + KEPT + DEAD;
    for (let first = 1; first <= all; first += 25_000) {
      await app.dataSource.query(
        `INSERT INTO auth_token
         (id, user_id, auth_type, context, token_hash, refresh_token_hash, created_at, expires_at,
          refresh_expires_at, absolute_expires_at, revoked_at, family_id)
       SELECT md5('row' || i)::uuid::text, $1, 'header', '{}',
              encode(sha256(('a-' || i)::bytea), 'hex'),
              CASE WHEN i % 3 = 1 AND i > $3::int + $4::int THEN NULL
                   ELSE encode(sha256(('r-' || i)::bytea), 'hex') END,
              $2::bigint - 86400000,
              $2::bigint - 60000 - i,
              CASE WHEN i <= $3::int + $4::int THEN $2::bigint + 3600000 + i
                   WHEN i % 3 = 1 THEN NULL
                   WHEN i % 3 = 2 THEN $2::bigint + 3600000
                   ELSE $2::bigint - 1000 END,
              CASE WHEN i > $3::int + $4::int AND i % 3 = 2 THEN $2::bigint - 1 ELSE NULL END,
              CASE WHEN i > $3::int AND i <= $3::int + $4::int THEN $2::bigint - 8640000000 ELSE NULL END,
              md5('row' || i)::uuid::text
         FROM generate_series($5::int, $6::int) AS i`,
        [owner.id, START, LIVE, KEPT, first, Math.min(all, first + 24_999)],
      );
    }
    await app.dataSource.query('ANALYZE auth_token');
  }, 120_000);
  afterAll(() => app.close());

  async function planOf(where: string): Promise<string> {
    const parameters = { now: START, keptUntil: START - 90 * DAY, batch: 1000 };
    const [sql, values] = app.dataSource.driver.escapeQueryWithParameters(
      store.cleanupBatchSql(where),
      parameters,
      {},
    );
    const rows = (await app.dataSource.query(`EXPLAIN (FORMAT JSON) ${sql}`, values)) as Array<{
      'QUERY PLAN': unknown;
    }>;
    return JSON.stringify(rows[0]['QUERY PLAN']);
  }

  // The mark parts read the same ranges as the first delete parts; the retention part is its own.
  const everyPart = [
    ...cleanupParts('delete', false),
    ...cleanupParts('mark', true).filter((part) => part.action === 'delete'),
  ];

  it.each(everyPart.map((part) => [part.name, part.action, part.where]))(
    '%s (%s) reads an index range, never the whole table',
    async (_name, _action, where) => {
      const plan = await planOf(where);
      expect(plan).not.toContain('Seq Scan');
      expect(plan).toMatch(/"Node Type":"(Index Scan|Index Only Scan|Bitmap Index Scan)"/);
    },
  );

  it('(control) the single OR predicate the cleanup used before does scan the table', async () => {
    const before =
      '((expires_at IS NOT NULL AND expires_at <= :now AND (refresh_expires_at IS NULL OR refresh_expires_at <= :now))' +
      ' OR (absolute_expires_at IS NOT NULL AND absolute_expires_at <= :now))' +
      ' OR (revoked_at IS NOT NULL AND (refresh_expires_at IS NULL OR refresh_expires_at <= :now))';
    expect(await planOf(before)).toContain('Seq Scan');
  });

  it('removes every dead row and keeps every live and kept one', async () => {
    expect(await app.service.revokeExpiredTokens()).toBe(DEAD);
    const [{ count }] = (await app.dataSource.query(
      'SELECT count(*)::int AS count FROM auth_token',
    )) as [{ count: number }];
    // Kept rows are rotation history inside their refresh window (refresh still open): they stay.
    expect(count).toBe(LIVE + KEPT);
  }, 120_000);
});
