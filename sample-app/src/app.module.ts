import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { APP_GUARD, APP_PIPE } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthGuard, DurinModule, DurinModuleOptions, DurinThrottlerGuard } from '../../lib';
import { AppController } from './app.controller';
import { AuthModule } from './auth/auth.module';
import { readSettings, SampleConfig, SampleEnv, SampleSettings } from './config/settings';
import {
  ConnectionOptions,
  connectionFromSettings,
  typeOrmOptions,
} from './database/database.options';
import { MeModule } from './me/me.module';
import { NotesModule } from './notes/notes.module';
import { throttlerOptions } from './rate-limits';
import { API_ACCESS_CLIENT } from './sample.constants';
import { SeedModule } from './seed/seed.module';
import { User } from './users/user.entity';
import { createValidationPipe } from './validation';
import { UsersModule } from './users/users.module';

/** How to build the app; `npm start` uses the defaults, tests choose their database and options. */
export interface AppModuleOptions {
  /** Where the settings are read from. Default: `process.env`. */
  env?: SampleEnv;
  /** Replaces the connection built from `DB_TYPE` / `DATABASE_URL` / `SQLITE_PATH`. */
  database?: ConnectionOptions;
  /** Layered over the nestjs-durin options built from the settings. */
  durin?: Omit<DurinModuleOptions, 'userEntity' | 'tokenEntity' | 'dataSource' | 'routes'>;
}

/** nestjs-durin's options, from the app's settings. */
export function durinOptions(settings: SampleSettings): DurinModuleOptions {
  return {
    tokenTtl: settings.tokenTtl,
    refreshTokenTtl: settings.refreshTokenTtl,
    autoRefresh: settings.autoRefresh,
    autoRefreshInterval: settings.autoRefreshInterval,
    cookie: { secure: settings.cookieSecure },
    // A front end on another origin sends cookie requests cross-origin: the CSRF check must know it.
    ...(settings.corsOrigins.length === 0
      ? {}
      : { csrf: { allowedOrigins: settings.corsOrigins } }),
    apiAccessClientName: API_ACCESS_CLIENT,
    ...(settings.pepper === undefined ? {} : { pepper: settings.pepper }),
    // Each client's own `throttleRate` (see the seed); logins per IP; the refresh route's defaults.
    ...(settings.rateLimits
      ? { throttle: { defaultRate: '600/m', anonymousRate: settings.loginRate } }
      : {}),
  };
}

/**
 * The sample app. Every route needs a token (the guard is global) unless marked `@Public()`.
 *
 * @example
 * NestFactory.create(AppModule.forRoot());
 * Test.createTestingModule({
 *   imports: [AppModule.forRoot({ database, durin: { autoRefresh: true } })],
 * });
 */
@Module({})
export class AppModule {
  static forRoot(options: AppModuleOptions = {}): DynamicModule {
    const env = options.env ?? process.env;
    // Read here as well as through ConfigModule: whether the throttler is imported at all must be
    // known when the module is put together.
    const { rateLimits } = readSettings(env);
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({
          isGlobal: true,
          // Settings come from the environment only, so what a test passes is all there is.
          ignoreEnvFile: true,
          load: [(): SampleConfig => ({ sample: readSettings(env) })],
        }),
        TypeOrmModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (config: ConfigService<SampleConfig, true>) =>
            typeOrmOptions(
              options.database ??
                connectionFromSettings(config.get('sample', { infer: true }).database),
            ),
        }),
        DurinModule.forRootAsync({
          userEntity: User,
          routes: { path: 'auth' },
          isGlobal: true,
          imports: [ConfigModule],
          inject: [ConfigService],
          useFactory: (config: ConfigService<SampleConfig, true>) => ({
            ...durinOptions(config.get('sample', { infer: true })),
            ...options.durin,
          }),
        }),
        ...(rateLimits
          ? [
              ThrottlerModule.forRootAsync({
                inject: [ConfigService],
                useFactory: (config: ConfigService<SampleConfig, true>) =>
                  throttlerOptions(config.get('sample', { infer: true })),
              }),
            ]
          : []),
        UsersModule,
        AuthModule,
        MeModule,
        NotesModule,
        SeedModule,
      ],
      controllers: [AppController],
      providers: [
        // Order matters: APP_GUARDs run in the order given, and the rate limit is counted per
        // user and client, so authentication comes first.
        { provide: APP_GUARD, useClass: AuthGuard },
        ...(rateLimits ? [{ provide: APP_GUARD, useClass: DurinThrottlerGuard }] : []),
        { provide: APP_PIPE, useValue: createValidationPipe() },
      ],
    };
  }
}

/** Shorthand for {@link AppModule.forRoot}. */
export function createAppModule(options: AppModuleOptions = {}): DynamicModule {
  return AppModule.forRoot(options);
}
