import { Body, Controller, Get, HttpCode, Post, Res, UseGuards } from '@nestjs/common';
import { INestApplication, LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Response } from 'supertest';
import { DataSource, Repository } from 'typeorm';
import {
  AuthCookieService,
  AuthGuard,
  AuthTokenEntity,
  CurrentUser,
  DURIN_CLOCK,
  DurinModule,
  type DurinModuleRootOptions,
  ManualClock,
  Public,
  TokenService,
} from '../../../lib';
import type { TestDatabase } from '../../support/databases';
import { silentLogger, typeOrmOptions } from './durin-test-app';
import { User } from './user.entity';
import { startHttpApp } from '../../support/http-app';

/**
 * An app with a cookie login written as the README tells users to (the tokens only in cookies,
 * the CSRF token in the body too), a header login, and guarded routes; on Express or Fastify.
 */
@Controller()
class CookieSessionController {
  constructor(
    private readonly tokens: TokenService,
    private readonly cookies: AuthCookieService,
    private readonly dataSource: DataSource,
  ) {}

  @Public()
  @Post('login/cookie')
  async loginCookie(@Body() body: { userId: number }, @Res({ passthrough: true }) res: object) {
    const user = await this.dataSource.getRepository(User).findOneByOrFail({ id: body.userId });
    const tokens = await this.tokens.generateCookieToken(user);
    const csrfToken = this.cookies.setAuthCookie(res, tokens);
    return {
      csrfToken,
      accessTokenExpiresAt: tokens.accessTokenExpiresAt,
      refreshTokenExpiresAt: tokens.refreshTokenExpiresAt,
    };
  }

  @Public()
  @Post('login/header')
  async loginHeader(@Body() body: { userId: number }) {
    const user = await this.dataSource.getRepository(User).findOneByOrFail({ id: body.userId });
    const tokens = await this.tokens.generateHeaderToken(user);
    return { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken };
  }

  @UseGuards(AuthGuard)
  @Get('me')
  me(@CurrentUser() user: User) {
    return { id: user.id };
  }

  @UseGuards(AuthGuard)
  @Post('things')
  @HttpCode(200)
  create() {
    return { created: true };
  }
}

export type AdapterKind = 'express' | 'fastify';

export interface CookieSessionApp {
  app: INestApplication;
  http: ReturnType<INestApplication['getHttpServer']>;
  tokens: TokenService<AuthTokenEntity>;
  cookies: AuthCookieService;
  rows: Repository<AuthTokenEntity>;
  users: Repository<User>;
  /** Closes the app only: the database belongs to the caller (it may outlive a restart). */
  close(): Promise<void>;
}

/** How the app itself is set up, besides the module options. */
export interface AppSetup {
  /** `app.setGlobalPrefix(…)`, which the module cannot see. */
  globalPrefix?: string;
  /** Receives Nest's log; silent when absent. */
  logger?: LoggerService;
}

/** Boots the app on `db` (shared between instances and restarts) with the given clock. */
export async function startCookieSessionApp(
  adapter: AdapterKind,
  db: TestDatabase,
  clock: ManualClock,
  durin: Partial<DurinModuleRootOptions> = {},
  setup: AppSetup = {},
): Promise<CookieSessionApp> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot(typeOrmOptions(db)),
      DurinModule.forRoot({
        userEntity: User,
        routes: { path: 'auth' },
        tokenTtl: '1h',
        refreshTokenTtl: '1d',
        ...durin,
      }),
    ],
    controllers: [CookieSessionController],
  })
    .overrideProvider(DURIN_CLOCK)
    .useValue(clock)
    .setLogger(silentLogger)
    .compile();
  const logger = setup.logger ?? false;
  const app = await startHttpApp(moduleRef, adapter, {
    logger,
    configure: (created) => {
      if (setup.globalPrefix !== undefined) created.setGlobalPrefix(setup.globalPrefix);
    },
  });
  const dataSource = app.get(DataSource);
  return {
    app,
    http: app.getHttpServer(),
    tokens: app.get(TokenService),
    cookies: app.get(AuthCookieService),
    rows: dataSource.getRepository(AuthTokenEntity),
    users: dataSource.getRepository(User),
    close: () => app.close(),
  };
}

/** The `Set-Cookie` lines of a response, in order. */
export function setCookies(res: Response): string[] {
  const value = res.headers['set-cookie'] as unknown;
  return Array.isArray(value) ? (value as string[]) : value === undefined ? [] : [String(value)];
}

/**
 * What a browser keeps of the `Set-Cookie` lines it was sent, and what it sends back: a cookie
 * goes to a request path only when the cookie's `Path` matches it (RFC 6265 §5.1.4), and
 * `Max-Age=0` deletes. Expiry by time is not modelled: the tests move a manual clock instead.
 */
export class CookieJar {
  private readonly cookies = new Map<string, { value: string; path: string }>();

  store(res: Response): this {
    for (const line of setCookies(res)) {
      const [pair, ...attributes] = line.split('; ');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const attribute = (key: string) =>
        attributes
          .find((part) => part.toLowerCase().startsWith(`${key.toLowerCase()}=`))
          ?.split('=')[1];
      if (attribute('Max-Age') === '0') {
        this.cookies.delete(name);
      } else {
        this.cookies.set(name, { value: pair.slice(eq + 1), path: attribute('Path') ?? '/' });
      }
    }
    return this;
  }

  get(name: string): string | undefined {
    return this.cookies.get(name)?.value;
  }

  names(): string[] {
    return [...this.cookies.keys()].sort();
  }

  /** The `Cookie` header a browser sends to `path`. */
  header(path: string): string {
    return [...this.cookies]
      .filter(([, { path: scope }]) => {
        if (scope === '/' || path === scope) return true;
        return path.startsWith(scope.endsWith('/') ? scope : `${scope}/`);
      })
      .map(([name, { value }]) => `${name}=${value}`)
      .join('; ');
  }
}
