import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { IsNull, Not } from 'typeorm';
import { ClientEntity, DurinCacheService } from '../../lib';
import { getFreePort } from '../support/free-port';
import { DB_KINDS, postgresOptions, TestDbKind } from '../support/databases';
import {
  createPersistentDatabase,
  DAY,
  DurinTestApp,
  HOUR,
  startDurinApp,
} from '../integration/support/durin-test-app';
import {
  buildCli,
  BuiltCli,
  CliRun,
  jsDataSource,
  runCli,
  tsDataSource,
} from './support/durin-cli';

let cli: BuiltCli;
// Compiling lib takes a few seconds alone, much longer on a machine busy with other suites.
beforeAll(async () => {
  cli = await buildCli();
}, 240_000);
afterAll(() => cli.remove());

const durin = (...args: string[]) => runCli(cli.bin, args, cli.dir);

/** A failure: the exit code, one line on stderr naming the problem, nothing on stdout, no stack. */
function expectFailure(run: CliRun, message: string | RegExp, code = 1): void {
  expect({ code: run.code, stdout: run.stdout }).toEqual({ code, stdout: '' });
  const [first, ...others] = run.stderr.split('\n');
  expect(first).toMatch(typeof message === 'string' ? `durin: ${message}` : message);
  expect(run.stderr).not.toMatch(/^\s+at /m);
  if (code === 1) expect(others).toEqual(['']);
  else expect(run.stderr).toContain('Usage: durin -d <data-source file> <command>');
}

function expectSuccess(run: CliRun, stdout: string | RegExp): void {
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
  if (typeof stdout === 'string') expect(run.stdout).toBe(stdout);
  else expect(run.stdout).toMatch(stdout);
}

