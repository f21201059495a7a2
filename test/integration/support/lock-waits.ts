import type { DurinTestApp } from './durin-test-app';

/**
 * Resolves once another query of `app` waits for a lock (PostgreSQL, MariaDB), or after the event
 * loop had the chance to start one (SQLite, whose transactions queue in-process). Bounded by time
 * rather than by a number of polls: a waiter that first opens a new pool connection (a TCP and
 * auth round trip on MariaDB) can take longer than hundreds of quick polls.
 */
export async function waitForBlockedQuery(
  app: Pick<DurinTestApp, 'kind' | 'dataSource'>,
): Promise<void> {
  if (app.kind === 'sqlite') {
    for (let turn = 0; turn <= 10; turn++) await new Promise((resolve) => setImmediate(resolve));
    return;
  }
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if ((await lockWaits(app)) > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error('the concurrent query never started waiting for a lock');
}

/** How many sessions on `app`'s database wait for a lock right now. */
export async function lockWaits(app: Pick<DurinTestApp, 'kind' | 'dataSource'>): Promise<number> {
  if (app.kind === 'sqlite') return 0;
  const sql =
    app.kind === 'postgres'
      ? "SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
      : // INNODB_TRX does not always list a transaction whose first statement waits (MariaDB
        // takes a primary-key row lock while still planning, state "Statistics"), so a locking
        // read that has run for over 20 ms counts as well: without a wait it takes microseconds.
        'SELECT COUNT(*) AS waiting FROM information_schema.PROCESSLIST ' +
        "WHERE DB = DATABASE() AND ID <> CONNECTION_ID() AND COMMAND = 'Query' " +
        "AND INFO LIKE '%FOR UPDATE' AND TIME_MS > 20";
  const [row] = (await app.dataSource.query(sql)) as Array<{ waiting: number | string }>;
  return Number(row.waiting);
}
