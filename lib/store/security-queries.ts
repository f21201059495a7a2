import { createHash } from 'node:crypto';
import { EntityManager, Repository } from 'typeorm';
import { AbstractAuthToken } from '../entities/abstract-auth-token.entity';
import { liveAt, TokenStore } from './token-store';

/**
 * The SQL of the refresh grace window and the per-user session limit, next to `TokenStore` (which
 * holds the rest) and written against its public parts.
 */

/**
 * First key of the two-key `pg_advisory_xact_lock`: a fixed namespace ("DRN1"), so our locks can
 * never collide with an application's single-key advisory locks.
 */
const ADVISORY_LOCK_NAMESPACE = 0x44524e31;

/** One live session of a user, as far as the session limit needs to know it. */
export interface SessionHead {
  id: string;
  familyId: string;
  authType: AbstractAuthToken['authType'];
  createdAt: Date;
}

function repositoryOf<T extends AbstractAuthToken>(
  store: TokenStore<T>,
  manager?: EntityManager,
): Repository<T> {
  return manager ? manager.getRepository<T>(store.tokens.target) : store.tokens;
}

/** The sealed grace pair of a rotated token, or `null` (the column is never selected otherwise). */
export async function findGracePayload<T extends AbstractAuthToken>(
  store: TokenStore<T>,
  id: string,
): Promise<string | null> {
  const row = await store.tokens
    .createQueryBuilder('token')
    .select(['token.id'])
    .addSelect('token.gracePayload')
    .where('token.id = :id', { id })
    .getOne();
  return row?.gracePayload ?? null;
}

/**
 * Drops the sealed pair of `id`. Called when its child rotates further (the pair it holds is then
 * dead and must not be handed out) and when a family is revoked for reuse.
 */
export async function clearGracePayload<T extends AbstractAuthToken>(
  store: TokenStore<T>,
  where: { id: string } | { familyId: string },
  manager?: EntityManager,
): Promise<void> {
  const [condition, parameters] =
    'id' in where
      ? ['id = :id', { id: where.id }]
      : ['family_id = :familyId', { familyId: where.familyId }];
  await repositoryOf(store, manager)
    .createQueryBuilder()
    .update()
    .set({ gracePayload: null } as never)
    .where(`${condition} AND grace_payload IS NOT NULL`, parameters)
    .execute();
}

/**
 * Serialises, per user and until the surrounding transaction ends, everything that must see the
 * user's sessions as a whole: limited logins (count, then insert; REQ-SES-03), rotations
 * (consume, then insert a child) and revocations (which must see that child, I1/I5).
 *
 * On PostgreSQL this is a transaction-scoped advisory lock on a hash of the user id: it needs no
 * row of the app's user table and goes away with the transaction, also on a crash. A hash
 * collision only makes two users' logins wait for each other. SQLite needs nothing: every
 * transaction of ours runs alone (`SerialQueue`) and the driver has one connection.
 *
 * On MySQL and MariaDB it is a row lock on the user's row (`SELECT … FOR UPDATE`). `GET_LOCK`
 * would need no user row, but it belongs to the connection, not the transaction: it would have to
 * be released after the commit, outside the transaction this function is handed, and a release
 * that is skipped (an error between commit and release) leaves the user locked for as long as the
 * pooled connection lives. The row lock ends with the commit or rollback by construction. Taken
 * first in the transaction, it also comes before InnoDB's REPEATABLE READ snapshot (made at the
 * first plain read), so what the transaction reads afterwards includes everything the previous
 * holder committed. Writes to the user's row by the app wait for the (short) transaction; the
 * token insert's foreign-key check on that row is ours already. A user id without a row locks
 * nothing, but then there is no session to protect either: the insert fails on the foreign key.
 */
export async function lockUserSessions<T extends AbstractAuthToken>(
  store: TokenStore<T>,
  manager: EntityManager,
  userId: unknown,
): Promise<void> {
  const type = store.dataSource.options.type;
  if (type === 'mysql' || type === 'mariadb') {
    await lockUserRow(store, manager, userId);
    return;
  }
  if (type !== 'postgres') return;
  const key = createHash('sha256')
    .update(`durin-user:${String(userId)}`)
    .digest()
    .readInt32BE(0);
  await manager.query('SELECT pg_advisory_xact_lock($1, $2)', [ADVISORY_LOCK_NAMESPACE, key]);
}

/**
 * `SELECT <key> FROM <user table> WHERE <key> = ? FOR UPDATE`, built by TypeORM from the user
 * entity's metadata: the column the token's `user_id` references, the table path (with a database
 * prefix when the entity has one) and the driver's own identifier escaping.
 */
async function lockUserRow<T extends AbstractAuthToken>(
  store: TokenStore<T>,
  manager: EntityManager,
  userId: unknown,
): Promise<void> {
  const relation = store.tokens.metadata.findRelationWithPropertyPath('user');
  const key = relation?.joinColumns[0]?.referencedColumn;
  if (relation === undefined || key === undefined) {
    // The token entity always has this relation; without it there is nothing safe to lock on.
    throw new Error('nestjs-durin: the token entity has no user relation to lock sessions on');
  }
  await manager
    .createQueryBuilder(relation.inverseEntityMetadata.target, 'owner')
    .select(`owner.${key.propertyPath}`)
    .where(`owner.${key.propertyPath} = :userId`, { userId })
    .setLock('pessimistic_write')
    .getRawMany();
}

/**
 * The user's live sessions, oldest first: not revoked, not past the absolute expiry, and with a
 * working access or refresh token (the same rule as the session list). With `excludeApiClient`,
 * personal API keys (header tokens of that client) are left out, as in the session list.
 */
export async function liveSessionHeads<T extends AbstractAuthToken>(
  store: TokenStore<T>,
  manager: EntityManager,
  userId: unknown,
  now: number,
  excludeApiClient: string | null,
): Promise<SessionHead[]> {
  const query = liveAt(
    repositoryOf(store, manager)
      .createQueryBuilder('token')
      .leftJoin('token.client', 'client')
      .select(['token.id', 'token.familyId', 'token.authType', 'token.createdAt'])
      .where('token.user = :userId', { userId }),
    now,
  );
  if (excludeApiClient !== null) {
    // COALESCE: a token without a client must count, and `NULL = 'api'` would drop it.
    query.andWhere("NOT (token.authType = 'header' AND COALESCE(client.name, '') = :apiClient)", {
      apiClient: excludeApiClient,
    });
  }
  const rows = await query
    .orderBy('token.createdAt', 'ASC')
    .addOrderBy('token.id', 'ASC')
    .getMany();
  return rows.map((row) => ({
    id: row.id,
    familyId: row.familyId,
    authType: row.authType,
    createdAt: row.createdAt,
  }));
}

/**
 * The user's live sessions of one client (by the client's id), for `oneTokenPerClient`: the same
 * notion of live as {@link liveSessionHeads}.
 */
export async function liveClientSessionHeads<T extends AbstractAuthToken>(
  store: TokenStore<T>,
  manager: EntityManager,
  userId: unknown,
  clientId: number,
  now: number,
): Promise<SessionHead[]> {
  const rows = await liveAt(
    repositoryOf(store, manager)
      .createQueryBuilder('token')
      .select(['token.id', 'token.familyId', 'token.authType', 'token.createdAt'])
      .where('token.user = :userId', { userId })
      .andWhere('token.client = :clientId', { clientId }),
    now,
  ).getMany();
  return rows.map((row) => ({
    id: row.id,
    familyId: row.familyId,
    authType: row.authType,
    createdAt: row.createdAt,
  }));
}
