import { createHash } from 'node:crypto';
import { DataSource, ObjectLiteral, QueryFailedError, SelectQueryBuilder } from 'typeorm';
import { DriverUtils } from 'typeorm/driver/DriverUtils';
import { RawSqlResultsToEntityTransformer } from 'typeorm/query-builder/transformer/RawSqlResultsToEntityTransformer';

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
 * The per-request token lookup (token + user + client by access hash) with its SQL built once.
 *
 * `SelectQueryBuilder.getOne()` rebuilds the statement on every call: joins, aliases, escaping
 * and parameter expansion, all from metadata. Here the query builder is set up once (so the SQL is
 * exactly what TypeORM would send, for any driver and any user entity), its SQL and parameter
 * order are kept, and each call only sends that text with the hashes as bind parameters and turns
 * the rows into entities with TypeORM's own transformer (so column transformers, embedded columns
 * and relations hydrate exactly as with `getOne()`).
 *
 * On PostgreSQL (without replication) the statement is also a named prepared statement, sent
 * through the driver's pool: each connection parses and plans the three-table join once instead of
 * on every request, which is most of the database's work for this query (measured in
 * `bench/lookup-micro.ts`: about 2.5x the lookups per second of an unnamed statement on 2 cores).
 * If the connection cannot keep named statements (PgBouncer in transaction mode answers 26000 /
 * 42P05), the lookup falls back to unnamed statements for good.
 *
 * Not used (the caller falls back to `getOne()`) when entity listeners or subscribers exist: those
 * expect TypeORM's full load events, which only the query builder fires.
 */
export class PreparedAccessLookup<T extends ObjectLiteral> {
  /** The key of the access-token hash in a raw row (e.g. `token_token_hash`). */
  readonly hashKey: string;
  private readonly sql: string;
  private readonly statementName: string;
  private pool: PgPool | undefined;

  private constructor(
    private readonly dataSource: DataSource,
    private readonly builder: SelectQueryBuilder<T>,
    private readonly hashCount: number,
  ) {
    const [sql] = builder.getQueryAndParameters();
    this.sql = sql;
    const main = builder.expressionMap.mainAlias!;
    const hashColumn = main.metadata.findColumnWithPropertyName('tokenHash')!;
    this.hashKey = DriverUtils.buildAlias(
      dataSource.driver,
      undefined,
      main.name,
      hashColumn.databaseName,
    );
    // The name depends on the text: a different statement can never reuse a prepared one.
    const digest = createHash('sha256').update(sql).digest('hex').slice(0, 16);
    this.statementName = `durin_access_${digest}`;
    const driver = dataSource.driver as unknown as PostgresDriverInternals;
    if (
      dataSource.options.type === 'postgres' &&
      !driver.isReplicated &&
      typeof driver.master?.query === 'function'
    ) {
      this.pool = driver.master as PgPool;
    }
  }

  /**
   * A prepared lookup for `hashCount` hashes, or `undefined` when the data source has load
   * listeners or subscribers that the prepared path would skip.
   *
   * @param build the same query builder `findByAccessHash` would run, with `hashes` as its only
   *   parameter
   */
  static create<T extends ObjectLiteral>(
    dataSource: DataSource,
    hashCount: number,
    build: (hashes: string[]) => SelectQueryBuilder<T>,
  ): PreparedAccessLookup<T> | undefined {
    // Distinct placeholders, so the parameter order can be checked against what TypeORM emits.
    const placeholders = Array.from({ length: hashCount }, (_, i) => `hash-${i}`);
    const builder = build(placeholders);
    const hasListeners =
      dataSource.subscribers.length > 0 ||
      builder.expressionMap.aliases.some(
        (alias) => alias.hasMetadata && alias.metadata.afterLoadListeners.length > 0,
      );
    if (hasListeners) {
      return undefined;
    }
    const [, parameters] = builder.getQueryAndParameters();
    if (
      parameters.length !== hashCount ||
      parameters.some((value, i) => value !== placeholders[i])
    ) {
      return undefined;
    }
    return new PreparedAccessLookup(dataSource, builder, hashCount);
  }

  /** One round trip; `null` when no row matches. */
  async find(hashes: readonly string[]): Promise<T | null> {
    return this.toEntity(await this.rows(hashes));
  }

  /** The raw rows (token, user and client) of the tokens stored under one of `hashes`. */
  rows(hashes: readonly string[]): Promise<ObjectLiteral[]> {
    if (hashes.length !== this.hashCount) {
      throw new Error(`prepared lookup: expected ${this.hashCount} hashes, got ${hashes.length}`);
    }
    return this.pool ? this.queryPool(this.pool, hashes) : this.queryRunner(hashes);
  }

  /** The entity of one token's rows, hydrated by TypeORM's own transformer; `null` for none. */
  toEntity(rows: ObjectLiteral[]): T | null {
    if (rows.length === 0) {
      return null;
    }
    const expressionMap = this.builder.expressionMap;
    const transformer = new RawSqlResultsToEntityTransformer(
      expressionMap,
      this.dataSource.driver,
      [],
      [],
    );
    const [entity] = transformer.transform(rows, expressionMap.mainAlias!) as T[];
    return entity ?? null;
  }

  private async queryPool(pool: PgPool, hashes: readonly string[]): Promise<ObjectLiteral[]> {
    const values = [...hashes];
    // Logged like every TypeORM query, so `logging: true` and query-counting loggers see it.
    this.dataSource.logger.logQuery(this.sql, values);
    try {
      return (await pool.query({ name: this.statementName, text: this.sql, values })).rows;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && PREPARED_STATEMENT_ERRORS.has(code)) {
        this.pool = undefined;
        return this.queryRunner(hashes);
      }
      this.dataSource.logger.logQueryError(error as Error, this.sql, values);
      throw new QueryFailedError(this.sql, values, error as Error);
    }
  }

  private async queryRunner(hashes: readonly string[]): Promise<ObjectLiteral[]> {
    // Reads go where the query builder would send them (a replica, with replication set up).
    const runner = this.dataSource.createQueryRunner(
      this.dataSource.defaultReplicationModeForReads(),
    );
    try {
      return (await runner.query(this.sql, [...hashes])) as ObjectLiteral[];
    } finally {
      await runner.release();
    }
  }
}
