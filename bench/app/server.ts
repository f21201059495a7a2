/**
 * The benchmark's app process (started by bench/run.ts): one Nest app per configuration, each the
 * sample app (global AuthGuard, its own User entity) plus the bench routes, on 127.0.0.1.
 * Prints `READY {"<name>":<port>,...}` on stdout once every app listens.
 */
import 'reflect-metadata';
import { INestApplication, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DynamicModule, Module } from '@nestjs/common';
import { AppModule } from '../../sample-app/src/app.module';
import { BenchRoutesModule } from './bench-routes.module';
import { QueryCounter } from './query-counter';

/** One app of the bench: which database and which nestjs-durin settings. */
export interface BenchAppConfig {
  name: string;
  databaseUrl: string;
  cache: boolean;
  /** `cache.max` / `cache.ttl` when the cache is on (cache-sizing cases); default: the library's. */
  cacheMax?: number;
  cacheTtl?: string;
  autoRefresh: boolean;
  /** nestjs-durin's `autoRefreshInterval`; default `'1m'`. */
  autoRefreshInterval?: '1s' | '1m' | '1h';
  /** nestjs-durin's `tokenTagKey` (the forged-token flood); default none. */
  tokenTagKey?: string;
}

@Module({})
class BenchAppModule {
  static forRoot(config: BenchAppConfig, counter: QueryCounter): DynamicModule {
    return {
      module: BenchAppModule,
      imports: [
        AppModule.forRoot({
          env: {
            DB_TYPE: 'postgres',
            DATABASE_URL: config.databaseUrl,
            SEED_DEMO_DATA: 'false',
            RATE_LIMITS: 'false',
          },
          database: { type: 'postgres', url: config.databaseUrl, logger: counter },
          durin: {
            cache: config.cache
              ? {
                  ...(config.cacheMax === undefined ? {} : { max: config.cacheMax }),
                  ...(config.cacheTtl === undefined ? {} : { ttl: config.cacheTtl }),
                }
              : false,
            autoRefresh: config.autoRefresh,
            autoRefreshInterval: config.autoRefreshInterval ?? '1m',
            ...(config.tokenTagKey === undefined ? {} : { tokenTagKey: config.tokenTagKey }),
            // For the `/bench/durin-throttled` case: every token counted per (user, client), at a
            // rate the run never reaches, so the case measures the counting, not 429s.
            throttle: { defaultRate: '999999999/m', refresh: false },
          },
        }),
        BenchRoutesModule.forRoot(counter),
      ],
    };
  }
}

async function main(): Promise<void> {
  const configs = JSON.parse(process.env.BENCH_APPS ?? '[]') as BenchAppConfig[];
  const apps: INestApplication[] = [];
  const ports: Record<string, number> = {};
  for (const config of configs) {
    const app = await NestFactory.create(BenchAppModule.forRoot(config, new QueryCounter()), {
      logger: ['error', 'warn'],
    });
    await app.listen(0, '127.0.0.1');
    const address = app.getHttpServer().address() as { port: number };
    ports[config.name] = address.port;
    apps.push(app);
  }
  process.stdout.write(`READY ${JSON.stringify(ports)}\n`);
  const stop = async () => {
    for (const app of apps) await app.close().catch(() => undefined);
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

main().catch((error: unknown) => {
  new Logger('bench').error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
