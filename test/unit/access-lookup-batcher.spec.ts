import type { ObjectLiteral } from 'typeorm';
import {
  AccessLookupBatcher,
  BatchableLookup,
  bucketSize,
  MAX_BATCH_HASHES,
  MAX_BATCHES_IN_FLIGHT,
} from '../../lib/store/access-lookup-batcher';

/**
 * The coalescing rules of the lookup batcher, against an in-memory table (the same batcher runs
 * against PostgreSQL and MariaDB in test/integration/lookup-batching.int-spec.ts).
 */

interface Entity {
  id: string;
  hash: string;
}

/** A table of hash → id, with every statement recorded; `release()` answers the held ones. */
class FakeTable {
  readonly statements: string[][] = [];
  inFlight = 0;
  maxInFlight = 0;
  fail: Error | undefined;
  private held: Array<() => void> = [];
  hold = false;

  constructor(private readonly rowsByHash: Map<string, string>) {}

  lookupFor = (count: number): BatchableLookup<Entity> => ({
    hashKey: 'token_hash',
    rows: async (hashes) => {
      expect(hashes).toHaveLength(count);
      this.statements.push([...hashes]);
      this.inFlight += 1;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      if (this.hold) await new Promise<void>((resolve) => this.held.push(resolve));
      else await Promise.resolve();
      this.inFlight -= 1;
      if (this.fail) throw this.fail;
      // IN semantics: a repeated hash matches its row once.
      return [...new Set(hashes)]
        .filter((hash) => this.rowsByHash.has(hash))
        .map((hash) => ({ token_hash: hash, token_id: this.rowsByHash.get(hash) }));
    },
    toEntity: (rows: ObjectLiteral[]) =>
      rows.length === 0
        ? null
        : { id: rows[0].token_id as string, hash: rows[0].token_hash as string },
  });

  release(): void {
    const held = this.held;
    this.held = [];
    for (const resolve of held) resolve();
  }
}

const tableOf = (count: number) =>
  new FakeTable(new Map(Array.from({ length: count }, (_, i) => [`h${i}`, `id${i}`])));

