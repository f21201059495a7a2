import { performance } from 'node:perf_hooks';
import { AbstractAuthToken } from '../entities/abstract-auth-token.entity';

/**
 * Taken before a database read and handed back with the fill: a fill whose ticket predates an
 * invalidation that concerns its token is refused (see {@link TokenCache.set}).
 */
export type FillTicket = number;

/** Fields of a cached token that a coalesced write (touch) may change. */
export interface CachedTokenChanges {
  lastUsedAt?: Date;
  expiresAt?: Date | null;
  refreshExpiresAt?: Date | null;
  lastRefreshedAt?: Date;
}

interface Entry<T extends AbstractAuthToken> {
  /** Never handed out: every hit gets its own copy, so a caller cannot change what others see. */
  readonly snapshot: Snapshot<T>;
  readonly id: string;
  readonly familyId: string;
  readonly userKey: string;
  /** Injectable-clock time of the database read the snapshot comes from. */
  readonly filledAt: number;
  /** Monotonic time of that read: the max age also holds when the wall clock is moved. */
  readonly filledAtMono: number;
  /** Injectable-clock time from which the entry may not be used: min(max age, token expiries). */
  deadline: number;
  /** {@link TokenCache.moves} when the entry was last put at the recent end of the map. */
  movedAt: number;
}

/** Counters for tests and the benchmark. */
export interface TokenCacheStats {
  size: number;
  hits: number;
  misses: number;
  fills: number;
  refusedFills: number;
  evictions: number;
  invalidations: number;
}

/**
 * Invalidation records kept for in-flight fills. Past this many the oldest are forgotten, and any
 * fill that started before a forgotten record is refused: safe, merely a missed fill.
 */
const MAX_INVALIDATION_RECORDS = 10_000;

/**
 * A bounded LRU of verified tokens (with their user), keyed by the access-token HASH.
 *
 * - The key is the stored hash, never the raw token, so a heap dump holds nothing a client could
 *   present (REQ-CACHE-04).
 * - Only tokens that passed every check are stored: an unknown token can never take a slot, so a
 *   flood of made-up tokens cannot evict the valid ones.
 * - An entry lives at most `ttlMs` after the database read (on both the injectable and the
 *   monotonic clock) and never past the token's own `expiresAt` / `absoluteExpiresAt`; the caller
 *   still re-checks expiry on every hit (REQ-CACHE-03).
 * - Secondary indexes by token id, family and user let every revocation drop exactly the entries
 *   it concerns.
 * - Read/revoke race: a request that read the row just before a revocation committed must not put
 *   the then-live row into the cache after the revocation invalidated it. Every invalidation is
 *   numbered; a fill carries the number current before its read ({@link ticket}) and is refused if
 *   a later invalidation concerns its token, family or user, or cleared everything.
 *
 * Map iteration order is insertion order, so "delete then set" on a hit makes the first key the
 * least recently used one: O(1) get, set and eviction without a linked list of our own. A hit on
 * an entry already in the most recent quarter skips the move (nearly-LRU: the order inside that
 * quarter is approximate, nothing there is near eviction).
 */
