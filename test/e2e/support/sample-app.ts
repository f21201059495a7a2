import { INestApplication } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { DURIN_CLOCK, ManualClock } from '../../../lib';
import { AppModule, AppModuleOptions } from '../../../sample-app/src/app.module';
import { ConfigService } from '@nestjs/config';
import { HttpAdapterName, SampleConfig, SampleEnv } from '../../../sample-app/src/config/settings';
import { ConnectionOptions } from '../../../sample-app/src/database/database.options';
import { createHttpAdapter } from '../../../sample-app/src/http-adapter';
import { configureHttp } from '../../../sample-app/src/http-setup';
import { UsersService } from '../../../sample-app/src/users/users.service';
import { createTestDatabase, type TestDatabase, type TestDbKind } from '../../support/databases';
import { QueryCounter } from '../../support/query-counter';
import { TcpProxy, withPgThroughProxy } from '../../support/tcp-proxy';

export const HTTP_ADAPTERS: HttpAdapterName[] = ['express', 'fastify'];

/**
 * The settings every e2e run uses, independent of the shell's environment: short lifetimes that
 * the manual clock can cross, sliding expiry on, and cheap bcrypt.
 */
export const E2E_ENV: SampleEnv = {
  TOKEN_TTL: '1h',
  REFRESH_TOKEN_TTL: '1d',
  AUTO_REFRESH: 'true',
  AUTO_REFRESH_INTERVAL: '1m',
  BCRYPT_ROUNDS: '4',
  // Rate limits stay on (the sample's default) with room for a whole test file of logins from
  // 127.0.0.1; sample-app-policy.e2e-spec tests the limits themselves.
  LOGIN_RATE: '100000/m',
};

export interface SampleAppOptions {
  adapter: HttpAdapterName;
  db: TestDbKind;
  /** Put a TCP proxy between the app and PostgreSQL (to cut the database). */
  proxy?: boolean;
  env?: SampleEnv;
  durin?: AppModuleOptions['durin'];
}

/** The sample app started for a test, with the handles a test needs. */
export interface SampleApp {
  readonly app: INestApplication;
  readonly clock: ManualClock;
  readonly queries: QueryCounter;
  readonly users: UsersService;
  /** Only with `proxy: true`. */
  readonly proxy: TcpProxy | undefined;
  http(): ReturnType<typeof request>;
  close(): Promise<void>;
}

/**
 * Boots the sample app as `npm start` would (same module, same adapter choice), but on a test
 * database, with a manual clock under `DURIN_CLOCK` and without logs.
 */
export async function startSampleApp(options: SampleAppOptions): Promise<SampleApp> {
  const db: TestDatabase = await createTestDatabase(options.db);
  let proxy: TcpProxy | undefined;
  let connection = db.options as ConnectionOptions;
  if (options.proxy) {
    const proxied = await withPgThroughProxy(db);
    proxy = proxied.proxy;
    connection = proxied.options;
  }
  const queries = new QueryCounter();
  const clock = new ManualClock();
  const moduleRef = await Test.createTestingModule({
    imports: [
      AppModule.forRoot({
        env: { ...E2E_ENV, ...options.env },
        database: { ...connection, logger: queries },
        durin: options.durin,
      }),
    ],
  })
    .overrideProvider(DURIN_CLOCK)
    .useValue(clock)
    .compile();
  const app = moduleRef.createNestApplication(createHttpAdapter(options.adapter), {
    logger: false,
  });
  configureHttp(
    app,
    app.get<ConfigService<SampleConfig, true>>(ConfigService).get('sample', { infer: true }),
  );
  await app.init();
  if (options.adapter === 'fastify') {
    await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  }
  return {
    app,
    clock,
    queries,
    proxy,
    users: app.get(UsersService),
    http: () => request(app.getHttpServer()),
    close: async () => {
      proxy?.restore();
      await app.close();
      await proxy?.close();
      await db.drop();
    },
  };
}

/** One `Set-Cookie` header, parsed: the pair and the attributes (names lower-cased). */
export interface SetCookie {
  name: string;
  value: string;
  attributes: Record<string, string | true>;
}

/** The `Set-Cookie` headers of a response. */
export function setCookies(headers: Record<string, unknown>): SetCookie[] {
  const raw = headers['set-cookie'];
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return list.map((line: unknown) => {
    const [pair, ...attributes] = String(line).split(';');
    const eq = pair.indexOf('=');
    const parsed: SetCookie = {
      name: pair.slice(0, eq).trim(),
      value: pair.slice(eq + 1).trim(),
      attributes: {},
    };
    for (const attribute of attributes) {
      const [key, ...rest] = attribute.split('=');
      parsed.attributes[key.trim().toLowerCase()] = rest.length ? rest.join('=').trim() : true;
    }
    return parsed;
  });
}
