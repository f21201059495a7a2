import type { ObjectLiteral } from 'typeorm';
import { BatchWaiter, bucketSize, StatementBatcher } from './statement-batcher';

export { bucketSize } from './statement-batcher';

/** The statement the batcher sends: one per number of hashes (see `PreparedAccessLookup`). */
export interface BatchableLookup<T> {
  /** The key of the access-token hash in a raw row. */
  readonly hashKey: string;
  /** The raw rows of the tokens stored under one of `hashes`, in one round trip. */
  rows(hashes: readonly string[]): Promise<ObjectLiteral[]>;
  /** A new entity from one token's rows; `null` for none. */
  toEntity(rows: ObjectLiteral[]): T | null;
}

/** Hashes per statement at most; statements exist for 1, 2, 4, … up to this many. */
export const MAX_BATCH_HASHES = 64;
/** Lookup statements on their way to the database at once; lookups wait for a free slot. */
export const MAX_BATCHES_IN_FLIGHT = 4;

interface LookupWaiter<T> extends BatchWaiter {
  readonly hashes: readonly string[];
  resolve(entity: T | null): void;
}

/**
 * Coalesces the access-token lookups of concurrent cold requests into one statement
 * (`token_hash IN (…)`); see {@link StatementBatcher} for why and when.
 *
 * Each lookup still gets its own answer: rows are matched to their lookups by hash and every
 * lookup gets a new entity (two requests with one token never share an object). A failed
 * statement fails every lookup in it, which the caller turns into a 503 as for a lone one.
 */
export class AccessLookupBatcher<T> extends StatementBatcher<LookupWaiter<T>> {
  /** @param lookupFor the statement for exactly `hashCount` hashes (a power of two). */
  constructor(private readonly lookupFor: (hashCount: number) => BatchableLookup<T>) {
    super(MAX_BATCH_HASHES, MAX_BATCHES_IN_FLIGHT);
  }

  /** The token stored under one of `hashes` (newest pepper first), or `null`. */
  find(hashes: readonly string[]): Promise<T | null> {
    return new Promise<T | null>((resolve, reject) => {
      this.enqueue({ hashes, weight: hashes.length, resolve, reject });
    });
  }

  protected async send(batch: LookupWaiter<T>[]): Promise<void> {
    const hashes = [...new Set(batch.flatMap((waiter) => waiter.hashes))];
    const size = bucketSize(hashes.length);
    const lookup = this.lookupFor(size);
    // Padding repeats a hash: the statement's text (and its prepared plan) depends only on the
    // bucket, and a repeated value in an IN list matches nothing twice.
    while (hashes.length < size) hashes.push(hashes[hashes.length - 1]);
    const rows = await lookup.rows(hashes);
    const byHash = new Map<unknown, ObjectLiteral[]>();
    for (const row of rows) {
      const key = row[lookup.hashKey];
      const list = byHash.get(key);
      if (list === undefined) byHash.set(key, [row]);
      else list.push(row);
    }
    for (const waiter of batch) {
      // Newest pepper first, as a lone lookup would find it.
      const found = waiter.hashes.find((hash) => byHash.has(hash));
      try {
        waiter.resolve(found === undefined ? null : lookup.toEntity(byHash.get(found)!));
      } catch (error) {
        waiter.reject(error);
      }
    }
  }
}
