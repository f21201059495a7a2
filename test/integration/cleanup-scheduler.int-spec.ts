import { randomBytes, randomUUID } from 'node:crypto';
import { AuthTokenEntity, DurinCleanupScheduler, DurinEvent } from '../../lib';
import { withCleanupLock } from '../../lib/cleanup/cleanup-lock';
import { describeEachDb, TestDatabase } from '../support/databases';
import {
  createPersistentDatabase,
  DAY,
  DurinTestApp,
  HOUR,
  silentLogger,
  START,
  startDurinApp,
} from './support/durin-test-app';
import { User } from './support/user.entity';

/** Dead rows (access and refresh expired before START), written straight to the table. */
async function insertExpired(app: DurinTestApp, owner: User, count: number): Promise<void> {
  const rows = Array.from(
    { length: count },
    () =>
      ({
        id: randomUUID(),
        familyId: randomUUID(),
        user: owner,
        authType: 'header',
        client: null,
        context: {},
        tokenHash: randomBytes(32).toString('hex'),
        refreshTokenHash: randomBytes(32).toString('hex'),
        createdAt: new Date(START - 2 * DAY),
        expiresAt: new Date(START - DAY),
        refreshExpiresAt: new Date(START - HOUR),
        absoluteExpiresAt: null,
        accessTtlMs: HOUR,
        refreshTtlMs: DAY,
        lastRefreshedAt: null,
        lastUsedAt: null,
        revokedAt: null,
        revokedReason: null,
        parentId: null,
        replacedById: null,
      }) as unknown as AuthTokenEntity,
  );
  for (let i = 0; i < rows.length; i += 250) await app.tokens.insert(rows.slice(i, i + 250));
}

/** Resolves with the first event `events` receives that matches, or fails after `ms`. */
function nextEvent(events: DurinEvent[], type: DurinEvent['type'], after: number, ms = 15_000) {
  return new Promise<DurinEvent>((resolve, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      const found = events.slice(after).find((event) => event.type === type);
      if (found) {
        clearInterval(poll);
        resolve(found);
      } else if (Date.now() - started > ms) {
        clearInterval(poll);
        reject(new Error(`no ${type} event within ${ms} ms`));
      }
    }, 25);
  });
}

