/**
 * The measurement behind the cold path (docs/performance.md): the per-request lookup (token +
 * user + client by access hash) done four ways against the embedded PostgreSQL, 50 lookups in
 * flight, interleaved over three rounds:
 *
 * - `getOne`: TypeORM's SelectQueryBuilder, rebuilt per call (what nestjs-durin did before);
 * - `PreparedAccessLookup`: what it does now (SQL built once, named statement, TypeORM's
 *   transformer for the entities);
 * - `unnamed raw`: the same SQL through the pg pool without a statement name (parsed and planned
 *   by PostgreSQL each time), rows only;
 * - `named raw`: the same with a statement name, rows only (the floor).
 *
 * Run: npx ts-node --transpile-only bench/lookup-micro.ts
 */
import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { DataSource } from 'typeorm';
import { AuthTokenEntity, ClientEntity, DURIN_MIGRATIONS, registerDurinUserEntity } from '../lib';
import { PreparedAccessLookup } from '../lib/store/prepared-access-lookup';
import { startTestPostgres } from '../test/support/postgres';
import { CreateUsers1700000000000, User } from '../test/integration/support/user.entity';

const ROWS = 10_000;
const LOOKUPS = 20_000;
const IN_FLIGHT = 50;

interface PgPool {
  query(config: { name?: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

async function main(): Promise<void> {
  registerDurinUserEntity(User);
  const server = await startTestPostgres();
  const ds = new DataSource({
    type: 'postgres',
    url: server.url,
    entities: [User, AuthTokenEntity, ClientEntity],
    migrations: [CreateUsers1700000000000, ...DURIN_MIGRATIONS],
    migrationsRun: true,
  });
  await ds.initialize();
  try {
    await ds.query(`INSERT INTO users (email) SELECT 'u' || i FROM generate_series(1, 100) i`);
    await ds.query(
      `INSERT INTO auth_token (id, user_id, auth_type, context, token_hash, created_at, family_id)
       SELECT md5(i::text)::uuid::text, 1 + i % 100, 'header', '{}',
              encode(sha256(i::text::bytea), 'hex'), 0, md5(i::text)::uuid::text
         FROM generate_series(1, $1::int) i`,
      [ROWS],
    );
    const hashes = Array.from({ length: ROWS }, (_, i) =>
      createHash('sha256')
        .update(String(i + 1))
        .digest('hex'),
    );
    const builder = (values: string[]) =>
      ds
        .getRepository(AuthTokenEntity)
        .createQueryBuilder('token')
        .innerJoinAndSelect('token.user', 'owner')
        .leftJoinAndSelect('token.client', 'client')
        .where('token.tokenHash IN (:...hashes)', { hashes: values });
    const prepared = PreparedAccessLookup.create(ds, 1, builder)!;
    const [sql] = builder(['x']).getQueryAndParameters();
    const pool = (ds.driver as unknown as { master: PgPool }).master;
    const variants: Record<string, (hash: string) => Promise<unknown>> = {
      getOne: (hash) => builder([hash]).getOne(),
      PreparedAccessLookup: (hash) => prepared.find([hash]),
      'unnamed raw': (hash) => pool.query({ text: sql, values: [hash] }).then((r) => r.rows[0]),
      'named raw': (hash) =>
        pool.query({ name: 'micro', text: sql, values: [hash] }).then((r) => r.rows[0]),
    };
    const reference = JSON.stringify(await variants.getOne(hashes[5]));
    if (JSON.stringify(await variants.PreparedAccessLookup(hashes[5])) !== reference) {
      throw new Error('PreparedAccessLookup and getOne disagree');
    }
    for (let round = 1; round <= 3; round += 1) {
      for (const [name, lookup] of Object.entries(variants)) {
        let next = 0;
        const cpuBefore = process.cpuUsage();
        const started = performance.now();
        await Promise.all(
          Array.from({ length: IN_FLIGHT }, async () => {
            while (next < LOOKUPS) {
              const found = await lookup(hashes[next++ % ROWS]);
              if (!found) throw new Error('not found');
            }
          }),
        );
        const ms = performance.now() - started;
        const cpu = process.cpuUsage(cpuBefore);
        process.stdout.write(
          `round ${round}  ${name.padEnd(22)} ${((LOOKUPS / ms) * 1000).toFixed(0).padStart(6)} lookups/s` +
            `  node CPU ${((cpu.user + cpu.system) / LOOKUPS).toFixed(1)} us/lookup\n`,
        );
      }
    }
  } finally {
    await ds.destroy();
    await server.stop();
  }
}

void main();
