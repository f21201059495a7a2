import { parse as parseCookies } from 'cookie';
import fc from 'fast-check';
import type { TokenSet } from '../../lib';
import { TokenFormat } from '../../lib/tokens/token-format';
import type { TestDbKind } from '../support/databases';
import { codeOf, header, type HttpResult, json, rawRequest } from './support/http';
import { type AdapterKind, type SecurityApp, startSecurityApp } from './support/security-app';

/**
 * F14 / REQ-FAIL-02: property-based fuzzing of the HTTP endpoints with fast-check. Random
 * `Authorization` and `Cookie` headers (built from the valid tokens by mutation: case, spaces,
 * tabs, duplicates, `%00`, raw NUL, overlong, SQL, emoji) and random refresh bodies go to a real
 * app over a raw socket. Oracle: never a 5xx; a 200 only for a request that really carries the one
 * valid credential, and that request always gets its 200.
 */

const COOKIE = '__Host-token';
const RUNS = Number(process.env.DURIN_FUZZ_RUNS ?? 2000);

/** Characters that break a token in interesting ways. */
const NASTY = [
  ' ',
  '  ',
  '\t',
  '%00',
  '\u0000',
  '\u{1F600}',
  '\u00e9',
  "'",
  '"',
  ';',
  ',',
  '=',
  '+',
  '/',
  '.',
  '~',
  '\\',
  "' OR 1=1--",
  '; DROP TABLE auth_token;--',
  '\u202e',
  '\uFEFF',
];

interface Tokens {
  header: TokenSet;
  cookie: TokenSet;
  /** Well-formed but never issued. */
  forged: string;
}

/** Mutations of a token string: most keep it close to valid, so the parser's edges get hit. */
function mutated(base: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 8, arbitrary: base },
    base.chain((t) =>
      fc.nat({ max: Math.max(0, t.length - 1) }).map((i) => {
        const c = t[i] ?? '';
        const flipped = c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase();
        return t.slice(0, i) + flipped + t.slice(i + 1);
      }),
    ),
    base.chain((t) => fc.nat({ max: t.length }).map((n) => t.slice(0, n))),
    base.chain((t) =>
      fc
        .tuple(fc.nat({ max: t.length }), fc.constantFrom(...NASTY))
        .map(([i, s]) => t.slice(0, i) + s + t.slice(i)),
    ),
    base.chain((t) => fc.integer({ min: 1, max: 12_000 }).map((n) => t + 'a'.repeat(n))),
    base.map((t) => `"${t}"`),
    base.map((t) => encodeURIComponent(t).replace(/_/g, '%5F')),
    fc.string({ unit: 'grapheme', maxLength: 80 }),
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.stringMatching(/^[A-Za-z0-9\-._~+/]{1,300}=*$/),
  );
}

/** Node's parser splits lines on CR/LF; header injection is not what this property is about. */
const noLineBreaks = (value: string) => value.replace(/[\r\n]/g, '');

function authorizationLine(tokens: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc
    .tuple(
      fc.constantFrom(
        'Bearer',
        'bearer',
        'BEARER',
        'bEaReR',
        'Token',
        'Basic',
        'JWT',
        'Bearert',
        '',
      ),
      fc.constantFrom(' ', '  ', '   ', '\t', '', ':', ' \t', ','),
      mutated(tokens),
      fc.constantFrom('', '', '', ' x', ' ', '\t', ',', ' Bearer x'),
    )
    .map(([scheme, gap, token, tail]) => noLineBreaks(`${scheme}${gap}${token}${tail}`));
}

function cookieLine(tokens: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const pair = fc
    .tuple(
      fc.constantFrom(
        COOKIE,
        COOKIE,
        'token',
        '__host-token',
        '__Host-Token',
        ` ${COOKIE}`,
        'theme',
      ),
      fc.constantFrom('=', '=', ' = ', ''),
      mutated(tokens),
    )
    .map(([name, eq, value]) => `${name}${eq}${value}`);
  return fc
    .tuple(fc.array(pair, { minLength: 1, maxLength: 4 }), fc.constantFrom('; ', ';', ' ; '))
    .map(([pairs, separator]) => noLineBreaks(pairs.join(separator)));
}

