import { DurinConfigurationError } from '../../lib';
import { resolveDurinOptions } from '../../lib/options/resolve-options';
import {
  CLIENT_RATES_ONLY,
  resolveThrottleOptions,
} from '../../lib/options/resolve-throttle-options';
import { readCredentialSoftly } from '../../lib/throttling/soft-credential';
import { parseThrottleRate } from '../../lib/throttling/throttle-rate';

class User {
  id!: number;
}

describe('parseThrottleRate', () => {
  it.each([
    ['1/s', 1, 1000],
    ['5/m', 5, 60_000],
    ['1000/h', 1000, 3_600_000],
    ['999999999/d', 999_999_999, 86_400_000],
  ])('reads %s', (value, limit, ttlMs) => {
    expect(parseThrottleRate(value)).toEqual({ limit, ttlMs });
  });

  it.each([
    ['0/m'],
    ['5'],
    ['5/w'],
    ['5 /m'],
    ['-1/m'],
    ['1.5/m'],
    ['05/m'],
    ['1000000000/s'],
    [''],
  ])('refuses %j', (value) => {
    expect(parseThrottleRate(value)).toBeUndefined();
  });

  it('refuses what is not a string', () => {
    for (const value of [undefined, null, 5, {}, ['5/m']]) {
      expect(parseThrottleRate(value)).toBeUndefined();
    }
  });
});

describe('the throttle option', () => {
  it('is off unless given', () => {
    expect(resolveThrottleOptions(undefined)).toBe(false);
    expect(resolveThrottleOptions(false)).toBe(false);
    expect(resolveDurinOptions({ userEntity: User }).throttle).toBe(false);
  });

  it('fills in the defaults: no default rate, 60/m anonymous, refresh 60/m per IP, 10/m per family, login 30/m per IP, 10/m per username', () => {
    expect(resolveThrottleOptions({})).toEqual({
      defaultRate: null,
      anonymousRate: { limit: 60, ttlMs: 60_000 },
      refreshPerIp: { limit: 60, ttlMs: 60_000 },
      refreshPerFamily: { limit: 10, ttlMs: 60_000 },
      loginPerIp: { limit: 30, ttlMs: 60_000 },
      loginPerUsername: { limit: 10, ttlMs: 60_000 },
    });
  });

  it('takes every rate, null turning a refresh limit off, false all of them', () => {
    expect(
      resolveThrottleOptions({
        defaultRate: '1000/h',
        anonymousRate: '30/m',
        refresh: { perIp: '20/m', perFamily: null },
        login: { perIp: '5/s', perUsername: null },
      }),
    ).toEqual({
      defaultRate: { limit: 1000, ttlMs: 3_600_000 },
      anonymousRate: { limit: 30, ttlMs: 60_000 },
      refreshPerIp: { limit: 20, ttlMs: 60_000 },
      refreshPerFamily: null,
      loginPerIp: { limit: 5, ttlMs: 1000 },
      loginPerUsername: null,
    });
    expect(resolveThrottleOptions({ refresh: false, login: false })).toMatchObject({
      refreshPerIp: null,
      refreshPerFamily: null,
      loginPerIp: null,
      loginPerUsername: null,
    });
  });

  it.each([
    [{ defaultRate: '10 per minute' }, 'throttle.defaultRate'],
    [{ anonymousRate: null }, 'throttle.anonymousRate'],
    [{ refresh: { perIp: '0/s' } }, 'throttle.refresh.perIp'],
    [{ refresh: { perFamily: 10 } }, 'throttle.refresh.perFamily'],
    [{ refresh: { perUser: '1/s' } }, 'throttle.refresh.perUser'],
    [{ refresh: 'on' }, 'throttle.refresh'],
    [{ login: { perUsername: '1 per second' } }, 'throttle.login.perUsername'],
    [{ login: { perEmail: '1/s' } }, 'throttle.login.perEmail'],
    [{ login: true }, 'throttle.login'],
    [{ rate: '1/s' }, 'throttle.rate'],
    ['1/s', 'throttle'],
    [true, 'throttle'],
  ])('refuses %j at start-up, naming %s', (value, option) => {
    let thrown: unknown;
    try {
      resolveDurinOptions({ userEntity: User, throttle: value as never });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(DurinConfigurationError);
    expect((thrown as DurinConfigurationError).option).toBe(option);
  });

  it('leaves only the clients’ own rates to the guard when off', () => {
    expect(CLIENT_RATES_ONLY).toMatchObject({
      defaultRate: null,
      refreshPerIp: null,
      refreshPerFamily: null,
    });
  });
});

describe('readCredentialSoftly', () => {
  const options = resolveDurinOptions({ userEntity: User, cookie: { secure: false } });
  const TOKEN = 'durin_at_abc';

  it('reads the header first, then the auth cookie, as the guard does', () => {
    expect(
      readCredentialSoftly(
        { headers: { authorization: `Bearer ${TOKEN}`, cookie: 'token=other' } },
        options,
      ),
    ).toEqual({ rawToken: TOKEN, source: 'header' });
    expect(readCredentialSoftly({ headers: { cookie: `token=${TOKEN}` } }, options)).toEqual({
      rawToken: TOKEN,
      source: 'cookie',
    });
    expect(readCredentialSoftly({ headers: {} }, options)).toBeUndefined();
  });

  it('gives nothing for what the guard would refuse before any lookup', () => {
    // A malformed header decides, even next to a good cookie.
    expect(
      readCredentialSoftly(
        { headers: { authorization: 'Bearer a b', cookie: `token=${TOKEN}` } },
        options,
      ),
    ).toBeUndefined();
    // Two Authorization fields are ambiguous.
    expect(
      readCredentialSoftly(
        {
          headers: { authorization: `Bearer ${TOKEN}` },
          rawHeaders: ['Authorization', `Bearer ${TOKEN}`, 'Authorization', 'Bearer x'],
        },
        options,
      ),
    ).toBeUndefined();
  });

  it("does not count a cross-site cookie POST against the cookie's owner", () => {
    const forged = {
      method: 'POST',
      headers: { cookie: `token=${TOKEN}`, origin: 'https://evil.example', host: 'api.example' },
    };
    expect(readCredentialSoftly(forged, options)).toBeUndefined();
    // A safe method needs no proof.
    expect(readCredentialSoftly({ ...forged, method: 'GET' }, options)).toEqual({
      rawToken: TOKEN,
      source: 'cookie',
    });
  });
});
