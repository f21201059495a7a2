import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager, ObjectLiteral, Repository, SelectQueryBuilder } from 'typeorm';
import { AbstractAuthToken, RevocationReason } from '../entities/abstract-auth-token.entity';
import { ClientEntity } from '../entities/client.entity';
import { AccessLookupBatcher } from './access-lookup-batcher';
import { cleanupParts } from './cleanup-plan';
import { PreparedAccessLookup } from './prepared-access-lookup';
import { SerialQueue } from './serial-queue';
import { TouchBatcher } from './touch-batcher';

/** Alias of the joined user. Not `user`: that is a reserved word in PostgreSQL. */
const OWNER = 'owner';
const CLEANUP_BATCH_SIZE = 1000;

/** What a revocation does with the rows: delete them, or keep them marked (audit). */
export type RevocationMode = 'delete' | 'mark';

/** How a live row is to be extended or touched (see {@link TokenStore.touch}). */
export interface TouchChanges {
  lastUsedAt: Date;
  expiresAt?: Date | null;
  refreshExpiresAt?: Date | null;
  lastRefreshedAt?: Date;
}

/**
 * Narrows a query on `token` to sessions usable at `now`: not revoked, within the absolute cap, and
 * with an access or refresh token that has not expired. The one definition of "live", shared by
 * the session list, the session limit and the one-API-key check, so they never disagree.
 */
export function liveAt<E extends ObjectLiteral>(
  query: SelectQueryBuilder<E>,
  now: number,
): SelectQueryBuilder<E> {
  return query
    .andWhere('token.revokedAt IS NULL')
    .andWhere('(token.absoluteExpiresAt IS NULL OR token.absoluteExpiresAt > :now)', { now })
    .andWhere(
      '((token.expiresAt IS NULL OR token.expiresAt > :now) OR (token.refreshExpiresAt IS NOT NULL AND token.refreshExpiresAt > :now))',
      { now },
    );
}

/**
 * Every SQL statement nestjs-durin runs against the token tables, in one place.
 *
 * The rules that keep concurrent requests safe live here: every write that extends or consumes a
 * token is a conditional UPDATE on "still live", so a late write can never bring back a token that
 * was revoked in the meantime (REQ-EXP-04), and of several racing rotations only one matches
 * (REQ-RT-03).
 */
export class TokenStore<T extends AbstractAuthToken = AbstractAuthToken> {
  private readonly serial: SerialQueue | undefined;
  private readonly tableName: string;
  /** By number of hashes (peppers); `null` where the query builder must be used instead. */
  private readonly accessLookups = new Map<number, PreparedAccessLookup<T> | null>();
  /** Set when concurrent lookups are sent together (a networked database, not turned off). */
  private readonly batcher: AccessLookupBatcher<T> | undefined;
  /** Set when concurrent due writes are sent together (PostgreSQL only: it needs RETURNING). */
  private readonly touchBatcher: TouchBatcher | undefined;

  constructor(
    readonly dataSource: DataSource,
    readonly tokens: Repository<T>,
    readonly clients: Repository<ClientEntity>,
    options: { batchStatements?: boolean } = {},
  ) {
    const type = dataSource.options.type;
    this.serial =
      type === 'better-sqlite3' || type === 'sqlite' || type === 'sqljs'
        ? new SerialQueue()
        : undefined;
    this.tableName = tokens.metadata.tableName;
    // Only where a statement is a network round trip: SQLite answers in-process, one at a time.
    const networked = type === 'postgres' || type === 'mysql' || type === 'mariadb';
    if (options.batchStatements === true && networked && this.preparedLookup(1) !== null) {
      this.batcher = new AccessLookupBatcher((count) => this.preparedLookup(count)!);
    }
    // The batched write is plain SQL: only where the query builder's update would add nothing
    // (no subscribers to notify, no update-date or version column to maintain).
    const metadata = tokens.metadata;
    if (
      options.batchStatements === true &&
      type === 'postgres' &&
      dataSource.subscribers.length === 0 &&
      metadata.updateDateColumn === undefined &&
      metadata.versionColumn === undefined
    ) {
      this.touchBatcher = new TouchBatcher(dataSource, this.quotedTable());
    }
  }

