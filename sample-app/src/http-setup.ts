import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { addDurinSecuritySchemes, DURIN_RESOLVED_OPTIONS, ResolvedDurinOptions } from '../../lib';
import { SampleSettings } from './config/settings';

/** Where the OpenAPI document is served: Swagger UI here, the JSON at `${DOCS_PATH}-json`. */
export const DOCS_PATH = 'docs';

/**
 * What the app needs from the HTTP layer besides its modules, shared by `main.ts` and the e2e
 * tests. With `CORS_ORIGINS`, a front end on another origin may call the API with its cookies
 * (`credentials`), send the CSRF token header and read nothing it should not: the same origins are
 * given to nestjs-durin's CSRF check (see `durinOptions`).
 */
export function configureHttp(app: INestApplication, settings: SampleSettings): void {
  if (settings.corsOrigins.length > 0) {
    app.enableCors({
      origin: settings.corsOrigins,
      credentials: true,
      allowedHeaders: ['Content-Type', 'Authorization', 'X-CSRF-Token'],
      methods: ['GET', 'POST', 'DELETE'],
    });
  }
  serveApiDocs(app);
}

/**
 * The OpenAPI document at `/docs-json`, and Swagger UI at `/docs`. Both are served by the HTTP
 * adapter itself, outside the global guard, so they need no token. On Fastify the UI's assets need
 * `@fastify/static`, which this app does not install: there only the JSON is served.
 */
function serveApiDocs(app: INestApplication): void {
  const cookieName = app.get<ResolvedDurinOptions>(DURIN_RESOLVED_OPTIONS).cookie.name;
  const config = addDurinSecuritySchemes(
    new DocumentBuilder()
      .setTitle('nestjs-durin sample')
      .setDescription('The sample app: its own login and profile routes, and the durin routes.'),
    { cookieName },
  ).build();
  SwaggerModule.setup(DOCS_PATH, app, () => SwaggerModule.createDocument(app, config), {
    ui: app.getHttpAdapter().getType() !== 'fastify' || canResolve('@fastify/static'),
  });
}

function canResolve(name: string): boolean {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
}
