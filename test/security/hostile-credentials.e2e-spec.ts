import { ManualClock, type TokenSet } from '../../lib';
import { TokenFormat } from '../../lib/tokens/token-format';
import { ALL_DB_KINDS, describeEachRow, type TestDbKind } from '../support/databases';
import {
  codeOf,
  header,
  type HttpResult,
  json,
  rawRequest,
  type RequestSpec,
} from './support/http';
import {
  ADAPTERS,
  type AdapterKind,
  type SecurityApp,
  type SecUser,
  startSecurityApp,
} from './support/security-app';

/**
 * The hostile header and cookie table (SECURITY-CHECKLIST REQ-HDR-*, REQ-TYP-*, REQ-CK-*, F15):
 * one table of requests, run over Express and Fastify on SQLite and PostgreSQL. Every request is
 * written byte for byte on its own socket, so what the server sees is exactly what the row says.
 * Each row asserts the status, the `code`, the `WWW-Authenticate` challenge, and how much database
 * work it caused: none for anything the parser can refuse, reads only (never a write) for a
 * well-formed token that is refused.
 */

const BARE = 'Bearer realm="api"';
const INVALID = 'Bearer realm="api", error="invalid_token"';
const COOKIE = '__Host-token';
const FORMAT = new TokenFormat('durin');

/** How much database work a row may cause. */
type Work = 'none' | 'reads' | 'any';

interface Fixture {
  readonly app: SecurityApp;
  readonly clock: ManualClock;
  readonly alice: SecUser;
  /** A fresh header session of `user` (default alice). */
  header(user?: SecUser, opts?: { accessExpiresIn?: number }): Promise<TokenSet>;
  /** A fresh cookie session of alice. */
  cookie(): Promise<TokenSet>;
}

interface Row {
  /** The title: what is sent, and the REQ ids it proves. */
  name: string;
  /** Builds the request; `expectTokenId` is the session a 200 must be authenticated as. */
  build(f: Fixture): Promise<RequestSpec & { expectTokenId?: string; check?: Check }>;
  status: number;
  code?: string;
  /** The exact `WWW-Authenticate`; `null`: the header must be absent. */
  challenge: string | null;
  work: Work;
}

type Check = (f: Fixture, res: HttpResult) => Promise<void>;

const me = (headers: Array<[string, string]>): RequestSpec => ({ path: '/me', headers });
const bearer = (value: string): RequestSpec => me([['Authorization', value]]);
const cookieHeader = (value: string): RequestSpec => me([['Cookie', value]]);

