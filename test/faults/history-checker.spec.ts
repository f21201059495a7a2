import { checkHistory, type HistoryOp, type Invariant } from './history-checker';

/** A tiny history builder: each op gets the next time slot unless told otherwise. */
function history(
  ...ops: Array<Partial<HistoryOp> & Pick<HistoryOp, 'op' | 'status'>>
): HistoryOp[] {
  return ops.map((op, index) => ({
    client: 'c1',
    user: 'u1',
    token: null,
    tStart: index * 10,
    tEnd: index * 10 + 5,
    ...op,
  }));
}

const invariants = (ops: HistoryOp[], options = {}): Invariant[] =>
  checkHistory(ops, options).map((v) => v.invariant);

describe('checkHistory (the offline I1-I7 checker of the fault suite)', () => {
  it('accepts a clean history: login, use, rotate, grace sibling, logout', () => {
    const ops = history(
      { op: 'login', status: 200, issued: 'A' },
      { op: 'auth', token: 'A', status: 200, presented: 'live' },
      { op: 'refresh', token: 'A', status: 200, issued: 'B' },
      { op: 'refresh', token: 'A', status: 200, issued: 'B' },
      { op: 'auth', token: 'A', status: 401 },
      { op: 'auth', token: 'B', status: 200 },
      { op: 'list', token: 'B', status: 200, listed: ['B'] },
      { op: 'logout', token: 'B', status: 204 },
      { op: 'auth', token: 'B', status: 401 },
      { op: 'auth', token: 'X', status: 401, presented: 'unknown' },
    );
    expect(checkHistory(ops)).toEqual([]);
  });

  it('I1: a token that authenticates after its logout returned', () => {
    const ops = history(
      { op: 'login', status: 200, issued: 'A' },
      { op: 'logout', token: 'A', status: 204 },
      { op: 'auth', token: 'A', status: 200 },
    );
    expect(invariants(ops)).toEqual(['I1']);
  });

  it('I1: a rotated child of a logged-out family, and the staleness allowance S', () => {
    const ops = history(
      { op: 'login', status: 200, issued: 'A' },
      { op: 'refresh', token: 'A', status: 200, issued: 'B' },
      { op: 'logout', token: 'A', status: 204, tStart: 20, tEnd: 25 },
      { op: 'auth', token: 'B', status: 200, tStart: 40, tEnd: 45 },
    );
    expect(invariants(ops)).toEqual(['I1']);
    expect(invariants(ops, { stalenessMs: 20 })).toEqual([]);
  });

  it('I1: overlapping operations may go either way', () => {
    const ops = history(
      { op: 'login', status: 200, issued: 'A' },
      { op: 'logout', token: 'A', status: 204, tStart: 10, tEnd: 30 },
      { op: 'auth', token: 'A', status: 200, tStart: 20, tEnd: 25 },
    );
    expect(checkHistory(ops)).toEqual([]);
  });

  it('I1: the parent of a rotation stops working, except as a grace sibling of the refresh', () => {
    const ops = history(
      { op: 'login', status: 200, issued: 'A' },
      { op: 'refresh', token: 'A', status: 200, issued: 'B' },
      { op: 'auth', token: 'A', status: 200 },
    );
    expect(invariants(ops)).toEqual(['I1']);
  });

  it('I5: logout-all ends families that existed before it, not logins that started after it', () => {
    const before = history(
      { op: 'login', status: 200, issued: 'A' },
      { op: 'login', status: 200, issued: 'B' },
      { op: 'logout_all', token: 'A', status: 204 },
      { op: 'login', status: 200, issued: 'C' },
      { op: 'auth', token: 'B', status: 200 },
      { op: 'auth', token: 'C', status: 200 },
    );
    expect(invariants(before)).toEqual(['I5']);

    const overlapping = history(
      { op: 'login', status: 200, issued: 'A' },
      { op: 'logout_all', token: 'A', status: 204, tStart: 10, tEnd: 30 },
      { op: 'login', status: 200, issued: 'B', tStart: 12, tEnd: 28 },
      { op: 'auth', token: 'B', status: 200, tStart: 40, tEnd: 45 },
      { op: 'login', status: 200, issued: 'C', tStart: 14, tEnd: 29 },
      { op: 'auth', token: 'C', status: 401, tStart: 40, tEnd: 45 },
    );
    expect(checkHistory(overlapping)).toEqual([]);
  });

  it('I2: nothing is accepted at or after the absolute expiry', () => {
    const ops = history(
      { op: 'login', status: 200, issued: 'A' },
      { op: 'auth', token: 'A', status: 200, at: 999 },
      { op: 'auth', token: 'A', status: 200, at: 1000 },
    );
    expect(invariants(ops, { absoluteExpiry: { A: 1000 } })).toEqual(['I2']);
  });

  it('I3: one parent rotated into two different pairs, or two live heads in the database', () => {
    const ops = history(
      { op: 'login', status: 200, issued: 'A' },
      { op: 'refresh', token: 'A', status: 200, issued: 'B', tStart: 10, tEnd: 20 },
      { op: 'refresh', token: 'A', status: 200, issued: 'C', tStart: 11, tEnd: 21 },
    );
    expect(invariants(ops)).toEqual(['I3']);
    expect(invariants([], { liveHeadsPerFamily: { f1: 1, f2: 2 } })).toEqual(['I3']);
  });

  it('I4: an issued token that is refused with nothing on record that ended it', () => {
    const ops = history(
      { op: 'login', status: 200, issued: 'A' },
      { op: 'auth', token: 'A', status: 401 },
    );
    expect(invariants(ops)).toEqual(['I4']);

    const refreshRefused = history(
      { op: 'login', status: 200, issued: 'A' },
      { op: 'refresh', token: 'A', status: 401 },
    );
    expect(invariants(refreshRefused)).toEqual(['I4']);
  });

  it('I4: a refresh with an unknown outcome (503, no response) may have rotated the token', () => {
    const ops = history(
      { op: 'login', status: 200, issued: 'A' },
      { op: 'refresh', token: 'A', status: 503, retryAfter: true },
      { op: 'auth', token: 'A', status: 401 },
      { op: 'refresh', token: 'A', status: 0 },
    );
    expect(checkHistory(ops)).toEqual([]);
  });

  it('I6: 500s, 503s without Retry-After, and anything but 503 during an outage', () => {
    expect(invariants(history({ op: 'auth', token: 'A', status: 500 }))).toEqual(['I6']);
    expect(invariants(history({ op: 'auth', token: 'A', status: 503, retryAfter: false }))).toEqual(
      ['I6'],
    );

    const outage = { outages: [{ from: 0, to: 100 }] };
    const duringOutage = history(
      { op: 'auth', token: 'R', status: 200, presented: 'revoked' },
      { op: 'auth', token: 'U', status: 401, presented: 'unknown' },
      { op: 'auth', token: 'L', status: 200, presented: 'live' },
      { op: 'auth', token: 'L', status: 503, presented: 'live', retryAfter: true },
    );
    expect(invariants(duringOutage, outage)).toEqual(['I6', 'I6', 'I6']);
    expect(invariants(duringOutage, { ...outage, cachedPositives: true })).toEqual(['I6', 'I6']);
  });

  it('I7: the session list shows a session that was ended before', () => {
    const ops = history(
      { op: 'login', status: 200, issued: 'A' },
      { op: 'login', status: 200, issued: 'B' },
      { op: 'logout', token: 'B', status: 204 },
      { op: 'list', token: 'A', status: 200, listed: ['A', 'B'] },
    );
    expect(invariants(ops)).toEqual(['I7']);
  });
});
