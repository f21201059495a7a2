import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from '../support/databases';
import { HTTP_ADAPTERS } from './support/sample-app';
import { npmStart, REPO_ROOT, StartedApp } from './support/npm-start';

const START_MARKER = '<!-- walkthrough:start -->';
const END_MARKER = '<!-- walkthrough:end -->';
/** `# → 200` or `# → 401 token_invalid`: the status of the curl command just above. */
const EXPECTATION = /^#\s*→\s*(\d{3})(?:\s+([a-z_]+))?\s*$/;
/** How the walkthrough addresses the app; replaced by the port the test's app listens on. */
const DOCUMENTED_ORIGIN = 'localhost:3000';

interface Expectation {
  status: number;
  code: string | undefined;
  /** The command, for failure messages. */
  command: string;
}

interface Step {
  status: number;
  body: string;
}

/** The shell block between the walkthrough markers of README.md. */
function extractWalkthrough(readme: string): string {
  const start = readme.indexOf(START_MARKER);
  const end = readme.indexOf(END_MARKER);
  if (start === -1 || end === -1 || end < start) {
    throw new Error(`README.md has no ${START_MARKER} … ${END_MARKER} section`);
  }
  const fenced = /```(?:bash|sh)\n([\s\S]*?)```/.exec(readme.slice(start, end));
  if (!fenced) {
    throw new Error('the walkthrough section holds no ```bash block');
  }
  return fenced[1];
}

/**
 * Pairs every curl command with the `# → status` comment right after it. A curl without one, or
 * a comment after anything else, is an error: every request of the walkthrough is checked.
 */
function parseExpectations(script: string): Expectation[] {
  const expectations: Expectation[] = [];
  let pending: string | undefined;
  let command = '';
  for (const line of script.split('\n')) {
    const trimmed = line.trim();
    if (command !== '') {
      command += ` ${trimmed.replace(/\\$/, '')}`;
      if (!trimmed.endsWith('\\')) {
        pending = finishCommand(command, pending);
        command = '';
      }
      continue;
    }
    const expectation = EXPECTATION.exec(trimmed);
    if (expectation) {
      if (pending === undefined) {
        throw new Error(`"${trimmed}" does not follow a curl command`);
      }
      expectations.push({ status: Number(expectation[1]), code: expectation[2], command: pending });
      pending = undefined;
      continue;
    }
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    if (trimmed.endsWith('\\')) {
      command = trimmed.replace(/\\$/, '');
    } else {
      pending = finishCommand(trimmed, pending);
    }
  }
  if (pending !== undefined) {
    throw new Error(`no "# → status" after: ${pending}`);
  }
  return expectations;
}

function finishCommand(command: string, pending: string | undefined): string | undefined {
  if (pending !== undefined) {
    throw new Error(`no "# → status" after: ${pending}`);
  }
  const curls = command.match(/(^|[\s($])curl\s/g)?.length ?? 0;
  if (curls > 1) {
    throw new Error(`one curl per command, please: ${command}`);
  }
  return curls === 1 ? command : undefined;
}

/**
 * The walkthrough as a bash script against `origin`. `curl` is wrapped so that each call also
 * records its status and body on fd 3, while its output goes where the README sends it.
 */
function instrumented(script: string, origin: string, stepsFile: string): string {
  return [
    'set -euo pipefail',
    `exec 3>${JSON.stringify(stepsFile)}`,
    'curl() {',
    '  local out status body',
    `  out=$(command curl --silent --show-error --write-out '\\n%{http_code}' "$@")`,
    "  status=${out##*$'\\n'}",
    "  body=${out%$'\\n'*}",
    `  printf '%s %s\\n' "$status" "$(printf '%s' "$body" | base64 -w0)" >&3`,
    `  printf '%s\\n' "$body"`,
    '}',
    script.split(DOCUMENTED_ORIGIN).join(origin),
  ].join('\n');
}

async function runBash(
  script: string,
  cwd: string,
): Promise<{ code: number | null; output: string }> {
  const child = spawn('bash', ['-c', script], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, output };
}

function parseSteps(text: string): Step[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [status, body = ''] = line.split(' ');
      return { status: Number(status), body: Buffer.from(body, 'base64').toString('utf8') };
    });
}

