import fc from 'fast-check';
import { B64TOKEN_PATTERN, MAX_TOKEN_LENGTH } from '../../lib/credentials/credential-result';
import { extractCookieToken } from '../../lib/credentials/extract-cookie-token';
import { extractHeaderToken } from '../../lib/credentials/extract-header-token';

const PREFIXES = ['bearer', 'token'];
const NAMES = ['__Host-token', 'token'];
const RUNS = 20_000;

/** Strings that look like what arrives in headers, plus arbitrary unicode. */
const headerish = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 400 }),
  fc.string({ unit: 'grapheme', maxLength: 300 }),
  fc
    .tuple(
      fc.constantFrom('Bearer', 'bearer', 'BEARER', 'Token', 'Basic', 'Bearer\t', 'Bearer:', ''),
      fc.stringMatching(/^[ \t]{0,3}$/),
      fc.string({ unit: 'binary-ascii', maxLength: 300 }),
    )
    .map(([scheme, gap, rest]) => `${scheme}${gap}${rest}`),
);

const cookieish = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 400 }),
  fc
    .array(
      fc.tuple(
        fc.constantFrom('__Host-token', 'token', 'other', ' __Host-token', '__Host-token '),
        fc.constantFrom('=', '', ' = '),
        fc.string({ unit: 'binary-ascii', maxLength: 60 }),
      ),
      { maxLength: 6 },
    )
    .map((pairs) => pairs.map(([name, eq, value]) => `${name}${eq}${value}`).join('; ')),
);

function checkResult(result: { kind: string; token?: string }): void {
  expect(['none', 'malformed', 'token']).toContain(result.kind);
  if (result.kind === 'token') {
    expect(result.token!.length).toBeLessThanOrEqual(MAX_TOKEN_LENGTH);
    expect(result.token).toMatch(B64TOKEN_PATTERN);
  }
}

describe('credential extractors (properties)', () => {
  it('extractHeaderToken never throws and only returns b64tokens', () => {
    fc.assert(
      fc.property(headerish, (header) => {
        checkResult(extractHeaderToken(header, PREFIXES));
      }),
      { numRuns: RUNS },
    );
  });

  it('extractHeaderToken survives any value at all, lists included', () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        checkResult(extractHeaderToken(value, PREFIXES));
      }),
      { numRuns: 2_000 },
    );
  });

  it('extractHeaderToken returns exactly the token of a well-formed header', () => {
    const token = fc
      .tuple(fc.stringMatching(/^[A-Za-z0-9\-._~+/]{1,200}$/), fc.stringMatching(/^={0,2}$/))
      .map(([body, padding]) => body + padding);
    const scheme = fc
      .constantFrom('Bearer', 'Token')
      .chain((name) =>
        fc
          .array(fc.boolean(), { minLength: name.length, maxLength: name.length })
          .map((upper) =>
            [...name].map((c, i) => (upper[i] ? c.toUpperCase() : c.toLowerCase())).join(''),
          ),
      );
    fc.assert(
      fc.property(scheme, fc.integer({ min: 1, max: 4 }), token, (s, spaces, t) => {
        expect(extractHeaderToken(`${s}${' '.repeat(spaces)}${t}`, PREFIXES)).toEqual({
          kind: 'token',
          token: t,
        });
      }),
      { numRuns: 5_000 },
    );
  });

  it('extractCookieToken never throws and only returns b64tokens', () => {
    fc.assert(
      fc.property(cookieish, (header) => {
        checkResult(extractCookieToken(header, NAMES));
      }),
      { numRuns: RUNS },
    );
  });

  it('extractCookieToken survives any value at all', () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        checkResult(extractCookieToken(value, NAMES));
      }),
      { numRuns: 2_000 },
    );
  });

  it('extractCookieToken never picks one of two cookies of the same name', () => {
    const value = fc.stringMatching(/^[A-Za-z0-9_]{1,40}$/);
    fc.assert(
      fc.property(value, value, fc.string({ maxLength: 30 }), (a, b, filler) => {
        const header = `__Host-token=${a}; ${filler.replace(/[;=]/g, '')}x=1; __Host-token=${b}`;
        expect(extractCookieToken(header, NAMES)).toEqual({
          kind: 'malformed',
          reason: 'duplicate_cookie',
        });
      }),
      { numRuns: 2_000 },
    );
  });
});
