import {
  Body,
  Controller,
  Get,
  HttpCode,
  INestApplication,
  Post,
  Res,
  UseGuards,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import {
  AuthCookieService,
  AuthGuard,
  AuthToken,
  AuthTokenEntity,
  DURIN_CLOCK,
  DurinModule,
  ManualClock,
  Public,
  RequireAbilities,
  RequireAnyAbility,
  TokenService,
} from '../../../lib';
import type { TestDatabase } from '../../support/databases';
import { type HttpAdapterKind, startHttpApp } from '../../support/http-app';
import { QueryCounter } from '../../support/query-counter';
import { silentLogger, START, typeOrmOptions } from '../../integration/support/durin-test-app';
import { User } from '../../integration/support/user.entity';

/** Login without a password (the tests decide who logs in and with which abilities). */
@Controller('login')
class AbilitiesLoginController {
  constructor(
    private readonly tokens: TokenService,
    private readonly cookies: AuthCookieService,
    private readonly dataSource: DataSource,
  ) {}

  @Public()
  @Post('header')
  @HttpCode(200)
  async header(@Body() body: { userId: number; abilities?: string[] }) {
    const user = await this.dataSource.getRepository(User).findOneByOrFail({ id: body.userId });
    const set = await this.tokens.generateHeaderToken(user, { abilities: body.abilities });
    return { id: set.token.id, accessToken: set.accessToken, refreshToken: set.refreshToken };
  }

  @Public()
  @Post('cookie')
  @HttpCode(200)
  async cookie(
    @Body() body: { userId: number; abilities?: string[] },
    @Res({ passthrough: true }) res: object,
  ) {
    const user = await this.dataSource.getRepository(User).findOneByOrFail({ id: body.userId });
    const set = await this.tokens.generateCookieToken(user, { abilities: body.abilities });
    return { id: set.token.id, csrfToken: this.cookies.setAuthCookie(res, set) };
  }
}

/**
 * An app's own routes behind abilities. The guard is global (APP_GUARD) and on the controller
 * too, so its second run takes the de-duplicated path, which must still check the abilities.
 */
@RequireAbilities('orders:read')
@UseGuards(AuthGuard)
@Controller('orders')
class OrdersController {
  @Get()
  list(@AuthToken() token: AuthTokenEntity) {
    return { orders: [], canWrite: token.can('orders:write') };
  }

  @RequireAbilities('orders:write')
  @Post()
  @HttpCode(201)
  create() {
    return { created: true };
  }

  @RequireAnyAbility('orders:refund', 'orders:admin')
  @Post('refund')
  @HttpCode(200)
  refund() {
    return { refunded: true };
  }
}

/** A route that needs no ability: any valid token passes. */
@Controller('me')
class MeController {
  @Get()
  me(@AuthToken() token: AuthTokenEntity) {
    return { tokenId: token.id, abilities: token.abilities };
  }
}

export interface AbilitiesApp {
  app: INestApplication;
  http: ReturnType<INestApplication['getHttpServer']>;
  tokens: TokenService<AuthTokenEntity>;
  rows: Repository<AuthTokenEntity>;
  users: Repository<User>;
  counter: QueryCounter;
  clock: ManualClock;
  close(): Promise<void>;
}

/** Boots the app on `db` over `adapter` with the routes under `/auth`. */
export async function startAbilitiesApp(
  adapter: HttpAdapterKind,
  db: TestDatabase,
): Promise<AbilitiesApp> {
  const counter = new QueryCounter();
  const clock = new ManualClock(START);
  const moduleRef = await Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot(typeOrmOptions(db, { logger: counter })),
      DurinModule.forRoot({
        userEntity: User,
        routes: { path: 'auth' },
        tokenTtl: '1h',
        refreshTokenTtl: '1d',
        // Every request reaches the store, so the SQL an ability check costs can be counted.
        cache: false,
      }),
    ],
    controllers: [AbilitiesLoginController, OrdersController, MeController],
    providers: [{ provide: APP_GUARD, useClass: AuthGuard }],
  })
    .overrideProvider(DURIN_CLOCK)
    .useValue(clock)
    .setLogger(silentLogger)
    .compile();
  const app = await startHttpApp(moduleRef, adapter);
  const dataSource = app.get(DataSource);
  return {
    app,
    http: app.getHttpServer(),
    tokens: app.get(TokenService),
    rows: dataSource.getRepository(AuthTokenEntity),
    users: dataSource.getRepository(User),
    counter,
    clock,
    close: () => app.close(),
  };
}
