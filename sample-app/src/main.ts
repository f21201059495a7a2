import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { readSettings, SampleConfig } from './config/settings';
import { createHttpAdapter } from './http-adapter';
import { configureHttp, DOCS_PATH } from './http-setup';

async function bootstrap(): Promise<void> {
  // The adapter must be chosen before the app (and its ConfigModule) exists, so it is read here.
  const adapter = createHttpAdapter(readSettings(process.env).httpAdapter);
  const app = await NestFactory.create(AppModule.forRoot(), adapter);
  app.enableShutdownHooks();

  const settings = app
    .get<ConfigService<SampleConfig, true>>(ConfigService)
    .get('sample', { infer: true });
  configureHttp(app, settings);
  if (settings.host === undefined) {
    await app.listen(settings.port);
  } else {
    await app.listen(settings.port, settings.host);
  }
  const address = app.getHttpServer().address() as { port: number } | string | null;
  const port = typeof address === 'object' && address !== null ? address.port : settings.port;
  printHowToTry(`http://localhost:${port}`, settings.httpAdapter, settings.cookieSecure);
}

function printHowToTry(base: string, adapter: string, cookieSecure: boolean): void {
  const logger = new Logger('SampleApp');
  const lines = [
    `nestjs-durin sample listening on ${base} (${adapter})`,
    '',
    'Try it:',
    `  curl ${base}/`,
    `  TOKEN=$(curl -s ${base}/auth/login -H 'Content-Type: application/json' \\`,
    `    -d '{"username":"demo","password":"demo-password","client":"web"}' | jq -r .accessToken)`,
    `  curl ${base}/me -H "Authorization: Bearer $TOKEN"`,
    `  curl -X POST ${base}/auth/logout -H "Authorization: Bearer $TOKEN"`,
    '',
    `The API's OpenAPI document: ${base}/${DOCS_PATH} (Swagger UI), ${base}/${DOCS_PATH}-json.`,
    'The whole walkthrough (refresh, sessions, cookies): README.md, "Try the sample app".',
  ];
  if (cookieSecure) {
    lines.push(
      'Cookie logins set a Secure cookie, which curl does not send over plain http:',
      'restart with COOKIE_SECURE=false to try them with curl.',
    );
  }
  logger.log(lines.join('\n'));
}

bootstrap().catch((error: unknown) => {
  new Logger('SampleApp').error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
