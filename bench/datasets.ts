/**
 * What the benchmark's databases hold and which tokens the load generator presents. Tokens are
 * generated once per run, in memory; which of them each request presents is a seeded sequence.
 */
import { sign } from 'jsonwebtoken';
import { JWT_SECRET } from './app/peers';
import type { BenchConfig } from './config';
import { uniformDraws, zipfDraws } from './draws';
import {
  forgedTaggedTokens,
  forgedTokens,
  insertFiller,
  insertTokens,
  junkTokens,
  newToken,
  openMigrated,
  seedUsers,
  SeedToken,
  withoutSecondaryIndexes,
} from './seed';

/** The hot set of the first round (kept: the cached case of issue 5). */
export const HOT_SET = 100;
/** Tokens in the "1k rows" table. */
export const SMALL_TABLE = 1_000;
/** Live tokens the cold-path load reads while the cleanup runs. */
const CLEANUP_LIVE = 10_000;
/** Distinct well-formed tokens of the floods. */
export const FLOOD_DISTINCT = 100_000;
/** The working set is spread through the large table in this many slices. */
const LARGE_SLICES = 10;

export type DatabaseName = 'main' | 'small' | 'large' | 'cleanup';

export interface BenchData {
  /** Distinct live header tokens: main and large databases (in the large one spread through it). */
  workingSet: SeedToken[];
  /** The first {@link HOT_SET} of the working set. */
  hot: SeedToken[];
  /** The first {@link SMALL_TABLE}: all of the small database. */
  small: SeedToken[];
  /** Live tokens of the cleanup database, amid the expired rows. */
  cleanupLive: SeedToken[];
  /** Cookie tokens (main database). */
  cookies: SeedToken[];
  /** Tokens revoked during the two-process run (main database; never used by another case). */
  probes: SeedToken[];
  /** Working-set indexes drawn Zipf(1) and uniformly (seeded). */
  zipf: Uint32Array;
  uniform: Uint32Array;
  jwts: string[];
  forged: string[];
  /** Tagged-format tokens with a tag made under another key (the `flood-forged` case). */
  forgedTagged: string[];
  junk: string[];
}

export function generateData(config: BenchConfig): BenchData {
  const workingSet = Array.from({ length: config.workingSet }, (_, i) => newToken(i));
  const hot = workingSet.slice(0, HOT_SET);
  return {
    workingSet,
    hot,
    small: workingSet.slice(0, SMALL_TABLE),
    cleanupLive: workingSet.slice(0, CLEANUP_LIVE),
    cookies: Array.from({ length: HOT_SET }, (_, i) => newToken(i, 'cookie')),
    probes: Array.from({ length: config.revocations }, (_, i) => newToken(i)),
    zipf: zipfDraws(workingSet.length, config.draws, 12),
    uniform: uniformDraws(workingSet.length, config.draws, 34),
    jwts: hot.map((t) =>
      sign({ sub: t.userId }, JWT_SECRET, { algorithm: 'HS256', expiresIn: '1d' }),
    ),
    forged: forgedTokens(FLOOD_DISTINCT),
    forgedTagged: forgedTaggedTokens(FLOOD_DISTINCT),
    junk: junkTokens(FLOOD_DISTINCT),
  };
}

/** Fills one database; returns the server version. */
export async function seedDatabase(
  name: DatabaseName,
  url: string,
  data: BenchData,
  config: BenchConfig,
): Promise<string> {
  const dataSource = await openMigrated(url);
  try {
    await seedUsers(dataSource);
    await withoutSecondaryIndexes(dataSource, async () => {
      switch (name) {
        case 'main':
          await insertTokens(dataSource, [...data.workingSet, ...data.cookies, ...data.probes]);
          break;
        case 'small':
          await insertTokens(dataSource, data.small);
          break;
        case 'large': {
          // Slices of filler and working set alternate, so the working set spans the whole heap
          // and index instead of sitting at the end of the table.
          const filler = config.largeTable - data.workingSet.length;
          for (let slice = 0; slice < LARGE_SLICES; slice += 1) {
            const from = Math.floor((filler * slice) / LARGE_SLICES);
            const to = Math.floor((filler * (slice + 1)) / LARGE_SLICES);
            await insertFiller(dataSource, from, to - from, false);
            const size = Math.ceil(data.workingSet.length / LARGE_SLICES);
            await insertTokens(dataSource, data.workingSet.slice(slice * size, (slice + 1) * size));
          }
          break;
        }
        case 'cleanup':
          await insertTokens(dataSource, data.cleanupLive);
          await insertFiller(dataSource, 0, config.cleanupRows, true);
          break;
      }
    });
    await dataSource.query('VACUUM ANALYZE auth_token');
    const [row] = (await dataSource.query('SHOW server_version')) as { server_version: string }[];
    return row.server_version;
  } finally {
    await dataSource.destroy();
  }
}
