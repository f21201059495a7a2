import { charactersScanned } from '../support/characters-scanned';
import { extractCookieToken } from '../../lib/credentials/extract-cookie-token';

const NAMES = ['__Host-token', 'legacy'];
const TOKEN = 'durin_at_0123456789abcdefABCDEF';

describe('extractCookieToken', () => {
  it.each([
    [`__Host-token=${TOKEN}`, TOKEN, '__Host-token'],
    [`theme=dark; __Host-token=${TOKEN}; lang=en`, TOKEN, '__Host-token'],
    [`theme=dark;__Host-token=${TOKEN}`, TOKEN, '__Host-token'],
    [` __Host-token = ${TOKEN} `, TOKEN, '__Host-token'], // SP around name and value, as parse trims
    [`__Host-token=durin%5Fat%5Fx`, 'durin_at_x', '__Host-token'], // URL-decoded by `cookie`
    [`legacy=${TOKEN}`, TOKEN, 'legacy'],
    [`a; b; legacy=${TOKEN}`, TOKEN, 'legacy'], // pairs without `=` are skipped
  ])('%j -> token', (header, token, name) => {
    expect(extractCookieToken(header, NAMES)).toEqual({ kind: 'token', token, name });
  });

  it('lets the first configured name that is present decide', () => {
    expect(extractCookieToken(`legacy=b; __Host-token=a`, NAMES)).toEqual({
      kind: 'token',
      token: 'a',
      name: '__Host-token',
    });
    // Even when its value is bad: no fall-back to the next name.
    expect(extractCookieToken(`legacy=b; __Host-token=a b`, NAMES)).toEqual({
      kind: 'malformed',
      reason: 'bad_characters',
    });
  });

  it.each([
    [undefined],
    [null],
    [''],
    ['theme=dark'],
    ['token=abc'], // not the __Host- name
    ['__host-token=abc'], // cookie names are case-sensitive
    ['__Host-token'], // no `=`: not a pair
    [[]],
  ])('%j -> none', (header) => {
    expect(extractCookieToken(header, NAMES)).toEqual({ kind: 'none' });
  });

  describe('duplicates are ambiguous (cookie.parse would keep the first)', () => {
    it.each([
      [`__Host-token=${TOKEN}; __Host-token=junk`],
      [`__Host-token=junk; __Host-token=${TOKEN}`],
      [`__Host-token=${TOKEN}; __Host-token=${TOKEN}`],
      [`__Host-token=${TOKEN};theme=x; __Host-token =junk`],
    ])('%j -> malformed', (header) => {
      expect(extractCookieToken(header, NAMES)).toEqual({
        kind: 'malformed',
        reason: 'duplicate_cookie',
      });
    });

    it('spots a duplicate spread over two Cookie fields', () => {
      expect(extractCookieToken([`__Host-token=${TOKEN}`, '__Host-token=junk'], NAMES)).toEqual({
        kind: 'malformed',
        reason: 'duplicate_cookie',
      });
    });

    it('ignores duplicates of names it does not read, or of a later name', () => {
      expect(extractCookieToken(`x=1; x=2; __Host-token=a; legacy=1; legacy=2`, NAMES)).toEqual({
        kind: 'token',
        token: 'a',
        name: '__Host-token',
      });
    });
  });

  it('joins several Cookie fields into one list (HTTP/2 splits them)', () => {
    expect(extractCookieToken(['theme=dark', `__Host-token=${TOKEN}`], NAMES)).toEqual({
      kind: 'token',
      token: TOKEN,
      name: '__Host-token',
    });
  });

  it.each([
    ['__Host-token=', 'no_token'],
    ['__Host-token=%E0%A4%A', 'bad_characters'], // undecodable: kept raw, `%` is not b64token
    ['__Host-token="tok"', 'bad_characters'],
    ['__Host-token=tök', 'bad_characters'],
    ['__Host-token=a%00b', 'bad_characters'], // decodes to a NUL
    ['__Host-token=a%20b', 'bad_characters'],
    [`__Host-token=${'a'.repeat(256)}`, 'too_long'],
  ])('%j -> malformed (%s)', (header, reason) => {
    expect(extractCookieToken(header, NAMES)).toEqual({ kind: 'malformed', reason });
  });

  it('is malformed for values that are not strings', () => {
    expect(extractCookieToken(42, NAMES)).toEqual({ kind: 'malformed', reason: 'not_a_string' });
    expect(extractCookieToken(['a=1', 2], NAMES)).toEqual({
      kind: 'malformed',
      reason: 'not_a_string',
    });
  });

  it('stays linear on hostile headers (15 KB of junk, thousands of pairs, no `=`)', () => {
    const headers = [
      `${'junk=x; '.repeat(1900)}__Host-token=${TOKEN}`,
      `${'a;'.repeat(8000)}__Host-token=${TOKEN}`,
      `${Array.from({ length: 1000 }, (_, i) => `c${i}=v`).join('; ')}; __Host-token=${TOKEN}`,
    ];
    for (const header of headers) {
      const scanned = charactersScanned(() => {
        expect(extractCookieToken(header, NAMES)).toEqual({
          kind: 'token',
          token: TOKEN,
          name: '__Host-token',
        });
      });
      // Our pass and cookie.parse's each read the header a bounded number of times; rescanning
      // from every `;` (`a;a;…`) would read it thousands of times.
      expect(scanned).toBeLessThanOrEqual(8 * header.length);
    }
  });
});