describe('README walkthrough', () => {
  let readme: string;

  beforeAll(async () => {
    readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
  });

  it('is a block of curl commands, each followed by the status it answers with', () => {
    const expectations = parseExpectations(extractWalkthrough(readme));
    expect(expectations.length).toBeGreaterThanOrEqual(20);
    expect(expectations.map((e) => e.status)).toEqual(expect.arrayContaining([200, 204, 401]));
  });

  it('rejects a curl command without its status (the parser guards the README)', () => {
    expect(() => parseExpectations('curl -s localhost:3000/\n')).toThrow(/no "# → status"/);
    expect(() => parseExpectations('echo hi\n# → 200\n')).toThrow(/does not follow a curl/);
    expect(() => parseExpectations('curl -s a \\\n  -d x\ncurl b\n# → 200\n')).toThrow(
      /no "# → status"/,
    );
    expect(parseExpectations('X=$(curl -s a \\\n  -d x)\n# → 401 token_missing\n')).toEqual([
      { status: 401, code: 'token_missing', command: 'X=$(curl -s a  -d x)' },
    ]);
  });

  describe.each(HTTP_ADAPTERS)('replayed with curl against `npm start` (%s)', (adapter) => {
    let dir: string;
    let app: StartedApp;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'durin-walkthrough-'));
      app = await npmStart({
        PORT: '0',
        HTTP_ADAPTER: adapter,
        COOKIE_SECURE: 'false',
        SQLITE_PATH: join(dir, 'data', 'sample.sqlite'),
      });
    });

    afterAll(async () => {
      await app?.stop();
      await rm(dir, { recursive: true, force: true });
    });

    it('answers every command with the documented status and code', async () => {
      const script = extractWalkthrough(readme);
      const expectations = parseExpectations(script);
      const stepsFile = join(dir, 'steps.log');
      const origin = app.baseUrl.replace(/^http:\/\//, '');

      const run = await runBash(instrumented(script, origin, stepsFile), dir);
      const steps = parseSteps(await readFile(stepsFile, 'utf8'));

      expect({ exit: run.code, output: run.code === 0 ? '' : run.output }).toEqual({
        exit: 0,
        output: '',
      });
      expect(steps).toHaveLength(expectations.length);
      const actual = steps.map((step, i) => ({
        command: expectations[i].command,
        status: step.status,
        code:
          expectations[i].code === undefined
            ? undefined
            : (JSON.parse(step.body) as { code?: string }).code,
      }));
      expect(actual).toEqual(
        expectations.map(({ command, status, code }) => ({ command, status, code })),
      );
    });

    it('records what the server answered, so a wrong status in the README would fail', async () => {
      const script = 'curl -s localhost:3000/me\n# → 200\n';
      const stepsFile = join(dir, 'wrong.log');
      const run = await runBash(
        instrumented(script, app.baseUrl.replace(/^http:\/\//, ''), stepsFile),
        dir,
      );
      expect(run.code).toBe(0);
      expect(parseExpectations(script)[0].status).toBe(200);
      expect(parseSteps(await readFile(stepsFile, 'utf8'))).toEqual([
        { status: 401, body: expect.stringContaining('"code":"token_missing"') },
      ]);
    });
  });

  describe('npm start', () => {
    let dir: string;
    const running: StartedApp[] = [];

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'durin-npm-start-'));
    });

    afterAll(async () => {
      await Promise.all(running.map((app) => app.stop()));
      await rm(dir, { recursive: true, force: true });
    });

    async function start(sqlitePath: string): Promise<StartedApp> {
      const app = await npmStart({ PORT: '0', SQLITE_PATH: sqlitePath });
      running.push(app);
      return app;
    }

    it('creates, migrates and seeds a new SQLite file, and a restart reuses it', async () => {
      // A folder that does not exist yet, as sample-app/data/ on a fresh clone.
      const sqlitePath = join(dir, 'fresh', 'data', 'sample.sqlite');
      const first = await start(sqlitePath);
      expect(first.output()).toContain(
        'Created the demo user: username "demo", password "demo-password"',
      );
      expect(first.output()).toContain('Seeded client web, client mobile, client api, user demo');
      expect(first.output()).toContain(`curl ${first.baseUrl}/`);

      const hello = await fetch(`${first.baseUrl}/`);
      expect(hello.status).toBe(200);
      expect(await hello.json()).toMatchObject({ name: 'nestjs-durin sample' });
      const login = await fetch(`${first.baseUrl}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'demo', password: 'demo-password', client: 'web' }),
      });
      expect(login.status).toBe(200);
      const { accessToken } = (await login.json()) as { accessToken: string };
      await first.stop();

      const second = await start(sqlitePath);
      expect(second.output()).not.toContain('Seeded');
      expect(second.output()).not.toContain('Created the demo user');
      // Same file: the user, the clients and the session of the first run are all still there.
      const me = await fetch(`${second.baseUrl}/me`, {
        headers: { authorization: `Bearer ${accessToken}` },
      });
      expect(me.status).toBe(200);
      expect(await me.json()).toMatchObject({
        user: { username: 'demo' },
        session: { client: 'web' },
      });
    });

    it('runs on PostgreSQL with DB_TYPE=postgres and DATABASE_URL', async () => {
      const db = await createTestDatabase('postgres');
      try {
        const app = await npmStart({
          PORT: '0',
          DB_TYPE: 'postgres',
          DATABASE_URL: (db.options as { url: string }).url,
        });
        running.push(app);
        expect(app.output()).toContain('Seeded client web, client mobile, client api, user demo');
        const login = await fetch(`${app.baseUrl}/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'demo', password: 'demo-password', client: 'mobile' }),
        });
        expect(login.status).toBe(200);
        await app.stop();
      } finally {
        await db.drop();
      }
    });

    it('refuses to start on a bad setting and names it', async () => {
      await expect(npmStart({ PORT: '0', DB_TYPE: 'mysql' })).rejects.toThrow(
        /exited with 1 before listening[\s\S]*DB_TYPE must be sqlite or postgres \(got mysql\)/,
      );
    });
  });
});
