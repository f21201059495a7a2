import {
  Controller,
  DynamicModule,
  Get,
  Inject,
  Module,
  Post,
  Query,
  Req,
  UseGuards,
} from '@nestjs/common';
import { AuthGuard as PassportAuthGuard, PassportModule } from '@nestjs/passport';
import { ThrottlerModule } from '@nestjs/throttler';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  AuthTokenEntity,
  CurrentUser,
  DURIN_RESOLVED_OPTIONS,
  DurinCacheService,
  DurinThrottlerGuard,
  Public,
  TokenService,
} from '../../lib';
import type { ResolvedDurinOptions } from '../../lib';
import { User } from '../../sample-app/src/users/user.entity';
import {
  AcceptAllGuard,
  JwtKeyStrategy,
  JwtStringStrategy,
  MinimalDurinGuard,
  NaiveFindOneGuard,
  NaiveTokenGuard,
  RefuseAllGuard,
  WithUser,
} from './peers';
import { QueryCounter } from './query-counter';

export { JWT_SECRET } from './peers';
const QUERY_COUNTER = 'BENCH:QUERY_COUNTER';

@Controller('bench')
export class BenchController {
  constructor(
    @Inject(QUERY_COUNTER) private readonly counter: QueryCounter,
    private readonly cache: DurinCacheService,
    private readonly tokens: TokenService,
    @Inject(DURIN_RESOLVED_OPTIONS) private readonly options: ResolvedDurinOptions,
  ) {}

  /** The no-auth baseline: same response shape, no guard work. */
  @Public()
  @Get('noauth')
  noauth(): { id: number } {
    return { id: 0 };
  }

  /** The same handler shape as the authenticated routes (reads the request), without auth. */
  @Public()
  @Get('noauth-req')
  noauthReq(@Req() request: WithUser): { id: number } {
    return { id: request.user?.id ?? 0 };
  }

  /**
   * nestjs-durin: the app's global AuthGuard (header or cookie). The handler reads the request
   * like the passport routes do, so the routes differ only in their guard.
   */
  @Get('durin')
  durin(@Req() request: WithUser): { id: number } {
    return { id: request.user!.id };
  }

  /**
   * The revocation probe: the same guard, plus this process's wall clock when the request was
   * accepted (all processes share the machine's clock), to compare with the revocation's commit.
   */
  /**
   * The global AuthGuard, then DurinThrottlerGuard (the recommended order) with @nestjs/throttler's
   * in-memory storage: what counting per user and client adds to the cached case (issue 10).
   */
  @UseGuards(DurinThrottlerGuard)
  @Get('durin-throttled')
  durinThrottled(@Req() request: WithUser): { id: number } {
    return { id: request.user!.id };
  }

  @Get('durin-at')
  durinAt(@Req() request: WithUser): { id: number; at: number } {
    return { id: request.user!.id, at: Date.now() };
  }

  @Public()
  @UseGuards(MinimalDurinGuard)
  @Get('durin-minimal')
  durinMinimal(@Req() request: WithUser): { id: number } {
    return { id: request.user!.id };
  }

  /** Floor of the accepting cases: a guard that sets a constant user (peers.ts). */
  @Public()
  @UseGuards(AcceptAllGuard)
  @Get('floor-accept')
  floorAccept(@Req() request: WithUser): { id: number } {
    return { id: request.user!.id };
  }

  /** Floor of the flood cases: a guard that answers 401 at once (peers.ts). */
  @Public()
  @UseGuards(RefuseAllGuard)
  @Get('floor-refuse')
  floorRefuse(@Req() request: WithUser): { id: number } {
    return { id: request.user!.id };
  }

  /** The same with the library's `@CurrentUser()` decorator. */
  @Get('durin-current-user')
  durinCurrentUser(@CurrentUser() user: User): { id: number } {
    return { id: user.id };
  }

  @Public()
  @UseGuards(PassportAuthGuard('jwt'))
  @Get('jwt')
  jwt(@Req() request: WithUser): { id: number } {
    return { id: request.user!.id };
  }

  @Public()
  @UseGuards(PassportAuthGuard('jwt-key'))
  @Get('jwt-key')
  jwtKey(@Req() request: WithUser): { id: number } {
    return { id: request.user!.id };
  }

  @Public()
  @UseGuards(NaiveTokenGuard)
  @Get('naive')
  naive(@Req() request: WithUser): { id: number } {
    return { id: request.user!.id };
  }

  @Public()
  @UseGuards(NaiveFindOneGuard)
  @Get('naive-find-one')
  naiveFindOne(@Req() request: WithUser): { id: number } {
    return { id: request.user!.id };
  }

  /**
   * Bench-only: revokes a token by id through this instance (the other instances learn it over
   * the invalidation channel). `before`/`after` bracket the commit on this process's clock.
   */
  @Public()
  @Post('revoke')
  async revoke(@Query('id') id: string): Promise<{ before: number; after: number; ok: boolean }> {
    const before = Date.now();
    const ok = await this.tokens.revokeToken(id);
    return { before, after: Date.now(), ok };
  }

  /** Bench-only: one `revokeExpiredTokens()` run, timed in the app. */
  @Public()
  @Post('cleanup')
  async cleanup(): Promise<{ removed: number; ms: number }> {
    const started = performance.now();
    const removed = await this.tokens.revokeExpiredTokens();
    return { removed, ms: performance.now() - started };
  }

  /**
   * Bench-only: SQL statements so far, the cache counters and the cookie name. With `?gc=1` (and
   * node --expose-gc) a full collection first, so that no run pays for the garbage of the one
   * before it.
   */
  @Public()
  @Get('stats')
  stats(@Query('gc') gc?: string): object {
    const collect = (globalThis as { gc?: () => void }).gc;
    if (gc === '1' && collect) collect();
    const cpu = process.cpuUsage();
    return {
      queries: this.counter.count,
      cache: this.cache.stats(),
      cookieName: this.options.cookie.name,
      rssBytes: process.memoryUsage().rss,
      // The whole app process (every app it hosts; the idle ones cost next to nothing).
      cpuMicros: cpu.user + cpu.system,
    };
  }
}

/** Routes of the benchmark, added to the sample app. */
@Module({})
export class BenchRoutesModule {
  static forRoot(counter: QueryCounter): DynamicModule {
    return {
      module: BenchRoutesModule,
      imports: [
        PassportModule,
        TypeOrmModule.forFeature([AuthTokenEntity]),
        // No throttlers of the app's own: the throttled case measures durin's alone.
        ThrottlerModule.forRoot({ throttlers: [] }),
      ],
      controllers: [BenchController],
      providers: [
        JwtStringStrategy,
        JwtKeyStrategy,
        NaiveTokenGuard,
        NaiveFindOneGuard,
        MinimalDurinGuard,
        AcceptAllGuard,
        RefuseAllGuard,
        { provide: QUERY_COUNTER, useValue: counter },
      ],
    };
  }
}
