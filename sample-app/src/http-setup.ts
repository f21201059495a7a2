import { INestApplication } from '@nestjs/common';
import { SampleSettings } from './config/settings';

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
}
