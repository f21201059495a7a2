import { createHash } from 'node:crypto';
import { DataSource, ObjectLiteral, QueryFailedError } from 'typeorm';

/** The part of node-postgres's `Pool` used here (pg ships no typings in this repo). */
interface PgPool {
  query(config: {
    name?: string;
    text: string;
    values: unknown[];
  }): Promise<{ rows: ObjectLiteral[] }>;
}

/** What TypeORM's PostgresDriver exposes at run time. */
interface PostgresDriverInternals {
  isReplicated?: boolean;
  master?: Partial<PgPool>;
}

/** SQLSTATEs meaning "this connection cannot keep named statements" (e.g. PgBouncer in transaction mode). */
const PREPARED_STATEMENT_ERRORS = new Set(['26000', '42P05']);

/**
 * One SQL text of the request path, run as a named prepared statement on PostgreSQL.
 *
 * Each pooled connection parses and plans the statement once instead of on every call, which is
 * most of the database's work for the token lookup (`bench/lookup-micro.ts`: about 2.5x the
 * lookups per second of an unnamed statement on 2 cores) and for the batched writes, whose text
 * carries up to 448 parameters. Sent through the driver's pool, logged through the data source's
 * logger like every TypeORM query. Without a pool to use (another driver, or replication, where
 * reads belong on a replica) and for good once the server refuses named statements (PgBouncer in
 * transaction mode answers 26000 / 42P05), it runs through a TypeORM QueryRunner instead.
 */
export class NamedStatement {
  private readonly name: string;
  private pool: PgPool | undefined;

  /** @param mode where a QueryRunner sends it: reads may go to a replica, writes may not */
  constructor(
    private readonly dataSource: DataSource,
    readonly sql: string,
    private readonly mode: 'read' | 'write',
  ) {
    // The name depends on the text: a different statement can never reuse a prepared one.
    this.name = `durin_${createHash('sha256').update(sql).digest('hex').slice(0, 16)}`;
    const driver = dataSource.driver as unknown as PostgresDriverInternals;
    if (
      dataSource.options.type === 'postgres' &&
      !driver.isReplicated &&
      typeof driver.master?.query === 'function'
    ) {
      this.pool = driver.master as PgPool;
    }
  }

  /** The rows it answers (the RETURNING rows of a write). */
  run(values: readonly unknown[]): Promise<ObjectLiteral[]> {
    return this.pool ? this.queryPool(this.pool, values) : this.queryRunner(values);
  }

  private async queryPool(pool: PgPool, values: readonly unknown[]): Promise<ObjectLiteral[]> {
    const parameters = [...values];
    this.dataSource.logger.logQuery(this.sql, parameters);
    try {
      return (await pool.query({ name: this.name, text: this.sql, values: parameters })).rows;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && PREPARED_STATEMENT_ERRORS.has(code)) {
        this.pool = undefined;
        return this.queryRunner(values);
      }
      this.dataSource.logger.logQueryError(error as Error, this.sql, parameters);
      throw new QueryFailedError(this.sql, parameters, error as Error);
    }
  }

  private async queryRunner(values: readonly unknown[]): Promise<ObjectLiteral[]> {
    const runner = this.dataSource.createQueryRunner(
      this.mode === 'read' ? this.dataSource.defaultReplicationModeForReads() : 'master',
    );
    try {
      const result = (await runner.query(this.sql, [...values])) as unknown;
      // TypeORM's PostgreSQL runner answers [rows, affected] for an UPDATE.
      const rows = Array.isArray(result) && Array.isArray(result[0]) ? result[0] : result;
      return Array.isArray(rows) ? (rows as ObjectLiteral[]) : [];
    } finally {
      await runner.release();
    }
  }
}