export class TokenCache<T extends AbstractAuthToken = AbstractAuthToken> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly byId = new Map<string, string>();
  private readonly byFamily = new Map<string, Set<string>>();
  private readonly byUser = new Map<string, Set<string>>();

  /** Sequence number of the last invalidation. */
  private sequence = 0;
  /** Last invalidation that affected everything (clear, or records forgotten). */
  private clearedAt = 0;
  /** `t:<id>`, `f:<family>`, `u:<user>` → sequence of the last invalidation of it, oldest first. */
  private readonly records = new Map<string, number>();

  /** Counts puts at the recent end of the map (fills and hits that moved their entry). */
  private moves = 0;
  /** A hit moves its entry only if more puts than this came after it (see {@link get}). */
  private readonly moveAfter: number;
  private hits = 0;
  private misses = 0;
  private fills = 0;
  private refusedFills = 0;
  private evictions = 0;

  /**
   * @param max most entries kept (least recently used evicted first)
   * @param ttlMs longest an entry is used after the read it comes from
   * @param userKeyOf the user's id as a string, for the user index
   */
  constructor(
    readonly max: number,
    readonly ttlMs: number,
    private readonly userKeyOf: (token: T) => string,
  ) {
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new RangeError('TokenCache max must be a positive integer');
    }
    this.moveAfter = Math.floor(max / 4);
  }

  get size(): number {
    return this.entries.size;
  }

  /** A copy of the cached token for `key`, or `undefined` when absent or past its deadline. */
  get(key: string, now: number): T | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) {
      this.misses += 1;
      return undefined;
    }
    if (now >= entry.deadline || performance.now() - entry.filledAtMono >= this.ttlMs) {
      this.remove(key, entry);
      this.misses += 1;
      return undefined;
    }
    // LRU order, without a delete and a set on every hit: an entry with fewer than max/4 puts after
    // it is in the most recent quarter of the map, far from eviction, so moving it changes no
    // eviction for another 3/4·max puts. A hot set then hits without touching the map's order.
    if (this.moves - entry.movedAt > this.moveAfter) {
      this.entries.delete(key);
      this.entries.set(key, entry);
      entry.movedAt = ++this.moves;
    }
    this.hits += 1;
    return entry.snapshot.copy();
  }

  /** The ticket to pass to {@link set} for a read that starts now. */
  ticket(): FillTicket {
    return this.sequence;
  }

  /**
   * Stores a verified token read from the database under `key` (its access hash). Refused (returns
   * `false`) when an invalidation concerning it happened after `ticket` was taken, or when it is
   * already past its deadline.
   */
  set(key: string, token: T, ticket: FillTicket, now: number): boolean {
    const userKey = this.userKeyOf(token);
    if (
      ticket < this.clearedAt ||
      (this.records.get(`t:${token.id}`) ?? -1) > ticket ||
      (this.records.get(`f:${token.familyId}`) ?? -1) > ticket ||
      (this.records.get(`u:${userKey}`) ?? -1) > ticket
    ) {
      this.refusedFills += 1;
      return false;
    }
    const entry: Entry<T> = {
      snapshot: new Snapshot(token),
      id: token.id,
      familyId: token.familyId,
      userKey,
      filledAt: now,
      filledAtMono: performance.now(),
      deadline: 0,
      movedAt: ++this.moves,
    };
    entry.deadline = this.deadlineOf(entry);
    if (entry.deadline <= now) {
      return false;
    }
    const previous = this.entries.get(key);
    if (previous !== undefined) {
      this.remove(key, previous);
    }
    this.entries.set(key, entry);
    this.byId.set(entry.id, key);
    addTo(this.byFamily, entry.familyId, key);
    addTo(this.byUser, entry.userKey, key);
    this.fills += 1;
    while (this.entries.size > this.max) {
      const oldest = this.entries.keys().next().value as string;
      this.remove(oldest, this.entries.get(oldest)!);
      this.evictions += 1;
    }
    return true;
  }

  /**
   * Applies a committed coalesced write (last use, sliding expiry) to the cached snapshot, so the
   * next hit decides the next write from it. The max age stays counted from the original read.
   */
  update(key: string, changes: CachedTokenChanges): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    entry.snapshot.update(changes);
    entry.deadline = this.deadlineOf(entry);
  }

  /** Drops one entry by key (no invalidation record: for entries found stale by the caller). */
  delete(key: string): void {
    const entry = this.entries.get(key);
    if (entry !== undefined) this.remove(key, entry);
  }

  /** Drops the token with this id and refuses in-flight fills of it. */
  invalidateToken(id: string): void {
    this.record(`t:${id}`);
    const key = this.byId.get(id);
    if (key !== undefined) this.delete(key);
  }

  /** Drops every token of a session family (a device's rotation chain). */
  invalidateFamily(familyId: string): void {
    this.record(`f:${familyId}`);
    this.deleteAll(this.byFamily.get(familyId));
  }

  /** Drops every token of a user (logout-all, deactivation, password change). */
  invalidateUser(userKey: string): void {
    this.record(`u:${userKey}`);
    this.deleteAll(this.byUser.get(userKey));
  }

  /** Drops everything and refuses every fill in flight. */
  clear(): void {
    this.sequence += 1;
    this.clearedAt = this.sequence;
    this.records.clear();
    this.entries.clear();
    this.byId.clear();
    this.byFamily.clear();
    this.byUser.clear();
  }

  /** Removes entries past their deadline (memory only: a hit checks the deadline anyway). */
  prune(now: number): number {
    let removed = 0;
    const monoNow = performance.now();
    for (const [key, entry] of this.entries) {
      if (now >= entry.deadline || monoNow - entry.filledAtMono >= this.ttlMs) {
        this.remove(key, entry);
        removed += 1;
      }
    }
    return removed;
  }

  /** The cache keys (token hashes), least recently used first. For inspection and tests. */
  keys(): string[] {
    return [...this.entries.keys()];
  }

  stats(): TokenCacheStats {
    return {
      size: this.entries.size,
      hits: this.hits,
      misses: this.misses,
      fills: this.fills,
      refusedFills: this.refusedFills,
      evictions: this.evictions,
      invalidations: this.sequence,
    };
  }

  private deadlineOf(entry: Entry<T>): number {
    const token = entry.snapshot.token;
    return Math.min(
      entry.filledAt + this.ttlMs,
      token.expiresAt?.getTime() ?? Infinity,
      token.absoluteExpiresAt?.getTime() ?? Infinity,
    );
  }

  private record(name: string): void {
    this.sequence += 1;
    // Re-inserting keeps the map ordered by sequence, so the oldest record is always first.
    this.records.delete(name);
    this.records.set(name, this.sequence);
    if (this.records.size > MAX_INVALIDATION_RECORDS) {
      const [oldest, sequence] = this.records.entries().next().value as [string, number];
      this.records.delete(oldest);
      // A fill that started before the forgotten record might concern it: refuse those.
      this.clearedAt = Math.max(this.clearedAt, sequence);
    }
  }

  private deleteAll(keys: Set<string> | undefined): void {
    if (keys === undefined) return;
    for (const key of [...keys]) this.delete(key);
  }

  private remove(key: string, entry: Entry<T>): void {
    this.entries.delete(key);
    if (this.byId.get(entry.id) === key) this.byId.delete(entry.id);
    removeFrom(this.byFamily, entry.familyId, key);
    removeFrom(this.byUser, entry.userKey, key);
  }
}

