import { charactersScanned } from '../support/characters-scanned';
import { extractHeaderToken } from '../../lib/credentials/extract-header-token';

const PREFIXES = ['bearer', 'token'];
const TOKEN = 'durin_at_0123456789abcdefABCDEF';

describe('extractHeaderToken', () => {
  describe('accepts RFC 6750 credentials with one of our schemes', () => {
    it.each([
      ['Bearer t', 't'],
      ['bearer t', 't'],
      ['BEARER t', 't'],
      ['bEaReR t', 't'],
      ['Token t', 't'],
      [`Bearer ${TOKEN}`, TOKEN],
      ['Bearer  t', 't'], // 1*SP
      ['Bearer     t', 't'],
      ['Bearer a-b.c_d~e+f/g==', 'a-b.c_d~e+f/g=='],
      [`Bearer ${'a'.repeat(255)}`, 'a'.repeat(255)],
    ])('%j -> token', (header, token) => {
      expect(extractHeaderToken(header, PREFIXES)).toEqual({ kind: 'token', token });
    });

    it('matches prefixes given in any case', () => {
      expect(extractHeaderToken('bearer t', ['BeArEr'])).toEqual({ kind: 'token', token: 't' });
    });
  });

  describe('is none when the header is not for us', () => {
    it.each([
      [undefined],
      [null],
      [''],
      [[]],
      ['Basic dTpw'],
      ['Digest username="x"'],
      ['JWT t'],
      ['Bearert'], // one word: a scheme we do not know
      ['Basic\tdTpw'],
      [' Bearer t'], // a leading space means no scheme at all
      ['=Bearer t'],
      [`Negotiate ${'a'.repeat(5000)}`], // long foreign credentials are still just foreign
    ])('%j -> none', (header) => {
      expect(extractHeaderToken(header, PREFIXES)).toEqual({ kind: 'none' });
    });
  });

  describe('is malformed when our scheme is followed by anything but 1*SP b64token', () => {
    it.each([
      ['Bearer', 'no_token'],
      ['Bearer ', 'no_token'],
      ['Bearer   ', 'no_token'],
      ['Bearer\tt', 'bad_separator'],
      ['Bearer:t', 'bad_separator'],
      ['Bearer,t', 'bad_separator'],
      ['Bearer\u00a0t', 'bad_separator'],
      ['Bearer t x', 'bad_characters'],
      ['Bearer t\tx', 'bad_characters'],
      ['Bearer t ', 'bad_characters'],
      ['Bearer tök', 'bad_characters'],
      ['Bearer a\u0000b', 'bad_characters'],
      ["Bearer ' OR 1=1--", 'bad_characters'],
      ['Bearer %00', 'bad_characters'],
      ['Bearer "t"', 'bad_characters'],
      ['Bearer t;x', 'bad_characters'],
      ['Bearer ==', 'bad_characters'], // padding only
      ['Bearer a=b', 'bad_characters'], // padding only at the end
      ['Bearer 🔑', 'bad_characters'],
      [`Bearer ${'a'.repeat(256)}`, 'too_long'],
      [`Bearer ${'\u0000'.repeat(300)}`, 'too_long'], // length is checked before the alphabet
    ])('%j -> malformed (%s)', (header, reason) => {
      expect(extractHeaderToken(header, PREFIXES)).toEqual({ kind: 'malformed', reason });
    });
  });

  describe('header lists', () => {
    it('treats two Authorization fields as ambiguous, whatever they hold', () => {
      for (const pair of [
        ['Bearer a', 'Bearer b'],
        ['Bearer a', 'Basic dTpw'],
        ['Basic dTpw', 'Bearer a'],
        ['Bearer a', 'Bearer a'],
      ]) {
        expect(extractHeaderToken(pair, PREFIXES)).toEqual({
          kind: 'malformed',
          reason: 'multiple_headers',
        });
      }
    });

    it('reads a one-element list like the value itself', () => {
      expect(extractHeaderToken(['Bearer t'], PREFIXES)).toEqual({ kind: 'token', token: 't' });
      expect(extractHeaderToken(['Basic x'], PREFIXES)).toEqual({ kind: 'none' });
    });
  });

  it('is malformed for values that are not strings', () => {
    for (const value of [42, {}, true, [42], Symbol('x')]) {
      expect(extractHeaderToken(value, PREFIXES)).toEqual({
        kind: 'malformed',
        reason: 'not_a_string',
      });
    }
  });

  it('reads a 64 KiB header with pattern work independent of its size (no backtracking)', () => {
    // The run of spaces is skipped by a plain loop; the patterns only ever see the bounded
    // scheme prefix and the (length-checked) token, so they cannot backtrack over the input.
    const scan = (spaces: number) =>
      charactersScanned(() => {
        expect(extractHeaderToken(`Bearer ${' '.repeat(spaces)}t`, PREFIXES).kind).toBe('token');
      });
    expect(scan(64 * 1024)).toBe(scan(1024));
    expect(scan(64 * 1024)).toBeLessThanOrEqual(64 + 255);
  });
});