describeEachDb('background cleanup (%s)', (kind) => {
  describe('on a schedule', () => {
    let app: DurinTestApp;
    const events: DurinEvent[] = [];
    beforeEach(async () => {
      events.length = 0;
      app = await startDurinApp(kind, {
        tokenTtl: '1h',
        refreshTokenTtl: '1d',
        cleanup: { every: '1s' },
        onEvent: (event) => events.push(event),
      });
    });
    afterEach(() => app.close());

    it('removes expired tokens again and again, reporting each run by event', async () => {
      const owner = await app.createUser();
      const live = await app.service.generateHeaderToken(owner);
      await insertExpired(app, owner, 1200);

      const first = await nextEvent(events, 'expired_tokens_cleaned', 0);
      expect(first).toMatchObject({ count: 1200, reason: 'scheduled', userId: null });
      expect(first.occurredAt.getTime()).toBe(START);
      expect(await app.tokens.count()).toBe(1);

      // The schedule goes on: rows that die later are removed by a later run.
      await insertExpired(app, owner, 7);
      const seen = events.length;
      let later = await nextEvent(events, 'expired_tokens_cleaned', seen);
      // A run may have started between the insert batches; wait for the one that saw them.
      while (later.count === 0) {
        later = await nextEvent(events, 'expired_tokens_cleaned', events.indexOf(later) + 1);
      }
      expect(later.count).toBe(7);
      expect(await app.service.verifyToken(live.accessToken)).not.toBeNull();
    });

    it('keeps going after a failed run and says so in the log', async () => {
      const errors = jest.spyOn(silentLogger, 'error');
      try {
        await app.dataSource.query(`DROP TABLE auth_token`);
        await new Promise<void>((resolve, reject) => {
          const started = Date.now();
          const poll = setInterval(() => {
            const failures = (errors.mock.calls as unknown[][]).filter((call) =>
              String(call[0]).includes('cleanup failed'),
            );
            // Two failures: the scheduler survived the first and tried again.
            if (failures.length >= 2) {
              clearInterval(poll);
              resolve();
            } else if (Date.now() - started > 15_000) {
              clearInterval(poll);
              reject(new Error(`${failures.length} failures logged`));
            }
          }, 25);
        });
        expect(events.filter((event) => event.type === 'expired_tokens_cleaned')).toEqual([]);
      } finally {
        errors.mockRestore();
      }
    });
  });

  describe('with two instances on one database', () => {
    let db: TestDatabase;
    let a: DurinTestApp;
    let b: DurinTestApp;
    beforeEach(async () => {
      db = await createPersistentDatabase(kind);
      // No schedule: the runs are started by the test, at the same moment on both.
      a = await startDurinApp(kind, { tokenTtl: '1h', refreshTokenTtl: '1d' }, { db });
      b = await startDurinApp(kind, { tokenTtl: '1h', refreshTokenTtl: '1d' }, { db });
    });
    afterEach(async () => {
      await b.close({ keepDatabase: true });
      await a.close();
    });

    it('run one at a time: while one holds the lock, the other skips its turn', async () => {
      const owner = await a.createUser();
      await insertExpired(a, owner, 50);
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let holding!: () => void;
      const locked = new Promise<void>((resolve) => (holding = resolve));
      const holder = withCleanupLock(a.dataSource, 'auth_token', async () => {
        holding();
        await held;
      });
      await locked;

      expect(await b.module.get(DurinCleanupScheduler).runOnce()).toBeNull();
      expect(await a.tokens.count()).toBe(50);

      release();
      expect(await holder).toEqual({ ran: true, result: undefined });
      expect(await b.module.get(DurinCleanupScheduler).runOnce()).toBe(50);
    });

    it('started together, remove every row exactly once between them', async () => {
      const owner = await a.createUser();
      await insertExpired(a, owner, 3000);
      const results = await Promise.all([
        a.module.get(DurinCleanupScheduler).runOnce(),
        b.module.get(DurinCleanupScheduler).runOnce(),
      ]);
      expect(results.reduce<number>((sum, n) => sum + (n ?? 0), 0)).toBe(3000);
      // One did the work; the other found the lock taken (null) or, started after, nothing (0).
      expect(results.filter((n) => n !== null && n > 0)).toHaveLength(1);
      expect(await a.tokens.count()).toBe(0);
    });
  });
});

describe('background cleanup on shutdown (postgres)', () => {
  it('stops a long run between two batches, before the data source closes', async () => {
    const app = await startDurinApp('postgres', { tokenTtl: '1h', refreshTokenTtl: '1d' });
    const closed = { value: false };
    try {
      const owner = await app.createUser();
      const total = 60_000;
      await app.dataSource.query(
        `INSERT INTO auth_token
           (id, user_id, auth_type, context, token_hash, refresh_token_hash, created_at,
            expires_at, refresh_expires_at, family_id)
         SELECT md5('x' || i)::uuid::text, $1, 'header', '{}',
                encode(sha256(('a-' || i)::bytea), 'hex'), encode(sha256(('r-' || i)::bytea), 'hex'),
                $2::bigint - 7200000, $2::bigint - 3600000, $2::bigint - 1, md5('x' || i)::uuid::text
           FROM generate_series(1, $3::int) AS i`,
        [owner.id, START, total],
      );
      const run = app.module.get(DurinCleanupScheduler).runOnce();
      await app.close({ keepDatabase: true });
      closed.value = true;
      const removed = await run;
      // It ran (it had the lock) and stopped early: the rest is left for the next start.
      expect(removed).not.toBeNull();
      expect(removed).toBeLessThan(total);
    } finally {
      if (!closed.value) await app.close({ keepDatabase: true });
      await app.db.drop();
    }
  }, 60_000);
});