/** RFC 6750 §2.1 as the reference: one field, our scheme, 1*SP, exactly the token. */
function isValidHeader(lines: string[], token: string): boolean {
  if (lines.length !== 1) return false;
  const value = lines[0].replace(/^[ \t]+|[ \t]+$/g, '');
  const match = /^([A-Za-z]+) +(.*)$/.exec(value);
  // The scheme is case-insensitive, the token is not.
  return (
    match !== null && ['bearer', 'token'].includes(match[1].toLowerCase()) && match[2] === token
  );
}

/** A header that is not ours (no scheme, a foreign one) leaves the decision to the cookie. */
function isForeignOrAbsent(lines: string[]): boolean {
  if (lines.length === 0) return true;
  if (lines.length > 1) return false;
  const scheme = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/.exec(lines[0].replace(/^[ \t]+/, ''))?.[0];
  return scheme === undefined || !['bearer', 'token'].includes(scheme.toLowerCase());
}

/** The `cookie` package as the reference parser, plus "the auth cookie occurs exactly once". */
function carriesValidCookie(lines: string[], token: string): boolean {
  if (lines.length === 0) return false;
  const joined = lines.join('; ');
  const occurrences = joined
    .split(';')
    .filter((pair) => pair.includes('=') && pair.slice(0, pair.indexOf('=')).trim() === COOKIE);
  return occurrences.length === 1 && parseCookies(joined)[COOKIE] === token;
}

/** What Node's header parser refuses in a value: controls other than HTAB, and DEL. */
function isControl(char: string): boolean {
  const code = char.charCodeAt(0);
  return (code < 0x20 && code !== 0x09) || code === 0x7f;
}

function expectNoServerError(res: HttpResult): void {
  if (res.status >= 500) {
    throw new Error(`server error ${res.status}: ${res.body.toString('utf8').slice(0, 200)}`);
  }
}

const CONFIGS: Array<[AdapterKind, TestDbKind]> = [
  ['express', 'postgres'],
  ['fastify', 'postgres'],
  ['express', 'sqlite'],
  ['fastify', 'sqlite'],
];

