import { DynamicModule, INestApplication, LoggerService, LogLevel } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { TestingModule } from '@nestjs/testing';
import { TypeOrmModule, type TypeOrmModuleOptions } from '@nestjs/typeorm';

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- any entity class
type EntityClassLike = Function;

export type HttpAdapterKind = 'express' | 'fastify';

export const HTTP_ADAPTER_KINDS: HttpAdapterKind[] = ['express', 'fastify'];

export interface HttpAppOptions {
  logger?: LoggerService | LogLevel[] | false;
  /** Runs after the app exists and before `init` (global prefix, CORS, …). */
  configure?: (app: INestApplication) => void;
}

/**
 * A compiled testing module as a running HTTP app on Express or Fastify: created, initialised,
 * and for Fastify made ready, so supertest can send requests to `app.getHttpServer()`.
 */
export async function startHttpApp(
  moduleRef: TestingModule,
  adapter: HttpAdapterKind,
  options: HttpAppOptions = {},
): Promise<INestApplication> {
  const logger = options.logger ?? false;
  const app =
    adapter === 'express'
      ? moduleRef.createNestApplication(new ExpressAdapter(), { logger })
      : moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger });
  options.configure?.(app);
  await app.init();
  if (adapter === 'fastify') {
    await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  }
  return app;
}

/**
 * TypeORM for a small test app on `db`: its own user entity, the library's entities picked up by
 * `autoLoadEntities`, and the schema built by `synchronize` (these apps run on SQLite only).
 */
export function syncedTypeOrm(db: { options: object }, entities: EntityClassLike[]): DynamicModule {
  return TypeOrmModule.forRoot({
    ...db.options,
    entities,
    autoLoadEntities: true,
    synchronize: true,
  } as TypeOrmModuleOptions);
}
