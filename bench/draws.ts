/**
 * Which token each request presents: seeded, so every run (and every round) replays the same
 * sequence, and generated once before the first run so that drawing costs the load generator
 * nothing while it measures.
 */

/** mulberry32: a small, fast, seeded PRNG. Never for secrets; here only to pick indexes. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** `count` indexes in [0, n), each equally likely. */
export function uniformDraws(n: number, count: number, seed: number): Uint32Array {
  const random = seededRandom(seed);
  const draws = new Uint32Array(count);
  for (let i = 0; i < count; i += 1) draws[i] = Math.floor(random() * n);
  return draws;
}

/**
 * `count` indexes in [0, n) drawn Zipf(s): index k (rank k + 1) with probability proportional to
 * 1 / (k + 1)^s. Inverse transform over the cumulative weights (a binary search per draw). The
 * token at index 0 is the most popular; tokens are random strings, so popularity says nothing
 * about where a row sits in the table or its index.
 */
export function zipfDraws(n: number, count: number, seed: number, s = 1): Uint32Array {
  const cumulative = new Float64Array(n);
  let total = 0;
  for (let k = 0; k < n; k += 1) {
    total += 1 / Math.pow(k + 1, s);
    cumulative[k] = total;
  }
  const random = seededRandom(seed);
  const draws = new Uint32Array(count);
  for (let i = 0; i < count; i += 1) {
    const target = random() * total;
    let low = 0;
    let high = n - 1;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (cumulative[mid] < target) low = mid + 1;
      else high = mid;
    }
    draws[i] = low;
  }
  return draws;
}

/** Header factory cycling through `draws` over `items`, continuing where the last run stopped. */
export function drawn<T>(
  items: readonly T[],
  draws: Uint32Array,
  make: (item: T) => Record<string, string>,
): () => Record<string, string> {
  let i = 0;
  return () => make(items[draws[i++ % draws.length]]);
}

/** Header factory cycling through `items` in order. */
export function cycle<T>(
  items: readonly T[],
  make: (item: T) => Record<string, string>,
): () => Record<string, string> {
  let i = 0;
  return () => make(items[i++ % items.length]);
}