  newId(): string {
    return randomUUID();
  }

  private selectWithOwner(manager?: EntityManager): SelectQueryBuilder<T> {
    const repository = manager ? manager.getRepository<T>(this.tokens.target) : this.tokens;
    return repository
      .createQueryBuilder('token')
      .innerJoinAndSelect('token.user', OWNER)
      .leftJoinAndSelect('token.client', 'client');
  }

  /**
   * The token whose access-token hash is one of `hashes`, with its user and client, in a single
   * round trip on the unique index. Several hashes only occur during a pepper rotation.
   */
  findByAccessHash(hashes: string[]): Promise<T | null> {
    if (this.batcher !== undefined) {
      return this.batcher.find(hashes);
    }
    // The hot path of every uncached request: the statement is built once (PreparedAccessLookup).
    const lookup = this.preparedLookup(hashes.length);
    return lookup ? lookup.find(hashes) : this.accessHashQuery(hashes).getOne();
  }

  /** The prepared lookup for `count` hashes; `null` where the query builder must be used. */
  private preparedLookup(count: number): PreparedAccessLookup<T> | null {
    let lookup = this.accessLookups.get(count);
    if (lookup === undefined) {
      lookup =
        PreparedAccessLookup.create(this.dataSource, count, (placeholders) =>
          this.accessHashQuery(placeholders),
        ) ?? null;
      this.accessLookups.set(count, lookup);
    }
    return lookup;
  }

  private accessHashQuery(hashes: string[]): SelectQueryBuilder<T> {
    return this.selectWithOwner().where('token.tokenHash IN (:...hashes)', { hashes });
  }

  /** Like {@link findByAccessHash} for the refresh-token hash. */
  findByRefreshHash(hashes: string[], manager?: EntityManager): Promise<T | null> {
    return this.selectWithOwner(manager)
      .where('token.refreshTokenHash IN (:...hashes)', { hashes })
      .getOne();
  }

  /** The family of a user's live (not revoked) token `id`, or `null` if there is no such token. */
  async findLiveFamilyOfUserToken(id: string, userId: unknown): Promise<string | null> {
    const row = await this.tokens
      .createQueryBuilder('token')
      .select(['token.id', 'token.familyId'])
      .where('token.id = :id', { id })
      .andWhere('token.user = :userId', { userId })
      .andWhere('token.revokedAt IS NULL')
      .getOne();
    return row?.familyId ?? null;
  }

  findById(id: string): Promise<T | null> {
    return this.selectWithOwner().where('token.id = :id', { id }).getOne();
  }

  /** Runs `work` in a transaction (queued on SQLite, see {@link SerialQueue}). */
  transaction<R>(work: (manager: EntityManager) => Promise<R>): Promise<R> {
    const run = () => this.dataSource.transaction(work);
    return this.serial ? this.serial.run(run) : run();
  }

  async insert(token: T, manager?: EntityManager): Promise<void> {
    const repository = manager ? manager.getRepository<T>(this.tokens.target) : this.tokens;
    await repository.insert(token as Parameters<Repository<T>['insert']>[0]);
  }

  /**
   * Marks `parentId` as rotated into `childId`, only if it is still live. Returns whether this
   * caller won: under concurrency exactly one conditional UPDATE matches the row. `gracePayload`
   * is the child's sealed pair for the refresh grace window (see `grace-payload.ts`).
   */
  async consumeForRotation(
    manager: EntityManager,
    parentId: string,
    childId: string,
    now: number,
    gracePayload: string | null = null,
  ): Promise<boolean> {
    const result = await manager
      .createQueryBuilder()
      .update(this.tokens.target)
      .set({
        revokedAt: new Date(now),
        revokedReason: 'rotated',
        replacedById: childId,
        gracePayload,
      } as never)
      .where('id = :parentId AND revoked_at IS NULL', { parentId })
      .execute();
    return result.affected === 1;
  }

