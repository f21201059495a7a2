import { createHash, createSecretKey, KeyObject } from 'node:crypto';
import {
  CanActivate,
  Controller,
  DynamicModule,
  ExecutionContext,
  Get,
  Inject,
  Injectable,
  Module,
  Query,
  Req,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import { AuthGuard as PassportAuthGuard, PassportModule, PassportStrategy } from '@nestjs/passport';
import { ThrottlerModule } from '@nestjs/throttler';
import { InjectRepository, TypeOrmModule } from '@nestjs/typeorm';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { Repository } from 'typeorm';
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
import { QueryCounter } from './query-counter';

/** The HS256 secret of the passport-jwt peer (bench only). */
export const JWT_SECRET = 'bench-secret-for-hs256-please-ignore-0123456789';
const QUERY_COUNTER = 'BENCH:QUERY_COUNTER';

interface WithUser {
  user?: { id: number };
  headers: Record<string, string | string[] | undefined>;
}

/**
 * The peer: @nestjs/passport + passport-jwt with the secret as a string. jsonwebtoken turns a
 * string secret into a key on every verify.
 */
@Injectable()
export class JwtStringStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor() {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKey: JWT_SECRET,
      algorithms: ['HS256'],
    });
  }

  validate(payload: { sub: number }): { id: number } {
    return { id: payload.sub };
  }
}

/** The same with a `KeyObject`, imported once: the fast way to use passport-jwt. */
@Injectable()
export class JwtKeyStrategy extends PassportStrategy(Strategy, 'jwt-key') {
  constructor() {
    const key: KeyObject = createSecretKey(Buffer.from(JWT_SECRET, 'utf8'));
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      // passport-jwt's types predate KeyObject; jsonwebtoken 9 accepts it.
      secretOrKey: key as unknown as string,
      algorithms: ['HS256'],
    });
  }

  validate(payload: { sub: number }): { id: number } {
    return { id: payload.sub };
  }
}

/**
 * The baseline of issue 5: a straightforward opaque-token guard, as commonly written: hash the
 * bearer token and `findOne` it with its user relation (TypeORM sends two queries for that).
 */
@Injectable()
export class NaiveTokenGuard implements CanActivate {
  constructor(
    @InjectRepository(AuthTokenEntity) private readonly tokens: Repository<AuthTokenEntity>,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<WithUser>();
    const header = request.headers.authorization;
    if (typeof header !== 'string' || !header.startsWith('Bearer ')) {
      throw new UnauthorizedException();
    }
    const hash = createHash('sha256').update(header.slice(7), 'utf8').digest('hex');
    const token = await this.tokens.findOne({
      where: { tokenHash: hash },
      relations: { user: true },
    });
    if (
      !token ||
      token.revokedAt !== null ||
      (token.expiresAt !== null && token.expiresAt.getTime() <= Date.now())
    ) {
      throw new UnauthorizedException();
    }
    request.user = token.user as { id: number };
    return true;
  }
}

/**
 * Not a recommendation: the smallest possible guard around `TokenService.authenticate` (no cookie,
 * no CSRF, no duplicate-header check, no 401 details), to show what the service itself costs next
 * to the library's full `AuthGuard`.
 */
@Injectable()
export class MinimalDurinGuard implements CanActivate {
  constructor(private readonly tokens: TokenService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<WithUser>();
    const header = request.headers.authorization;
    if (typeof header !== 'string' || !header.startsWith('Bearer ')) {
      throw new UnauthorizedException();
    }
    const result = await this.tokens.authenticate(header.slice(7), 'header');
    if (!result.ok) throw new UnauthorizedException();
    request.user = result.user as { id: number };
    return true;
  }
}

@Controller('bench')
export class BenchController {
  constructor(
    @Inject(QUERY_COUNTER) private readonly counter: QueryCounter,
    private readonly cache: DurinCacheService,
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
   * The global AuthGuard, then DurinThrottlerGuard (the recommended order) with @nestjs/throttler's
   * in-memory storage: what counting per user and client adds to the cached case.
   */
  @UseGuards(DurinThrottlerGuard)
  @Get('durin-throttled')
  durinThrottled(@Req() request: WithUser): { id: number } {
    return { id: request.user!.id };
  }

  @Public()
  @UseGuards(MinimalDurinGuard)
  @Get('durin-minimal')
  durinMinimal(@Req() request: WithUser): { id: number } {
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
    return {
      queries: this.counter.count,
      cache: this.cache.stats(),
      cookieName: this.options.cookie.name,
      rssBytes: process.memoryUsage().rss,
      // The whole app process (every app of the bench; the idle ones cost next to nothing).
      cpuMicros: process.cpuUsage().user + process.cpuUsage().system,
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
        MinimalDurinGuard,
        { provide: QUERY_COUNTER, useValue: counter },
      ],
    };
  }
}