/** Rows sent to GET /me unless they say otherwise. */
const ROWS: Row[] = [
  // ---------------------------------------------------------------- the header grammar
  {
    name: 'no credential at all -> 401 token_missing, bare challenge (REQ-HDR-08)',
    build: async () => me([]),
    status: 401,
    code: 'token_missing',
    challenge: BARE,
    work: 'none',
  },
  {
    name: 'empty Authorization -> 401 token_missing (REQ-HDR-02)',
    build: async () => bearer(''),
    status: 401,
    code: 'token_missing',
    challenge: BARE,
    work: 'none',
  },
  {
    name: '"Bearer" without a token -> 401 token_invalid (REQ-HDR-02)',
    build: async () => bearer('Bearer'),
    status: 401,
    code: 'token_invalid',
    challenge: INVALID,
    work: 'none',
  },
  {
    name: '"Bearer " (trailing space, trimmed by the HTTP parser) -> 401 token_invalid (REQ-HDR-03)',
    build: async () => bearer('Bearer '),
    status: 401,
    code: 'token_invalid',
    challenge: INVALID,
    work: 'none',
  },
  {
    name: '"Bearer <valid>" -> 200 (REQ-HDR-01)',
    build: async (f) => {
      const t = await f.header();
      return { ...bearer(`Bearer ${t.accessToken}`), expectTokenId: t.token.id };
    },
    status: 200,
    challenge: null,
    work: 'any',
  },
  {
    name: 'two spaces "Bearer  <valid>" (1*SP) -> 200 (REQ-HDR-03)',
    build: async (f) => {
      const t = await f.header();
      return { ...bearer(`Bearer  ${t.accessToken}`), expectTokenId: t.token.id };
    },
    status: 200,
    challenge: null,
    work: 'any',
  },
  ...['bearer', 'BEARER', 'bEaReR', 'Token'].map((scheme): Row => ({
    name: `scheme "${scheme}" with a valid token -> 200 (REQ-HDR-01, case-insensitive)`,
    build: async (f) => {
      const t = await f.header();
      return { ...bearer(`${scheme} ${t.accessToken}`), expectTokenId: t.token.id };
    },
    status: 200,
    challenge: null,
    work: 'any',
  })),
  {
    name: 'tab separator "Bearer\\t<valid>" -> 401 token_invalid, no query (REQ-HDR-03)',
    build: async (f) => bearer(`Bearer\t${(await f.header()).accessToken}`),
    status: 401,
    code: 'token_invalid',
    challenge: INVALID,
    work: 'none',
  },
  {
    name: 'three parts "Bearer <valid> extra" -> 401 token_invalid, no query (REQ-HDR-03)',
    build: async (f) => bearer(`Bearer ${(await f.header()).accessToken} extra`),
    status: 401,
    code: 'token_invalid',
    challenge: INVALID,
    work: 'none',
  },
  ...[
    ['Basic', 'Basic dTpw'],
    ['Digest', 'Digest username="u", realm="api", nonce="n", uri="/me", response="r"'],
    ['JWT (with a valid durin token)', 'JWT <valid>'],
    ['Bearert (no separator)', 'Bearert'],
    ['unicode scheme', 'B\u00e9arer <valid>'],
  ].map(([label, value]): Row => ({
    name: `foreign scheme ${label} -> 401 token_missing, no query (REQ-HDR-02)`,
    build: async (f) => bearer(value.replace('<valid>', (await f.header()).accessToken)),
    status: 401,
    code: 'token_missing',
    challenge: BARE,
    work: 'none',
  })),
  ...[
    ['"Bearer:t"', 'Bearer:t'],
    ['"Bearer:<valid>"', 'Bearer:<valid>'],
    ['"Bearer,<valid>"', 'Bearer,<valid>'],
    ['latin-1 "Bearer t\u00f6k" (UTF-8 on the wire)', 'Bearer t\u00f6k'],
    ['emoji "Bearer \u{1F600}"', 'Bearer \u{1F600}'],
    ['emoji inside a valid token', 'Bearer <valid>\u{1F511}'],
    ['"%00"', 'Bearer %00'],
    ['percent-encoded token', 'Bearer durin%5Fat%5F<rest>'],
    ['quoted token', 'Bearer "<valid>"'],
    ['SQL "\' OR 1=1--"', "Bearer ' OR 1=1--"],
    ['SQL "x\'; DROP TABLE auth_token;--"', "Bearer x'; DROP TABLE auth_token;--"],
    [
      'SQL-ish but b64token-shaped',
      'Bearer durin_at_OR1_1_UNION_SELECT_token_hash_FROM_auth_token',
    ],
    ['b64token padding only', 'Bearer ===='],
    ['255 b64token characters (not a durin token)', `Bearer ${'a'.repeat(255)}`],
    ['256 characters', `Bearer ${'a'.repeat(256)}`],
    ['256 characters starting with a valid token', 'Bearer <valid><pad256>'],
    ['10 000 characters', `Bearer ${'a'.repeat(10_000)}`],
    ['a refresh token as access token', 'Bearer <refresh>'],
    ['a valid token with a bad checksum', 'Bearer <badsum>'],
    ['a valid token of another prefix', 'Bearer <otherprefix>'],
    ['a valid token, lower-cased', 'Bearer <lower>'],
  ].map(([label, value]): Row => ({
    name: `${label} -> 401 token_invalid, no query (REQ-HDR-02/04/05, REQ-TYP-01, REQ-GEN-03)`,
    build: async (f) => {
      const t = await f.header();
      const substitutions: Record<string, string> = {
        '<valid>': t.accessToken,
        '<rest>': t.accessToken.slice('durin_at_'.length),
        '<pad256>': 'a'.repeat(256 - t.accessToken.length),
        '<refresh>': t.refreshToken!,
        '<badsum>': `${t.accessToken.slice(0, -1)}${t.accessToken.endsWith('A') ? 'B' : 'A'}`,
        '<otherprefix>': new TokenFormat('other').generate('access'),
        '<lower>': t.accessToken.toLowerCase(),
      };
      return bearer(value.replace(/<[a-z0-9]+>/g, (key) => substitutions[key] ?? key));
    },
    status: 401,
    code: 'token_invalid',
    challenge: INVALID,
    work: 'none',
  })),
  {
    name: 'a raw NUL byte in the header -> 400 from the HTTP parser, no query (REQ-HDR-04)',
    build: async (f) => bearer(`Bearer ${(await f.header()).accessToken}\u0000`),
    status: 400,
    challenge: null,
    work: 'none',
  },
  {
    name: 'a 20 KB Authorization header -> 431 from the server, no query (REQ-HDR-05)',
    build: async () => bearer(`Bearer ${'a'.repeat(20 * 1024)}`),
    status: 431,
    challenge: null,
    work: 'none',
  },
  // ---------------------------------------------------------------- ambiguity (F15)
  ...[
    ['valid first', ['Bearer <valid>', 'Bearer junk']],
    ['valid last', ['Bearer junk', 'Bearer <valid>']],
    ['the same valid token twice', ['Bearer <valid>', 'Bearer <valid>']],
    ['valid and a foreign scheme', ['Bearer <valid>', 'Basic dTpw']],
  ].map(([label, values]): Row => ({
    name: `two Authorization fields (${label as string}) -> 401 token_invalid, no query (REQ-HDR-06, F15)`,
    build: async (f) => {
      const t = await f.header();
      return me(
        (values as string[]).map((v): [string, string] => [
          'Authorization',
          v.replace('<valid>', t.accessToken),
        ]),
      );
    },
    status: 401,
    code: 'token_invalid',
    challenge: INVALID,
    work: 'none',
  })),
  {
    name: 'an invalid Bearer next to a valid cookie -> 401, no fall-back to the cookie (REQ-TYP-03, F15)',
    build: async (f) => {
      const c = await f.cookie();
      return me([
        ['Authorization', 'Bearer junk'],
        ['Cookie', `${COOKIE}=${c.accessToken}`],
      ]);
    },
    status: 401,
    code: 'token_invalid',
    challenge: INVALID,
    work: 'none',
  },
  {
    name: 'a foreign scheme next to a valid cookie -> the cookie decides, 200 (REQ-TYP-03)',
    build: async (f) => {
      const c = await f.cookie();
      return {
        ...me([
          ['Authorization', 'Basic dTpw'],
          ['Cookie', `${COOKIE}=${c.accessToken}`],
        ]),
        expectTokenId: c.token.id,
      };
    },
    status: 200,
    challenge: null,
    work: 'any',
  },
  // ---------------------------------------------------------------- cookies
  {
    name: `a valid ${COOKIE} among other cookies -> 200 (REQ-CK-01)`,
    build: async (f) => {
      const c = await f.cookie();
      return {
        ...cookieHeader(`theme=dark; ${COOKIE}=${c.accessToken}; lang=en`),
        expectTokenId: c.token.id,
      };
    },
    status: 200,
    challenge: null,
    work: 'any',
  },
  {
    name: 'the cookie without its __Host- prefix ("token=<valid>") is not ours -> 401 token_missing (REQ-CK-01)',
    build: async (f) => cookieHeader(`token=${(await f.cookie()).accessToken}`),
    status: 401,
    code: 'token_missing',
    challenge: BARE,
    work: 'none',
  },
  ...[
    ['valid first', `${COOKIE}=<valid>; ${COOKIE}=junk`],
    ['valid last', `${COOKIE}=junk; ${COOKIE}=<valid>`],
    ['the same valid token twice', `${COOKIE}=<valid>; ${COOKIE}=<valid>`],
    ['with spaces around the name', `${COOKIE}=<valid>;  ${COOKIE} =junk`],
  ].map(([label, value]): Row => ({
    name: `a duplicated auth cookie (${label}) -> 401 token_invalid, no query (REQ-CK-03, F15)`,
    build: async (f) => cookieHeader(value.replace(/<valid>/g, (await f.cookie()).accessToken)),
    status: 401,
    code: 'token_invalid',
    challenge: INVALID,
    work: 'none',
  })),
  {
    name: 'the auth cookie in two Cookie fields -> 401 token_invalid, no query (REQ-CK-03, F15)',
    build: async (f) =>
      me([
        ['Cookie', `${COOKIE}=${(await f.cookie()).accessToken}`],
        ['Cookie', `${COOKIE}=junk`],
      ]),
    status: 401,
    code: 'token_invalid',
    challenge: INVALID,
    work: 'none',
  },
  ...[
    ['broken percent-encoding %E0%A4%A', '%E0%A4%A'],
    ['quoted junk', '"tok"'],
    ['a quoted valid token', '"<valid>"'],
    ['unicode (UTF-8 on the wire)', 't\u00f6k'],
    ['emoji', '\u{1F36A}'],
    ['percent-encoded NUL', '%00'],
    ['SQL', "' OR '1'='1"],
    ['256 characters', 'a'.repeat(256)],
    ['a refresh token', '<refresh>'],
    ['empty', ''],
  ].map(([label, value]): Row => ({
    name: `auth cookie value ${label} -> 401 token_invalid, no query (REQ-CK-05)`,
    build: async (f) => {
      const c = await f.cookie();
      return cookieHeader(
        `${COOKIE}=${value.replace('<valid>', c.accessToken).replace('<refresh>', c.refreshToken!)}`,
      );
    },
    status: 401,
    code: 'token_invalid',
    challenge: INVALID,
    work: 'none',
  })),
  {
    name: '1000 junk cookies and a valid one -> 200 (REQ-CK-04)',
    build: async (f) => {
      const c = await f.cookie();
      const junk = Array.from({ length: 1000 }, (_, i) => `j${i}=x`).join('; ');
      return { ...cookieHeader(`${junk}; ${COOKIE}=${c.accessToken}`), expectTokenId: c.token.id };
    },
    status: 200,
    challenge: null,
    work: 'any',
  },
  {
    name: 'a 20 KB Cookie header -> 431 from the server, no query (REQ-CK-04)',
    build: async (f) =>
      cookieHeader(`junk=${'x'.repeat(20 * 1024)}; ${COOKIE}=${(await f.cookie()).accessToken}`),
    status: 431,
    challenge: null,
    work: 'none',
  },
  // ---------------------------------------------------------------- where the token may come from
  {
    name: 'a cookie-issued token in the Authorization header -> 401 token_invalid, reads only (REQ-TYP-02)',
    build: async (f) => bearer(`Bearer ${(await f.cookie()).accessToken}`),
    status: 401,
    code: 'token_invalid',
    challenge: INVALID,
    work: 'reads',
  },
  {
    name: 'a header-issued token in the auth cookie -> 401 token_invalid, reads only (REQ-TYP-02)',
    build: async (f) => cookieHeader(`${COOKIE}=${(await f.header()).accessToken}`),
    status: 401,
    code: 'token_invalid',
    challenge: INVALID,
    work: 'reads',
  },
  {
    name: 'a valid token in the query string (?access_token=) -> 401 token_missing (REQ-HDR-07)',
    build: async (f) => ({
      path: `/me?access_token=${(await f.header()).accessToken}`,
      headers: [],
    }),
    status: 401,
    code: 'token_missing',
    challenge: BARE,
    work: 'none',
  },
  {
    name: 'a valid token in a JSON body ({ access_token }) -> 401 token_missing (REQ-HDR-07)',
    build: async (f) => {
      const t = await f.header();
      return {
        method: 'POST',
        path: '/me',
        body: { access_token: t.accessToken, token: t.accessToken },
      };
    },
    status: 401,
    code: 'token_missing',
    challenge: BARE,
    work: 'none',
  },
  {
    name: 'a valid token in a form body (access_token=) -> 401 token_missing (REQ-HDR-07)',
    build: async (f) => ({
      method: 'POST',
      path: '/me',
      headers: [['Content-Type', 'application/x-www-form-urlencoded']],
      body: `access_token=${(await f.header()).accessToken}`,
    }),
    status: 401,
    code: 'token_missing',
    challenge: BARE,
    work: 'none',
  },
  // ---------------------------------------------------------------- the token's state
  {
    name: 'a well-formed token that was never issued -> 401 token_invalid, one read, 0 rows inserted (REQ-GEN-02)',
    build: async () => bearer(`Bearer ${FORMAT.generate('access')}`),
    status: 401,
    code: 'token_invalid',
    challenge: INVALID,
    work: 'reads',
  },
  {
    name: 'a revoked token -> 401 token_invalid (REQ-REV-01)',
    build: async (f) => {
      const t = await f.header();
      await f.app.tokens.revokeToken(t.token);
      return bearer(`Bearer ${t.accessToken}`);
    },
    status: 401,
    code: 'token_invalid',
    challenge: INVALID,
    work: 'reads',
  },
  {
    name: 'the access token of a rotated (refreshed) pair -> 401 token_invalid (REQ-RT-01)',
    build: async (f) => {
      const t = await f.header();
      expect(await f.app.tokens.refreshToken(t.refreshToken)).not.toBeNull();
      return bearer(`Bearer ${t.accessToken}`);
    },
    status: 401,
    code: 'token_invalid',
    challenge: INVALID,
    work: 'reads',
  },
  {
    name: 'a token from a family revoked for refresh reuse -> 401 token_invalid (REQ-RT-02)',
    build: async (f) => {
      const r1 = await f.header();
      const r2 = (await f.app.tokens.refreshToken(r1.refreshToken))!;
      const r3 = (await f.app.tokens.refreshToken(r2.refreshToken))!;
      // A grandparent is never inside the grace window: this is theft, the family dies.
      expect(await f.app.tokens.refreshToken(r1.refreshToken)).toBeNull();
      return bearer(`Bearer ${r3.accessToken}`);
    },
    status: 401,
    code: 'token_invalid',
    challenge: INVALID,
    work: 'reads',
  },
  {
    name: 'a token of a deleted user -> 401 token_invalid (REQ-RT-05, REQ-REV-05)',
    build: async (f) => {
      const user = await f.app.createUser();
      const t = await f.header(user);
      await f.app.users.delete({ id: user.id });
      return bearer(`Bearer ${t.accessToken}`);
    },
    status: 401,
    code: 'token_invalid',
    challenge: INVALID,
    work: 'reads',
  },
  {
    name: 'a token of an inactive user -> 401 user_inactive (REQ-RT-05, REQ-REV-05)',
    build: async (f) => {
      const user = await f.app.createUser();
      const t = await f.header(user);
      await f.app.users.update({ id: user.id }, { isActive: false });
      return bearer(`Bearer ${t.accessToken}`);
    },
    status: 401,
    code: 'user_inactive',
    challenge: INVALID,
    work: 'reads',
  },
  {
    name: 'a token 1 ms before its expiry -> 200 (REQ-EXP-03)',
    build: async (f) => {
      const t = await f.header(undefined, { accessExpiresIn: 60 });
      f.clock.set(t.accessTokenExpiresAt!.getTime() - 1);
      return { ...bearer(`Bearer ${t.accessToken}`), expectTokenId: t.token.id };
    },
    status: 200,
    challenge: null,
    work: 'any',
  },
  {
    name: 'a token expiring exactly now -> 401 token_expired (REQ-EXP-03)',
    build: async (f) => {
      const t = await f.header(undefined, { accessExpiresIn: 60 });
      f.clock.set(t.accessTokenExpiresAt!.getTime());
      return bearer(`Bearer ${t.accessToken}`);
    },
    status: 401,
    code: 'token_expired',
    challenge: INVALID,
    work: 'reads',
  },
  // ---------------------------------------------------------------- the refresh endpoint
  {
    name: 'an access token to POST /auth/refresh -> 401, no query, the family untouched (REQ-TYP-01, REQ-RT-07)',
    build: async (f) => {
      const t = await f.header();
      return {
        method: 'POST',
        path: '/auth/refresh',
        body: { refreshToken: t.accessToken },
        check: async (fixture) => {
          // Neither part of that session was spent: the access token and the refresh token work.
          const again = await rawRequest(fixture.app.port, bearer(`Bearer ${t.accessToken}`));
          expect(again.status).toBe(200);
          expect(await fixture.app.tokens.refreshToken(t.refreshToken)).not.toBeNull();
        },
      };
    },
    status: 401,
    code: 'token_invalid',
    challenge: INVALID,
    work: 'none',
  },
  {
    name: 'a never-issued refresh token to POST /auth/refresh -> 401, reads only (REQ-GEN-02)',
    build: async () => ({
      method: 'POST',
      path: '/auth/refresh',
      body: { refreshToken: FORMAT.generate('refresh') },
    }),
    status: 401,
    code: 'token_invalid',
    challenge: INVALID,
    work: 'reads',
  },
  ...[
    ['{}', {}],
    ['a number', { refreshToken: 42 }],
    ['an array', { refreshToken: [1] }],
    ['10 KB', { refreshToken: 'a'.repeat(10_000) }],
    ['snake case', { refresh_token: 'x' }],
  ].map(([label, body]): Row => ({
    name: `POST /auth/refresh with ${label as string} -> 400 invalid_request, no query (REQ-RT-07)`,
    build: async () => ({ method: 'POST', path: '/auth/refresh', body }),
    status: 400,
    code: 'invalid_request',
    challenge: null,
    work: 'none',
  })),
];

