import { Logger as TypeOrmLogger } from 'typeorm';

/**
 * Counts every SQL statement an app's data source sends (TypeORM calls `logQuery` for each one,
 * and nestjs-durin's prepared lookup logs through the same logger). Bench-only.
 */
export class QueryCounter implements TypeOrmLogger {
  count = 0;

  logQuery(): void {
    this.count += 1;
  }
  logQueryError(error: string | Error, query: string): void {
    process.stderr.write(`[bench app] query failed: ${String(error)} -- ${query.slice(0, 200)}\n`);
  }
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') process.stderr.write(`[bench app] typeorm: ${String(message)}\n`);
  }
}
