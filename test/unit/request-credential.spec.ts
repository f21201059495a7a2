import { inspect } from 'node:util';
import { getRequestCredential } from '../../lib';
import {
  acceptanceCount,
  rememberCredential,
  wasAcceptedBy,
} from '../../lib/http/request-credential';

const RAW = 'durin_at_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG123456';

describe('the credential kept for an authenticated request', () => {
  it('is read back, and remembers which instances accepted the request', () => {
    const request = { headers: {} };
    const first = {};
    const second = {};
    expect(getRequestCredential(request)).toBeUndefined();
    expect(wasAcceptedBy(request, first)).toBe(false);

    rememberCredential(request, RAW, 'header', first);
    expect(getRequestCredential(request)).toMatchObject({ rawToken: RAW, source: 'header' });
    expect(wasAcceptedBy(request, first)).toBe(true);
    expect(wasAcceptedBy(request, second)).toBe(false);

    rememberCredential(request, `${RAW}x`, 'cookie', second);
    // The latest credential is the one read; both instances are remembered.
    expect(getRequestCredential(request)).toMatchObject({ rawToken: `${RAW}x`, source: 'cookie' });
    expect(wasAcceptedBy(request, first)).toBe(true);
    expect(wasAcceptedBy(request, second)).toBe(true);
    expect(wasAcceptedBy({ headers: {} }, first)).toBe(false);
  });

  it('keeps one acceptance per instance however often the same request is accepted again', () => {
    // A WebSocket handshake object is accepted again on every message of its socket.
    const handshake = { headers: {} };
    const first = {};
    const second = {};
    rememberCredential(handshake, RAW, 'header', second);
    for (let i = 0; i < 100; i++) rememberCredential(handshake, `${RAW}${i}`, 'header', first);
    expect(getRequestCredential(handshake)?.rawToken).toBe(`${RAW}99`);
    expect(wasAcceptedBy(handshake, first)).toBe(true);
    expect(wasAcceptedBy(handshake, second)).toBe(true);
    // Two acceptances kept, not 101: `second`'s, then the latest of `first`.
    expect(acceptanceCount(handshake)).toBe(2);
    expect(wasAcceptedBy(handshake, {})).toBe(false);
  });

  it('never shows the raw token when the request is logged or serialised', () => {
    const request = { headers: {}, user: { id: 1 } };
    rememberCredential(request, RAW, 'header', {});
    expect(inspect(request)).not.toContain(RAW);
    expect(inspect(request, { showHidden: true, depth: 10 })).not.toContain(RAW);
    expect(JSON.stringify(request)).not.toContain(RAW);
    expect(Object.keys(request)).toEqual(['headers', 'user']);
  });

  it('is not spoofed by a look-alike value under another symbol or key', () => {
    const request: Record<string | symbol, unknown> = { headers: {} };
    request[Symbol('durin.credential')] = { rawToken: RAW, source: 'header' };
    request.credential = { rawToken: RAW, source: 'header' };
    expect(getRequestCredential(request)).toBeUndefined();
  });
});
