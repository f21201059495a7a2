import type { LoggerService } from '@nestjs/common';
import { createHash, createHmac } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger as TypeOrmLogger } from 'typeorm';
import { decodeBase62Bytes } from '../../lib/tokens/base62';
import { SECRET_BYTES } from '../../lib/tokens/token-format';
import { HttpClient, json } from './support/http';
import { type SecurityApp, startSecurityApp } from './support/security-app';

/**
 * What a token is made of and where its plaintext may (not) go: REQ-GEN-01/02/04 and
 * REQ-STO-01/05. Other suites cover the format itself (test/unit/token-format.spec.ts) and the
 * sealed grace payload (test/integration/security-refresh-reuse.int-spec.ts).
 */

const PREFIX_LENGTH = 'durin_at_'.length;
const SECRET_CHARS = 43;

/** Every textual form of `raw` that would count as storing or logging it. */
function encodings(raw: string): string[] {
  const secret = raw.slice(PREFIX_LENGTH, PREFIX_LENGTH + SECRET_CHARS);
  const forms = [raw, secret];
  for (const value of [raw, secret]) {
    const bytes = Buffer.from(value, 'utf8');
    forms.push(bytes.toString('base64'), bytes.toString('base64url'), bytes.toString('hex'));
  }
  const decoded = decodeBase62Bytes(secret, SECRET_BYTES);
  forms.push(decoded.toString('hex'), decoded.toString('base64'), decoded.toString('base64url'));
  return forms;
}

// REQ-GEN-01's 100 000-draw uniqueness and 32-byte range are in test/unit/token-format.spec.ts.
describe('REQ-GEN-01: token secrets come from the CSPRNG', () => {
  it('no predictable generator anywhere in lib/ (Math.random, uuid v1)', () => {
    const files = (function walk(dir: string): string[] {
      return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)],
      );
    })(join(__dirname, '..', '..', 'lib')).filter((file) => file.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) {
      const code = readFileSync(file, 'utf8');
      expect({ file, random: /Math\.random|uuidv1|\bv1\s*\(/.test(code) }).toEqual({
        file,
        random: false,
      });
    }
  });
});

describe('REQ-JWT-01: opaque tokens only', () => {
  it('lib/ imports no JWT library, and every jsonwebtoken in the tree is >= 9', () => {
    const lib = join(__dirname, '..', '..', 'lib');
    const sources = (function walk(dir: string): string[] {
      return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)],
      );
    })(lib).filter((file) => file.endsWith('.ts'));
    for (const file of sources) {
      expect({
        file,
        jwt: /from '(jsonwebtoken|jose|passport-jwt)'/.test(readFileSync(file, 'utf8')),
      }).toEqual({
        file,
        jwt: false,
      });
    }
    // Every copy npm installed, hoisted or nested (passport-jwt, used by the benchmark only).
    const copies = (function find(dir: string, depth: number): string[] {
      if (depth > 4) return [];
      let entries: string[];
      try {
        entries = readdirSync(dir);
      } catch {
        return [];
      }
      return entries.flatMap((name) => {
        const path = join(dir, name);
        if (name === 'jsonwebtoken') return [join(path, 'package.json')];
        if (name.startsWith('@')) return find(path, depth);
        return find(join(path, 'node_modules'), depth + 1);
      });
    })(join(__dirname, '..', '..', 'node_modules'), 0);
    expect(copies.length).toBeGreaterThan(0);
    for (const manifest of copies) {
      const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
      expect({ manifest, major: Number(version.split('.')[0]) >= 9 }).toEqual({
        manifest,
        major: true,
      });
    }
  });
});