const MATRIX: Array<[AdapterKind, TestDbKind]> = ADAPTERS.flatMap((adapter) =>
  ALL_DB_KINDS.map((kind): [AdapterKind, TestDbKind] => [adapter, kind]),
);

describeEachRow(MATRIX, 'hostile credentials over %s on %s', (adapter, kind) => {
  let f: Fixture;

  beforeAll(async () => {
    const clock = new ManualClock();
    // Cache off: every decision comes from the store, so the query counts are exact.
    const app = await startSecurityApp({ adapter, db: kind, clock, durin: { cache: false } });
    const alice = await app.createUser({ username: 'alice' });
    f = {
      app,
      clock,
      alice,
      header: (user = alice, opts = {}) => app.tokens.generateHeaderToken(user, opts),
      cookie: () => app.tokens.generateCookieToken(alice),
    };
  });

  afterAll(() => f?.app.close());

  it.each(ROWS.map((row) => [row.name, row] as const))('%s', async (_name, row) => {
    const spec = await row.build(f);
    const mark = f.app.counter.count;
    const res = await rawRequest(f.app.port, spec);
    const queries = f.app.counter.queries.slice(mark);

    expect({ status: res.status, code: codeOf(res) }).toEqual({
      status: row.status,
      code: row.code,
    });
    expect(header(res, 'www-authenticate')).toBe(row.challenge ?? undefined);
    if (row.status === 401) {
      expect(json(res)).toEqual({
        statusCode: 401,
        error: 'Unauthorized',
        message: expect.any(String),
        code: row.code,
      });
    }
    if (row.status === 200) {
      expect(json(res)).toMatchObject({ tokenId: spec.expectTokenId });
    }
    if (row.work === 'none') {
      expect(queries).toEqual([]);
    }
    if (row.work === 'reads') {
      expect(queries.length).toBeGreaterThan(0);
    }
    if (row.status >= 400) {
      // A refused credential never writes: no row inserted, nothing extended or revoked.
      expect(f.app.counter.writesSince(mark)).toEqual([]);
    }
    await spec.check?.(f, res);
  });

  /** Everything a client can observe, minus the date: status line, header lines, body bytes. */
  function observable(res: HttpResult, skip: string[] = []): unknown {
    const ignored = ['date', 'connection', 'keep-alive', ...skip];
    return {
      status: res.status,
      headers: res.rawHeaders.filter(([name]) => !ignored.includes(name.toLowerCase())),
      body: skip.includes('body') ? undefined : res.body.toString('latin1'),
    };
  }

  it('unknown, revoked, rotated, reuse-revoked and deleted-user tokens get byte-identical 401s (REQ-HDR-08)', async () => {
    const probe = (token: string) => rawRequest(f.app.port, bearer(`Bearer ${token}`));
    const unknown = await probe(FORMAT.generate('access'));

    const revoked = await f.header();
    await f.app.tokens.revokeToken(revoked.token);
    const loggedOut = await f.header();
    const logout = await rawRequest(f.app.port, {
      method: 'POST',
      path: '/auth/logout',
      headers: [['Authorization', `Bearer ${loggedOut.accessToken}`]],
    });
    expect(logout.status).toBe(204);
    const rotated = await f.header();
    const child = (await f.app.tokens.refreshToken(rotated.refreshToken))!;
    const stolen = (await f.app.tokens.refreshToken(child.refreshToken))!;
    expect(await f.app.tokens.refreshToken(rotated.refreshToken)).toBeNull();
    const owner = await f.app.createUser();
    const orphan = await f.header(owner);
    await f.app.users.delete({ id: owner.id });

    const expected = observable(unknown);
    expect(expected).toMatchObject({ status: 401 });
    for (const token of [
      revoked.accessToken,
      loggedOut.accessToken,
      rotated.accessToken,
      stolen.accessToken,
      orphan.accessToken,
    ]) {
      expect(observable(await probe(token))).toEqual(expected);
    }
  });

  it('an expired token differs from an unknown one only in code and message (REQ-HDR-08, issue 4: token_expired)', async () => {
    const unknown = await rawRequest(f.app.port, bearer(`Bearer ${FORMAT.generate('access')}`));
    const t = await f.header(undefined, { accessExpiresIn: 60 });
    f.clock.set(t.accessTokenExpiresAt!.getTime() + 1);
    const expired = await rawRequest(f.app.port, bearer(`Bearer ${t.accessToken}`));
    // The body (and so its length and ETag) differs; nothing else may.
    const bodyBound = ['content-length', 'etag', 'body'];
    expect(observable(expired, bodyBound)).toEqual(observable(unknown, bodyBound));
    const { code, message, ...rest } = json(expired) as Record<string, unknown>;
    const {
      code: unknownCode,
      message: _message,
      ...unknownRest
    } = json(unknown) as Record<string, unknown>;
    expect(rest).toEqual(unknownRest);
    expect([code, unknownCode]).toEqual(['token_expired', 'token_invalid']);
    expect(message).toBe('Token has expired.');
  });

  it('unknown, revoked, consumed, reused and expired refresh tokens get byte-identical 401s (REQ-HDR-08)', async () => {
    const refresh = (token: string) =>
      rawRequest(f.app.port, {
        method: 'POST',
        path: '/auth/refresh',
        body: { refreshToken: token },
      });
    const unknown = await refresh(FORMAT.generate('refresh'));

    const revoked = await f.header();
    await f.app.tokens.revokeToken(revoked.token);
    const grandparent = await f.header();
    const parent = (await f.app.tokens.refreshToken(grandparent.refreshToken))!;
    expect(await f.app.tokens.refreshToken(parent.refreshToken)).not.toBeNull();
    const expiring = await f.header(undefined, { accessExpiresIn: 60 });
    f.clock.set(expiring.refreshTokenExpiresAt!.getTime());

    const expected = observable(unknown);
    expect(expected).toMatchObject({ status: 401 });
    for (const token of [
      revoked.refreshToken!,
      grandparent.refreshToken!,
      expiring.refreshToken!,
      // The family is dead after the reuse above: its newest refresh token is refused the same way.
      parent.refreshToken!,
    ]) {
      expect(observable(await refresh(token))).toEqual(expected);
    }
  });

  it('after a 431 the same server answers the next request (REQ-HDR-05)', async () => {
    const t = await f.header();
    const huge = await rawRequest(f.app.port, bearer(`Bearer ${'a'.repeat(20 * 1024)}`));
    expect(huge.status).toBe(431);
    const next = await rawRequest(f.app.port, bearer(`Bearer ${t.accessToken}`));
    expect(next.status).toBe(200);
  });
});
