import { createHash } from 'node:crypto';
import { DataSource, QueryRunner } from 'typeorm';

/** Same namespace as the per-user locks ("DRN1"), so ours never collide with an app's own. */
const ADVISORY_LOCK_NAMESPACE = 0x44524e31;

/**
 * SQLite runs (by our own tests and by apps that start two Nest apps in one process) that share
 * one database file. Instances in separate processes on one SQLite file are not coordinated; see
 * {@link withCleanupLock}.
 */
const sqliteHolders = new Set<string>();

/**
 * Runs `work` only if no other instance on the same database is running it, and says whether it
 * ran. The lock is held for the whole run on a connection of its own and belongs to that
 * connection's session, so a crashed instance releases it by losing the connection: nothing to
 * expire, nothing to clean up by hand.
 *
 * - PostgreSQL: `pg_try_advisory_lock` (session level, two keys: our namespace and a hash of the
 *   table), released with `pg_advisory_unlock`.
 * - MySQL/MariaDB: `GET_LOCK(name, 0)` / `RELEASE_LOCK(name)`, also per session.
 * - SQLite: one runner per database file within this process; SQLite serialises writers anyway,
 *   and several processes on one SQLite file are not a deployment the scheduler coordinates.
 *
 * A lock that cannot be taken (or a failing database) means "not this time": the caller tries at
 * its next tick.
 */
export async function withCleanupLock<R>(
  dataSource: DataSource,
  table: string,
  work: () => Promise<R>,
): Promise<{ ran: true; result: R } | { ran: false }> {
  const type = dataSource.options.type;
  const name = `durin-cleanup:${table}`;
  if (type !== 'postgres' && type !== 'mysql' && type !== 'mariadb') {
    const key = `${String(dataSource.options.database)}|${name}`;
    if (sqliteHolders.has(key)) return { ran: false };
    sqliteHolders.add(key);
    try {
      return { ran: true, result: await work() };
    } finally {
      sqliteHolders.delete(key);
    }
  }
  const runner = dataSource.createQueryRunner();
  try {
    await runner.connect();
    if (!(await tryLock(runner, type, name))) return { ran: false };
    try {
      return { ran: true, result: await work() };
    } finally {
      await unlock(runner, type, name).catch(() => undefined);
    }
  } finally {
    await runner.release();
  }
}

function pgKey(name: string): number {
  return createHash('sha256').update(name).digest().readInt32BE(0);
}

async function tryLock(runner: QueryRunner, type: string, name: string): Promise<boolean> {
  if (type === 'postgres') {
    const rows = (await runner.query('SELECT pg_try_advisory_lock($1, $2) AS locked', [
      ADVISORY_LOCK_NAMESPACE,
      pgKey(name),
    ])) as Array<{ locked: boolean }>;
    return rows[0]?.locked === true;
  }
  const rows = (await runner.query('SELECT GET_LOCK(?, 0) AS locked', [name])) as Array<{
    locked: number | string | null;
  }>;
  return Number(rows[0]?.locked) === 1;
}

async function unlock(runner: QueryRunner, type: string, name: string): Promise<void> {
  if (type === 'postgres') {
    await runner.query('SELECT pg_advisory_unlock($1, $2)', [ADVISORY_LOCK_NAMESPACE, pgKey(name)]);
    return;
  }
  await runner.query('SELECT RELEASE_LOCK(?)', [name]);
}
