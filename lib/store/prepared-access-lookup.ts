import { DataSource, ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { DriverUtils } from 'typeorm/driver/DriverUtils';
import { RawSqlResultsToEntityTransformer } from 'typeorm/query-builder/transformer/RawSqlResultsToEntityTransformer';
import { NamedStatement } from './named-statement';

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
 * The text runs as a {@link NamedStatement}: on PostgreSQL each connection parses and plans the
 * three-table join once.
 *
 * Not used (the caller falls back to `getOne()`) when entity listeners or subscribers exist: those
 * expect TypeORM's full load events, which only the query builder fires.
 */
export class PreparedAccessLookup<T extends ObjectLiteral> {
  /** The key of the access-token hash in a raw row (e.g. `token_token_hash`). */
  readonly hashKey: string;
  private readonly statement: NamedStatement;

  private constructor(
    private readonly dataSource: DataSource,
    private readonly builder: SelectQueryBuilder<T>,
    private readonly hashCount: number,
  ) {
    const [sql] = builder.getQueryAndParameters();
    this.statement = new NamedStatement(dataSource, sql, 'read');
    const main = builder.expressionMap.mainAlias!;
    const hashColumn = main.metadata.findColumnWithPropertyName('tokenHash')!;
    this.hashKey = DriverUtils.buildAlias(
      dataSource.driver,
      undefined,
      main.name,
      hashColumn.databaseName,
    );
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
    return this.statement.run(hashes);
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
}
