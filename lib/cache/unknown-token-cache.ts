/**
 * Hashes of tokens the database did not know (or knew only as revoked), so a client that keeps
 * retrying the same dead token costs one query per `ttlMs` instead of one per request.
 *
 * Kept apart from the main cache on purpose: it has its own small bound, so however many unknown
 * tokens arrive they only ever evict each other, never a verified entry (REQ-CACHE-04). It cannot
 * help against a flood of *distinct* random tokens (each is new); the checksum in the token format
 * already stops random strings before they reach the database, and with `tokenTagKey` the keyed
 * tag stops well-formed forgeries too (token-tag.ts), before this cache is even asked.
 *
 * Safe because an unknown hash cannot become valid later: a new token's hash is 256 random bits
 * nobody knew before it was issued, and a revoked token stays revoked.
 */
export class UnknownTokenCache {
  /** hash → injectable-clock time until which the answer is reused. */
  private readonly entries = new Map<string, number>();

  constructor(
    readonly max: number,
    readonly ttlMs: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  has(key: string, now: number): boolean {
    const until = this.entries.get(key);
    if (until === undefined) return false;
    if (now >= until) {
      this.entries.delete(key);
      return false;
    }
    return true;
  }

  add(key: string, now: number): void {
    if (this.max === 0) return;
    this.entries.delete(key);
    this.entries.set(key, now + this.ttlMs);
    while (this.entries.size > this.max) {
      this.entries.delete(this.entries.keys().next().value as string);
    }
  }

  clear(): void {
    this.entries.clear();
  }
}