describe.each(['postgres', 'sqlite'] as const)(
  'tokens at rest and in the database (%s)',
  (kind) => {
    let app: SecurityApp;
    let http: HttpClient;
    const PEPPER = 'a-server-side-pepper-of-some-length-0123456789';

    beforeAll(async () => {
      app = await startSecurityApp({ adapter: 'express', db: kind, durin: { pepper: PEPPER } });
      http = new HttpClient(app.port);
    });

    afterAll(async () => {
      http?.close();
      await app?.close();
    });

    const login = async (userId: number) => {
      const res = await http.request({ method: 'POST', path: '/login', body: { userId } });
      expect(res.status).toBe(200);
      return json(res) as {
        tokenId: string;
        familyId: string;
        accessToken: string;
        refreshToken: string;
      };
    };

    it('REQ-GEN-02: two logins give two distinct tokens and two rows', async () => {
      const user = await app.createUser();
      const a = await login(user.id);
      const b = await login(user.id);
      expect(new Set([a.accessToken, b.accessToken, a.refreshToken, b.refreshToken]).size).toBe(4);
      expect(a.tokenId).not.toBe(b.tokenId);
      expect(a.familyId).not.toBe(b.familyId);
      const rows = await app.dataSource.query(
        kind === 'postgres'
          ? 'SELECT id FROM auth_token WHERE user_id = $1'
          : 'SELECT id FROM auth_token WHERE user_id = ?',
        [user.id],
      );
      expect(rows).toHaveLength(2);
    });

    it('REQ-GEN-04: a token holds no e-mail, username, row id or family id, nothing per user', async () => {
      const users = [
        await app.createUser({ username: 'confidential-alice', email: 'alice.secret@example.com' }),
        await app.createUser({ username: 'confidential-bob', email: 'bob.secret@example.org' }),
      ];
      for (const user of users) {
        const session = await login(user.id);
        for (const token of [session.accessToken, session.refreshToken]) {
          const lower = token.toLowerCase();
          const identifiers = [
            user.username,
            user.email,
            user.email.split('@')[0],
            session.tokenId,
            session.tokenId.replace(/-/g, ''),
            session.familyId,
            session.familyId.replace(/-/g, ''),
            Buffer.from(user.email).toString('base64'),
            Buffer.from(user.email).toString('base64url'),
          ];
          for (const identifier of identifiers) {
            expect(lower).not.toContain(identifier.toLowerCase());
          }
          // Nothing but the fixed prefix, 43 random base62 characters and a checksum.
          expect(token).toMatch(/^durin_(at|rt)_[0-9A-Za-z]{49}$/);
        }
      }
      // Two sessions of one user share nothing after the prefix: every position differs about as
      // often as for random strings (61/62 of 49 characters, with a wide margin).
      const one = await login(users[0].id);
      const two = await login(users[0].id);
      const differing = [...one.accessToken]
        .slice(PREFIX_LENGTH)
        .filter((char, i) => char !== two.accessToken[PREFIX_LENGTH + i]).length;
      expect(differing).toBeGreaterThan(40);
    });

    it('REQ-STO-01: no column of auth_token holds a token, its secret or any encoding of them', async () => {
      const user = await app.createUser();
      const session = await login(user.id);
      // A rotation too: the parent row then keeps the sealed grace pair of the child.
      const rotated = await http.request({
        method: 'POST',
        path: '/auth/refresh',
        body: { refreshToken: session.refreshToken },
      });
      expect(rotated.status).toBe(200);
      const child = json(rotated) as { accessToken: string; refreshToken: string };
      const apiKey = await http.request({
        method: 'POST',
        path: '/auth/apiaccess',
        headers: [['Authorization', `Bearer ${child.accessToken}`]],
      });
      expect(apiKey.status).toBe(201);
      const key = (json(apiKey) as { token: string }).token;

      const rows: Array<Record<string, unknown>> = await app.dataSource.query(
        'SELECT * FROM auth_token',
      );
      const dump = JSON.stringify(rows);
      expect(dump).toContain('grace_payload');
      const raws = [
        session.accessToken,
        session.refreshToken,
        child.accessToken,
        child.refreshToken,
        key,
      ];
      for (const raw of raws) {
        for (const form of encodings(raw)) {
          expect(dump).not.toContain(form);
        }
        // Stored is HMAC-SHA256 under the pepper, never the plain SHA-256 of the token.
        expect(dump).not.toContain(createHash('sha256').update(raw).digest('hex'));
      }
      for (const raw of [child.accessToken, key]) {
        const hmac = createHmac('sha256', PEPPER).update(raw).digest('hex');
        expect(rows.filter((row) => row.token_hash === hmac)).toHaveLength(1);
      }
    });

    if (kind === 'postgres') {
      it('REQ-STO-02: the per-request lookup is an index scan on the unique token_hash index, at 5 000 rows', async () => {
        const user = await app.createUser();
        const session = await login(user.id);
        // 5 000 more rows, copied from a real one with fresh ids and hashes (column-agnostic).
        await app.dataSource.query(
          `INSERT INTO auth_token SELECT (jsonb_populate_record(t, jsonb_build_object(
             'id', gen_random_uuid()::text, 'family_id', gen_random_uuid()::text,
             'token_hash', md5(g::text) || md5((g + 1)::text), 'refresh_token_hash', NULL))).*
           FROM auth_token t, generate_series(1, 5000) g WHERE t.id = $1`,
          [session.tokenId],
        );
        await app.dataSource.query('ANALYZE auth_token');
        const indexes: Array<{ indexdef: string }> = await app.dataSource.query(
          "SELECT indexdef FROM pg_indexes WHERE tablename = 'auth_token'",
        );
        expect(indexes.map((i) => i.indexdef)).toContainEqual(
          expect.stringMatching(/CREATE UNIQUE INDEX .* \(token_hash\)/),
        );
        // The statement the guard sends, as TypeORM logged it on a real authentication.
        const mark = app.counter.count;
        const me = await http.request({
          path: '/me',
          headers: [['Authorization', `Bearer ${session.accessToken}`]],
        });
        expect(me.status).toBe(200);
        const lookup = app.counter.queries.slice(mark).find((q) => /token_hash"? IN/i.test(q));
        expect(lookup).toBeDefined();
        const hash = createHmac('sha256', PEPPER).update(session.accessToken).digest('hex');
        const plan: Array<{ 'QUERY PLAN': string }> = await app.dataSource.query(
          `EXPLAIN ${lookup!}`,
          [hash],
        );
        const text = plan.map((line) => line['QUERY PLAN']).join('\n');
        expect(text).toMatch(/Index Scan using \S+ on auth_token/);
        expect(text).not.toMatch(/Seq Scan on auth_token/);
      });
    }
  },
);

/** Nest's logger, every level, into one list. */
class CapturingLogger implements LoggerService {
  constructor(private readonly sink: string[]) {}
  log(...args: unknown[]) {
    this.sink.push(stringify(args));
  }
  error(...args: unknown[]) {
    this.sink.push(stringify(args));
  }
  warn(...args: unknown[]) {
    this.sink.push(stringify(args));
  }
  debug(...args: unknown[]) {
    this.sink.push(stringify(args));
  }
  verbose(...args: unknown[]) {
    this.sink.push(stringify(args));
  }
  fatal(...args: unknown[]) {
    this.sink.push(stringify(args));
  }
}

/** TypeORM's log, queries with their parameters included. */
class CapturingTypeOrmLogger implements TypeOrmLogger {
  constructor(private readonly sink: string[]) {}
  logQuery(query: string, parameters?: unknown[]) {
    this.sink.push(`${query} ${stringify(parameters ?? [])}`);
  }
  logQueryError(error: string | Error, query: string, parameters?: unknown[]) {
    this.sink.push(`${stringify([error])} ${query} ${stringify(parameters ?? [])}`);
  }
  logQuerySlow(time: number, query: string, parameters?: unknown[]) {
    this.sink.push(`${time} ${query} ${stringify(parameters ?? [])}`);
  }
  logSchemaBuild(message: string) {
    this.sink.push(message);
  }
  logMigration(message: string) {
    this.sink.push(message);
  }
  log(_level: string, message: unknown) {
    this.sink.push(stringify([message]));
  }
}

function stringify(values: unknown[]): string {
  return values
    .map((value) =>
      value instanceof Error
        ? `${value.message} ${value.stack ?? ''} ${stringify([value.cause])}`
        : typeof value === 'string'
          ? value
          : (JSON.stringify(value) ?? String(value)),
    )
    .join(' ');
}

describe.each(['express', 'fastify'] as const)(
  'REQ-STO-05: raw tokens never reach a log (%s on PostgreSQL, every level, outage included)',
  (adapter) => {
    it('logs of login, use, refresh, reuse, failures, outage and logout contain no token', async () => {
      const sink: string[] = [];
      const spies = [
        jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
          sink.push(String(chunk));
          return true;
        }),
        jest.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => {
          sink.push(String(chunk));
          return true;
        }),
        ...(['log', 'info', 'warn', 'error', 'debug', 'trace'] as const).map((method) =>
          jest.spyOn(console, method).mockImplementation((...args: unknown[]) => {
            sink.push(stringify(args));
          }),
        ),
      ];
      const app = await startSecurityApp({
        adapter,
        db: 'postgres',
        proxy: true,
        logger: new CapturingLogger(sink),
        fastifyLogStream: { write: (line) => sink.push(line) },
        typeorm: { logger: new CapturingTypeOrmLogger(sink), extra: { query_timeout: 2_000 } },
        // Every event goes to the console too: they must be as clean as the logs.
        durin: { onEvent: (event) => console.log('durin event', event), storeTimeout: '1s' },
      });
      const http = new HttpClient(app.port);
      const raws: string[] = [];
      try {
        const user = await app.createUser();
        const bearer = (token: string): Array<[string, string]> => [
          ['Authorization', `Bearer ${token}`],
        ];
        const login = async (mode: 'header' | 'cookie') => {
          const res = await http.request({
            method: 'POST',
            path: '/login',
            body: { userId: user.id, mode },
          });
          const body = json(res) as { accessToken: string; refreshToken: string };
          raws.push(body.accessToken, body.refreshToken);
          return body;
        };
        const refresh = async (refreshToken: string) => {
          const res = await http.request({
            method: 'POST',
            path: '/auth/refresh',
            body: { refreshToken },
          });
          const body = json(res) as { accessToken?: string; refreshToken?: string };
          if (body.accessToken) raws.push(body.accessToken);
          if (body.refreshToken) raws.push(body.refreshToken);
          return res;
        };

        const a = await login('header');
        const c = await login('cookie');
        const statuses: number[] = [];
        const run = async (spec: Parameters<HttpClient['request']>[0]) =>
          statuses.push((await http.request(spec)).status);
        await run({ path: '/me', headers: bearer(a.accessToken) });
        await run({ path: '/me', headers: [['Cookie', `__Host-token=${c.accessToken}`]] });
        await run({ path: '/me', headers: [['Authorization', `Bearer\t${a.accessToken}`]] });
        await run({ path: '/me', headers: [...bearer(a.accessToken), ...bearer('junk')] });
        await run({ path: '/me', headers: bearer(c.accessToken) });
        await run({ path: '/me', headers: bearer(a.refreshToken) });
        await run({ path: '/auth/sessions', headers: bearer(a.accessToken) });
        const sessions = await http.request({
          path: '/auth/sessions',
          headers: bearer(a.accessToken),
        });
        expect(sessions.status).toBe(200);

        expect((await refresh(a.refreshToken)).status).toBe(200); // rotation
        expect((await refresh(a.refreshToken)).status).toBe(200); // grace replay
        const b = await login('header');
        const b2 = json(await refresh(b.refreshToken)) as { refreshToken: string };
        expect((await refresh(b2.refreshToken)).status).toBe(200);
        expect((await refresh(b.refreshToken)).status).toBe(401); // grandparent: reuse
        expect((await refresh(a.accessToken)).status).toBe(401);

        const d = await login('header');
        app.proxy!.cutAll();
        await run({ path: '/me', headers: bearer(d.accessToken) });
        expect((await refresh(d.refreshToken)).status).toBe(503);
        await run({ method: 'POST', path: '/auth/logout', headers: bearer(d.accessToken) });
        app.proxy!.restore();
        // Reconnect, then log out (one session) and out everywhere.
        for (let i = 0; i < 50; i += 1) {
          if ((await http.request({ path: '/me', headers: bearer(d.accessToken) })).status === 200)
            break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        await run({ method: 'POST', path: '/auth/logout', headers: bearer(d.accessToken) });
        await run({ path: '/me', headers: bearer(d.accessToken) });
        const e = await login('header');
        await run({ method: 'POST', path: '/auth/logoutall', headers: bearer(e.accessToken) });
        expect(statuses).toEqual(expect.arrayContaining([200, 204, 401, 503]));
        expect(JSON.stringify(json(sessions))).not.toContain(a.accessToken);
      } finally {
        http.close();
        await app.close();
        for (const spy of spies) spy.mockRestore();
      }

      const text = sink.join('\n');
      // The capture saw the app's own output: events, SQL, the store failure during the outage.
      expect(text).toContain('durin event');
      expect(text).toMatch(/token store failure/);
      expect(text).toMatch(/SELECT/);
      expect(raws.length).toBeGreaterThanOrEqual(14);
      const leaks = raws.flatMap((raw) => encodings(raw).filter((form) => text.includes(form)));
      expect(leaks).toEqual([]);
    });
  },
);