function addTo(index: Map<string, Set<string>>, name: string, key: string): void {
  const keys = index.get(name);
  if (keys === undefined) index.set(name, new Set([key]));
  else keys.add(key);
}

function removeFrom(index: Map<string, Set<string>>, name: string, key: string): void {
  const keys = index.get(name);
  if (keys === undefined) return;
  keys.delete(key);
  if (keys.size === 0) index.delete(name);
}

type Copier = (prototype: object | null, source: object) => object;

/**
 * A copier specialised to one list of keys. Copies are on the path of every cache hit, and
 * generic copying is slow for TypeORM-hydrated entities: `Object.assign(Object.create(p), s)` or
 * a loop over the keys cost 2-6 us per token in the running app, because every entity shape goes
 * through the same megamorphic property stores. A function generated per shape has monomorphic
 * stores and copies a token in well under 0.1 us. The keys are the entity's own property names,
 * embedded as JSON string literals, so nothing from a request ever reaches the generated code.
 * Where code generation is disabled (`--disallow-code-generation-from-strings`) the loop is used.
 */
function copierFor(keys: readonly string[]): Copier {
  // One copier per distinct key list, shared by every entry of that shape: a fresh function per
  // fill would be recompiled and re-warmed all the time (entries are refilled every ttl).
  const signature = keys.join('\u0000');
  const known = COPIERS.get(signature);
  if (known !== undefined) return known;
  const copier = buildCopier(keys);
  if (COPIERS.size < MAX_COPIERS) COPIERS.set(signature, copier);
  return copier;
}

