import type { ObjectLiteral } from 'typeorm';

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
/** Batches on their way to the database at once; lookups wait for a free slot. */
export const MAX_BATCHES_IN_FLIGHT = 4;

interface Waiter<T> {
  readonly hashes: readonly string[];
  resolve(entity: T | null): void;
  reject(error: unknown): void;
}

/**
 * Coalesces the access-token lookups of concurrent cold requests into one statement
 * (`token_hash IN (…)`), DataLoader-style.
 *
 * Why: on the cold path the round trip, not the index lookup, is the cost. Each statement is a
 * socket write and read on both sides, a protocol exchange and an executor start in the database,
 * whatever it finds; under load those fixed costs dominate the app's and the database's CPU (the
 * profile of `npm run bench`'s cold case: the socket write alone was a third of the app's time).
 * One statement for the lookups that arrive in the same turn of the event loop pays them once.
 *
 * It adds no waiting of its own: lookups are sent at the end of the current turn
 * (`setImmediate`), so a lone request goes out at once, alone. Batches grow only when requests
 * arrive faster than the database answers: at most {@link MAX_BATCHES_IN_FLIGHT} are in flight,
 * and what arrives meanwhile goes out together when one returns.
 *
 * Each lookup still gets its own answer: rows are matched to their lookups by hash and every
 * lookup gets a new entity (two requests with one token never share an object). A failed
 * statement fails every lookup in it, which the caller turns into a 503 as for a lone one.
 */
export class AccessLookupBatcher<T> {
  private pending: Waiter<T>[] = [];
  private scheduled = false;
  private inFlight = 0;

  /** @param lookupFor the statement for exactly `hashCount` hashes (a power of two). */
  constructor(private readonly lookupFor: (hashCount: number) => BatchableLookup<T>) {}

  /** The token stored under one of `hashes` (newest pepper first), or `null`. */
  find(hashes: readonly string[]): Promise<T | null> {
    return new Promise<T | null>((resolve, reject) => {
      this.pending.push({ hashes, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.pending.length === 0 || this.inFlight >= MAX_BATCHES_IN_FLIGHT) {
      return;
    }
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.pending.length > 0 && this.inFlight < MAX_BATCHES_IN_FLIGHT) {
      const batch = this.takeBatch();
      this.inFlight += 1;
      void this.send(batch).finally(() => {
        this.inFlight -= 1;
        this.schedule();
      });
    }
  }

  /** The oldest lookups, as many as fit in {@link MAX_BATCH_HASHES} (always at least one). */
  private takeBatch(): Waiter<T>[] {
    let count = 0;
    let taken = 0;
    while (taken < this.pending.length) {
      const next = this.pending[taken].hashes.length;
      if (taken > 0 && count + next > MAX_BATCH_HASHES) break;
      count += next;
      taken += 1;
    }
    return this.pending.splice(0, taken);
  }

  private async send(batch: readonly Waiter<T>[]): Promise<void> {
    try {
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
    } catch (error) {
      for (const waiter of batch) waiter.reject(error);
    }
  }
}

/** The smallest power of two that holds `count` hashes. */
export function bucketSize(count: number): number {
  let size = 1;
  while (size < count) size *= 2;
  return size;
}
