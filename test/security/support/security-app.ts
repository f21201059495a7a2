import {
  Body,
  Controller,
  Get,
  HttpCode,
  type INestApplication,
  type LoggerService,
  Post,
  Res,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { TypeOrmModule, type TypeOrmModuleOptions } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import { Column, DataSource, Entity, PrimaryGeneratedColumn, type Repository } from 'typeorm';
import {
  AuthCookieService,
  AuthGuard,
  AuthToken,
  AuthTokenEntity,
  type Clock,
  CurrentUser,
  DURIN_CLOCK,
  DurinModule,
  type DurinModuleRootOptions,
  TokenService,
} from '../../../lib';
import { DurinErrorsInterceptor } from '../../../lib';
import {
  createTestDatabase,
  type TestDatabase,
  type TestDbKind,
  type TestDbOptions,
} from '../../support/databases';
import { QueryCounter } from '../../support/query-counter';
import { type TcpProxy, withPgThroughProxy } from '../../support/tcp-proxy';

export type AdapterKind = 'express' | 'fastify';
export const ADAPTERS: AdapterKind[] = ['express', 'fastify'];

/** The app's user. `deleted` users are removed from the table (their tokens go by cascade). */
@Entity('sec_user')
export class SecUser {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: 64 })
  username!: string;

  @Column({ type: 'varchar', length: 128, default: '' })
  email!: string;

  @Column({ type: 'boolean', default: true })
  isActive!: boolean;
}

/** A test-only app: login without a password (the tests decide who logs in), and probes. */
@Controller()
class ProbeController {
  constructor(
    private readonly tokens: TokenService,
    private readonly cookies: AuthCookieService,
  ) {}

  @UseGuards(AuthGuard)
  @Get('me')
  me(@CurrentUser() user: SecUser, @AuthToken() token: AuthTokenEntity) {
    return {
      userId: user.id,
      tokenId: token.id,
      familyId: token.familyId,
      authType: token.authType,
    };
  }

  /** A guarded POST that reads a body, to show a token in the body is never taken (REQ-HDR-07). */
  @UseGuards(AuthGuard)
  @Post('me')
  @HttpCode(200)
  echo(@CurrentUser() user: SecUser) {
    return { userId: user.id };
  }

  /**
   * `{ userId, mode }` -> a new session. The body is trusted: this is a test app. Store failures
   * become a 503 with Retry-After, as on the library's own routes.
   */
  @Post('login')
  @HttpCode(200)
  @UseInterceptors(DurinErrorsInterceptor)
  async login(
    @Body() body: { userId?: unknown; mode?: unknown },
    @Res({ passthrough: true }) response: object,
  ) {
    const user = { id: Number(body.userId) };
    const cookie = body.mode === 'cookie';
    const set = cookie
      ? await this.tokens.generateCookieToken(user)
      : await this.tokens.generateHeaderToken(user);
    if (cookie) this.cookies.setAuthCookie(response, set);
    return {
      tokenId: set.token.id,
      familyId: set.token.familyId,
      accessToken: set.accessToken,
      refreshToken: set.refreshToken,
      absoluteExpiresAt: set.token.absoluteExpiresAt,
    };
  }
}

export interface SecurityAppOptions {
  adapter: AdapterKind;
  db: TestDbKind;
  /** DurinModule options on top of `{ userEntity, routes: { path: 'auth' } }`. */
  durin?: Partial<DurinModuleRootOptions>;
  /** Replaces `DURIN_CLOCK` (a ManualClock, usually). */
  clock?: Clock;
  /** PostgreSQL only: connect through a {@link TcpProxy} the test can cut, pause or slow down. */
  proxy?: boolean;
  /** Connect here instead of a fresh test database (e.g. a dedicated server). */
  connection?: TestDbOptions;
  /** Extra TypeORM options (pool size, timeouts). */
  typeorm?: Partial<TypeOrmModuleOptions>;
  /** Nest's logger for the app (default: none). */
  logger?: LoggerService;
  /** Fastify only: turn on its request logging (pino, every level) into this stream. */
  fastifyLogStream?: { write(line: string): void };
}

export interface SecurityApp {
  readonly app: INestApplication;
  readonly port: number;
  readonly tokens: TokenService;
  readonly dataSource: DataSource;
  readonly users: Repository<SecUser>;
  readonly counter: QueryCounter;
  readonly proxy: TcpProxy | undefined;
  readonly db: TestDatabase | undefined;
  createUser(fields?: Partial<SecUser>): Promise<SecUser>;
  close(): Promise<void>;
}

let userCounter = 0;

/** Boots the probe app with nestjs-durin on the given platform and engine, on 127.0.0.1. */
export async function startSecurityApp(options: SecurityAppOptions): Promise<SecurityApp> {
  const db = options.connection ? undefined : await createTestDatabase(options.db);
  let connection: TestDbOptions = options.connection ?? db!.options;
  let proxy: TcpProxy | undefined;
  if (options.proxy) {
    if (db === undefined) throw new Error('proxy: true needs a test database');
    const proxied = await withPgThroughProxy(db);
    proxy = proxied.proxy;
    connection = proxied.options;
  }
  const counter = new QueryCounter();
  let moduleBuilder = Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot({
        ...connection,
        entities: [SecUser],
        autoLoadEntities: true,
        synchronize: true,
        retryAttempts: 1,
        logger: counter,
        ...options.typeorm,
      } as TypeOrmModuleOptions),
      DurinModule.forRoot({
        userEntity: SecUser,
        isGlobal: true,
        routes: { path: 'auth' },
        ...options.durin,
      }),
    ],
    controllers: [ProbeController],
  });
  if (options.clock) {
    moduleBuilder = moduleBuilder.overrideProvider(DURIN_CLOCK).useValue(options.clock);
  }
  const moduleRef = await moduleBuilder.compile();
  const logger = options.logger ?? false;
  const app =
    options.adapter === 'express'
      ? moduleRef.createNestApplication(new ExpressAdapter(), { logger })
      : moduleRef.createNestApplication<NestFastifyApplication>(
          new FastifyAdapter(
            options.fastifyLogStream
              ? { logger: { level: 'trace', stream: options.fastifyLogStream } }
              : {},
          ),
          { logger },
        );
  await app.listen(0, '127.0.0.1');
  const address = (app.getHttpServer() as { address(): { port: number } }).address();
  const dataSource = app.get(DataSource);
  const users = dataSource.getRepository(SecUser);
  return {
    app,
    port: address.port,
    tokens: app.get(TokenService),
    dataSource,
    users,
    counter,
    proxy,
    db,
    createUser: (fields = {}) => {
      userCounter += 1;
      return users.save(
        users.create({
          username: `user${userCounter}`,
          email: `user${userCounter}@example.com`,
          ...fields,
        }),
      );
    },
    close: async () => {
      proxy?.restore();
      proxy?.resume();
      await app.close();
      await proxy?.close();
      await db?.drop();
    },
  };
}

/** SHA-256 hex of a raw token: the stored `token_hash` when no pepper is configured. */
export function sha256Hex(raw: string): string {
  return createHash('sha256').update(raw, 'utf8').digest('hex');
}
