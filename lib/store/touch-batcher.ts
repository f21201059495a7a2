import type { DataSource } from 'typeorm';
import { NamedStatement } from './named-statement';
import { BatchWaiter, bucketSize, StatementBatcher } from './statement-batcher';

/** Rows per statement at most; statements exist for 1, 2, 4, … up to this many. */
export const MAX_BATCH_TOUCHES = 64;
/** Write statements on their way at once. */
const MAX_TOUCHES_IN_FLIGHT = 4;

/** One due write: `lastUsedAt`, and the new expiries when the token slides. */
export interface TouchRow {
  id: string;
  lastUsedAt: number;
  /** `null`: unchanged (no slide, or no expiry to slide). */
  expiresAt: number | null;
  refreshExpiresAt: number | null;
  lastRefreshedAt: number | null;
  /** The request's clock: the token must not have expired by then. */
  now: number;
  /** Written only if the row was last used at or before this (one write per interval). */
  due: number;
}

interface TouchWaiter extends BatchWaiter {
  readonly row: TouchRow;
  resolve(written: boolean): void;
}

/**
 * Coalesces the due writes of concurrent requests (`lastUsedAt`, and the slide under
 * `autoRefresh`) into one `UPDATE … FROM (VALUES …) RETURNING id` on PostgreSQL; see
 * {@link StatementBatcher} for why and when.
 *
 * Each row keeps exactly the conditions of a lone write (live at the request's own clock, not
 * written within the interval) and its own values, computed by the caller as for a lone write;
 * `RETURNING id` tells every request whether its row matched, which is why this is PostgreSQL
 * only (MySQL and MariaDB have no `UPDATE … RETURNING`: they keep one statement per write). Of two
 * writes of one token in one batch only the first is sent and can match, as when they run one
 * after the other (the second finds the row written within the interval): exactly one request
 * slides a token, whatever the batching.
 */
export class TouchBatcher extends StatementBatcher<TouchWaiter> {
  private readonly statements = new Map<number, NamedStatement>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly quotedTable: string,
  ) {
    super(MAX_BATCH_TOUCHES, MAX_TOUCHES_IN_FLIGHT);
  }

  /** Whether the row was written (it was live and no write had been made within the interval). */
  touch(row: TouchRow): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.enqueue({ row, weight: 1, resolve, reject });
    });
  }

  protected async send(batch: TouchWaiter[]): Promise<void> {
    // The first write of each token; a later one in the batch can only miss.
    const first = new Map<string, TouchWaiter>();
    for (const waiter of batch) if (!first.has(waiter.row.id)) first.set(waiter.row.id, waiter);
    const unique = [...first.values()].map((waiter) => waiter.row);
    const size = bucketSize(unique.length);
    const values: unknown[] = [];
    for (let i = 0; i < size; i++) {
      // Padding repeats the last row: it names the same id, which is written once.
      const row = unique[Math.min(i, unique.length - 1)];
      values.push(
        row.id,
        row.lastUsedAt,
        row.expiresAt,
        row.refreshExpiresAt,
        row.lastRefreshedAt,
        row.now,
        row.due,
      );
    }
    const written = await this.statement(size).run(values);
    const ids = new Set(written.map((row) => row.id as string));
    for (const waiter of batch) {
      waiter.resolve(ids.has(waiter.row.id) && first.get(waiter.row.id) === waiter);
    }
  }

  private statement(size: number): NamedStatement {
    let statement = this.statements.get(size);
    if (statement === undefined) {
      const tuples = Array.from({ length: size }, (_, i) => {
        const p = (k: number) => `$${i * 7 + k}`;
        return `(${p(1)}::varchar, ${p(2)}::bigint, ${p(3)}::bigint, ${p(4)}::bigint, ${p(5)}::bigint, ${p(6)}::bigint, ${p(7)}::bigint)`;
      });
      // The same conditions as TokenStore.touch, per row; NULL in VALUES keeps the column.
      const sql =
        `UPDATE ${this.quotedTable} AS t SET last_used_at = v.used_at, ` +
        'expires_at = COALESCE(v.expires_at, t.expires_at), ' +
        'refresh_expires_at = COALESCE(v.refresh_expires_at, t.refresh_expires_at), ' +
        'last_refreshed_at = COALESCE(v.refreshed_at, t.last_refreshed_at) ' +
        `FROM (VALUES ${tuples.join(', ')}) AS v(id, used_at, expires_at, refresh_expires_at, refreshed_at, now, due) ` +
        'WHERE t.id = v.id AND t.revoked_at IS NULL ' +
        'AND (t.expires_at IS NULL OR t.expires_at > v.now) ' +
        'AND (t.last_used_at IS NULL OR t.last_used_at <= v.due) ' +
        'RETURNING t.id';
      statement = new NamedStatement(this.dataSource, sql, 'write');
      this.statements.set(size, statement);
    }
    return statement;
  }
}
