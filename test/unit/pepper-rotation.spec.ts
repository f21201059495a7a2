import { TokenFormat } from '../../lib/tokens/token-format';
import { TokenHasher } from '../../lib/tokens/token-hasher';

const OLD = 'old-pepper-0123456789abcdef';
const NEW = 'new-pepper-fedcba9876543210';

/** A minimal in-memory stand-in for the unique hash column and the re-hash on use. */
function lookUp(table: Map<string, string>, hasher: TokenHasher, raw: string): string | undefined {
  const hash = hasher.candidates(raw).find((candidate) => table.has(candidate));
  if (hash === undefined) return undefined;
  const id = table.get(hash)!;
  if (hasher.isOutdated(raw, hash)) {
    table.delete(hash);
    table.set(hasher.hash(raw), id);
  }
  return id;
}

describe('pepper rotation', () => {
  const format = new TokenFormat('durin');

  it('finds a token issued under the old pepper, re-hashes it, and then works without it', () => {
    const raw = format.generate('access');
    const table = new Map<string, string>();
    table.set(new TokenHasher([OLD]).hash(raw), 'row-1');

    // Not found by a hasher that only knows the new pepper: rotation needs both for a while.
    expect(lookUp(table, new TokenHasher([NEW]), raw)).toBeUndefined();

    const rotating = new TokenHasher([NEW, OLD]);
    expect(lookUp(table, rotating, raw)).toBe('row-1');
    expect([...table.keys()]).toEqual([rotating.hash(raw)]);

    expect(lookUp(table, new TokenHasher([NEW]), raw)).toBe('row-1');
  });

  it('leaves tokens issued under the new pepper alone', () => {
    const raw = format.generate('access');
    const rotating = new TokenHasher([NEW, OLD]);
    const stored = rotating.hash(raw);
    expect(rotating.isOutdated(raw, stored)).toBe(false);
    expect(new TokenHasher([NEW]).candidates(raw)).toEqual([stored]);
  });
});
