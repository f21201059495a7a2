import { randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { TokenFormat } from '../../../lib/tokens/token-format';
import type { HttpClient } from '../../security/support/http';
import { type Pair, Recorder, sleep } from '../../security/support/recorder';
import { sha256Hex } from '../../security/support/security-app';
import { checkHistory, type CheckOptions, type Violation } from '../history-checker';

/** One simulated device: its current session, and whether a failed refresh may have rotated it. */
interface Client {
  readonly name: string;
  readonly userId: number;
  pair: Pair | undefined;
  /** A refresh of `pair` got no answer or a 503: it may have committed (late) or not. */
  uncertain: boolean;
}

export interface LoadMix {
  auth: number;
  refresh: number;
  logout: number;
}

/**
 * The mixed load of the F6/F7 scenarios: `clients` devices, each logged in once and then, until
 * stopped, authenticating (80 %), refreshing (15 %) and logging out and in again (5 %), with now
 * and then a revoked or a never-issued token in place of its own. It behaves like a careful client:
 * it adopts a new pair only from a 200, keeps its old pair after a 503 (and retries), and forgets a
 * pair it logged out. Every operation is recorded for {@link checkHistory}.
 */
export class MixedLoad {
  readonly recorder: Recorder;
  /** Pairs logged out with a 204: they must never work again. */
  readonly revoked: Pair[] = [];
  /** Well-formed tokens that were never issued. */
  readonly unknown: Pair[];
  /** Every pair handed out with a 200. */
  readonly issued: Pair[] = [];
  private readonly clients: Client[];
  private stopped = false;
  private running: Promise<void> | undefined;

  constructor(
    http: HttpClient,
    userIds: number[],
    clientsPerUser: number,
    private readonly mix: LoadMix = { auth: 80, refresh: 15, logout: 5 },
  ) {
    this.recorder = new Recorder(http);
    const format = new TokenFormat('durin');
    this.unknown = Array.from({ length: 5 }, () => {
      const access = format.generate('access');
      const label = sha256Hex(access);
      return { access, refresh: format.generate('refresh'), label, family: label, user: 'nobody' };
    });
    this.clients = userIds.flatMap((userId) =>
      Array.from({ length: clientsPerUser }, (_, i) => ({
        name: `u${userId}-d${i}`,
        userId,
        pair: undefined,
        uncertain: false,
      })),
    );
  }

  /** Logs every client in, then runs the load in the background until {@link stop}. */
  async start(): Promise<void> {
    for (const client of this.clients) await this.login(client);
    this.running = Promise.all(this.clients.map((client) => this.loop(client))).then(() => {});
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private async login(client: Client): Promise<number> {
    const pair = await this.recorder.login(client.name, client.userId);
    if (pair) {
      client.pair = pair;
      client.uncertain = false;
      this.issued.push(pair);
    }
    return this.recorder.ops.findLast((op) => op.client === client.name)?.status ?? 0;
  }

  private async loop(client: Client): Promise<void> {
    while (!this.stopped) {
      const status = await this.step(client);
      const failed = status === 0 || status >= 500;
      // A polite client backs off after a 503 (shorter than Retry-After, to keep the pressure on).
      await sleep(failed ? randomInt(100, 300) : randomInt(2, 12));
    }
  }

  /** One operation of `client`; returns its status. */
  private async step(client: Client): Promise<number> {
    const pair = client.pair;
    if (pair === undefined) {
      return this.login(client);
    }
    const roll = randomInt(0, this.mix.auth + this.mix.refresh + this.mix.logout);
    if (roll < this.mix.auth) {
      const pick = randomInt(0, 100);
      if (pick < 6 && this.revoked.length > 0) {
        const revoked = this.revoked[randomInt(0, this.revoked.length)];
        return (await this.recorder.auth(client.name, revoked, 'revoked')).status;
      }
      if (pick < 12) {
        const unknown = this.unknown[randomInt(0, this.unknown.length)];
        return (await this.recorder.auth(client.name, unknown, 'unknown')).status;
      }
      const presented = client.uncertain ? undefined : 'live';
      return (await this.recorder.auth(client.name, pair, presented)).status;
    }
    if (roll < this.mix.auth + this.mix.refresh) {
      const { res, next } = await this.recorder.refresh(client.name, pair);
      if (next) {
        this.issued.push(next);
        client.pair = next;
        client.uncertain = false;
      } else if (res.status === 0 || res.status >= 500) {
        client.uncertain = true;
      } else {
        // Refused: nothing left to use (the checker decides whether that was allowed).
        client.pair = undefined;
      }
      return res.status;
    }
    const res = await this.recorder.logout(client.name, pair);
    if (res.status === 204) this.revoked.push(pair);
    // Whatever the answer, the device wanted out: it forgets the pair and logs in afresh.
    client.pair = undefined;
    return res.status;
  }

  /**
   * After the faults are over: every pair ever issued is presented once (I4: it works unless
   * something on record ended it), revoked and unknown ones must fail, and every client's current
   * pair must refresh (a refresh that got a 503 may have committed: the grace window then returns
   * that same pair) and work.
   */
  async verify(): Promise<{
    revokedAccepted: number;
    unknownAccepted: number;
    currentFailed: string[];
  }> {
    for (const pair of this.issued) await this.recorder.auth('verify', pair);
    let revokedAccepted = 0;
    for (const pair of this.revoked) {
      if ((await this.recorder.auth('verify', pair, 'revoked')).status !== 401)
        revokedAccepted += 1;
    }
    let unknownAccepted = 0;
    for (const pair of this.unknown) {
      if ((await this.recorder.auth('verify', pair, 'unknown')).status !== 401)
        unknownAccepted += 1;
    }
    const currentFailed: string[] = [];
    for (const client of this.clients) {
      if (!client.pair) continue;
      const { res, next } = await this.recorder.refresh(`verify-${client.name}`, client.pair);
      const works = next ? (await this.recorder.auth(`verify-${client.name}`, next)).status : 0;
      if (res.status !== 200 || works !== 200) {
        currentFailed.push(`${client.name}: refresh ${res.status}, then auth ${works}`);
      }
    }
    return { revokedAccepted, unknownAccepted, currentFailed };
  }

  check(options: CheckOptions): Violation[] {
    return checkHistory(this.recorder.ops, options);
  }

  /** `op:status` counts of the operations that started inside `[from, to]`. */
  statusesBetween(from: number, to: number): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const op of this.recorder.ops) {
      if (op.tStart < from || op.tEnd > to) continue;
      const key = `${op.op}:${op.status}`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
  }
}

/** `performance.now()` readings around a fault. */
export interface Window {
  from: number;
  to: number;
}

/** Runs `fault` for `ms`, returning the window during which it was in force. */
export async function during(
  ms: number,
  begin: () => void | Promise<unknown>,
  end: () => void | Promise<unknown>,
): Promise<Window> {
  await begin();
  const from = performance.now();
  await sleep(ms);
  const to = performance.now();
  await end();
  return { from, to };
}