describe.each(DB_KINDS.filter((kind): kind is 'sqlite' | 'postgres' => kind !== 'mariadb'))(
  'the durin CLI on %s',
  (kind: TestDbKind) => {
    let app: DurinTestApp;
    let js: string;
    let ts: string;

    beforeAll(async () => {
      // The app creates the schema (migrations on PostgreSQL, synchronize on SQLite) and stays up:
      // what the CLI writes must be what a running TokenService reads.
      app = await startDurinApp(kind, {}, { db: await createPersistentDatabase(kind) });
      const connection = { ...app.db.options } as Record<string, unknown>;
      js = await cli.write(`data-source-${kind}.js`, jsDataSource(connection));
      ts = await cli.write(`data-source-${kind}.ts`, tsDataSource(connection));
    });
    afterAll(() => app.close());

    const clients = () => app.dataSource.getRepository(ClientEntity);

    it('client:create stores the client, and TokenService issues its tokens with its lifetimes', async () => {
      const run = await durin(
        '-d',
        js,
        'client:create',
        'web',
        '--token-ttl',
        '14d',
        '--refresh-token-ttl',
        '30d',
        '--throttle-rate',
        '5/m',
      );
      expectSuccess(run, 'Client web created!\n');
      expect(await app.service.getClient('web')).toMatchObject({
        tokenTtl: 14 * 86_400,
        refreshTokenTtl: 30 * 86_400,
        throttleRate: '5/m',
      });
      const set = await app.service.generateHeaderToken(await app.createUser(), { client: 'web' });
      expect(set.accessTokenExpiresAt).toEqual(new Date(app.clock.now() + 14 * DAY));
      expect(set.refreshTokenExpiresAt).toEqual(new Date(app.clock.now() + 30 * DAY));
    });

    it('client:create takes plain seconds and leaves unset values to the module', async () => {
      expectSuccess(
        await durin('--dataSource', js, 'client:create', 'mobile', '--token-ttl', '3600'),
        'Client mobile created!\n',
      );
      expect(await app.service.getClient('mobile')).toMatchObject({
        tokenTtl: 3600,
        refreshTokenTtl: null,
        throttleRate: null,
      });
    });

    it('client:create refuses a duplicate name, changing nothing', async () => {
      await app.service.createClient({ name: 'taken', tokenTtl: '1h' });
      const run = await durin('-d', js, 'client:create', 'taken', '--token-ttl', '2h');
      expectFailure(run, 'name: a client named "taken" exists already');
      expect((await app.service.getClient('taken'))?.tokenTtl).toBe(3600);
    });

    it.each([
      [['', '--token-ttl', '1h'], 'name: must not be blank'],
      [['   '], 'name: must not be blank'],
      [['x'.repeat(65)], 'name: must be a string of 1 to 64 characters'],
      [['bad', '--token-ttl', 'abc'], 'token-ttl: "abc" is not a duration'],
      [['bad', '--token-ttl', '15 m'], 'token-ttl: "15 m" is not a duration'],
      [['bad', '--token-ttl', '0'], 'token-ttl: must be greater than 0'],
      [['bad', '--refresh-token-ttl=-5d'], 'refresh-token-ttl: "-5d" is not a duration'],
      [['bad', '--throttle-rate', '5/x'], 'throttle-rate: "5/x" expected <n>/<s|m|h|d>'],
      [['bad', '--throttle-rate', '0/m'], 'throttle-rate: "0/m" expected <n>/<s|m|h|d>'],
    ])('client:create %j fails naming the field, creating nothing', async (args, message) => {
      const before = await clients().count();
      expectFailure(await durin('-d', js, 'client:create', ...args), message);
      expect(await clients().count()).toBe(before);
    });

    it('client:list prints a table, and --json the stored values', async () => {
      await app.service.createClient({ name: 'listed', tokenTtl: 90, refreshTokenTtl: '2h' });
      const table = await durin('-d', js, 'client:list');
      expectSuccess(table, /^NAME +TOKEN TTL +REFRESH TTL +THROTTLE RATE +CREATED\n/);
      expect(table.stdout).toMatch(/^listed +90s +2h +default +\d{4}-\d\d-\d\dT/m);
      expect(table.stdout).toMatch(/^web +14d +30d +5\/m +/m);

      const json = await durin('-d', js, 'client:list', '--json');
      expectSuccess(json, /^\[/);
      const rows = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
      expect(rows.find((row) => row.name === 'listed')).toEqual({
        name: 'listed',
        tokenTtl: 90,
        refreshTokenTtl: 7200,
        throttleRate: null,
        createdAt: new Date(app.clock.now()).toISOString(),
      });
      const names = rows.map((row) => row.name);
      expect(names.indexOf('listed')).toBeLessThan(names.indexOf('web'));
    });

    it('client:update changes the given fields, and "default" clears one', async () => {
      await app.service.createClient({ name: 'upd', tokenTtl: '1h', throttleRate: '10/m' });
      expectSuccess(
        await durin('-d', js, 'client:update', 'upd', '--token-ttl', '2h'),
        'Client upd updated!\n',
      );
      expect(await app.service.getClient('upd')).toMatchObject({
        tokenTtl: 7200,
        throttleRate: '10/m',
      });
      expectSuccess(
        await durin('-d', js, 'client:update', 'upd', '--throttle-rate', 'default'),
        'Client upd updated!\n',
      );
      expect(await app.service.getClient('upd')).toMatchObject({
        tokenTtl: 7200,
        throttleRate: null,
      });
      const set = await app.service.generateHeaderToken(await app.createUser(), { client: 'upd' });
      expect(set.accessTokenExpiresAt).toEqual(new Date(app.clock.now() + 2 * HOUR));
    });

    it('client:update fails on a bad value or an unknown client, changing nothing', async () => {
      await app.service.createClient({ name: 'kept', tokenTtl: '1h' });
      expectFailure(
        await durin('-d', js, 'client:update', 'kept', '--token-ttl', '1h', '--throttle-rate', '5'),
        'throttle-rate: "5" expected <n>/<s|m|h|d>',
      );
      expect(await app.service.getClient('kept')).toMatchObject({
        tokenTtl: 3600,
        throttleRate: null,
      });
      expectFailure(
        await durin('-d', js, 'client:update', 'nobody', '--token-ttl', '1h'),
        'name: no client named "nobody"',
      );
      expect(await app.service.getClient('nobody')).toBeNull();
    });

    it('client:delete removes the client and its tokens; an unknown one fails', async () => {
      await app.service.createClient({ name: 'gone' });
      const set = await app.service.generateHeaderToken(await app.createUser(), { client: 'gone' });
      expectSuccess(await durin('-d', js, 'client:delete', 'gone'), 'Client gone deleted!\n');
      expect(await app.service.getClient('gone')).toBeNull();
      expect(await app.service.verifyToken(set.accessToken)).toBeNull();
      expectFailure(await durin('-d', js, 'client:delete', 'gone'), 'name: no client named "gone"');
    });

    it('tokens:prune revokes or deletes the expired tokens and prints the count', async () => {
      const user = await app.createUser();
      const start = app.clock.now();
      await app.service.createClient({ name: 'prune', tokenTtl: '1h', refreshTokenTtl: '2h' });
      // The CLI runs on the real clock: tokens issued ten days ago are dead there.
      app.clock.set(Date.now() - 10 * DAY);
      const dead = [
        await app.service.generateHeaderToken(user, { client: 'prune' }),
        await app.service.generateHeaderToken(user, { client: 'prune' }),
      ];
      app.clock.set(Date.now());
      const live = await app.service.generateHeaderToken(user, { client: 'prune' });
      app.clock.set(start);
      const ofUser = () => app.tokens.find({ where: { user: { id: user.id } } });

      expectSuccess(
        await durin('-d', js, 'tokens:prune', '--keep-expired-tokens'),
        'Revoked 2 expired tokens (rows kept).\n',
      );
      const kept = await ofUser();
      expect(kept).toHaveLength(3);
      expect(
        kept
          .filter((token) => token.revokedReason === 'expired')
          .map((t) => t.id)
          .sort(),
      ).toEqual(dead.map((set) => set.token.id).sort());

      // A retention: the rows kept above were revoked more than a second ago (on the real clock).
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expectSuccess(
        await durin('-d', js, 'tokens:prune', '--keep-for', '1'),
        'Pruned 2 tokens (expired rows kept for 1).\n',
      );
      expect((await ofUser()).map((token) => token.id)).toEqual([live.token.id]);
      expectFailure(
        await durin('-d', js, 'tokens:prune', '--keep-for', '90 days'),
        /^durin: keep-for: must be a whole number of seconds/,
      );
      expectSuccess(await durin('-d', js, 'tokens:prune'), 'Deleted 0 expired tokens.\n');
      expect(await app.tokens.count({ where: { revokedAt: Not(IsNull()) } })).toBe(0);
    });

    it('takes a TypeScript data source through ts-node and never touches the schema', async () => {
      const before = await clients().count();
      expectSuccess(
        await durin('-d', ts, 'client:create', 'from-ts', '--token-ttl', '15m'),
        'Client from-ts created!\n',
      );
      // The file asks for dropSchema and synchronize: every client made before is still there.
      expect(await clients().count()).toBe(before + 1);
      const listed = await durin('-d', ts, 'client:list', '--json');
      expectSuccess(listed, /"name": "from-ts"/);
      expect(await app.service.getClient('from-ts')).toMatchObject({ tokenTtl: 900 });
      expectSuccess(await durin('-d', ts, 'client:delete', 'from-ts'), 'Client from-ts deleted!\n');
    });
  },
);

/** Waits for something another process causes (a NOTIFY arriving); fails after 10 s. */
async function eventually(check: () => boolean): Promise<void> {
  for (let waited = 0; !check(); waited += 50) {
    if (waited > 10_000) throw new Error('the awaited state never came');
    await new Promise((done) => setTimeout(done, 50));
  }
}

describe('the durin CLI and the token caches of running apps (PostgreSQL)', () => {
  let app: DurinTestApp;
  let js: string;
  let cache: DurinCacheService;

  beforeAll(async () => {
    app = await startDurinApp('postgres', {}, { db: await createPersistentDatabase('postgres') });
    js = await cli.write('data-source-notify.js', jsDataSource({ ...app.db.options }));
    cache = app.module.get(DurinCacheService);
    // The app trusts its cache once LISTEN is up; before that nothing is cached.
    await eventually(() => cache.stats().trusted);
  });
  afterAll(() => app.close());

  /** A token of `client` that the app has verified, so that its cache holds it. */
  async function cachedToken(client: string): Promise<string> {
    const set = await app.service.generateHeaderToken(await app.createUser(), { client });
    await app.service.authenticate(set.accessToken, 'header');
    const hits = cache.stats().hits;
    expect((await app.service.authenticate(set.accessToken, 'header')).ok).toBe(true);
    expect(cache.stats().hits).toBe(hits + 1);
    return set.accessToken;
  }

  it('client:delete makes the app drop the tokens it cached for the client', async () => {
    await app.service.createClient({ name: 'cached' });
    const token = await cachedToken('cached');
    const received = cache.stats().received;
    expectSuccess(await durin('-d', js, 'client:delete', 'cached'), 'Client cached deleted!\n');
    await eventually(() => cache.stats().received > received);
    // The app's clock has not moved: only the notification can have ended the cached entry.
    expect(await app.service.authenticate(token, 'header')).toEqual({
      ok: false,
      reason: 'token_invalid',
    });
  });

  it('client:update notifies too, and --cache-channel is checked as the cache.channel option', async () => {
    await app.service.createClient({ name: 'changed', throttleRate: '5/m' });
    await cachedToken('changed');
    const received = cache.stats().received;
    expectSuccess(
      await durin('-d', js, 'client:update', 'changed', '--throttle-rate', '10/m'),
      'Client changed updated!\n',
    );
    await eventually(() => cache.stats().received > received);
    expect(cache.stats().size).toBe(0);

    expectFailure(
      await durin('-d', js, 'client:delete', 'changed', '--cache-channel', 'Not-A-Channel'),
      'cache-channel: must be 1-63 lower-case letters',
    );
    expect(await app.service.getClient('changed')).not.toBeNull();
  });
});

describe('the durin CLI without a usable data source', () => {
  it('fails on a missing file', async () => {
    expectFailure(
      await durin('-d', 'nowhere.js', 'client:list'),
      `data source file not found: ${join(cli.dir, 'nowhere.js')}`,
    );
  });

  it('fails on a file that throws, in one line', async () => {
    await cli.write('throws.js', "throw new Error('broken config\\nsecond line');\n");
    expectFailure(
      await durin('-d', 'throws.js', 'client:list'),
      'cannot load throws.js: broken config',
    );
  });

  it('fails on a file without a DataSource, or with two', async () => {
    await cli.write('none.js', 'exports.answer = 42;\n');
    expectFailure(
      await durin('-d', 'none.js', 'client:list'),
      'none.js exports no TypeORM DataSource (export it as default or by name)',
    );
    await cli.write(
      'two.js',
      `const { DataSource } = require('typeorm');
exports.a = new DataSource({ type: 'better-sqlite3', database: ':memory:' });
exports.b = new DataSource({ type: 'better-sqlite3', database: ':memory:' });
`,
    );
    expectFailure(
      await durin('-d', 'two.js', 'client:list'),
      'two.js exports 2 DataSources; export only the one to use',
    );
  });

  it('accepts a promise of a DataSource, and fails when it lacks the durin entities', async () => {
    await cli.write(
      'bare.js',
      `const { DataSource } = require('typeorm');
exports.dataSource = Promise.resolve(new DataSource({ type: 'better-sqlite3', database: ':memory:' }));
`,
    );
    expectFailure(
      await durin('-d', 'bare.js', 'tokens:prune'),
      'the DataSource lacks the nestjs-durin entities: add ClientEntity and the token entity',
    );
  });

  it('fails in one line, with a hint, on a database without the durin tables', async () => {
    const empty = { type: 'better-sqlite3', database: join(cli.dir, 'empty.sqlite') };
    const file = await cli.write('empty.js', jsDataSource(empty));
    expectFailure(
      await durin('-d', file, 'client:list'),
      'the database failed: no such table: auth_client (have the migrations run?)',
    );
  });

  it('fails in one line when the database cannot be reached', async () => {
    const closed = await getFreePort();
    const options = {
      ...postgresOptions(`postgres://durin:durin@127.0.0.1:${closed}/durin`),
      connectTimeoutMS: 2000,
    };
    const file = await cli.write('down.js', jsDataSource(options));
    expectFailure(
      await durin('-d', file, 'client:create', 'web'),
      /^durin: cannot initialize the DataSource: .*ECONNREFUSED/,
    );
  });

  it('asks for ts-node when a TypeScript data source cannot be loaded without it', async () => {
    const bare = await mkdtemp(join(tmpdir(), 'durin-cli-bare-'));
    try {
      await writeFile(join(bare, 'data-source.ts'), 'export default 1;\n');
      expectFailure(
        await runCli(cli.bin, ['-d', 'data-source.ts', 'client:list'], bare),
        `${join(bare, 'data-source.ts')} is TypeScript: install ts-node (npm i -D ts-node) or pass the compiled .js file`,
      );
    } finally {
      await rm(bare, { recursive: true, force: true });
    }
  });
});

describe('the durin bin as published', () => {
  it('is the compiled lib/cli/durin.ts, inside the published files, runnable through its shebang', async () => {
    const manifest = JSON.parse(await readFile(join(__dirname, '../../package.json'), 'utf8')) as {
      bin: Record<string, string>;
      files: string[];
    };
    expect(manifest.bin).toEqual({ durin: 'dist/lib/cli/durin.js' });
    expect(manifest.files.some((entry) => manifest.bin.durin.startsWith(`${entry}/`))).toBe(true);
    expect((await readFile(cli.bin, 'utf8')).split('\n', 1)[0]).toBe('#!/usr/bin/env node');

    // As npm links it: an executable file, started by the shell through `env node`.
    await chmod(cli.bin, 0o755);
    const run = await new Promise<CliRun>((done, fail) => {
      execFile(
        cli.bin,
        ['--help'],
        { env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}` } },
        (error, stdout, stderr) =>
          error ? fail(error) : done({ code: 0, stdout: String(stdout), stderr: String(stderr) }),
      );
    });
    expectSuccess(run, /^Usage: durin -d <data-source file>/);
  });
});

describe('the durin command line', () => {
  it.each([[['--help']], [['-h']], [['client:create', '--help']]])(
    '%j prints the usage',
    async (args: string[]) => {
      const run = await durin(...args);
      expectSuccess(run, /^Usage: durin -d <data-source file> <command> \[options\]\n/);
      for (const command of [
        'client:create',
        'client:list',
        'client:update',
        'client:delete',
        'tokens:prune',
      ]) {
        expect(run.stdout).toContain(command);
      }
    },
  );

  it.each([
    [[], 'missing command'],
    [['-d', 'x.js', 'client:frob'], "unknown command 'client:frob'"],
    [['-d', 'x.js', 'client:list', '--frob'], "Unknown option '--frob'"],
    [
      ['-d', 'x.js', 'client:delete', 'web', '--token-ttl', '1h'],
      'client:delete does not take --token-ttl',
    ],
    [['-d', 'x.js', 'client:create'], "client:create needs the client's name"],
    [['-d', 'x.js', 'client:delete', 'a', 'b'], "unexpected argument 'b'"],
    [['-d', 'x.js', 'client:update', 'web'], 'client:update needs at least one of --token-ttl'],
    [['client:list'], 'missing -d, --dataSource <file>'],
    [['-d'], "Option '-d, --dataSource <value>' argument missing"],
  ])('%j is refused with the usage and exit code 2', async (args, message) => {
    expectFailure(await durin(...args), message, 2);
  });
});
