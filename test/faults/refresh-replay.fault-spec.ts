import { randomInt } from 'node:crypto';
import { ManualClock } from '../../lib';
import { describeEachDb } from '../support/databases';
import { HttpClient } from '../security/support/http';
import { type Pair, Recorder } from '../security/support/recorder';
import { type SecurityApp, startSecurityApp } from '../security/support/security-app';
import { checkHistory } from './history-checker';

/**
 * F5 (REQ-RT-02, REQ-RT-04, I3): a victim and an attacker share a refresh token and use what they
 * hold in random order at random delays, some inside the grace window T, some outside. A model of
 * RFC 9700 rotation with a grace window predicts every answer: the holder of the current pair
 * rotates; the holder of its immediate parent gets the current pair again within T of the
 * rotation; anything else revokes the family, for good. The table never shows two live heads.
 */

const GRACE_SECONDS = 10;
const T = GRACE_SECONDS * 1000;
const GAMES = 40;

interface Model {
  head: Pair;
  parent: Pair | undefined;
  rotatedAt: number;
  revoked: boolean;
}

describeEachDb('F5 refresh token shared by a victim and an attacker (%s)', (kind) => {
  let app: SecurityApp;
  let clock: ManualClock;
  let http: HttpClient;

  beforeAll(async () => {
    clock = new ManualClock(Date.UTC(2030, 0, 1));
    app = await startSecurityApp({
      adapter: 'fastify',
      db: kind,
      clock,
      durin: {
        tokenTtl: '1h',
        refreshTokenTtl: '30d',
        autoRefreshMaxTtl: '60d',
        refreshReuseGraceSeconds: GRACE_SECONDS,
      },
    });
    http = new HttpClient(app.port);
  });

  afterAll(async () => {
    http?.close();
    await app?.close();
  });

  it(`${GAMES} games: every answer is the model's; revoked exactly when a reuse falls outside T (F5)`, async () => {
    const recorder = new Recorder(http, clock);
    const user = await app.createUser();
    let revocations = 0;
    let graceReplays = 0;
    for (let game = 0; game < GAMES; game += 1) {
      const start = (await recorder.login(`g${game}`, user.id))!;
      const model: Model = { head: start, parent: undefined, rotatedAt: 0, revoked: false };
      // Both hold the same refresh token: the attacker copied it.
      const holds: Record<'victim' | 'attacker', Pair> = { victim: start, attacker: start };
      for (let move = 0; move < 12 && !model.revoked; move += 1) {
        const who = randomInt(0, 2) === 0 ? 'victim' : 'attacker';
        // Half the delays fall inside the window, half beyond it.
        clock.advance(randomInt(0, 2) === 0 ? randomInt(0, T - 1000) : randomInt(T, 3 * T));
        const presented = holds[who];
        const { res, next } = await recorder.refresh(`g${game}-${who}`, presented);

        if (presented.label === model.head.label) {
          expect(res.status).toBe(200);
          model.parent = model.head;
          model.head = next!;
          model.rotatedAt = clock.now();
        } else if (presented.label === model.parent?.label && clock.now() < model.rotatedAt + T) {
          // Grace: the same current pair, no new one.
          expect(res.status).toBe(200);
          expect(next!.label).toBe(model.head.label);
          graceReplays += 1;
        } else {
          expect(res.status).toBe(401);
          model.revoked = true;
          revocations += 1;
        }
        if (next) holds[who] = next;
      }
      if (model.revoked) {
        // Every token of the family is dead: both holders are out.
        expect((await recorder.auth('check', model.head)).status).toBe(401);
        expect((await recorder.refresh('check', model.head)).res.status).toBe(401);
      } else {
        expect((await recorder.auth('check', model.head)).status).toBe(200);
      }
    }
    // Both branches of the model were exercised.
    expect(revocations).toBeGreaterThan(0);
    expect(graceReplays).toBeGreaterThan(0);
    const heads: Array<{ family_id: string; live: string | number }> = await app.dataSource.query(
      'SELECT family_id, COUNT(*) AS live FROM auth_token WHERE revoked_at IS NULL GROUP BY family_id',
    );
    const liveHeadsPerFamily = Object.fromEntries(heads.map((h) => [h.family_id, Number(h.live)]));
    expect(
      checkHistory(recorder.ops, { liveHeadsPerFamily }).filter((v) => v.invariant === 'I3'),
    ).toEqual([]);
  });
});
