import type { Logger } from 'typeorm';

/**
 * A TypeORM logger that records every SQL statement a data source sends, and prints nothing: to
 * count round trips and writes, and to prove that some requests reach no database at all.
 */
export class QueryCounter implements Logger {
  readonly queries: string[] = [];

  logQuery(query: string): void {
    this.queries.push(query);
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}

  reset(): void {
    this.queries.length = 0;
  }

  /** All statements so far (also a mark for {@link writesSince}). */
  get count(): number {
    return this.queries.length;
  }

  /** Statements of one kind. */
  countOf(kind: 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE'): number {
    return this.queries.filter((query) => query.trimStart().toUpperCase().startsWith(kind)).length;
  }

  /** Statements other than transaction control. */
  get statements(): string[] {
    return this.queries.filter(
      (query) => !/^(START TRANSACTION|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)/i.test(query),
    );
  }

  /** Token lookups by access-token hash, i.e. authentications that reached the store. */
  get lookups(): number {
    return this.queries.filter((q) => /token_hash"? IN/i.test(q)).length;
  }

  /** Statements that change data (transaction control excluded) since `mark` (a past `count`). */
  writesSince(mark: number): string[] {
    return this.queries.slice(mark).filter((query) => /^\s*(INSERT|UPDATE|DELETE)\b/i.test(query));
  }
}