describe.each(CONFIGS)('F14 HTTP fuzzing over %s on %s', (adapter, kind) => {
  let app: SecurityApp;
  let tokens: Tokens;

  beforeAll(async () => {
    app = await startSecurityApp({ adapter, db: kind });
    const user = await app.createUser();
    tokens = {
      header: await app.tokens.generateHeaderToken(user),
      cookie: await app.tokens.generateCookieToken(user),
      forged: new TokenFormat('durin').generate('access'),
    };
  });

  afterAll(() => app?.close());

  it('random Authorization/Cookie headers: never a 5xx, a 200 only for the valid credential (F14, REQ-FAIL-02, REQ-HDR-*, REQ-CK-*)', async () => {
    const source = fc.constantFrom(
      tokens.header.accessToken,
      tokens.cookie.accessToken,
      tokens.header.refreshToken!,
      tokens.forged,
    );
    let served = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.tuple(authorizationLine(source)),
          fc.array(authorizationLine(source), { maxLength: 2 }),
        ),
        fc.array(cookieLine(source), { maxLength: 2 }),
        async (authLines, cookieLines) => {
          const res = await rawRequest(app.port, {
            path: '/me',
            headers: [
              ...authLines.map((v): [string, string] => ['Authorization', v]),
              ...cookieLines.map((v): [string, string] => ['Cookie', v]),
            ],
          });
          expectNoServerError(res);
          const headerValid = isValidHeader(authLines, tokens.header.accessToken);
          const cookieValid =
            isForeignOrAbsent(authLines) &&
            carriesValidCookie(cookieLines, tokens.cookie.accessToken);
          // Node's parser refuses control characters (400) and oversized headers (431) before any
          // of our code runs; anything it lets through with the valid header must be served.
          const lines = [...authLines, ...cookieLines];
          const parseable =
            !lines.some((line) => [...line].some(isControl)) &&
            Buffer.byteLength(lines.join(''), 'utf8') < 15_000;
          if (headerValid && parseable) {
            expect(res.status).toBe(200);
          }
          if (res.status === 200) {
            served += 1;
            expect(headerValid || cookieValid).toBe(true);
            expect((json(res) as { tokenId: string }).tokenId).toBe(
              headerValid ? tokens.header.token.id : tokens.cookie.token.id,
            );
          } else if (res.status === 401) {
            expect(['token_missing', 'token_invalid']).toContain(codeOf(res));
            expect(header(res, 'www-authenticate')).toMatch(/^Bearer realm="api"/);
          } else {
            // Only the HTTP layer itself refuses anything else (NUL bytes, oversized headers).
            expect([400, 431]).toContain(res.status);
          }
        },
      ),
      { numRuns: RUNS },
    );
    // The generator is biased towards the valid token: some runs must have been let in.
    expect(served).toBeGreaterThan(0);
  });

  it('random refresh bodies: never a 5xx, never a 200 (F14, REQ-RT-07, REQ-FAIL-02)', async () => {
    const validRefresh = [tokens.header.refreshToken!, tokens.cookie.refreshToken!];
    const source = fc.constantFrom(...validRefresh, tokens.header.accessToken, tokens.forged);
    const body = fc.oneof(
      mutated(source).map((value) => ({
        type: 'application/json',
        body: JSON.stringify({ refreshToken: value }),
      })),
      fc
        .tuple(
          mutated(source),
          fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue(), { maxKeys: 2 }),
        )
        .map(([value, extra]) => ({
          type: 'application/json',
          body: JSON.stringify({ ...extra, refreshToken: value }),
        })),
      fc
        .jsonValue()
        .map((value) => ({ type: 'application/json', body: JSON.stringify(value) ?? 'null' })),
      fc
        .string({ unit: 'binary', maxLength: 200 })
        .map((value) => ({ type: 'application/json', body: value })),
      mutated(source).map((value) => ({
        type: 'application/x-www-form-urlencoded',
        body: `refreshToken=${encodeURIComponent(value)}`,
      })),
      mutated(source).map((value) => ({ type: 'text/plain', body: value })),
    );
    await fc.assert(
      fc.asyncProperty(body, async ({ type, body: payload }) => {
        // A valid refresh token, exactly, would be a legitimate rotation: not fuzzing.
        fc.pre(!validRefresh.some((token) => decodesTo(type, payload, token)));
        const res = await rawRequest(app.port, {
          method: 'POST',
          path: '/auth/refresh',
          headers: [['Content-Type', type]],
          body: payload,
        });
        expectNoServerError(res);
        expect(res.status).not.toBe(200);
        expect([400, 401, 413, 415]).toContain(res.status);
      }),
      { numRuns: RUNS },
    );
  });

  it('after fuzzing, the valid credentials still work and the refresh token still rotates once (I4)', async () => {
    const viaHeader = await rawRequest(app.port, {
      path: '/me',
      headers: [['Authorization', `Bearer ${tokens.header.accessToken}`]],
    });
    const viaCookie = await rawRequest(app.port, {
      path: '/me',
      headers: [['Cookie', `${COOKIE}=${tokens.cookie.accessToken}`]],
    });
    expect([viaHeader.status, viaCookie.status]).toEqual([200, 200]);
    const rotated = await rawRequest(app.port, {
      method: 'POST',
      path: '/auth/refresh',
      body: { refreshToken: tokens.header.refreshToken },
    });
    expect(rotated.status).toBe(200);
  });
});

/** Whether a body of this type would hand `token` to the refresh route as `refreshToken`. */
function decodesTo(type: string, payload: string, token: string): boolean {
  if (type === 'application/x-www-form-urlencoded') {
    return new URLSearchParams(payload).get('refreshToken') === token;
  }
  try {
    const parsed = JSON.parse(payload) as unknown;
    return (
      typeof parsed === 'object' &&
      parsed !== null &&
      (parsed as { refreshToken?: unknown }).refreshToken === token
    );
  } catch {
    return false;
  }
}
