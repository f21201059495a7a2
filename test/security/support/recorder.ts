import type { Clock } from '../../../lib';
import type { HistoryOp, OpKind } from '../../faults/history-checker';
import { header, type HttpClient, type HttpResult, json } from './http';
import { sha256Hex } from './security-app';

/** A session as a client holds it. `label` names the pair in the history (its `token_hash`). */
export interface Pair {
  readonly access: string;
  readonly refresh: string | null;
  readonly label: string;
  /** The label of the login this pair descends from. */
  readonly family: string;
  readonly user: string;
}

export const COOKIE_NAME = '__Host-token';

/**
 * Drives the probe app over HTTP like real clients and records every operation for the history
 * checker: who, what, with which token, when (start and end, `performance.now()`), and the status.
 */
export class Recorder {
  readonly ops: HistoryOp[] = [];

  constructor(
    private readonly http: HttpClient,
    /** The app's clock, to stamp `at` (I2); optional. */
    private readonly clock?: Clock,
  ) {}

  private record(
    client: string,
    op: OpKind,
    pair: Pair | null,
    res: HttpResult,
    extra: Partial<HistoryOp> = {},
    at?: number,
  ): void {
    this.ops.push({
      client,
      op,
      token: pair?.label ?? null,
      family: pair?.family ?? null,
      user: pair?.user ?? extra.user ?? '',
      tStart: res.tStart,
      tEnd: res.tEnd,
      status: res.status,
      retryAfter: res.status === 503 ? header(res, 'retry-after') !== undefined : undefined,
      at,
      ...extra,
    });
  }

  /** POST /login: a new header session (or a cookie one: then the access token is the cookie). */
  async login(client: string, userId: number): Promise<Pair | undefined> {
    const at = this.clock?.now();
    const res = await this.http.request({ method: 'POST', path: '/login', body: { userId } });
    const body = json(res) as { accessToken?: string; refreshToken?: string | null } | undefined;
    const pair =
      res.status === 200 && body?.accessToken
        ? newPair(body.accessToken, body.refreshToken ?? null, null, String(userId))
        : undefined;
    this.record(client, 'login', null, res, { user: String(userId), issued: pair?.label }, at);
    return pair;
  }

  /** GET /me with the pair's access token. */
  async auth(
    client: string,
    pair: Pair,
    presented: HistoryOp['presented'] = undefined,
  ): Promise<HttpResult> {
    const at = this.clock?.now();
    const res = await this.http.request({
      path: '/me',
      headers: [['Authorization', `Bearer ${pair.access}`]],
    });
    this.record(client, 'auth', pair, res, { presented }, at);
    return res;
  }

  /** POST /auth/refresh with the pair's refresh token; the new pair on a 200. */
  async refresh(client: string, pair: Pair): Promise<{ res: HttpResult; next?: Pair }> {
    const at = this.clock?.now();
    const res = await this.http.request({
      method: 'POST',
      path: '/auth/refresh',
      body: { refreshToken: pair.refresh },
    });
    const body = json(res) as { accessToken?: string; refreshToken?: string | null } | undefined;
    const next =
      res.status === 200 && body?.accessToken
        ? newPair(body.accessToken, body.refreshToken ?? null, pair.family, pair.user)
        : undefined;
    this.record(client, 'refresh', pair, res, { issued: next?.label }, at);
    return { res, next };
  }

  /** POST /auth/logout or /auth/logoutall with the pair's access token. */
  async logout(client: string, pair: Pair, all = false): Promise<HttpResult> {
    const at = this.clock?.now();
    const res = await this.http.request({
      method: 'POST',
      path: all ? '/auth/logoutall' : '/auth/logout',
      headers: [['Authorization', `Bearer ${pair.access}`]],
    });
    this.record(client, all ? 'logout_all' : 'logout', pair, res, {}, at);
    return res;
  }

  /** Every status seen, counted. */
  statusCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const op of this.ops)
      counts[`${op.op}:${op.status}`] = (counts[`${op.op}:${op.status}`] ?? 0) + 1;
    return counts;
  }
}

function newPair(
  access: string,
  refresh: string | null,
  family: string | null,
  user: string,
): Pair {
  const label = sha256Hex(access);
  return { access, refresh, label, family: family ?? label, user };
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