  /**
   * Writes `lastUsedAt` (and, when sliding, the new expiries), at most once per `intervalMs`, and
   * only while the token is live. Returns whether a row was written.
   */
  async touch(
    id: string,
    changes: TouchChanges,
    now: number,
    intervalMs: number,
  ): Promise<boolean> {
    // A batched row reads NULL as "unchanged": an expiry being cleared goes alone.
    if (
      this.touchBatcher !== undefined &&
      changes.expiresAt !== null &&
      changes.refreshExpiresAt !== null
    ) {
      return this.touchBatcher.touch({
        id,
        lastUsedAt: changes.lastUsedAt.getTime(),
        expiresAt: changes.expiresAt?.getTime() ?? null,
        refreshExpiresAt: changes.refreshExpiresAt?.getTime() ?? null,
        lastRefreshedAt: changes.lastRefreshedAt?.getTime() ?? null,
        now,
        due: now - intervalMs,
      });
    }
    const result = await this.tokens
      .createQueryBuilder()
      .update()
      .set(changes as never)
      .where('id = :id AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > :now)', {
        id,
        now,
      })
      // The same rule in SQL, so instances racing on one token still write once per interval.
      .andWhere('(last_used_at IS NULL OR last_used_at <= :due)', { due: now - intervalMs })
      .execute();
    return result.affected === 1;
  }

  /**
   * Sets new expiries on a live token; returns whether it was still live. With
   * `requireUnexpired` the access token must also not have expired yet, so a renewal can never
   * bring back an expired token (expiring one early needs no such check).
   */
  async extend(
    id: string,
    expiresAt: Date | null,
    refreshExpiresAt: Date | null,
    now: number,
    requireUnexpired = false,
  ): Promise<boolean> {
    const unexpired = requireUnexpired ? ' AND (expires_at IS NULL OR expires_at > :now)' : '';
    const result = await this.tokens
      .createQueryBuilder()
      .update()
      .set({ expiresAt, refreshExpiresAt, lastRefreshedAt: new Date(now) } as never)
      .where(`id = :id AND revoked_at IS NULL${unexpired}`, { id, now })
      .execute();
    return result.affected === 1;
  }

  /** Re-hashes a token found under an older pepper. */
  async replaceAccessHash(id: string, tokenHash: string): Promise<void> {
    await this.tokens
      .createQueryBuilder()
      .update()
      .set({ tokenHash } as never)
      .where('id = :id', { id })
      .execute();
  }

  async replaceRefreshHash(id: string, refreshTokenHash: string): Promise<void> {
    await this.tokens
      .createQueryBuilder()
      .update()
      .set({ refreshTokenHash } as never)
      .where('id = :id', { id })
      .execute();
  }

  /**
   * Ends tokens matching `where` (SQL on column names). `delete` removes them; `mark` keeps them
   * with `revokedAt` and a reason. Returns how many live tokens were ended.
   */
  async revokeWhere(
    where: string,
    parameters: Record<string, unknown>,
    mode: RevocationMode,
    reason: RevocationReason,
    now: number,
    manager?: EntityManager,
  ): Promise<number> {
    const repository = manager ? manager.getRepository<T>(this.tokens.target) : this.tokens;
    // Count what was live before; tombstones of rotated tokens are ended too but not counted.
    const live = await repository
      .createQueryBuilder()
      .update()
      .set({ revokedAt: new Date(now), revokedReason: reason } as never)
      .where(`(${where}) AND revoked_at IS NULL`, parameters)
      .execute();
    if (mode === 'delete') {
      await repository.createQueryBuilder().delete().where(where, parameters).execute();
      return live.affected ?? 0;
    }
    // A rotation that held the parent's row lock while the UPDATE above waited for it commits its
    // child after that UPDATE's snapshot was taken (PostgreSQL, READ COMMITTED): the child is
    // invisible to it and would outlive the logout. A second statement has a new snapshot and ends
    // that child too, as the DELETE does in 'delete' mode (I1, F2/F3 in test/security).
    const late = await repository
      .createQueryBuilder()
      .update()
      .set({ revokedAt: new Date(now), revokedReason: reason } as never)
      .where(`(${where}) AND revoked_at IS NULL`, parameters)
      .execute();
    return (live.affected ?? 0) + (late.affected ?? 0);
  }

