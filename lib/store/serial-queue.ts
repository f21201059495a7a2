/**
 * Runs async tasks one at a time, in order.
 *
 * SQLite drivers give TypeORM a single connection; two overlapping transactions on it would nest as
 * savepoints of each other and commit or roll back each other's work. Our own transactions are
 * therefore queued on SQLite (on PostgreSQL each gets its own pooled connection instead).
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
