/** One piece of work waiting for a batched statement. */
export interface BatchWaiter {
  /** Its share of a statement's capacity (hashes of a lookup, rows of a write). */
  readonly weight: number;
  reject(error: unknown): void;
}

/**
 * The scheduling shared by the batched statements of the cold path (lookups, due writes):
 * DataLoader-style coalescing of the work of concurrent requests.
 *
 * Why: on the cold path the round trip, not the index lookup, is the cost. Each statement is a
 * socket write and read on both sides, a protocol exchange and an executor start in the database,
 * whatever it does; under load those fixed costs dominate the app's and the database's CPU (in a
 * CPU profile of uncached `authenticate` calls, 50 in flight, the socket write alone was 39 % of
 * the process's time).
 *
 * No wait of its own: work is sent at the end of the current turn of the event loop
 * (`setImmediate`), so a lone request goes out at once, alone. Batches grow only when requests
 * arrive faster than the database answers: at most `maxInFlight` statements are on their way, and
 * what arrives meanwhile goes out together when one returns, up to `maxWeight` per statement.
 */
export abstract class StatementBatcher<W extends BatchWaiter> {
  private pending: W[] = [];
  private scheduled = false;
  private inFlight = 0;

  protected constructor(
    private readonly maxWeight: number,
    private readonly maxInFlight: number,
  ) {}

  /** Sends one batch and settles its waiters; if it throws, those not settled yet fail with it. */
  protected abstract send(batch: W[]): Promise<void>;

  protected enqueue(waiter: W): void {
    this.pending.push(waiter);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.pending.length === 0 || this.inFlight >= this.maxInFlight) {
      return;
    }
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.pending.length > 0 && this.inFlight < this.maxInFlight) {
      const batch = this.takeBatch();
      this.inFlight += 1;
      this.send(batch)
        .catch((error: unknown) => {
          for (const waiter of batch) waiter.reject(error);
        })
        .finally(() => {
          this.inFlight -= 1;
          this.schedule();
        });
    }
  }

  /** The oldest waiters, as many as fit in `maxWeight` (always at least one). */
  private takeBatch(): W[] {
    let weight = 0;
    let taken = 0;
    while (taken < this.pending.length) {
      const next = this.pending[taken].weight;
      if (taken > 0 && weight + next > this.maxWeight) break;
      weight += next;
      taken += 1;
    }
    return this.pending.splice(0, taken);
  }
}

/** The smallest power of two that holds `count`: statements exist for 1, 2, 4, … only. */
export function bucketSize(count: number): number {
  let size = 1;
  while (size < count) size *= 2;
  return size;
}
