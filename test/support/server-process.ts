import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * What the private database servers of the test run (PostgreSQL, MariaDB) share: pid files,
 * time limits, and the clean-up of directories that a killed run left behind.
 */

/** Where a server's root directory records the pid of the jest process that owns it. */
export const OWNER_FILE = 'owner.pid';

/** A directory without a readable owner is left alone this long: its run may still be starting. */
const UNOWNED_DIR_GRACE_MS = 10 * 60_000;

export async function readPid(file: string): Promise<number | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  const pid = Number.parseInt(text?.split('\n', 1)[0] ?? '', 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Removes the root directories named `<prefix>…` in the temp directory whose jest process is gone
 * (crash, SIGKILL, CI timeout), after `stopServer(rootDir)` has ended a server still running there.
 */
export async function removeStaleServerDirs(
  prefix: string,
  stopServer: (rootDir: string) => Promise<void>,
): Promise<void> {
  const base = tmpdir();
  for (const name of await readdir(base)) {
    if (!name.startsWith(prefix)) continue;
    const rootDir = join(base, name);
    const owner = await readPid(join(rootDir, OWNER_FILE));
    if (owner !== undefined && isAlive(owner)) continue;
    if (owner === undefined) {
      const info = await stat(rootDir).catch(() => undefined);
      if (info === undefined || Date.now() - info.mtimeMs < UNOWNED_DIR_GRACE_MS) continue;
    }
    await stopServer(rootDir);
    await rm(rootDir, { recursive: true, force: true });
  }
}
