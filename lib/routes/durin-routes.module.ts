import {
  CanActivate,
  DynamicModule,
  Module,
  NestInterceptor,
  Type,
  ControllerOptions,
} from '@nestjs/common';
import { DURIN_ROUTES_LOGIN, DURIN_ROUTES_PATH } from '../durin.constants';
import type { DurinLoginOptions } from '../interfaces/login-options.interface';
import { DurinRoutesBodyErrors } from './body-parse-errors';
import { loadLoginControllers, loadRoutesController } from './load-routes-controller';

/** Options of {@link DurinRoutesModule.register}. */
export interface DurinRoutesModuleOptions {
  /** The routes' own path, below any `RouterModule` path, version segment or global prefix. */
  path: string;
  /**
   * The DurinModule instance (`forRoot({ name })`) whose tokens these routes serve. Default: the
   * unnamed instance.
   */
  name?: string;
  /** The controller's version under `app.enableVersioning()` (default: the app's default). */
  version?: ControllerOptions['version'];
  /** Guards to run after the durin guard (they see `request.user`). */
  guards?: Array<Type<CanActivate> | CanActivate>;
  /** Interceptors for these routes (inside the library's own error mapping). */
  interceptors?: Array<Type<NestInterceptor> | NestInterceptor>;
  /**
   * Also mounts `POST <path>/login` (see `DurinRoutesOptions.login`). The `guards` above are not
   * applied to it: they run after authentication, and a login has none; `interceptors` are.
   */
  login?: DurinLoginOptions;
}

/**
 * The ready-made session routes (refresh, renew, logout, logoutall, sessions, apiaccess, and
 * `login` when given) as a module of their own, for apps that place routes with `RouterModule`,
 * URI versioning or per-route guards and interceptors. `DurinModule.forRoot({ routes: { path } })` is the shorthand for the
 * same routes inside DurinModule.
 *
 * It uses the providers DurinModule exports, so DurinModule must be global (`isGlobal: true`).
 * One module per instance: `register({ path, name })` serves the named instance's tokens.
 * The refresh cookie's path cannot follow a `RouterModule` path or version segment that the module
 * does not see: set `cookie.refreshPath` to the refresh route's full URL path (the route logs a
 * warning once when a cookie refresh arrives elsewhere).
 *
 * @example
 * imports: [
 *   DurinModule.forRoot({ userEntity: User, isGlobal: true, cookie: { refreshPath: '/api/v1/auth/refresh' } }),
 *   DurinRoutesModule.register({ path: 'auth', version: '1' }),
 *   RouterModule.register([{ path: 'api', module: DurinRoutesModule }]),
 * ]
 */
@Module({})
export class DurinRoutesModule {
  static register(options: DurinRoutesModuleOptions): DynamicModule {
    const controller = loadRoutesController(options, 'DurinRoutesModule.register()');
    return {
      module: DurinRoutesModule,
      controllers: [controller, ...loadLoginControllers(options, 'DurinRoutesModule.register()')],
      providers: [
        { provide: DURIN_ROUTES_PATH, useValue: options.path },
        { provide: DURIN_ROUTES_LOGIN, useValue: options.login !== undefined },
        DurinRoutesBodyErrors,
      ],
    };
  }
}