/** Shapes seen in practice: the token model, the user entity, the client. Bounded regardless. */
const MAX_COPIERS = 64;
const COPIERS = new Map<string, Copier>();

function buildCopier(keys: readonly string[]): Copier {
  const loop: Copier = (prototype, source) => {
    const copy = Object.create(prototype) as Record<string, unknown>;
    for (let i = 0; i < keys.length; i += 1) {
      copy[keys[i]] = (source as Record<string, unknown>)[keys[i]];
    }
    return copy;
  };
  try {
    const assignments = keys.map((key) => `c[${JSON.stringify(key)}] = s[${JSON.stringify(key)}];`);
    return new Function(
      'p',
      's',
      `const c = Object.create(p);\n${assignments.join('\n')}\nreturn c;`,
    ) as Copier;
  } catch {
    return loop;
  }
}

/** One object's own properties and prototype, with a copier made for them. */
class Shape<O extends object> {
  private readonly prototype: object | null;
  private copier: Copier;

  constructor(readonly source: O) {
    this.prototype = Object.getPrototypeOf(source) as object | null;
    this.copier = copierFor(Object.keys(source));
  }

  copy(): O {
    return this.copier(this.prototype, this.source) as O;
  }

  assign(changes: object): void {
    const before = Object.keys(this.source).length;
    Object.assign(this.source, changes);
    if (Object.keys(this.source).length !== before) {
      this.copier = copierFor(Object.keys(this.source));
    }
  }
}

/**
 * A private copy of a verified token (with its user, client and context), from which each hit
 * gets its own copy, deep enough that a request changing its token, user, client or context (a
 * post-auth hook, a handler) cannot change what the next request sees. Dates are shared: nothing
 * in the library mutates a Date, it replaces it.
 */
class Snapshot<T extends AbstractAuthToken> {
  private readonly shape: Shape<T>;
  private readonly user: Shape<object> | undefined;
  private readonly client: Shape<object> | undefined;

  constructor(token: T) {
    const own = copyToken(token);
    this.shape = new Shape(own);
    this.user = isObject(own.user) ? new Shape(own.user) : undefined;
    this.client = isObject(own.client) ? new Shape(own.client) : undefined;
  }

  get token(): T {
    return this.shape.source;
  }

  copy(): T {
    const copy = this.shape.copy();
    if (this.user !== undefined) copy.user = this.user.copy();
    if (this.client !== undefined) copy.client = this.client.copy() as T['client'];
    if (isObject(copy.context)) copy.context = { ...copy.context };
    // A handler pushing onto its token's abilities must not widen the next request's (issue 11).
    if (Array.isArray(copy.abilities)) copy.abilities = [...copy.abilities];
    return copy;
  }

  update(changes: CachedTokenChanges): void {
    this.shape.assign(changes);
  }
}

function isObject(value: unknown): value is object {
  return value !== null && typeof value === 'object';
}

function copyObject<O extends object>(source: O): O {
  return Object.assign(Object.create(Object.getPrototypeOf(source) as object) as O, source);
}

/** A copy of a token with its own user, client and context objects (see {@link Snapshot}). */
export function copyToken<T extends AbstractAuthToken>(token: T): T {
  const copy = copyObject(token);
  if (isObject(token.user)) copy.user = copyObject(token.user);
  if (isObject(token.client)) copy.client = copyObject(token.client);
  if (isObject(token.context)) copy.context = { ...token.context };
  if (Array.isArray(token.abilities)) copy.abilities = [...token.abilities];
  return copy;
}