  /** Live sessions of a user, newest first. */
  listLive(userId: unknown, now: number): Promise<T[]> {
    return liveAt(
      this.tokens
        .createQueryBuilder('token')
        .leftJoinAndSelect('token.client', 'client')
        .where('token.user = :userId', { userId }),
      now,
    )
      .orderBy('token.createdAt', 'DESC')
      .addOrderBy('token.id', 'ASC')
      .getMany();
  }

  /**
   * Removes (or marks) dead tokens in batches of {@link CLEANUP_BATCH_SIZE}, each its own short
   * statement, so a large backlog never holds long locks against live authentication. Each batch
   * reads one index range (see {@link cleanupParts}), so a run stays linear in the rows it removes
   * however large the table. `keptUntil` (mark mode with a retention): kept rows revoked before it
   * are deleted. An aborted `signal` stops the run between two batches (what was done stays done).
   */
  async cleanup(
    mode: RevocationMode,
    now: number,
    userId?: unknown,
    keptUntil?: number,
    signal?: AbortSignal,
  ): Promise<number> {
    const userFilter = userId === undefined ? '' : ' AND user_id = :userId';
    const parameters = { now, userId, keptUntil, batch: CLEANUP_BATCH_SIZE };
    let total = 0;
    for (const part of cleanupParts(mode, keptUntil !== undefined)) {
      for (;;) {
        if (signal?.aborted) return total;
        // The batch is wrapped in a derived table: MySQL/MariaDB refuse both LIMIT in an IN
        // subquery and a subquery on the table being changed, and a derived table is neither (it
        // is read in full before the write; its LIMIT keeps the optimizer from merging it back).
        // PostgreSQL and SQLite take the same statement.
        const batch = `SELECT id FROM ${this.quotedTable()} WHERE ${part.where}${userFilter} LIMIT :batch`;
        const ids = `SELECT id FROM (${batch}) durin_batch`;
        const query =
          part.action === 'delete'
            ? this.tokens.createQueryBuilder().delete().where(`id IN (${ids})`, parameters)
            : this.tokens
                .createQueryBuilder()
                .update()
                .set({ revokedAt: new Date(now), revokedReason: 'expired' } as never)
                .where(`id IN (${ids})`, parameters);
        const affected = (await query.execute()).affected ?? 0;
        total += affected;
        if (affected < CLEANUP_BATCH_SIZE) break;
      }
    }
    return total;
  }

  /** The statement one batch of a cleanup part reads its ids with, for EXPLAIN in tests. */
  cleanupBatchSql(where: string): string {
    return `SELECT id FROM ${this.quotedTable()} WHERE ${where} LIMIT :batch`;
  }

  private quotedTable(): string {
    return this.dataSource.driver.escape(this.tableName);
  }

  async findClient(name: string): Promise<ClientEntity | null> {
    const client = await this.clients.findOne({ where: { name } });
    // Exact: on MySQL/MariaDB a table made by `synchronize` compares names with the database's
    // (usually case-insensitive) collation, and 'WEB' must not get the lifetimes of 'web'.
    return client?.name === name ? client : null;
  }

  static newFamilyId(): string {
    return randomUUID();
  }
}
