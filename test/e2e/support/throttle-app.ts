import {
  Controller,
  Get,
  INestApplication,
  type ModuleMetadata,
  Req,
  UseGuards,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import type { Response } from 'supertest';
import { SkipThrottle, Throttle, ThrottlerModule, type ThrottlerStorage } from '@nestjs/throttler';
import { TypeOrmModule, type TypeOrmModuleOptions } from '@nestjs/typeorm';
import { Column, DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm';
import {
  AuthGuard,
  DURIN_CLOCK,
  DurinModule,
  type DurinModuleRootOptions,
  type DurinRequest,
  DurinThrottlerGuard,
  ManualClock,
  Public,
  ThrottleAnonymous,
  TokenService,
} from '../../../lib';
import type { TestDatabase, TestDbKind } from '../../support/databases';
import type { HttpAdapterKind } from '../../support/http-app';
import { QueryCounter } from '../../support/query-counter';

@Entity('throttle_user')
export class ThrottleUser {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: 64 })
  username!: string;
}

/**
 * Routes under the durin guard at controller level, so the same controllers serve both guard
 * orders: with a global AuthGuard first (recommended) the controller guard is a no-op; with only
 * the global DurinThrottlerGuard, the throttler runs before any authentication.
 */
@UseGuards(AuthGuard)
@Controller('api')
export class ThrottledController {
  @Get('a')
  a(@Req() request: DurinRequest) {
    return { route: 'a', user: (request.user as ThrottleUser).id };
  }

  @Get('b')
  b() {
    return { route: 'b' };
  }

  @SkipThrottle({ durin: true })
  @Get('unmetered')
  unmetered() {
    return { route: 'unmetered' };
  }

  /** The app's own throttler, tightened here: it keeps working next to durin's. */
  @Throttle({ default: { limit: 1, ttl: 60_000 } })
  @Public()
  @Get('strict')
  strict() {
    return { route: 'strict' };
  }

  @Public()
  @ThrottleAnonymous()
  @Get('open')
  open(@Req() request: DurinRequest) {
    // The throttler authenticates softly when it runs first: it must never set the user.
    return { route: 'open', user: request.user ?? null };
  }
}

/** Where the throttle suites run: both adapters on SQLite and PostgreSQL. */
export const THROTTLE_ROWS: Array<[HttpAdapterKind, TestDbKind]> = [
  ['express', 'sqlite'],
  ['fastify', 'sqlite'],
  ['express', 'postgres'],
  ['fastify', 'postgres'],
];

export type GuardOrder = 'auth-first' | 'throttler-only';

export interface ThrottleAppOptions {
  adapter: HttpAdapterKind;
  db: TestDatabase;
  order?: GuardOrder;
  durin?: Partial<DurinModuleRootOptions>;
  /** A shared storage (Redis); default: throttler's in-memory one. */
  storage?: ThrottlerStorage;
  /** Leave ThrottlerModule out (to see the boot fail). */
  withoutThrottlerModule?: boolean;
}

export interface ThrottleApp {
  app: INestApplication;
  http: ReturnType<INestApplication['getHttpServer']>;
  tokens: TokenService;
  dataSource: DataSource;
  counter: QueryCounter;
}

export const THROTTLE_OPTIONS = {
  defaultRate: '2/m',
  anonymousRate: '2/m',
  refresh: { perIp: '3/m', perFamily: '2/m' },
} as const;

/**
 * A real app with ThrottlerModule (one app throttler, `default`, 1000/min per route and IP) and
 * DurinModule with `throttle`, on Express (`trust proxy`) or Fastify (`trustProxy`), so a test
 * picks its client IP with `X-Forwarded-For`.
 */
export async function startThrottleApp(options: ThrottleAppOptions): Promise<ThrottleApp> {
  const counter = new QueryCounter();
  const guards: NonNullable<ModuleMetadata['providers']> =
    options.order === 'throttler-only'
      ? [{ provide: APP_GUARD, useClass: DurinThrottlerGuard }]
      : [
          { provide: APP_GUARD, useClass: AuthGuard },
          { provide: APP_GUARD, useClass: DurinThrottlerGuard },
        ];
  const moduleRef = await Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot({
        ...options.db.options,
        entities: [ThrottleUser],
        autoLoadEntities: true,
        synchronize: true,
        logger: counter,
      } as TypeOrmModuleOptions),
      ...(options.withoutThrottlerModule
        ? []
        : [
            ThrottlerModule.forRoot({
              throttlers: [{ name: 'default', ttl: 60_000, limit: 1000 }],
              storage: options.storage,
            }),
          ]),
      DurinModule.forRoot({
        userEntity: ThrottleUser,
        isGlobal: true,
        routes: { path: 'auth' },
        throttle: THROTTLE_OPTIONS,
        ...options.durin,
      }),
    ],
    controllers: [ThrottledController],
    providers: options.withoutThrottlerModule ? [] : guards,
  })
    .overrideProvider(DURIN_CLOCK)
    .useValue(new ManualClock())
    .compile();
  let app: INestApplication;
  if (options.adapter === 'express') {
    const express = moduleRef.createNestApplication<NestExpressApplication>(new ExpressAdapter(), {
      logger: false,
    });
    express.set('trust proxy', true);
    app = express;
  } else {
    app = moduleRef.createNestApplication<NestFastifyApplication>(
      new FastifyAdapter({ trustProxy: true }),
      { logger: false },
    );
  }
  try {
    await app.init();
    if (options.adapter === 'fastify') {
      await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
    }
  } catch (error) {
    await app.close().catch(() => undefined);
    throw error;
  }
  return {
    app,
    http: app.getHttpServer(),
    tokens: app.get(TokenService),
    dataSource: app.get(DataSource),
    counter,
  };
}

let ipCounter = 0;

/** A client IP no other test of the file uses (for `X-Forwarded-For`). */
export function freshIp(): string {
  ipCounter += 1;
  return `198.51.${Math.floor(ipCounter / 250)}.${(ipCounter % 250) + 1}`;
}

const RATE_LIMITED_BODY = {
  statusCode: 429,
  error: 'Too Many Requests',
  message: 'Too many requests: retry later.',
  code: 'rate_limited',
};

/** A 429 of the library: its body, `Retry-After` and the throttler's `X-RateLimit-*` headers. */
export function expect429(res: Response, limit: string, name = 'durin'): void {
  expect({ status: res.status, body: res.body as unknown }).toEqual({
    status: 429,
    body: RATE_LIMITED_BODY,
  });
  const retryAfter = Number(res.headers['retry-after']);
  expect(Number.isInteger(retryAfter) && retryAfter >= 1).toBe(true);
  // As @nestjs/throttler names them: no suffix for the throttler called `default`.
  const suffix = name === 'default' ? '' : `-${name}`;
  expect(res.headers[`x-ratelimit-limit${suffix}`]).toBe(limit);
  expect(res.headers[`x-ratelimit-remaining${suffix}`]).toBe('0');
  expect(res.headers[`x-ratelimit-reset${suffix}`]).toBe(String(retryAfter));
}