describe('AccessLookupBatcher', () => {
  it('sends a lone lookup at once, alone, in a statement for one hash', async () => {
    const table = tableOf(3);
    const batcher = new AccessLookupBatcher(table.lookupFor);
    await expect(batcher.find(['h1'])).resolves.toEqual({ id: 'id1', hash: 'h1' });
    expect(table.statements).toEqual([['h1']]);
  });

  it('sends the lookups of one turn of the event loop as one statement, each with its answer', async () => {
    const table = tableOf(20);
    const batcher = new AccessLookupBatcher(table.lookupFor);
    const found = await Promise.all(
      Array.from({ length: 20 }, (_, i) => batcher.find([`h${19 - i}`])),
    );
    expect(found.map((entity) => entity?.id)).toEqual(
      Array.from({ length: 20 }, (_, i) => `id${19 - i}`),
    );
    expect(table.statements).toHaveLength(1);
    // Padded to the bucket of 32 with the last hash repeated.
    expect(table.statements[0]).toHaveLength(32);
    expect(new Set(table.statements[0]).size).toBe(20);
  });

  it('answers null to a lookup whose token is not there, next to ones that are', async () => {
    const table = tableOf(2);
    const batcher = new AccessLookupBatcher(table.lookupFor);
    const [known, unknown] = await Promise.all([batcher.find(['h0']), batcher.find(['nope'])]);
    expect(known?.id).toBe('id0');
    expect(unknown).toBeNull();
    expect(table.statements).toHaveLength(1);
  });

  it('gives two lookups of one token two objects, and sends the hash once', async () => {
    const table = tableOf(1);
    const batcher = new AccessLookupBatcher(table.lookupFor);
    const [a, b] = await Promise.all([batcher.find(['h0']), batcher.find(['h0'])]);
    expect(a).toEqual(b);
    expect(a).not.toBe(b);
    expect(table.statements).toEqual([['h0']]);
  });

  it('takes the newest pepper’s hash first when a token matches several candidates', async () => {
    const table = new FakeTable(
      new Map([
        ['new', 'by-new'],
        ['old', 'by-old'],
      ]),
    );
    const batcher = new AccessLookupBatcher(table.lookupFor);
    await expect(batcher.find(['new', 'old'])).resolves.toEqual({ id: 'by-new', hash: 'new' });
    await expect(batcher.find(['gone', 'old'])).resolves.toEqual({ id: 'by-old', hash: 'old' });
  });

  it(`puts at most ${MAX_BATCH_HASHES} hashes in a statement and keeps ${MAX_BATCHES_IN_FLIGHT} in flight`, async () => {
    const table = tableOf(1000);
    table.hold = true;
    const batcher = new AccessLookupBatcher(table.lookupFor);
    const all = Promise.all(Array.from({ length: 1000 }, (_, i) => batcher.find([`h${i}`])));
    await new Promise((resolve) => setImmediate(resolve));
    // The first turn: four full statements went out, the rest waits for a free slot.
    expect(table.statements).toHaveLength(MAX_BATCHES_IN_FLIGHT);
    expect(table.statements.every((hashes) => hashes.length === MAX_BATCH_HASHES)).toBe(true);
    while (table.statements.flat().length < 1000) {
      table.release();
      await new Promise((resolve) => setImmediate(resolve));
    }
    table.release();
    const found = await all;
    expect(found.map((entity) => entity?.id)).toEqual(
      Array.from({ length: 1000 }, (_, i) => `id${i}`),
    );
    expect(table.maxInFlight).toBe(MAX_BATCHES_IN_FLIGHT);
    expect(table.statements.every((hashes) => hashes.length <= MAX_BATCH_HASHES)).toBe(true);
    // 1000 lookups in 16 statements: 15 full ones and one for the last 40 (padded to 64).
    expect(table.statements).toHaveLength(16);
  });

  it('never splits the candidates of one lookup over two statements', async () => {
    const table = tableOf(0);
    const batcher = new AccessLookupBatcher(table.lookupFor);
    const lookups = Array.from({ length: 30 }, (_, i) => [`a${i}`, `b${i}`, `c${i}`]);
    await Promise.all(lookups.map((hashes) => batcher.find(hashes)));
    const sent = table.statements.map((hashes) => new Set(hashes));
    for (const hashes of lookups) {
      expect(sent.filter((set) => hashes.every((hash) => set.has(hash)))).toHaveLength(1);
    }
    // 21 lookups (63 hashes) fit in the first statement.
    expect(table.statements.map((hashes) => new Set(hashes).size)).toEqual([63, 27]);
  });

  it('fails every lookup of a failed statement, and the next statement works again', async () => {
    const table = tableOf(4);
    const batcher = new AccessLookupBatcher(table.lookupFor);
    table.fail = new Error('connection terminated');
    const failed = await Promise.allSettled([batcher.find(['h0']), batcher.find(['h1'])]);
    expect(failed.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect((failed[0] as PromiseRejectedResult).reason).toBe(table.fail);
    table.fail = undefined;
    await expect(batcher.find(['h2'])).resolves.toEqual({ id: 'id2', hash: 'h2' });
  });

  it('fails only the lookup whose rows cannot be turned into an entity', async () => {
    const table = tableOf(2);
    const lookupFor = (count: number): BatchableLookup<Entity> => {
      const inner = table.lookupFor(count);
      return {
        ...inner,
        toEntity: (rows) => {
          if (rows[0]?.token_hash === 'h1') throw new Error('bad row');
          return inner.toEntity(rows);
        },
      };
    };
    const batcher = new AccessLookupBatcher(lookupFor);
    const [ok, bad] = await Promise.allSettled([batcher.find(['h0']), batcher.find(['h1'])]);
    expect(ok).toEqual({ status: 'fulfilled', value: { id: 'id0', hash: 'h0' } });
    expect(bad.status).toBe('rejected');
  });

  it.each([
    [1, 1],
    [2, 2],
    [3, 4],
    [33, 64],
    [64, 64],
  ])('puts %i hashes in a statement for %i', (count, size) => {
    expect(bucketSize(count)).toBe(size);
  });
});
