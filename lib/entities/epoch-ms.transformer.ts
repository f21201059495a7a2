import { ValueTransformer } from 'typeorm';

/**
 * Timestamps are stored as integer milliseconds since the epoch (`bigint`).
 *
 * The same column type then behaves identically on PostgreSQL and SQLite, there is no time-zone
 * conversion in any driver to get wrong, and expiry comparisons in SQL are plain integer compares
 * against a `now` taken from the injectable clock.
 */
export const epochMs: ValueTransformer = {
  to(value: Date | null | undefined): number | null | undefined {
    return value instanceof Date ? value.getTime() : value;
  },
  from(value: string | number | null): Date | null {
    // PostgreSQL's driver returns bigint as a string to avoid precision loss; ms timestamps fit.
    return value === null || value === undefined ? null : new Date(Number(value));
  },
};

/** Milliseconds stored as `bigint`, read back as a number. */
export const integerMs: ValueTransformer = {
  to(value: number | null | undefined): number | null | undefined {
    return value;
  },
  from(value: string | number | null): number | null {
    return value === null || value === undefined ? null : Number(value);
  },
};
