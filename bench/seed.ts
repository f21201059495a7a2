/**
 * Filling the benchmark's databases: rows go straight in with SQL (bulk `unnest` / `generate_series`
 * inserts), not through nestjs-durin, so that seeding a million rows takes seconds.
 */
import { createHash, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AuthTokenEntity, ClientEntity } from '../lib';
import { TokenFormat } from '../lib/tokens/token-format';
import { TokenTag } from '../lib/tokens/token-tag';
import { SAMPLE_MIGRATIONS } from '../sample-app/src/database/database.options';
import { User } from '../sample-app/src/users/user.entity';

export const DAY_MS = 86_400_000;
/** Users the tokens belong to (round robin). */
export const USERS = 1_000;
const TOKEN_BATCH = 10_000;
const FILLER_BATCH = 200_000;

const format = new TokenFormat('durin');

/** A token the load generator can present: its raw value and what the row stores. */
export interface SeedToken {
  id: string;
  raw: string;
  userId: number;
  authType: 'header' | 'cookie';
}

/**
 * A new access token in the format the apps accept. The one place that knows the format: when it
 * gains a server-keyed tag, tokens are generated here with the apps' key.
 */
export function newToken(index: number, authType: SeedToken['authType'] = 'header'): SeedToken {
  return {
    id: randomUUID(),
    raw: format.generate('access'),
    userId: 1 + (index % USERS),
    authType,
  };
}

/** Well-formed access tokens nobody issued (valid checksum): what an attacker can make today. */
export function forgedTokens(count: number): string[] {
  return Array.from({ length: count }, () => format.generate('access'));
}

/** The `tokenTagKey` of the app of the forged-token flood (bench only). */
export const BENCH_TAG_KEY = 'bench-token-tag-key-0123456789-abcdefghij';

/**
 * Well-formed tokens of the tagged format (valid checksum) whose tag was made under a key the
 * server does not have: what an attacker can make once the app has a `tokenTagKey`.
 */
export function forgedTaggedTokens(count: number): string[] {
  const attacker = new TokenFormat('durin', {
    tag: new TokenTag(['an-attacker-guess-of-the-key-0123456789-xyz']),
    acceptUntagged: false,
  });
  return Array.from({ length: count }, () => attacker.generate('access'));
}

/** The same length and alphabet with a broken checksum: rejected before any hashing or SQL. */
export function junkTokens(count: number): string[] {
  return forgedTokens(count).map((raw) => raw.slice(0, -1) + (raw.endsWith('a') ? 'b' : 'a'));
}

export const sha256 = (raw: string): string =>
  createHash('sha256').update(raw, 'utf8').digest('hex');

export async function createDatabase(adminUrl: string, name: string): Promise<string> {
  const admin = new DataSource({ type: 'postgres', url: adminUrl });
  await admin.initialize();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.destroy();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** The sample app's schema, on one connection (so session settings hold for every statement). */
export async function openMigrated(url: string): Promise<DataSource> {
  const dataSource = new DataSource({
    type: 'postgres',
    url,
    entities: [User, AuthTokenEntity, ClientEntity],
    migrations: SAMPLE_MIGRATIONS,
    migrationsRun: true,
    extra: { max: 1 },
  });
  await dataSource.initialize();
  await dataSource.query(`SET maintenance_work_mem = '256MB'`);
  return dataSource;
}

export async function seedUsers(dataSource: DataSource): Promise<void> {
  await dataSource.query(
    `INSERT INTO app_user (username, password_hash, is_active)
     SELECT 'bench' || i, 'not-a-hash', true FROM generate_series(1, $1::int) AS i`,
    [USERS],
  );
}

/**
 * Live tokens (valid for a week), hashes computed here, 10 000 rows per statement. Each has been
 * used at seeding time, as in a running system: a token's very first use is always written at once
 * (`lastUsedAt` must not stay "never" for an interval), a one-off that would otherwise dominate the
 * SQL count of every case reading a large working set.
 */
export async function insertTokens(
  dataSource: DataSource,
  tokens: readonly SeedToken[],
): Promise<void> {
  const now = Date.now();
  for (let start = 0; start < tokens.length; start += TOKEN_BATCH) {
    const batch = tokens.slice(start, start + TOKEN_BATCH);
    await dataSource.query(
      `INSERT INTO auth_token (id, user_id, auth_type, context, token_hash, created_at, last_used_at, expires_at, access_ttl_ms, family_id)
       SELECT t.id, t.user_id, t.auth_type, '{}', t.hash, $6::bigint, $6::bigint, $6::bigint + $7::bigint, $7::bigint, t.family
         FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[])
           AS t(id, user_id, auth_type, hash, family)`,
      [
        batch.map((t) => t.id),
        batch.map((t) => t.userId),
        batch.map((t) => t.authType),
        batch.map((t) => sha256(t.raw)),
        batch.map(() => randomUUID()),
        now,
        7 * DAY_MS,
      ],
    );
  }
}

/**
 * `count` rows nobody can present (the hash of a counter), numbered from `first` so that several
 * calls never collide. `expired`: access-only tokens that expired a day ago, which one
 * `revokeExpiredTokens()` run deletes; otherwise live for a week, as in a large real table.
 */
export async function insertFiller(
  dataSource: DataSource,
  first: number,
  count: number,
  expired: boolean,
): Promise<void> {
  const now = Date.now();
  const createdAt = expired ? now - 8 * DAY_MS : now;
  for (let start = first; start < first + count; start += FILLER_BATCH) {
    const end = Math.min(first + count - 1, start + FILLER_BATCH - 1);
    await dataSource.query(
      `INSERT INTO auth_token (id, user_id, auth_type, context, token_hash, created_at, expires_at, access_ttl_ms, family_id)
       SELECT md5('filler' || i)::uuid::text, 1 + i % $3::int, 'header', '{}',
              encode(sha256(('filler-' || i)::bytea), 'hex'), $4::bigint, $4::bigint + $5::bigint, $5::bigint,
              md5('family' || i)::uuid::text
         FROM generate_series($1::int, $2::int) AS i`,
      [start, end, USERS, createdAt, 7 * DAY_MS],
    );
  }
}

/**
 * Runs `load` with auth_token's secondary indexes dropped and rebuilds them after: one sorted
 * build per index is several times faster than a million index insertions. Indexes that back a
 * constraint (the primary key) stay.
 */
export async function withoutSecondaryIndexes(
  dataSource: DataSource,
  load: () => Promise<void>,
): Promise<void> {
  const indexes = (await dataSource.query(
    `SELECT i.indexname AS name, i.indexdef AS definition
       FROM pg_indexes i
      WHERE i.tablename = 'auth_token' AND i.schemaname = current_schema()
        AND NOT EXISTS (
          SELECT 1 FROM pg_constraint c
           WHERE c.conindid = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass)`,
  )) as { name: string; definition: string }[];
  for (const index of indexes) await dataSource.query(`DROP INDEX "${index.name}"`);
  await load();
  for (const index of indexes) await dataSource.query(index.definition);
}
