import { type ChildProcess, spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { once } from 'node:events';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '../support/databases';
import { HttpClient } from '../security/support/http';
import { type Pair, Recorder, sleep } from '../security/support/recorder';
import { checkHistory, type HistoryOp } from './history-checker';
import { readTableState } from './support/table-checks';

/**
 * F8 (REQ-FAIL-03, I3, I4): the app is killed with SIGKILL at a random moment while 30 devices
 * rotate their refresh tokens as fast as they can, then started again. For every device, the pair
 * it last received or the one a lost answer carried works, never neither and never both: the
 * family has exactly one live row, and presenting what the device holds leads to a working pair
 * (the parent itself, or, when the rotation committed but its answer died with the process, the
 * same child again through the grace window).
 */

const ROOT = join(__dirname, '..', '..');
const FAMILIES = 30;
const KILLS = 6;

interface Device {
  name: string;
  userId: number;
  pair: Pair;
  /** The last refresh got no answer: its rotation may have committed. */
  uncertain: boolean;
}

interface RunningApp {
  child: ChildProcess;
  port: number;
  output: () => string;
}

async function startApp(url: string): Promise<RunningApp> {
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', join(__dirname, 'support', 'rotation-app.ts')],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        DURIN_FAULT_DB_URL: url,
        TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`app did not start:\n${output}`)), 60_000);
    const check = () => {
      const match = /LISTENING (\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`app exited with ${code} before listening:\n${output}`));
    });
  });
  return { child, port, output: () => output };
}

async function kill(app: RunningApp): Promise<void> {
  const exited = once(app.child, 'exit');
  app.child.kill('SIGKILL');
  await exited;
}

describe('F8 the app killed mid-rotation (SIGKILL) and restarted', () => {
  let db: TestDatabase;
  let admin: DataSource;
  let app: RunningApp | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    admin = new DataSource({ ...db.options });
    await admin.initialize();
  });

  afterAll(async () => {
    if (app && app.child.exitCode === null) await kill(app);
    await admin?.destroy();
    await db?.drop();
  });

  it('every family keeps exactly one working head: the parent or the child, never neither, never both (F8, I3, I4)', async () => {
    const url = (db.options as { url: string }).url;
    app = await startApp(url);
    const users: Array<{ id: number }> = await admin.query(
      `INSERT INTO sec_user (username, email, "isActive") SELECT 'u' || g, 'u' || g || '@example.com', true FROM generate_series(1, ${FAMILIES}) g RETURNING id`,
    );
    const history: HistoryOp[] = [];
    let http = new HttpClient(app.port, 64);
    let recorder = new Recorder(http);
    const devices: Device[] = [];
    for (const [i, user] of users.entries()) {
      const pair = await recorder.login(`d${i}`, user.id);
      expect(pair).toBeDefined();
      devices.push({ name: `d${i}`, userId: user.id, pair: pair!, uncertain: false });
    }
    let uncertainSeen = 0;

    for (let round = 0; round < KILLS; round += 1) {
      // Every device rotates in a tight loop until the process dies under it.
      const chains = devices.map(async (device) => {
        for (;;) {
          const { res, next } = await recorder.refresh(device.name, device.pair);
          if (next) {
            device.pair = next;
            device.uncertain = false;
            continue;
          }
          if (res.status === 0) device.uncertain = true;
          return;
        }
      });
      await sleep(randomInt(150, 700));
      await kill(app);
      await Promise.all(chains);
      http.close();
      history.push(...recorder.ops);

      app = await startApp(url);
      http = new HttpClient(app.port, 64);
      recorder = new Recorder(http);

      for (const device of devices) {
        if (device.uncertain) uncertainSeen += 1;
        const [{ family_id: familyId }]: Array<{ family_id: string }> = await admin.query(
          'SELECT family_id FROM auth_token WHERE token_hash = $1',
          [device.pair.label],
        );
        const live: Array<{ token_hash: string }> = await admin.query(
          'SELECT token_hash FROM auth_token WHERE family_id = $1 AND revoked_at IS NULL',
          [familyId],
        );
        // Never neither, never both.
        expect({ device: device.name, live: live.length }).toEqual({
          device: device.name,
          live: 1,
        });
        const parentWorks = (await recorder.auth(device.name, device.pair)).status === 200;
        if (parentWorks) {
          expect(live[0].token_hash).toBe(device.pair.label);
        } else {
          // Only a rotation whose answer was lost can have ended the parent.
          expect({ device: device.name, uncertain: device.uncertain }).toEqual({
            device: device.name,
            uncertain: true,
          });
          const { res, next } = await recorder.refresh(device.name, device.pair);
          expect(res.status).toBe(200);
          // The grace window handed out the child that had committed.
          expect(next!.label).toBe(live[0].token_hash);
          expect((await recorder.auth(device.name, next!)).status).toBe(200);
          device.pair = next!;
        }
        device.uncertain = false;
      }
    }
    history.push(...recorder.ops);
    http.close();

    const table = await readTableState(admin);
    expect(table.orphanedRotations).toEqual([]);
    expect(checkHistory(history, { liveHeadsPerFamily: table.liveHeadsPerFamily })).toEqual([]);
    // The kills did land in the middle of requests.
    expect(uncertainSeen).toBeGreaterThan(0);
    expect(history.filter((op) => op.op === 'refresh' && op.status === 200).length).toBeGreaterThan(
      FAMILIES,
    );
  });
});
