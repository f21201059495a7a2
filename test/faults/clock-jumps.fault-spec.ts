import { randomInt } from 'node:crypto';
import { ManualClock } from '../../lib';
import { describeEachDb } from '../support/databases';
import { HttpClient } from '../security/support/http';
import { type Pair, Recorder } from '../security/support/recorder';
import { type SecurityApp, startSecurityApp } from '../security/support/security-app';
import { checkHistory } from './history-checker';

/**
 * F11 (REQ-EXP-02/03/05, I1, I2): the one time source, `DURIN_CLOCK`, jumps forward and back (an
 * NTP step, a VM restored from a snapshot). What is decided by a state change never comes back:
 * a revoked, logged-out, rotated or reuse-revoked token stays dead whatever the clock says, and no
 * session is ever accepted at or after its absolute expiry. What is decided by comparing with the
 * clock follows the clock: see the last test of this file for the limit that implies.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describeEachDb('F11 clock jumps through DURIN_CLOCK (%s)', (kind) => {
  let app: SecurityApp;
  let clock: ManualClock;
  let http: HttpClient;
  let recorder: Recorder;
  let userId: number;

  beforeAll(async () => {
    clock = new ManualClock(Date.UTC(2030, 0, 1));
    app = await startSecurityApp({
      adapter: 'express',
      db: kind,
      clock,
      durin: {
        tokenTtl: '1h',
        refreshTokenTtl: '1d',
        autoRefresh: true,
        autoRefreshInterval: '1m',
        autoRefreshMaxTtl: '2d',
        refreshReuseGraceSeconds: 10,
        cache: false,
      },
    });
    http = new HttpClient(app.port);
    recorder = new Recorder(http, clock);
    userId = (await app.createUser()).id;
  });

  afterAll(async () => {
    http?.close();
    await app?.close();
  });

  const login = async (client: string) => (await recorder.login(client, userId))!;
  const JUMPS = [-HOUR, +DAY, -2 * DAY, +30 * DAY, -31 * DAY, +5 * MINUTE];

  it('a revoked, logged-out, rotated or reuse-revoked token stays dead through every jump (I1)', async () => {
    const loggedOut = await login('logout');
    expect((await recorder.logout('logout', loggedOut)).status).toBe(204);
    const rotated = await login('rotated');
    const child = (await recorder.refresh('rotated', rotated)).next!;
    const everywhere = [await login('all1'), await login('all2')];
    const bystander = await login('bystander');
    expect((await recorder.logout('all1', everywhere[0], true)).status).toBe(204);
    const stolen = await login('stolen');
    const s1 = (await recorder.refresh('stolen', stolen)).next!;
    const s2 = (await recorder.refresh('stolen', s1)).next!;
    // The grandparent again: theft, the family dies.
    expect((await recorder.refresh('thief', stolen)).res.status).toBe(401);
    expect(child && bystander && s2).toBeTruthy();

    const deadAccess = [loggedOut, rotated, ...everywhere, stolen, s1, s2, child, bystander];
    const deadRefresh = [loggedOut, ...everywhere, s2];
    for (const jump of [0, ...JUMPS]) {
      clock.advance(jump);
      for (const pair of deadAccess) {
        expect({ jump, status: (await recorder.auth('probe', pair)).status }).toEqual({
          jump,
          status: 401,
        });
      }
      for (const pair of deadRefresh) {
        const { res } = await recorder.refresh('probe', pair);
        expect({ jump, status: res.status }).toEqual({ jump, status: 401 });
      }
    }
    expect(checkHistory(recorder.ops).filter((v) => v.invariant !== 'I4')).toEqual([]);
  });

  it('a rotated parent presented after the clock jumped back before its rotation is reuse, not a grace replay (REQ-RT-04)', async () => {
    const parent = await login('grace');
    const child = (await recorder.refresh('grace', parent)).next!;
    clock.advance(-HOUR);
    // "Within 10 s after the rotation" must not become "any time before it".
    const replay = await recorder.refresh('thief', parent);
    expect(replay.res.status).toBe(401);
    expect((await recorder.auth('grace', child)).status).toBe(401);
    clock.advance(HOUR);
  });

  it('the absolute expiry holds through a random walk of jumps, with sliding and rotation (I2, REQ-EXP-02)', async () => {
    const start = clock.now();
    let pair = await login('walker');
    const absolute = start + 2 * DAY;
    const family = pair.family;
    for (let step = 0; step < 150; step += 1) {
      // Mostly forward, sometimes back; never before the login itself.
      const jump = randomInt(-2 * HOUR, 3 * HOUR);
      clock.set(Math.max(start, clock.now() + jump));
      if (randomInt(0, 4) === 0) {
        const { next } = await recorder.refresh('walker', pair);
        if (next) pair = next;
      } else {
        await recorder.auth('walker', pair);
      }
      const rows: Array<{ expires_at: string | null; refresh_expires_at: string | null }> =
        await app.dataSource.query('SELECT expires_at, refresh_expires_at FROM auth_token');
      for (const row of rows) {
        if (row.expires_at !== null) expect(Number(row.expires_at)).toBeLessThanOrEqual(absolute);
        if (row.refresh_expires_at !== null) {
          expect(Number(row.refresh_expires_at)).toBeLessThanOrEqual(absolute);
        }
      }
    }
    for (const jump of [0, 1, HOUR, 30 * DAY]) {
      clock.set(absolute + jump);
      expect((await recorder.auth('walker', pair)).status).toBe(401);
      expect((await recorder.refresh('walker', pair)).res.status).toBe(401);
    }
    const violations = checkHistory(recorder.ops, { absoluteExpiry: { [family]: absolute } });
    expect(violations.filter((v) => v.invariant === 'I2')).toEqual([]);
    expect(
      recorder.ops.filter((op) => op.client === 'walker' && op.status === 200).length,
    ).toBeGreaterThan(10);
    clock.set(start);
  });

  it('a token removed by the cleanup job stays dead when the clock jumps back (REQ-EXP-06)', async () => {
    const set = await app.tokens.generateHeaderToken(
      { id: userId },
      { accessExpiresIn: 3600, refreshExpiresIn: null },
    );
    const pair: Pair = {
      access: set.accessToken,
      refresh: null,
      label: set.token.id,
      family: set.token.id,
      user: String(userId),
    };
    clock.advance(2 * HOUR);
    expect((await recorder.auth('cleanup', pair)).status).toBe(401);
    expect(await app.tokens.revokeExpiredTokens()).toBeGreaterThan(0);
    clock.advance(-2 * HOUR);
    expect((await recorder.auth('cleanup', pair)).status).toBe(401);
  });

  it('documents the limit: without the cleanup job, a jump back before a stored expiry re-opens that token (docs/security.md)', async () => {
    const set = await app.tokens.generateHeaderToken({ id: userId }, { accessExpiresIn: 3600 });
    const pair: Pair = {
      access: set.accessToken,
      refresh: null,
      label: set.token.id,
      family: set.token.id,
      user: String(userId),
    };
    clock.advance(2 * HOUR);
    expect((await recorder.auth('limit', pair)).status).toBe(401);
    clock.advance(-90 * MINUTE);
    // Expiry is "now >= expiresAt" on DURIN_CLOCK: at +30 min the token is inside its hour again.
    expect((await recorder.auth('limit', pair)).status).toBe(200);
  });
});
