import { randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { checkHistory } from '../faults/history-checker';
import { describeEachRow, type TestDbKind } from '../support/databases';
import { HttpClient, json } from './support/http';
import { type Pair, Recorder, sleep } from './support/recorder';
import { type SecurityApp, sha256Hex, startSecurityApp } from './support/security-app';

/**
 * Races over HTTP on PostgreSQL, MariaDB (and SQLite), with the default token cache on (F1-F4, REQ-RT-03,
 * REQ-EXP-04, REQ-REV-03/07). Every operation is recorded and the history is checked for I1-I6
 * by `checkHistory`; the table is checked for I3 (one live head per family) afterwards. The races
 * run with revocations deleting rows (the default) and marking them (`keepExpiredTokens`).
 */

const DELETE = { keepExpiredTokens: false };
const MARK = { keepExpiredTokens: true };
const CASES: Array<[string, TestDbKind, string, { keepExpiredTokens: boolean }]> = [
  ['PostgreSQL', 'postgres', 'rows deleted on revocation', DELETE],
  ['PostgreSQL', 'postgres', 'rows kept and marked (keepExpiredTokens)', MARK],
  // SQLite serialises writes; the same races must come out the same there.
  ['SQLite', 'sqlite', 'rows kept and marked (keepExpiredTokens)', MARK],
  // MariaDB serialises per user with a row lock on the user (lockUserSessions).
  ['MariaDB', 'mariadb', 'rows deleted on revocation', DELETE],
  ['MariaDB', 'mariadb', 'rows kept and marked (keepExpiredTokens)', MARK],
];

describeEachRow(CASES, 'concurrency on %s (%s), %s', (_name, kind, _mode, revocation) => {
  let app: SecurityApp;
  let http: HttpClient;

  beforeAll(async () => {
    app = await startSecurityApp({
      adapter: 'express',
      db: kind,
      durin: { ...revocation, autoRefresh: true, autoRefreshInterval: 0 },
      // Enough connections that requests really run side by side in the database.
      typeorm: kind === 'postgres' ? { extra: { max: 20, query_timeout: 15_000 } } : {},
    });
    http = new HttpClient(app.port, 128);
  });

  afterAll(async () => {
    http?.close();
    await app?.close();
  });

  /** `$1` placeholders for PostgreSQL, `?` for SQLite. */
  const sql = (text: string) => (kind === 'postgres' ? text : text.replace(/\$\d+/g, '?'));

  /** Live (not revoked) rows per family, from the table itself. */
  async function liveHeadsPerFamily(): Promise<Record<string, number>> {
    const rows: Array<{ family_id: string; live: string }> = await app.dataSource.query(
      'SELECT family_id, COUNT(*) AS live FROM auth_token WHERE revoked_at IS NULL GROUP BY family_id',
    );
    return Object.fromEntries(rows.map((row) => [row.family_id, Number(row.live)]));
  }

  async function liveRowsOf(userId: number): Promise<number> {
    const [row]: Array<{ n: string }> = await app.dataSource.query(
      sql('SELECT COUNT(*) AS n FROM auth_token WHERE user_id = $1 AND revoked_at IS NULL'),
      [userId],
    );
    return Number(row.n);
  }

  it('F1 / REQ-RT-03: 50 parallel refreshes of one token -> one new pair, every 200 is that pair, 0 5xx', async () => {
    const recorder = new Recorder(http);
    const families = 6;
    for (let f = 0; f < families; f += 1) {
      const user = await app.createUser();
      const pair = (await recorder.login(`f${f}`, user.id))!;
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => recorder.refresh(`f${f}-r${i}`, pair)),
      );
      const statuses = results.map((r) => r.res.status);
      expect(statuses.filter((s) => s !== 200 && s !== 401)).toEqual([]);
      const winners = new Set(results.filter((r) => r.next).map((r) => r.next!.refresh));
      // Grace-window siblings get the very same pair; nobody gets a second one.
      expect(winners.size).toBe(1);
      const child = results.find((r) => r.next)!.next!;
      // The family survived the stampede: its one head is that pair, and it works.
      expect((await recorder.auth(`f${f}`, child)).status).toBe(200);
      expect((await recorder.auth(`f${f}`, pair)).status).toBe(401);
      const [row]: Array<{ token_hash: string }> = await app.dataSource.query(
        sql('SELECT token_hash FROM auth_token WHERE family_id = $1 AND revoked_at IS NULL'),
        [(json(await recorder.auth(`f${f}`, child)) as { familyId: string }).familyId],
      );
      expect(row.token_hash).toBe(sha256Hex(child.access));
    }
    expect(checkHistory(recorder.ops, { liveHeadsPerFamily: await liveHeadsPerFamily() })).toEqual(
      [],
    );
  });

  it('F2 / REQ-REV-07: refresh racing logout of the same session (200 rounds, 0-20 ms offsets) -> I1, I3, I4, no 5xx', async () => {
    const recorder = new Recorder(http);
    const user = await app.createUser();
    const round = async (i: number) => {
      const pair = (await recorder.login(`r${i}`, user.id))!;
      const [refreshed] = await Promise.all([
        sleep(randomInt(0, 21)).then(() => recorder.refresh(`r${i}-refresh`, pair)),
        sleep(randomInt(0, 21)).then(() => recorder.logout(`r${i}-logout`, pair)),
      ]);
      // After both returned: the checker decides from these what must and must not work.
      await recorder.auth(`r${i}`, pair);
      if (refreshed.next) {
        await recorder.auth(`r${i}`, refreshed.next);
        await recorder.refresh(`r${i}`, refreshed.next);
      }
    };
    // Four rounds at a time: more interleavings per second, still one race per session.
    for (let i = 0; i < 200; i += 4) {
      await Promise.all([0, 1, 2, 3].map((k) => round(i + k)));
    }
    const statuses = new Set(recorder.ops.map((op) => op.status));
    expect([...statuses].filter((s) => ![200, 204, 401].includes(s))).toEqual([]);
    expect(checkHistory(recorder.ops, { liveHeadsPerFamily: await liveHeadsPerFamily() })).toEqual(
      [],
    );
    // Both orders happened: some logouts won, some refreshes won.
    const counts = recorder.statusCounts();
    expect(counts['logout:204']).toBeGreaterThan(0);
    expect(counts['refresh:200']).toBeGreaterThan(0);
  });

  it('F3 / REQ-EXP-04 / REQ-REV-03: sliding refresh (interval 0) and rotation racing logout-all never resurrect a token', async () => {
    for (let roundNo = 0; roundNo < 5; roundNo += 1) {
      const recorder = new Recorder(http);
      const user = await app.createUser();
      const sessions: Pair[] = [];
      for (let s = 0; s < 4; s += 1) sessions.push((await recorder.login(`login${s}`, user.id))!);
      // Its own session: the hammering clients rotate theirs.
      const admin = (await recorder.login('admin', user.id))!;

      let logoutAllDone = Number.POSITIVE_INFINITY;
      let stopAt = Number.POSITIVE_INFINITY;
      const hammer = async (client: number) => {
        let pair = sessions[client % sessions.length];
        while (performance.now() < stopAt) {
          if (randomInt(0, 100) < 15) {
            const { next } = await recorder.refresh(`c${client}`, pair);
            if (next) pair = next;
          } else {
            await recorder.auth(`c${client}`, pair);
          }
        }
      };
      const logoutAll = async () => {
        await sleep(randomInt(20, 80));
        const res = await recorder.logout('admin', admin, true);
        expect(res.status).toBe(204);
        logoutAllDone = res.tEnd;
        stopAt = performance.now() + 100;
      };
      await Promise.all([...Array.from({ length: 12 }, (_, c) => hammer(c)), logoutAll()]);

      const after = recorder.ops.filter((op) => op.tStart > logoutAllDone && op.token !== null);
      expect(after.length).toBeGreaterThan(0);
      expect(after.filter((op) => op.status === 200)).toEqual([]);
      // I5: the table holds no live row of that user any more (no login happened since).
      expect(await liveRowsOf(user.id)).toBe(0);
      expect(
        checkHistory(recorder.ops, { liveHeadsPerFamily: await liveHeadsPerFamily() }),
      ).toEqual([]);
      expect(recorder.ops.some((op) => op.status >= 500)).toBe(false);
    }
  });

  it('F4 / REQ-REV-03: logins racing logout-all: each new session is dead or alive as its timing says, never half', async () => {
    for (let roundNo = 0; roundNo < 10; roundNo += 1) {
      const recorder = new Recorder(http);
      const user = await app.createUser();
      const first = (await recorder.login('first', user.id))!;
      const logins: Array<Pair | undefined> = [];
      await Promise.all([
        sleep(randomInt(0, 21)).then(() => recorder.logout('admin', first, true)),
        ...Array.from({ length: 12 }, (_, i) =>
          sleep(randomInt(0, 21))
            .then(() => recorder.login(`l${i}`, user.id))
            .then((pair) => logins.push(pair)),
        ),
      ]);
      for (const pair of logins) {
        expect(pair).toBeDefined();
        const access = await recorder.auth('verify', pair!);
        const refresh = await recorder.refresh('verify', pair!);
        // Access and refresh token of one session share its fate.
        expect(refresh.res.status).toBe(access.status);
      }
      expect(
        checkHistory(recorder.ops, { liveHeadsPerFamily: await liveHeadsPerFamily() }),
      ).toEqual([]);
    }
  });
});
